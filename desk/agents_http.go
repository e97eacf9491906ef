package desk

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/desk/assign"
)

// AgentsHandler serves the agents API: the managers' workload view and the
// agents' skills and capacity.
type AgentsHandler struct {
	Desk *Desk
}

// Register mounts GET /agents behind read, and PUT and DELETE
// /agents/:name behind manage, on g (the /api/v1 group).
func (h *AgentsHandler) Register(g *echo.Group, read, manage echo.MiddlewareFunc) {
	g.GET("/agents", h.list, read)
	g.PUT("/agents/:name", h.put, manage)
	g.DELETE("/agents/:name", h.delete, manage)
}

func (h *AgentsHandler) list(c echo.Context) error {
	as, err := h.Desk.Agents(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"agents": as})
}

func (h *AgentsHandler) put(c echo.Context) error {
	var body struct {
		Skills   map[string]int `json:"skills"`
		Capacity int            `json:"capacity"`
	}
	if err := bindLimit(c, &body, 64<<10); err != nil {
		return err
	}
	a, err := h.Desk.PutAgent(c.Request().Context(), assign.Agent{Name: c.Param("name"), Skills: body.Skills, Capacity: body.Capacity})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (h *AgentsHandler) delete(c echo.Context) error {
	if err := h.Desk.DeleteAgent(c.Request().Context(), c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
