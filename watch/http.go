package watch

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// Register mounts the alert routes on g (the /api/v1 group): read guards
// listing (auth.PermReadAlerts), ack guards acknowledging
// (auth.PermAckAlerts). Errors are returned as *echo.HTTPError with the
// right status, so the app's error handler needs no knowledge of them.
//
//	GET  /alerts?status=open|acked|resolved&limit=&cursor=   {"alerts": [...], "next_cursor": "..."}
//	GET  /alerts/{id}                                        the alert
//	POST /alerts/{id}/ack                                    the acknowledged alert
func (w *Watch) Register(g *echo.Group, read, ack echo.MiddlewareFunc) {
	g.GET("/alerts", w.handleList, read)
	g.GET("/alerts/:id", w.handleGet, read)
	g.POST("/alerts/:id/ack", w.handleAck, ack)
}

// httpError maps the watch's errors to HTTP answers.
func httpError(err error) error {
	switch {
	case errors.Is(err, ErrAlertNotFound):
		return echo.NewHTTPError(http.StatusNotFound, err.Error()).SetInternal(err)
	case errors.Is(err, ErrInvalid):
		return echo.NewHTTPError(http.StatusBadRequest, err.Error()).SetInternal(err)
	case errors.Is(err, ErrConflict):
		return echo.NewHTTPError(http.StatusConflict, err.Error()).SetInternal(err)
	}
	return err
}

func alertID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError(fmt.Errorf("%w: alert id %q is not a positive integer", ErrInvalid, c.Param("id")))
	}
	return id, nil
}

func (w *Watch) handleList(c echo.Context) error {
	f := Filter{Status: Status(c.QueryParam("status")), Cursor: c.QueryParam("cursor")}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return httpError(fmt.Errorf("%w: limit %q is not a number", ErrInvalid, l))
		}
		f.Limit = n
	}
	page, err := w.Alerts(c.Request().Context(), f)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, page)
}

func (w *Watch) handleGet(c echo.Context) error {
	id, err := alertID(c)
	if err != nil {
		return err
	}
	a, err := w.Alert(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, a)
}

func (w *Watch) handleAck(c echo.Context) error {
	id, err := alertID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	a, err := w.Ack(ctx, id, w.who(ctx))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, a)
}
