package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// maxBodyBytes bounds a JSON request body.
const maxBodyBytes = 64 << 10

// maxImportBytes bounds a CSV import (MaxImportLines of ~100 bytes).
const maxImportBytes = 10 << 20

// Handler serves the CRM's HTTP API.
type Handler struct {
	CRM *CRM
	// Who returns the authenticated user of a request, recorded with
	// links and consents. Nil records "".
	Who func(ctx context.Context) string
}

// Guards are the middlewares that authorise each group of routes.
type Guards struct {
	// Read: profiles, timelines, suggestions (the console).
	Read echo.MiddlewareFunc
	// Link: linking and unlinking identities, setting a CRM id.
	Link echo.MiddlewareFunc
	// Import: the CSV import of CRM ids.
	Import echo.MiddlewareFunc
	// Consent: recording consent and the fields shared with it.
	Consent echo.MiddlewareFunc
	// KPIs: the CSAT report.
	KPIs echo.MiddlewareFunc
	// ReadSegments: listing segments, counting and listing members.
	ReadSegments echo.MiddlewareFunc
	// ManageSegments: saving and deleting segments, exports.
	ManageSegments echo.MiddlewareFunc
}

// Register mounts the routes on g (the authenticated /api/v1 group).
// Errors are returned as *echo.HTTPError with their status.
//
//	GET    /profiles?q=&crm_id=&limit=&cursor=           {"profiles": [...], "next_cursor"}
//	GET    /profiles/by-identity/:source/:author_id      the profile
//	GET    /profiles/:id                                 the profile
//	GET    /profiles/:id/timeline?before=&limit=         {"items": [...]}
//	GET    /profiles/:id/suggestions                     {"suggestions": [...]}
//	POST   /profiles/:id/identities {source, author_id}  the profile
//	DELETE /profiles/:id/identities/:source/:author_id   {"profile", "new_profile_id"}
//	PUT    /profiles/:id/crm {crm_id}                    the profile
//	PUT    /profiles/:id/consent {granted, city, interests, proof}
//	POST   /profiles/import (text/csv)                   {"linked", "unchanged", "errors"}
//	GET    /csat?from=&to=&by=queue|agent                the report
//	GET    /segments   POST /segments   GET|PUT|DELETE /segments/:id
//	GET    /segments/:id/count   /segments/:id/members   /segments/:id/export.csv
//	POST   /segments/:id/export                          to the CRM's webhook
func (h *Handler) Register(g *echo.Group, gd Guards) {
	g.GET("/profiles", h.list, gd.Read)
	g.GET("/profiles/by-identity/:source/:author_id", h.byIdentity, gd.Read)
	g.GET("/profiles/:id", h.get, gd.Read)
	g.GET("/profiles/:id/timeline", h.timeline, gd.Read)
	g.GET("/profiles/:id/suggestions", h.suggestions, gd.Read)
	g.POST("/profiles/:id/identities", h.link, gd.Link)
	g.DELETE("/profiles/:id/identities/:source/:author_id", h.unlink, gd.Link)
	g.PUT("/profiles/:id/crm", h.setCRMID, gd.Link)
	g.PUT("/profiles/:id/consent", h.consent, gd.Consent)
	g.POST("/profiles/import", h.importCSV, gd.Import)
	g.GET("/csat", h.csat, gd.KPIs)
	g.GET("/segments", h.segments, gd.ReadSegments)
	g.POST("/segments", h.saveSegment, gd.ManageSegments)
	g.GET("/segments/:id", h.segment, gd.ReadSegments)
	g.PUT("/segments/:id", h.saveSegment, gd.ManageSegments)
	g.DELETE("/segments/:id", h.deleteSegment, gd.ManageSegments)
	g.GET("/segments/:id/count", h.count, gd.ReadSegments)
	g.GET("/segments/:id/members", h.members, gd.ReadSegments)
	g.GET("/segments/:id/export.csv", h.exportCSV, gd.ManageSegments)
	g.POST("/segments/:id/export", h.exportWebhook, gd.ManageSegments)
}

// RegisterPublic mounts the survey callback on public (the /api/v1 group
// without authentication): the token in the path authenticates it.
//
//	POST /csat/:token {"rating": 1..5, "comment": "..."}
func (h *Handler) RegisterPublic(public *echo.Group) {
	public.POST("/csat/:token", h.rate)
}

// httpError maps the CRM's errors to HTTP answers.
func httpError(err error) error {
	code := 0
	switch {
	case errors.Is(err, ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, ErrInvalid):
		code = http.StatusBadRequest
	case errors.Is(err, ErrConflict):
		code = http.StatusConflict
	case errors.Is(err, ErrUnauthorized):
		code = http.StatusUnauthorized
	case errors.Is(err, ErrGone):
		code = http.StatusGone
	case errors.Is(err, ErrExport):
		code = http.StatusBadGateway
	default:
		return err
	}
	return echo.NewHTTPError(code, err.Error()).SetInternal(err)
}

func (h *Handler) who(c echo.Context) string {
	if h.Who == nil {
		return ""
	}
	return h.Who(c.Request().Context())
}

// bind reads a JSON body strictly: unknown fields are errors.
func bind(c echo.Context, v any) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxBodyBytes+1))
	if err != nil {
		return httpError(fmt.Errorf("%w: read body: %w", ErrInvalid, err))
	}
	if len(body) > maxBodyBytes {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxBodyBytes))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return httpError(fmt.Errorf("%w: body: %w", ErrInvalid, err))
	}
	if dec.More() {
		return httpError(fmt.Errorf("%w: body: more than one JSON value", ErrInvalid))
	}
	return nil
}

// param returns a path parameter unescaped: echo hands over the raw
// segment when the path holds escapes (an author id such as
// "did:plc:x" sent as "did%3Aplc%3Ax", or one holding a slash).
func param(c echo.Context, name string) (string, error) {
	v, err := url.PathUnescape(c.Param(name))
	if err != nil {
		return "", httpError(fmt.Errorf("%w: %s: %w", ErrInvalid, name, err))
	}
	return v, nil
}

// identityParams returns the :source and :author_id path parameters.
func identityParams(c echo.Context) (string, string, error) {
	source, err := param(c, "source")
	if err != nil {
		return "", "", err
	}
	authorID, err := param(c, "author_id")
	return source, authorID, err
}

func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, httpError(fmt.Errorf("%w: id %q is not a positive integer", ErrInvalid, c.Param("id")))
	}
	return id, nil
}

func queryInt(c echo.Context, name string) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, httpError(fmt.Errorf("%w: %s %q is not a number", ErrInvalid, name, v))
	}
	return n, nil
}

func queryTime(c echo.Context, name string) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, httpError(fmt.Errorf("%w: %s %q is not RFC 3339", ErrInvalid, name, v))
	}
	return t, nil
}

func (h *Handler) list(c echo.Context) error {
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	page, err := h.CRM.Profiles(c.Request().Context(), ProfileFilter{Q: c.QueryParam("q"), CRMID: c.QueryParam("crm_id"), Limit: limit, Cursor: c.QueryParam("cursor")})
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) byIdentity(c echo.Context) error {
	source, authorID, err := identityParams(c)
	if err != nil {
		return err
	}
	p, err := h.CRM.ProfileByIdentity(c.Request().Context(), source, authorID)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, p)
}

func (h *Handler) get(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	p, err := h.CRM.Profile(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, p)
}

func (h *Handler) timeline(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	before, err := queryTime(c, "before")
	if err != nil {
		return err
	}
	items, err := h.CRM.Timeline(c.Request().Context(), id, before, limit)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (h *Handler) suggestions(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, err := h.CRM.Suggestions(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"suggestions": s})
}

func (h *Handler) link(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req IdentityRef
	if err := bind(c, &req); err != nil {
		return err
	}
	p, err := h.CRM.Link(c.Request().Context(), id, req.Source, req.AuthorID, h.who(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, p)
}

func (h *Handler) unlink(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	source, authorID, err := identityParams(c)
	if err != nil {
		return err
	}
	p, newID, err := h.CRM.Unlink(c.Request().Context(), id, source, authorID, h.who(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"profile": p, "new_profile_id": newID})
}

func (h *Handler) setCRMID(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req struct {
		CRMID *string `json:"crm_id"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	if req.CRMID == nil {
		return httpError(fmt.Errorf("%w: crm_id: required (\"\" removes the link)", ErrInvalid))
	}
	p, err := h.CRM.SetCRMID(c.Request().Context(), id, *req.CRMID)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, p)
}

func (h *Handler) consent(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req ConsentRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	p, err := h.CRM.SetConsent(c.Request().Context(), id, req, h.who(c))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, p)
}

func (h *Handler) importCSV(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxImportBytes+1))
	if err != nil {
		return httpError(fmt.Errorf("%w: read body: %w", ErrInvalid, err))
	}
	if len(body) > maxImportBytes {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxImportBytes))
	}
	res, err := h.CRM.Import(c.Request().Context(), bytes.NewReader(body))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, res)
}

func (h *Handler) rate(c echo.Context) error {
	var req RatingRequest
	if err := bind(c, &req); err != nil {
		return err
	}
	r, err := h.CRM.Rate(c.Request().Context(), c.Param("token"), req)
	if err != nil {
		return httpError(err)
	}
	// The customer gets their own answer back, nothing of the agent.
	return c.JSON(http.StatusOK, map[string]any{"ticket_id": r.TicketID, "rating": r.Rating, "comment": r.Comment, "rated_at": r.RatedAt})
}

func (h *Handler) csat(c echo.Context) error {
	from, err := queryTime(c, "from")
	if err != nil {
		return err
	}
	to, err := queryTime(c, "to")
	if err != nil {
		return err
	}
	if to.IsZero() {
		to = h.CRM.cfg.Now()
	}
	if from.IsZero() {
		from = to.Add(-30 * 24 * time.Hour)
	}
	rep, err := h.CRM.CSAT(c.Request().Context(), from, to, c.QueryParam("by"))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, rep)
}

func (h *Handler) segments(c echo.Context) error {
	s, err := h.CRM.Segments(c.Request().Context())
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"segments": s})
}

func (h *Handler) segment(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	s, err := h.CRM.Segment(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, s)
}

func (h *Handler) saveSegment(c echo.Context) error {
	var id int64
	if c.Param("id") != "" {
		var err error
		if id, err = pathID(c); err != nil {
			return err
		}
	}
	var req struct {
		Name   string `json:"name"`
		Filter Filter `json:"filter"`
	}
	if err := bind(c, &req); err != nil {
		return err
	}
	s, err := h.CRM.SaveSegment(c.Request().Context(), Segment{ID: id, Name: req.Name, Filter: req.Filter}, h.who(c))
	if err != nil {
		return httpError(err)
	}
	code := http.StatusOK
	if id == 0 {
		code = http.StatusCreated
	}
	return c.JSON(code, s)
}

func (h *Handler) deleteSegment(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := h.CRM.DeleteSegment(c.Request().Context(), id); err != nil {
		return httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) count(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	s, err := h.CRM.Segment(ctx, id)
	if err != nil {
		return httpError(err)
	}
	n, err := h.CRM.Count(ctx, s.Filter)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"segment_id": id, "count": n})
}

func (h *Handler) members(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	s, err := h.CRM.Segment(ctx, id)
	if err != nil {
		return httpError(err)
	}
	page, err := h.CRM.Members(ctx, s.Filter, limit, c.QueryParam("cursor"))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, page)
}

func (h *Handler) exportCSV(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	// Built in memory first, so that an error still gets a proper answer
	// rather than a truncated file.
	var buf bytes.Buffer
	if err := h.CRM.ExportCSV(c.Request().Context(), id, &buf); err != nil {
		return httpError(err)
	}
	name := strings.NewReplacer(`"`, "", "\\", "").Replace(fmt.Sprintf("segment-%d.csv", id))
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

func (h *Handler) exportWebhook(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	res, err := h.CRM.ExportWebhook(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, res)
}
