package search

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Register mounts GET /search on g (the /api/v1 group):
//
//	GET /search?q=&from=&to=&size=&page=&sort=newest|relevance&facets=source,lang,sentiment
//
// answers a Result as JSON. A bad parameter gets 400 with {"error": "param:
// reason"}; a closed index gets 503; other failures are returned to echo's
// error handler as a 500 carrying the cause.
func (ix *Index) Register(g *echo.Group, m ...echo.MiddlewareFunc) {
	g.GET("/search", ix.handleSearch, m...)
}

func (ix *Index) handleSearch(c echo.Context) error {
	req, err := ParseRequest(c.QueryParams())
	if err == nil {
		var res Result
		res, err = ix.Search(c.Request().Context(), req)
		if err == nil {
			return c.JSON(http.StatusOK, res)
		}
	}
	var re *RequestError
	switch {
	case errors.As(err, &re):
		return c.JSON(http.StatusBadRequest, map[string]string{"error": re.Error()})
	case errors.Is(err, ErrClosed):
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"error": "search index closed: retry later"})
	}
	return echo.NewHTTPError(http.StatusInternalServerError, "search failed").SetInternal(err)
}
