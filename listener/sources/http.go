package sources

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// MountAPI mounts the admin API on api (the /api/v1 group, behind
// authentication), each route behind mw (cmd/vigie passes
// auth.Require(auth.PermManageSources)):
//
//	GET  /sources                  every source's Status, in file order
//	POST /sources/{name}/enable    start it; answers its Status
//	POST /sources/{name}/disable   stop it; answers its Status
//
// An unknown name is a 404.
func (r *Registry) MountAPI(api *echo.Group, mw ...echo.MiddlewareFunc) {
	api.GET("/sources", func(c echo.Context) error {
		return c.JSON(http.StatusOK, r.Statuses())
	}, mw...)
	toggle := func(on bool) echo.HandlerFunc {
		return func(c echo.Context) error {
			st, err := r.SetEnabled(c.Param("name"), on)
			if errors.Is(err, ErrUnknownSource) {
				return echo.NewHTTPError(http.StatusNotFound, err.Error())
			}
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, st)
		}
	}
	api.POST("/sources/:name/enable", toggle(true), mw...)
	api.POST("/sources/:name/disable", toggle(false), mw...)
}

// MountHooks mounts the webhook receivers at /hooks/{name} on e (any
// method: GET for verification handshakes, POST for deliveries). These
// routes are public, with no session or token: each receiver authenticates
// deliveries with its network's signature. A name with no webhook source is
// a 404; a disabled one answers 503 with Retry-After, so that the network
// delivers again later and nothing is lost.
func (r *Registry) MountHooks(e *echo.Echo) {
	e.Any("/hooks/:name", func(c echo.Context) error {
		h, enabled, ok := r.hook(c.Param("name"))
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound, "no webhook source called "+c.Param("name"))
		}
		if !enabled {
			c.Response().Header().Set("Retry-After", "300")
			return echo.NewHTTPError(http.StatusServiceUnavailable, "source "+c.Param("name")+" is disabled")
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	})
}
