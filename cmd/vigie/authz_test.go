package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/vigie/vigie/auth"
)

// Every route of the server and who may call it. A route missing here fails
// the test: a new endpoint must be placed in the authorization matrix.
var (
	publicRoutes = map[string]bool{
		"POST /api/v1/offers/:id/redeemed": true, // signed by the gateway
		"POST /api/v1/csat/:token":         true, // the signed survey token authenticates
		"GET /healthz":                     true, "GET /readyz": true, "GET /metrics": true,
		"POST /api/v1/login": true, "GET /api/v1/openapi.json": true,
	}
	// Routes every authenticated user may call.
	anyUserRoutes = map[string]bool{
		"POST /api/v1/logout": true, "GET /api/v1/me": true, "POST /api/v1/me/password": true,
		"GET /api/v1/tokens": true, "POST /api/v1/tokens": true, "DELETE /api/v1/tokens/:id": true,
		"GET /ws": true,
	}
	routePermissions = map[string]auth.Permission{
		"GET /api/v1/sources":                           auth.PermManageSources,
		"POST /api/v1/sources/:name/enable":             auth.PermManageSources,
		"POST /api/v1/sources/:name/disable":            auth.PermManageSources,
		"GET /api/v1/search":                            auth.PermSearch,
		"GET /api/v1/geofences":                         auth.PermReadOffers,
		"POST /api/v1/geofences":                        auth.PermManageOffers,
		"GET /api/v1/geofences/:id":                     auth.PermReadOffers,
		"PUT /api/v1/geofences/:id":                     auth.PermManageOffers,
		"DELETE /api/v1/geofences/:id":                  auth.PermManageOffers,
		"GET /api/v1/campaigns":                         auth.PermReadOffers,
		"POST /api/v1/campaigns":                        auth.PermManageOffers,
		"GET /api/v1/campaigns/:id":                     auth.PermReadOffers,
		"PUT /api/v1/campaigns/:id":                     auth.PermManageOffers,
		"DELETE /api/v1/campaigns/:id":                  auth.PermManageOffers,
		"GET /api/v1/consents/:source/:user_id":         auth.PermReadOffers,
		"PUT /api/v1/consents/:source/:user_id":         auth.PermManageOffers,
		"DELETE /api/v1/consents/:source/:user_id":      auth.PermManageOffers,
		"GET /api/v1/offers":                            auth.PermReadOffers,
		"GET /api/v1/offers/:id":                        auth.PermReadOffers,
		"POST /api/v1/offers/:id/retry":                 auth.PermManageOffers,
		"GET /api/v1/authors/:source/:author_id/offers": auth.PermReadTickets,
		"GET /api/v1/kpis":                              auth.PermReadKPIs,
		"GET /api/v1/alerts":                            auth.PermReadAlerts,
		"GET /api/v1/alerts/:id":                        auth.PermReadAlerts,
		"POST /api/v1/alerts/:id/ack":                   auth.PermAckAlerts,
		"POST /api/v1/mentions":                         auth.PermIngest,
		"POST /api/v1/checkins":                         auth.PermIngest,
		"GET /api/v1/queues":                            auth.PermReadTickets,
		"GET /api/v1/tickets":                           auth.PermReadTickets,
		"GET /api/v1/tickets/:id":                       auth.PermReadTickets,
		"POST /api/v1/tickets/:id/assign":               auth.PermAssign,
		"POST /api/v1/tickets/:id/reply":                auth.PermReply,
		"POST /api/v1/tickets/:id/macro":                auth.PermReply,
		"POST /api/v1/tickets/:id/note":                 auth.PermNote,
		"POST /api/v1/tickets/:id/resolve":              auth.PermResolve,
		"POST /api/v1/tickets/resolve":                  auth.PermResolve,
		"GET /api/v1/tickets/:id/macros/:name/preview":  auth.PermReadTickets,
		"GET /api/v1/macros":                            auth.PermReadTickets,
		"PUT /api/v1/macros/:name":                      auth.PermManageRules,
		"DELETE /api/v1/macros/:name":                   auth.PermManageRules,
		"GET /api/v1/rules":                             auth.PermManageRules,
		"PUT /api/v1/rules":                             auth.PermManageRules,
		"POST /api/v1/rules/validate":                   auth.PermManageRules,
		"POST /api/v1/rules/dry-run":                    auth.PermManageRules,
		"GET /api/v1/rules/versions":                    auth.PermManageRules,
		"GET /api/v1/rules/versions/:version":           auth.PermManageRules,
		"POST /api/v1/rules/rollback":                   auth.PermManageRules,
		"GET /api/v1/authors/:source/:author_id/export": auth.PermErase,
		"DELETE /api/v1/authors/:source/:author_id":     auth.PermErase,
		"GET /api/v1/users":                             auth.PermManageUsers,
		"POST /api/v1/users":                            auth.PermManageUsers,
		"PATCH /api/v1/users/:name":                     auth.PermManageUsers,
		"DELETE /api/v1/users/:name":                    auth.PermManageUsers,
		"GET /api/v1/audit":                             auth.PermReadAudit,
		"GET /api/v1/agents":                            auth.PermReadTickets,
		"PUT /api/v1/agents/:name":                      auth.PermManageRules,
		"DELETE /api/v1/agents/:name":                   auth.PermManageRules,
		// The CRM (crm.Handler).
		"GET /api/v1/profiles":                                      auth.PermReadTickets,
		"GET /api/v1/profiles/by-identity/:source/:author_id":       auth.PermReadTickets,
		"GET /api/v1/profiles/:id":                                  auth.PermReadTickets,
		"GET /api/v1/profiles/:id/timeline":                         auth.PermReadTickets,
		"GET /api/v1/profiles/:id/suggestions":                      auth.PermReadTickets,
		"POST /api/v1/profiles/:id/identities":                      auth.PermNote,
		"DELETE /api/v1/profiles/:id/identities/:source/:author_id": auth.PermNote,
		"PUT /api/v1/profiles/:id/crm":                              auth.PermNote,
		"PUT /api/v1/profiles/:id/consent":                          auth.PermManageOffers,
		"POST /api/v1/profiles/import":                              auth.PermManageRules,
		"GET /api/v1/csat":                                          auth.PermReadKPIs,
		"GET /api/v1/segments":                                      auth.PermReadOffers,
		"POST /api/v1/segments":                                     auth.PermManageOffers,
		"GET /api/v1/segments/:id":                                  auth.PermReadOffers,
		"PUT /api/v1/segments/:id":                                  auth.PermManageOffers,
		"DELETE /api/v1/segments/:id":                               auth.PermManageOffers,
		"GET /api/v1/segments/:id/count":                            auth.PermReadOffers,
		"GET /api/v1/segments/:id/members":                          auth.PermReadOffers,
		"GET /api/v1/segments/:id/export.csv":                       auth.PermManageOffers,
		"POST /api/v1/segments/:id/export":                          auth.PermManageOffers,
		"GET /api/v1/crm/campaigns":                                 auth.PermReadOffers,
		"POST /api/v1/crm/campaigns":                                auth.PermManageOffers,
		"GET /api/v1/crm/campaigns/:id":                             auth.PermReadOffers,
		"GET /api/v1/crm/campaigns/:id/recipients":                  auth.PermReadOffers,
		"POST /api/v1/crm/campaigns/:id/start":                      auth.PermManageOffers,
		"POST /api/v1/crm/campaigns/:id/pause":                      auth.PermManageOffers,
		"POST /api/v1/crm/campaigns/:id/cancel":                     auth.PermManageOffers,
	}
)

var pathParam = regexp.MustCompile(`:[a-z_]+`)

// TestAuthorizationMatrix calls every endpoint as every role and without
// credentials: no credentials get 401 (but on public routes), a role without
// the route's permission gets 403, a role with it gets past authorization.
func TestAuthorizationMatrix(t *testing.T) {
	a := startApp(t, t.TempDir())
	ctx := context.Background()
	tokens := map[auth.Role]string{}
	for _, r := range auth.Roles {
		name := "u-" + string(r)
		if _, err := a.srv.auth.CreateUser(ctx, name, r, "a long enough password"); err != nil {
			t.Fatal(err)
		}
		_, text, err := a.srv.auth.CreateToken(ctx, name, "matrix", r)
		if err != nil {
			t.Fatal(err)
		}
		tokens[r] = text
	}
	// An admin's token scoped to one source may ingest, and nothing else.
	_, scoped, err := a.srv.auth.IssueToken(ctx, auth.TokenSpec{User: "u-admin", Name: "feed", Source: "mastodon"})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path, token string) int {
		req, _ := http.NewRequest(method, a.url+path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	seen := 0
	for _, rt := range a.srv.echo.Routes() {
		key := rt.Method + " " + rt.Path
		if rt.Method == "echo_route_not_found" || strings.HasPrefix(rt.Path, "/*") || rt.Path == "/" {
			continue
		}
		if strings.HasPrefix(rt.Path, "/hooks/") {
			continue // the networks' webhooks: each checks its network's signature
		}
		perm, guarded := routePermissions[key]
		if !guarded && !publicRoutes[key] && !anyUserRoutes[key] {
			t.Errorf("route %s is not in the authorization matrix", key)
			continue
		}
		seen++
		path := pathParam.ReplaceAllString(rt.Path, "1")
		if publicRoutes[key] {
			continue
		}
		if code := call(rt.Method, path, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", key, code)
		}
		for _, r := range auth.Roles {
			code := call(rt.Method, path, tokens[r])
			allowed := anyUserRoutes[key] || r.Can(perm)
			switch {
			case allowed && (code == http.StatusUnauthorized || code == http.StatusForbidden):
				t.Errorf("%s as %s: %d, want it allowed", key, r, code)
			case !allowed && code != http.StatusForbidden:
				t.Errorf("%s as %s: %d, want 403", key, r, code)
			}
		}
		code := call(rt.Method, path, scoped)
		allowed := perm == auth.PermIngest || (anyUserRoutes[key] && key != "POST /api/v1/tokens")
		switch {
		case allowed && (code == http.StatusUnauthorized || code == http.StatusForbidden):
			t.Errorf("%s with a source-scoped token: %d, want it allowed", key, code)
		case !allowed && code != http.StatusForbidden:
			t.Errorf("%s with a source-scoped token: %d, want 403", key, code)
		}
	}
	if seen < len(routePermissions) {
		t.Errorf("only %d routes seen, the matrix lists %d guarded ones", seen, len(routePermissions))
	}
}
