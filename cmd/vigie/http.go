package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/crm"
	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/offer"
	"github.com/vigie/vigie/router"
	"github.com/vigie/vigie/ui"
)

// wireHTTP builds the echo instance: operations endpoints, the API behind
// authentication, and the websocket.
func (s *server) wireHTTP() error {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.Use(middleware.Recover())

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", func(c echo.Context) error {
		if !s.ready.Load() {
			return c.String(http.StatusServiceUnavailable, "not ready\n")
		}
		return c.String(http.StatusOK, "ready\n")
	})
	e.GET("/metrics", echo.WrapHandler(s.metricsHandler()))

	// The login throttle keys on the client's address: take it from the
	// connection, never from a header the client writes. Behind a reverse
	// proxy, use echo.ExtractIPFromXFFHeader with the proxy's address.
	e.IPExtractor = echo.ExtractIPDirect()
	authn := s.auth.Middleware()
	// auditTrail records agents' and admins' actions (audit.go).
	public, api := e.Group("/api/v1"), e.Group("/api/v1", authn, s.auditTrail)
	s.auth.Register(public, api)
	public.GET("/openapi.json", serveOpenAPI) // the contract is no secret
	s.intake.Register(api, auth.Require(auth.PermIngest), newIngestLimiter(s.cfg.IngestRate, max(1, int(s.cfg.IngestRate))).middleware)
	s.kpis.Register(api, auth.Require(auth.PermReadKPIs))
	dh := &desk.Handler{Desk: s.desk, Queues: func() []string { return s.router.Rules().Queues() }, Who: userOf}
	dh.Register(api, desk.Guards{
		Read: auth.Require(auth.PermReadTickets), Assign: auth.Require(auth.PermAssign),
		Note: auth.Require(auth.PermNote), Resolve: auth.Require(auth.PermResolve),
		Reply: auth.Require(auth.PermReply), ManageMacros: auth.Require(auth.PermManageRules),
	})

	// The agents' skills, capacity and workload.
	(&desk.AgentsHandler{Desk: s.desk}).Register(api, auth.Require(auth.PermReadTickets), auth.Require(auth.PermManageRules))
	api.DELETE("/authors/:source/:author_id", s.erasure, auth.Require(auth.PermErase))
	api.GET("/authors/:source/:author_id/export", s.export, auth.Require(auth.PermErase))
	s.watch.Register(api, auth.Require(auth.PermReadAlerts), auth.Require(auth.PermAckAlerts))
	s.search.Register(api, auth.Require(auth.PermSearch))
	oh := &offer.Handler{Engine: s.offer, Who: userOf}
	oh.Register(api, auth.Require(auth.PermReadOffers), auth.Require(auth.PermManageOffers), auth.Require(auth.PermReadTickets))
	oh.RegisterCallbacks(public) // authenticated by the gateway's HMAC signature
	// Profiles, CSAT, segments. Agents read profiles and link
	// identities (an annotation of the customer, like a note); the CSV
	// import is an administrator's; consent and segments are marketing's,
	// like offers; the survey callback is public, the token authenticates.
	ch := &crm.Handler{CRM: s.crm, Who: userOf}
	ch.Register(api, crm.Guards{
		Read: auth.Require(auth.PermReadTickets), Link: auth.Require(auth.PermNote),
		Import: auth.Require(auth.PermManageRules), Consent: auth.Require(auth.PermManageOffers),
		KPIs: auth.Require(auth.PermReadKPIs), ReadSegments: auth.Require(auth.PermReadOffers),
		ManageSegments: auth.Require(auth.PermManageOffers),
	})
	ch.RegisterPublic(public)
	// Outbound campaigns post to customers in the brand's name: marketing's.
	ch.RegisterCampaigns(api, auth.Require(auth.PermReadOffers), auth.Require(auth.PermManageOffers))
	rh := &desk.RulesHandler{Desk: s.desk, Current: s.router.Rules, Apply: s.router.SetRules, Who: func(c echo.Context) string { return userOf(c.Request().Context()) }}
	rh.Register(api, auth.Require(auth.PermManageRules))

	// The sources' admin API, and the public webhook receivers (each
	// authenticated by its network's own signature).
	s.registry.MountAPI(api, auth.Require(auth.PermManageSources))
	s.registry.MountHooks(e)
	e.GET("/ws", func(c echo.Context) error {
		p, _ := auth.FromContext(c.Request().Context())
		return s.desk.Hub().Serve(c.Response(), c.Request(), desk.Client{User: p.User, Topics: topicsFor(p), ByCookie: p.Via == auth.ViaSession})
	}, authn)
	ui.Register(e)
	s.echo = e
	return nil
}

// errorHandler is the one place where errors become HTTP answers.
func (s *server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(code)
		}
	case errors.Is(err, desk.ErrTicketNotFound), errors.Is(err, desk.ErrNotFound), errors.Is(err, desk.ErrNoRules):
		code, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, desk.ErrInvalid):
		code, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, desk.ErrConflict):
		code, msg = http.StatusConflict, err.Error()
	case errors.Is(err, desk.ErrOrigin):
		code, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, desk.ErrNotDurable):
		// Not "internal error": the action happened, and a client that
		// sent it again would reply twice.
		msg = err.Error()
	case errors.Is(err, context.Canceled):
		code, msg = 499, "client went away"
	}
	if code >= 500 {
		s.log.Error("http_error", "error", err, "method", c.Request().Method, "path", c.Path())
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(code)
		return
	}
	body := map[string]any{"error": msg}
	if errors.Is(err, desk.ErrNotDurable) {
		body["committed"] = true
	}
	var re *router.RulesError
	if errors.As(err, &re) {
		body["line"], body["column"] = re.Line, re.Column
	}
	c.JSON(code, body)
}
