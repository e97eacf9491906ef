package desk

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/router"
)

// RulesHandler serves the rules API: read, validate, dry-run, save (a new
// version, applied at once), history and rollback.
type RulesHandler struct {
	Desk *Desk
	// Current returns the rule set in force; Apply puts a new one in force.
	Current func() *router.RuleSet
	Apply   func(*router.RuleSet)
	Who     func(c echo.Context) string
}

// Register mounts the routes on g behind guard (managing rules).
func (h *RulesHandler) Register(g *echo.Group, guard echo.MiddlewareFunc) {
	g.GET("/rules", h.get, guard)
	g.PUT("/rules", h.save, guard)
	g.POST("/rules/validate", h.validate, guard)
	g.POST("/rules/dry-run", h.dryRun, guard)
	g.GET("/rules/versions", h.history, guard)
	g.GET("/rules/versions/:version", h.version, guard)
	g.POST("/rules/rollback", h.rollback, guard)
}

type rulesBody struct {
	YAML    string `json:"yaml"`
	Comment string `json:"comment"`
	// Dry-run only.
	Last int    `json:"last"`
	From string `json:"from"`
	To   string `json:"to"`
}

func (h *RulesHandler) get(c echo.Context) error {
	rv, err := h.Desk.LatestRules(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rv)
}

func (h *RulesHandler) parse(c echo.Context) (rulesBody, *router.RuleSet, error) {
	var b rulesBody
	if err := bindLimit(c, &b, 1<<20); err != nil {
		return b, nil, err
	}
	rs, err := router.ParseRules([]byte(b.YAML))
	if err != nil {
		return b, nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return b, rs, nil
}

func (h *RulesHandler) validate(c echo.Context) error {
	_, rs, err := h.parse(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"valid": true, "rules": len(rs.Rules), "queues": rs.Queues()})
}

func (h *RulesHandler) dryRun(c echo.Context) error {
	b, rs, err := h.parse(c)
	if err != nil {
		return err
	}
	r := DryRunRange{Last: b.Last}
	for _, f := range []struct {
		name, v string
		t       *time.Time
	}{{"from", b.From, &r.From}, {"to", b.To, &r.To}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			return fmt.Errorf("%w: %s: not RFC 3339", ErrInvalid, f.name)
		}
		*f.t = t
	}
	out, err := h.Desk.DryRunRules(c.Request().Context(), rs, h.Current(), r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (h *RulesHandler) save(c echo.Context) error {
	b, _, err := h.parse(c)
	if err != nil {
		return err
	}
	rv, rs, err := h.Desk.SaveRules(c.Request().Context(), b.YAML, h.Who(c), b.Comment)
	if err != nil {
		return err
	}
	h.Apply(rs)
	return c.JSON(http.StatusOK, rv)
}

func (h *RulesHandler) history(c echo.Context) error {
	list, err := h.Desk.RulesHistory(c.Request().Context(), 200)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"versions": list})
}

func (h *RulesHandler) version(c echo.Context) error {
	v, err := strconv.Atoi(c.Param("version"))
	if err != nil || v < 1 {
		return fmt.Errorf("%w: version %q is not a positive integer", ErrInvalid, c.Param("version"))
	}
	rv, err := h.Desk.RulesVersion(c.Request().Context(), v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, rv)
}

func (h *RulesHandler) rollback(c echo.Context) error {
	var b struct {
		Version int `json:"version"`
	}
	if err := bind(c, &b); err != nil {
		return err
	}
	ctx := c.Request().Context()
	old, err := h.Desk.RulesVersion(ctx, b.Version)
	if err != nil {
		return err
	}
	rv, rs, err := h.Desk.SaveRules(ctx, old.YAML, h.Who(c), fmt.Sprintf("rollback to version %d", b.Version))
	if err != nil {
		return err
	}
	h.Apply(rs)
	return c.JSON(http.StatusOK, rv)
}
