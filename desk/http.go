package desk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/desk/sla"
)

// Handler serves the desk's HTTP API.
type Handler struct {
	Desk *Desk
	// Queues lists the configured queues (shown even when empty).
	Queues func() []string
	// Who returns the authenticated user of a request.
	Who func(ctx context.Context) string
}

// Guards are the middlewares that authorise each kind of desk action.
type Guards struct {
	Read, Assign, Note, Resolve, Reply, ManageMacros echo.MiddlewareFunc
}

// Register mounts the desk's routes on g (the /api/v1 group), each behind
// its guard.
func (h *Handler) Register(g *echo.Group, gd Guards) {
	g.GET("/queues", h.queues, gd.Read, h.activity)
	g.GET("/tickets", h.list, gd.Read, h.activity)
	g.GET("/tickets/:id", h.get, gd.Read, h.activity)
	g.POST("/tickets/:id/assign", h.assign, gd.Assign, h.activity)
	g.POST("/tickets/:id/reply", h.reply, gd.Reply, h.activity)
	g.POST("/tickets/:id/note", h.note, gd.Note, h.activity)
	g.POST("/tickets/:id/resolve", h.resolve, gd.Resolve, h.activity)
	g.POST("/tickets/resolve", h.resolveMany, gd.Resolve, h.activity)
	g.POST("/tickets/:id/macro", h.macro, gd.Reply, h.activity)
	g.GET("/tickets/:id/macros/:name/preview", h.preview, gd.Read, h.activity)
	g.PUT("/macros/:name", h.saveMacro, gd.ManageMacros)
	g.DELETE("/macros/:name", h.deleteMacro, gd.ManageMacros)
	g.GET("/macros", h.listMacros, gd.Read)
}

// activity tells the assignment engine that the agent behind a ticket
// request is active.
func (h *Handler) activity(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h.Who != nil {
			h.Desk.Activity(h.Who(c.Request().Context()))
		}
		return next(c)
	}
}

func (h *Handler) listMacros(c echo.Context) error {
	ms, err := h.Desk.Macros(c.Request().Context(), c.QueryParam("queue"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"macros": ms})
}

func (h *Handler) saveMacro(c echo.Context) error {
	var m Macro
	if err := bind(c, &m); err != nil {
		return err
	}
	ctx := c.Request().Context()
	m.Name, m.CreatedBy = c.Param("name"), h.Who(ctx)
	m, err := h.Desk.SaveMacro(ctx, m)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

func (h *Handler) deleteMacro(c echo.Context) error {
	if err := h.Desk.DeleteMacro(c.Request().Context(), c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) preview(c echo.Context) error {
	id, err := ticketID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	m, err := h.Desk.Macro(ctx, c.Param("name"))
	if err != nil {
		return err
	}
	t, err := h.Desk.ticket(ctx, h.Desk.db.R, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"text": m.Render(&t, h.Who(ctx)), "tags": m.Tags, "resolve": m.Resolve})
}

func (h *Handler) macro(c echo.Context) error {
	id, err := ticketID(c)
	if err != nil {
		return err
	}
	var body struct {
		Name    string `json:"name"`
		Confirm bool   `json:"confirm"`
	}
	if err := bind(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, m, err := h.Desk.ApplyMacro(ctx, id, h.Who(ctx), body.Name, body.Confirm)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"ticket": t, "message": m})
}

func ticketID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: ticket id %q is not a positive integer", ErrInvalid, c.Param("id"))
	}
	return id, nil
}

// bind reads a small JSON body strictly: unknown fields are errors.
func bind(c echo.Context, v any) error { return bindLimit(c, v, MaxTextBytes+4096) }

func bindLimit(c echo.Context, v any, limit int64) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, limit+1))
	if int64(len(body)) > limit {
		return fmt.Errorf("%w: body larger than %d bytes", ErrInvalid, limit)
	}
	if err != nil {
		return fmt.Errorf("%w: read body: %w", ErrInvalid, err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body: %s", ErrInvalid, err.Error())
	}
	return nil
}

func (h *Handler) queues(c echo.Context) error {
	var known []string
	if h.Queues != nil {
		known = h.Queues()
	}
	qs, err := h.Desk.Queues(c.Request().Context(), known)
	if err != nil {
		return err
	}
	if qs == nil {
		qs = []QueueStat{}
	}
	return c.JSON(http.StatusOK, qs)
}

func (h *Handler) list(c echo.Context) error {
	f := Filter{Queue: c.QueryParam("queue"), Status: Status(c.QueryParam("status")), Assignee: c.QueryParam("assignee"), Cursor: c.QueryParam("cursor"),
		SLA: sla.State(c.QueryParam("sla")), Author: c.QueryParam("author")}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return fmt.Errorf("%w: limit %q is not a number", ErrInvalid, l)
		}
		f.Limit = n
	}
	page, err := h.Desk.Tickets(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) get(c echo.Context) error {
	id, err := ticketID(c)
	if err != nil {
		return err
	}
	t, err := h.Desk.Ticket(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (h *Handler) assign(c echo.Context) error {
	id, err := ticketID(c)
	if err != nil {
		return err
	}
	var body struct {
		Agent string `json:"agent"`
	}
	if err := bind(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := h.Desk.Assign(ctx, id, h.Who(ctx), body.Agent)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

type textBody struct {
	Text string `json:"text"`
	// Confirm replies even to a ticket assigned to someone else.
	Confirm bool `json:"confirm"`
}

func (h *Handler) reply(c echo.Context) error {
	id, err := ticketID(c)
	if err != nil {
		return err
	}
	var body textBody
	if err := bind(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, m, err := h.Desk.ReplyWith(ctx, id, h.Who(ctx), body.Text, ReplyOptions{Confirm: body.Confirm})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"ticket": t, "message": m})
}

func (h *Handler) note(c echo.Context) error {
	id, err := ticketID(c)
	if err != nil {
		return err
	}
	var body textBody
	if err := bind(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, m, err := h.Desk.AddNote(ctx, id, h.Who(ctx), body.Text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"ticket": t, "message": m})
}

func (h *Handler) resolve(c echo.Context) error {
	id, err := ticketID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := h.Desk.Resolve(ctx, id, h.Who(ctx))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

// AuditDetailKey is the echo context key under which a handler leaves what
// the audit log should record of a call beyond its route: the tickets a
// bulk action changed.
const AuditDetailKey = "audit_detail"

func (h *Handler) resolveMany(c echo.Context) error {
	var body struct {
		IDs []int64 `json:"ids"`
	}
	if err := bindLimit(c, &body, 64<<10); err != nil {
		return err
	}
	ctx := c.Request().Context()
	out, err := h.Desk.ResolveMany(ctx, body.IDs, h.Who(ctx))
	if err != nil && !errors.Is(err, ErrNotDurable) {
		return err
	}
	// Resolved tickets are recorded even when their fsync failed: they
	// are resolved for everyone.
	c.Set(AuditDetailKey, map[string]any{"resolved": out.Done})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
