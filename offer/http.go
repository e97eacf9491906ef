package offer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// maxBodyBytes bounds a request body: a polygon of MaxVertices positions
// takes about 200 KB of JSON.
const maxBodyBytes = 1 << 20

// Handler serves the offer engine's HTTP API.
type Handler struct {
	Engine *Engine
	// Who returns the authenticated user of a request, recorded with
	// consent changes. Nil records "".
	Who func(ctx context.Context) string
}

// Register mounts the routes for Vigie's users on g (the authenticated
// /api/v1 group): read guards the GETs, manage the changes.
//
//	GET    /geofences, /geofences/:id             POST /geofences   PUT|DELETE /geofences/:id
//	GET    /campaigns, /campaigns/:id             POST /campaigns   PUT|DELETE /campaigns/:id
//	GET    /consents/:source/:user_id             PUT|DELETE /consents/:source/:user_id
//	GET    /offers?status=&reason=&delivery=&source=&user_id=&campaign=&limit=&cursor=
//	GET    /offers/:id                            POST /offers/:id/retry
//	GET    /authors/:source/:author_id/offers
//
// Register mounts the routes on g: read guards offers and fences, manage
// their changes, profile the consents and offers of one person (shown to
// agents in the console).
func (h *Handler) Register(g *echo.Group, read, manage, profile echo.MiddlewareFunc) {
	g.GET("/geofences", h.listFences, read)
	g.POST("/geofences", h.putFence, manage)
	g.GET("/geofences/:id", h.getFence, read)
	g.PUT("/geofences/:id", h.putFence, manage)
	g.DELETE("/geofences/:id", h.deleteFence, manage)
	g.GET("/campaigns", h.listCampaigns, read)
	g.POST("/campaigns", h.putCampaign, manage)
	g.GET("/campaigns/:id", h.getCampaign, read)
	g.PUT("/campaigns/:id", h.putCampaign, manage)
	g.DELETE("/campaigns/:id", h.deleteCampaign, manage)
	g.GET("/consents/:source/:user_id", h.getConsent, read)
	g.PUT("/consents/:source/:user_id", h.putConsent, manage)
	g.DELETE("/consents/:source/:user_id", h.withdrawConsent, manage)
	g.GET("/offers", h.listOffers, read)
	g.GET("/offers/:id", h.getOffer, read)
	g.POST("/offers/:id/retry", h.retry, manage)
	g.GET("/authors/:source/:author_id/offers", h.profile, profile)
}

// RegisterCallbacks mounts the gateway's callback on public (the /api/v1
// group without Vigie's authentication):
//
//	POST /offers/:id/redeemed   {"offer_id": 12, "redeemed_at": "...", "reference": "..."}
//	                            signed like the webhooks (X-Vigie-Timestamp,
//	                            X-Vigie-Signature over "<ts>.<raw body>")
//
// The gateway already holds the shared secret to check Vigie's webhooks, so
// it signs its callbacks with it: no Vigie account or token to provision
// for a machine, the body cannot be altered, and a captured call cannot be
// replayed after Config.CallbackSkew.
func (h *Handler) RegisterCallbacks(public *echo.Group) {
	public.POST("/offers/:id/redeemed", h.redeemed)
}

// httpError turns a domain error into the answer the central error handler
// writes.
func httpError(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, err.Error()).SetInternal(err)
	case errors.Is(err, ErrInvalid):
		return echo.NewHTTPError(http.StatusBadRequest, err.Error()).SetInternal(err)
	case errors.Is(err, ErrUnauthorized):
		return echo.NewHTTPError(http.StatusUnauthorized, err.Error()).SetInternal(err)
	}
	return err
}

func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %w", ErrInvalid, err)
	}
	if len(body) > maxBodyBytes {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", maxBodyBytes))
	}
	return body, nil
}

// bind reads a JSON body strictly: unknown fields are errors.
func bind(c echo.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeStrict(body, v)
}

func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("%w: body: a JSON object is required", ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body: %s", ErrInvalid, jsonMessage(err))
	}
	if dec.More() {
		return fmt.Errorf("%w: body: more than one JSON value", ErrInvalid)
	}
	return nil
}

func pathID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%w: id %q is not a positive integer", ErrInvalid, c.Param("id"))
	}
	return id, nil
}

func (h *Handler) listFences(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"fences": h.Engine.Fences()})
}

func (h *Handler) getFence(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return httpError(err)
	}
	f, err := h.Engine.Fence(id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, f)
}

func (h *Handler) putFence(c echo.Context) error {
	var id int64
	if c.Request().Method == http.MethodPut {
		var err error
		if id, err = pathID(c); err != nil {
			return httpError(err)
		}
	}
	var f Fence
	if err := bind(c, &f); err != nil {
		return httpError(err)
	}
	if f.ID != 0 && f.ID != id {
		return httpError(fmt.Errorf("%w: id: %w", ErrInvalid, errNoID))
	}
	f, err := h.Engine.PutFence(c.Request().Context(), id, f)
	if err != nil {
		return httpError(err)
	}
	if id == 0 {
		return c.JSON(http.StatusCreated, f)
	}
	return c.JSON(http.StatusOK, f)
}

func (h *Handler) deleteFence(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return httpError(err)
	}
	if err := h.Engine.DeleteFence(c.Request().Context(), id); err != nil {
		return httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) listCampaigns(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"campaigns": h.Engine.Campaigns()})
}

func (h *Handler) getCampaign(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return httpError(err)
	}
	cp, err := h.Engine.Campaign(id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, cp)
}

func (h *Handler) putCampaign(c echo.Context) error {
	var id int64
	if c.Request().Method == http.MethodPut {
		var err error
		if id, err = pathID(c); err != nil {
			return httpError(err)
		}
	}
	var cp Campaign
	if err := bind(c, &cp); err != nil {
		return httpError(err)
	}
	if cp.ID != 0 && cp.ID != id {
		return httpError(fmt.Errorf("%w: id: %w", ErrInvalid, errNoID))
	}
	cp, err := h.Engine.PutCampaign(c.Request().Context(), id, cp)
	if err != nil {
		return httpError(err)
	}
	if id == 0 {
		return c.JSON(http.StatusCreated, cp)
	}
	return c.JSON(http.StatusOK, cp)
}

func (h *Handler) deleteCampaign(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return httpError(err)
	}
	if err := h.Engine.DeleteCampaign(c.Request().Context(), id); err != nil {
		return httpError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (h *Handler) who(ctx context.Context) string {
	if h.Who == nil {
		return ""
	}
	return h.Who(ctx)
}

func (h *Handler) getConsent(c echo.Context) error {
	cs, err := h.Engine.Consent(c.Request().Context(), c.Param("source"), c.Param("user_id"))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, cs)
}

func (h *Handler) putConsent(c echo.Context) error {
	var req ConsentRequest
	if err := bind(c, &req); err != nil {
		return httpError(err)
	}
	ctx := c.Request().Context()
	cs, err := h.Engine.PutConsent(ctx, c.Param("source"), c.Param("user_id"), req, h.who(ctx))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, cs)
}

// withdrawConsent is DELETE: a withdrawal, kept in the history. An optional
// body {"channel": "...", "proof": "..."} says how it was asked.
func (h *Handler) withdrawConsent(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return httpError(err)
	}
	var req ConsentRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeStrict(body, &req); err != nil {
			return httpError(err)
		}
		if req.Granted {
			return httpError(fmt.Errorf("%w: granted: DELETE withdraws consent; use PUT to grant", ErrInvalid))
		}
	}
	ctx := c.Request().Context()
	cs, err := h.Engine.PutConsent(ctx, c.Param("source"), c.Param("user_id"), ConsentRequest{Channel: req.Channel, Proof: req.Proof}, h.who(ctx))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, cs)
}

// Page is a page of decisions.
type Page struct {
	Offers     []Decision `json:"offers"`
	NextCursor string     `json:"next_cursor,omitempty"`
}

func (h *Handler) listOffers(c echo.Context) error {
	f := Filter{
		Status: Status(c.QueryParam("status")), Reason: Reason(c.QueryParam("reason")),
		Delivery: Delivery(c.QueryParam("delivery")), Source: c.QueryParam("source"),
		UserID: c.QueryParam("user_id"), Cursor: c.QueryParam("cursor"),
	}
	for _, q := range []struct {
		name string
		dst  *int64
	}{{"campaign", &f.Campaign}, {"limit", nil}} {
		v := c.QueryParam(q.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return httpError(fmt.Errorf("%w: %s: %q is not a positive integer", ErrInvalid, q.name, v))
		}
		if q.dst != nil {
			*q.dst = n
		} else {
			f.Limit = int(min(n, 1<<20))
		}
	}
	ds, next, err := h.Engine.Decisions(c.Request().Context(), f)
	if err != nil {
		return httpError(err)
	}
	if ds == nil {
		ds = []Decision{}
	}
	return c.JSON(http.StatusOK, Page{Offers: ds, NextCursor: next})
}

func (h *Handler) getOffer(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return httpError(err)
	}
	d, err := h.Engine.Decision(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, d)
}

func (h *Handler) retry(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return httpError(err)
	}
	d, err := h.Engine.Retry(c.Request().Context(), id)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, d)
}

// Profile is a person's consent and offers, for the console.
type Profile struct {
	// Consent is nil when none was ever recorded.
	Consent *Consent `json:"consent"`
	// Offers are the newest decisions that sent an offer (at most 100).
	Offers []Decision `json:"offers"`
	// Skipped counts the skipped decisions by reason.
	Skipped map[Reason]int `json:"skipped"`
}

func (h *Handler) profile(c echo.Context) error {
	ctx := c.Request().Context()
	p, err := h.Engine.Profile(ctx, c.Param("source"), c.Param("author_id"))
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, p)
}

// redeemRequest is the body of a redemption callback. OfferID repeats the
// id of the path: the signature covers the body only, so the id must be in
// it, or a signed call for one offer could be replayed for another.
type redeemRequest struct {
	OfferID    int64      `json:"offer_id"`
	RedeemedAt *time.Time `json:"redeemed_at"`
	Reference  string     `json:"reference"`
}

func (h *Handler) redeemed(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return httpError(err)
	}
	e := h.Engine
	r := c.Request()
	if err := Verify([]byte(e.cfg.GatewaySecret), r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, e.cfg.Now(), e.cfg.CallbackSkew); err != nil {
		return httpError(err)
	}
	id, err := pathID(c)
	if err != nil {
		return httpError(err)
	}
	var req redeemRequest
	if err := decodeStrict(body, &req); err != nil {
		return httpError(err)
	}
	if req.OfferID != id {
		return httpError(fmt.Errorf("%w: offer_id: %d in the body, %d in the path", ErrInvalid, req.OfferID, id))
	}
	var at time.Time
	if req.RedeemedAt != nil {
		at = *req.RedeemedAt
	}
	d, err := e.Redeem(r.Context(), id, at, req.Reference)
	if err != nil {
		return httpError(err)
	}
	return c.JSON(http.StatusOK, d)
}
