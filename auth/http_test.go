package auth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// testServer mounts Auth the way cmd/vigie does, plus probe routes behind
// permissions, and serves it on 127.0.0.1.
func testServer(tb testing.TB, a *Auth) *httptest.Server {
	tb.Helper()
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect()
	public := e.Group("/api/v1")
	private := e.Group("/api/v1", a.Middleware())
	a.Register(public, private)
	probe := func(c echo.Context) error {
		p, ok := FromContext(c.Request().Context())
		if !ok {
			return c.String(http.StatusInternalServerError, "no principal")
		}
		return c.JSON(http.StatusOK, p)
	}
	private.GET("/probe", probe)
	private.POST("/probe", probe)
	private.POST("/tickets/:id/reply", probe, Require(PermReply))
	private.GET("/kpis", probe, Require(PermReadKPIs))
	ws := e.Group("", a.Middleware())
	ws.GET("/ws", probe)
	ws.GET("/notws", probe)
	srv := httptest.NewServer(e)
	tb.Cleanup(srv.Close)
	return srv
}

type client struct {
	tb     testing.TB
	srv    *httptest.Server
	cookie *http.Cookie
	csrf   string
	bearer string
}

type resp struct {
	code   int
	header http.Header
	body   map[string]any
	raw    string
}

func (c *client) do(method, path, body string, hdr ...string) resp {
	c.tb.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, strings.NewReader(body))
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	if c.csrf != "" {
		req.Header.Set(HeaderCSRF, c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.srv.Client().Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := resp{code: res.StatusCode, header: res.Header, raw: string(raw)}
	json.Unmarshal(raw, &r.body)
	for _, ck := range res.Cookies() {
		if ck.Name == CookieName {
			if ck.MaxAge < 0 {
				c.cookie = nil
			} else {
				c.cookie = ck
			}
		}
	}
	return r
}

func (c *client) login(user, password string) resp {
	c.tb.Helper()
	r := c.do("POST", "/api/v1/login", `{"user":"`+user+`","password":"`+password+`"}`)
	if r.code == http.StatusOK {
		c.csrf, _ = r.body["csrf_token"].(string)
	}
	return r
}

func expect(tb testing.TB, r resp, code int) {
	tb.Helper()
	if r.code != code {
		tb.Fatalf("status %d, want %d: %s", r.code, code, r.raw)
	}
	if code >= 400 {
		if msg, _ := r.body["error"].(string); msg == "" {
			tb.Fatalf("status %d without a JSON error: %s", r.code, r.raw)
		}
	}
}

func TestHTTPLoginCookieAndCSRF(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	mustUser(t, a, "ana", RoleAgent, pw)
	srv := testServer(t, a)
	c := &client{tb: t, srv: srv}

	expect(t, c.do("GET", "/api/v1/me", ""), http.StatusUnauthorized)
	expect(t, c.login("ana", "wrong password"), http.StatusUnauthorized)
	expect(t, c.do("POST", "/api/v1/login", `{"user":"ana"}`), http.StatusBadRequest)
	expect(t, c.do("POST", "/api/v1/login", `{"user":"ana","password":"x","extra":1}`), http.StatusBadRequest)
	expect(t, c.do("POST", "/api/v1/login", `not json`), http.StatusBadRequest)

	r := c.login("ana", pw)
	expect(t, r, http.StatusOK)
	if r.body["user"] != "ana" || r.body["role"] != "agent" || c.csrf == "" {
		t.Fatalf("login body %s", r.raw)
	}
	ck := c.cookie
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, not Secure over plain HTTP", ck)
	}

	r = c.do("GET", "/api/v1/me", "")
	expect(t, r, http.StatusOK)
	if r.body["user"] != "ana" || r.body["via"] != "session" || r.body["csrf_token"] != c.csrf {
		t.Fatalf("me: %s (a session's /me gives its CSRF token back)", r.raw)
	}
	if perms, _ := r.body["permissions"].([]any); len(perms) != len(RoleAgent.Permissions()) || perms[0] != string(PermReadTickets) {
		t.Fatalf("me permissions: %s", r.raw)
	}

	// Unsafe methods need the CSRF token; safe ones do not.
	csrf := c.csrf
	c.csrf = ""
	expect(t, c.do("GET", "/api/v1/probe", ""), http.StatusOK)
	expect(t, c.do("POST", "/api/v1/probe", ""), http.StatusForbidden)
	c.csrf = csrf[:len(csrf)-1] + "x"
	expect(t, c.do("POST", "/api/v1/probe", ""), http.StatusForbidden)
	c.csrf = csrf
	expect(t, c.do("POST", "/api/v1/probe", ""), http.StatusOK)

	// Permissions: an agent replies but does not read KPIs.
	expect(t, c.do("POST", "/api/v1/tickets/t1/reply", `{}`), http.StatusOK)
	expect(t, c.do("GET", "/api/v1/kpis", ""), http.StatusForbidden)
	expect(t, c.do("GET", "/api/v1/users", ""), http.StatusForbidden)

	// Logout needs CSRF too, then the cookie is gone and refused.
	old := c.cookie
	c.csrf = ""
	expect(t, c.do("POST", "/api/v1/logout", ""), http.StatusForbidden)
	c.csrf = csrf
	expect(t, c.do("POST", "/api/v1/logout", ""), http.StatusNoContent)
	if c.cookie != nil {
		t.Fatal("logout did not clear the cookie")
	}
	c.cookie = old
	expect(t, c.do("GET", "/api/v1/me", ""), http.StatusUnauthorized)
}

func TestHTTPSecureCookie(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t, func(c *Config) { c.SecureCookies = true })
	mustUser(t, a, "ana", RoleAgent, pw)
	c := &client{tb: t, srv: testServer(t, a)}
	expect(t, c.login("ana", pw), http.StatusOK)
	if !c.cookie.Secure {
		t.Error("SecureCookies set, cookie not Secure")
	}
}

func TestHTTPBearer(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	mustUser(t, a, "mon", RoleMonitor, pw)
	srv := testServer(t, a)
	_, text, err := a.CreateToken(context.Background(), "mon", "script", "")
	if err != nil {
		t.Fatal(err)
	}
	c := &client{tb: t, srv: srv, bearer: text}
	// No CSRF for bearer requests.
	expect(t, c.do("POST", "/api/v1/probe", ""), http.StatusOK)
	// Monitors do not reply.
	r := c.do("POST", "/api/v1/tickets/t1/reply", `{}`)
	expect(t, r, http.StatusForbidden)
	if !strings.Contains(r.raw, "reply") {
		t.Errorf("403 does not name the permission: %s", r.raw)
	}

	tests := []struct {
		name, header string
		code         int
	}{
		{"admin token", "Bearer " + testAdminToken, http.StatusOK},
		{"garbage", "Bearer nope", http.StatusUnauthorized},
		{"basic", "Basic YTpi", http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{tb: t, srv: srv}
			r := c.do("GET", "/api/v1/probe", "", "Authorization", tt.header)
			expect(t, r, tt.code)
			if tt.code == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}

	// A bad Authorization header is not rescued by a good cookie.
	s, _ := a.Login(context.Background(), "mon", pw, "127.0.0.1")
	c = &client{tb: t, srv: srv, cookie: &http.Cookie{Name: CookieName, Value: s.ID}}
	expect(t, c.do("GET", "/api/v1/probe", ""), http.StatusOK)
	expect(t, c.do("GET", "/api/v1/probe", "", "Authorization", "Bearer nope"), http.StatusUnauthorized)
}

func TestHTTPQueryTokenOnlyOnWebSocket(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	mustUser(t, a, "ana", RoleAgent, pw)
	srv := testServer(t, a)
	_, text, _ := a.CreateToken(context.Background(), "ana", "ws", "")
	c := &client{tb: t, srv: srv}
	expect(t, c.do("GET", "/ws?token="+text, ""), http.StatusOK)
	expect(t, c.do("GET", "/notws?token="+text, ""), http.StatusUnauthorized)
	expect(t, c.do("GET", "/api/v1/probe?token="+text, ""), http.StatusUnauthorized)
	expect(t, c.do("GET", "/ws?token=bad", ""), http.StatusUnauthorized)

	// AuthenticateRequest is what the websocket handler calls.
	req := httptest.NewRequest("GET", "/ws?token="+text, nil)
	if p, err := a.AuthenticateRequest(req); err != nil || p.User != "ana" {
		t.Errorf("AuthenticateRequest = %+v, %v", p, err)
	}
}

func TestHTTPLoginThrottled(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	mustUser(t, a, "ana", RoleAgent, pw)
	c := &client{tb: t, srv: testServer(t, a)}
	for range 6 {
		expect(t, c.login("ana", "wrong password"), http.StatusUnauthorized)
	}
	r := c.login("ana", pw)
	expect(t, r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1", r.header.Get("Retry-After"))
	}
}

func TestHTTPUsersAdmin(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	srv := testServer(t, a)
	c := &client{tb: t, srv: srv, bearer: testAdminToken}

	tests := []struct {
		name, method, path, body string
		code                     int
	}{
		{"create", "POST", "/api/v1/users", `{"name":"ana","role":"agent","password":"` + pw + `"}`, http.StatusCreated},
		{"create admin", "POST", "/api/v1/users", `{"name":"root","role":"admin","password":"` + pw + `"}`, http.StatusCreated},
		{"duplicate", "POST", "/api/v1/users", `{"name":"ana","role":"agent","password":"` + pw + `"}`, http.StatusConflict},
		{"bad role", "POST", "/api/v1/users", `{"name":"bob","role":"boss","password":"` + pw + `"}`, http.StatusBadRequest},
		{"no role", "POST", "/api/v1/users", `{"name":"bob","password":"` + pw + `"}`, http.StatusBadRequest},
		{"bad name", "POST", "/api/v1/users", `{"name":"Bob Smith","role":"agent","password":"` + pw + `"}`, http.StatusBadRequest},
		{"short password", "POST", "/api/v1/users", `{"name":"bob","role":"agent","password":"short"}`, http.StatusBadRequest},
		{"unknown field", "POST", "/api/v1/users", `{"name":"bob","role":"agent","password":"` + pw + `","admin":true}`, http.StatusBadRequest},
		{"list", "GET", "/api/v1/users", ``, http.StatusOK},
		{"promote", "PATCH", "/api/v1/users/ana", `{"role":"manager"}`, http.StatusOK},
		{"empty patch", "PATCH", "/api/v1/users/ana", `{}`, http.StatusBadRequest},
		{"patch bad role", "PATCH", "/api/v1/users/ana", `{"role":"boss"}`, http.StatusBadRequest},
		{"patch unknown", "PATCH", "/api/v1/users/nobody", `{"disabled":true}`, http.StatusNotFound},
		{"disable last admin", "PATCH", "/api/v1/users/root", `{"disabled":true}`, http.StatusConflict},
		{"delete last admin", "DELETE", "/api/v1/users/root", ``, http.StatusConflict},
		{"delete", "DELETE", "/api/v1/users/ana", ``, http.StatusNoContent},
		{"delete again", "DELETE", "/api/v1/users/ana", ``, http.StatusNotFound},
	}
	for _, tt := range tests {
		r := c.do(tt.method, tt.path, tt.body)
		if r.code != tt.code {
			t.Errorf("%s: %s %s = %d, want %d: %s", tt.name, tt.method, tt.path, r.code, tt.code, r.raw)
		}
		if strings.Contains(r.raw, "argon2") || strings.Contains(r.raw, "password_hash") {
			t.Errorf("%s: response shows a hash: %s", tt.name, r.raw)
		}
	}
}

func TestHTTPTokens(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	mustUser(t, a, "mgr", RoleManager, pw)
	mustUser(t, a, "ana", RoleAgent, pw)
	srv := testServer(t, a)
	mgr := &client{tb: t, srv: srv}
	expect(t, mgr.login("mgr", pw), http.StatusOK)

	expect(t, mgr.do("POST", "/api/v1/tokens", `{"name":"x","role":"agent"}`), http.StatusForbidden) // managers do not reply
	expect(t, mgr.do("POST", "/api/v1/tokens", `{"name":"x","role":"admin"}`), http.StatusForbidden)
	expect(t, mgr.do("POST", "/api/v1/tokens", `{"name":"x","user":"ana"}`), http.StatusForbidden)
	expect(t, mgr.do("POST", "/api/v1/tokens", `{"name":""}`), http.StatusBadRequest)
	expect(t, mgr.do("POST", "/api/v1/tokens", `{"name":"x","role":"boss"}`), http.StatusBadRequest)
	r := mgr.do("POST", "/api/v1/tokens", `{"name":"grafana","role":"monitor"}`)
	expect(t, r, http.StatusCreated)
	text, _ := r.body["token"].(string)
	id, _ := r.body["id"].(string)
	if !strings.HasPrefix(text, "vgt_"+id+"_") || r.body["role"] != "monitor" || r.body["user"] != "mgr" {
		t.Fatalf("created token: %s", r.raw)
	}

	// The token works, is listed without its secret, and can be revoked.
	tc := &client{tb: t, srv: srv, bearer: text}
	if r := tc.do("GET", "/api/v1/me", ""); r.body["role"] != "monitor" || r.body["token_id"] != id {
		t.Fatalf("me with token: %s", r.raw)
	}
	// A monitor-scoped token cannot mint a manager-scoped one.
	expect(t, tc.do("POST", "/api/v1/tokens", `{"name":"y","role":"manager"}`), http.StatusForbidden)
	r = mgr.do("GET", "/api/v1/tokens", "")
	expect(t, r, http.StatusOK)
	if strings.Contains(r.raw, text[21:]) || !strings.Contains(r.raw, id) {
		t.Fatalf("token list: %s", r.raw)
	}
	expect(t, mgr.do("GET", "/api/v1/tokens?user=ana", ""), http.StatusForbidden)

	// Someone else's token is "not found"; a malformed id is a 400.
	ana := &client{tb: t, srv: srv}
	expect(t, ana.login("ana", pw), http.StatusOK)
	expect(t, ana.do("DELETE", "/api/v1/tokens/"+id, ""), http.StatusNotFound)
	expect(t, ana.do("DELETE", "/api/v1/tokens/XYZ", ""), http.StatusBadRequest)
	expect(t, mgr.do("DELETE", "/api/v1/tokens/"+id, ""), http.StatusNoContent)
	expect(t, tc.do("GET", "/api/v1/me", ""), http.StatusUnauthorized)

	// Admins make tokens for others; the admin token must name the owner.
	admin := &client{tb: t, srv: srv, bearer: testAdminToken}
	expect(t, admin.do("POST", "/api/v1/tokens", `{"name":"x"}`), http.StatusBadRequest)
	r = admin.do("POST", "/api/v1/tokens", `{"name":"ingest","user":"ana"}`)
	expect(t, r, http.StatusCreated)
	if r.body["role"] != "agent" {
		t.Errorf("default scope = %v, want the user's role", r.body["role"])
	}
	if r := admin.do("GET", "/api/v1/tokens", ""); len(r.body["tokens"].([]any)) != 2 {
		t.Errorf("admin lists %s", r.raw)
	}
}

// BenchmarkMiddleware measures what authentication adds to each API request.
func BenchmarkMiddleware(b *testing.B) {
	a, _ := newTestAuth(b)
	mustUser(b, a, "ana", RoleAgent, pw)
	s, _ := a.Login(context.Background(), "ana", pw, "127.0.0.1")
	_, text, _ := a.CreateToken(context.Background(), "ana", "bench", "")
	e := echo.New()
	g := e.Group("", a.Middleware())
	g.GET("/x", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	for _, bc := range []struct {
		name string
		set  func(*http.Request)
	}{
		{"session", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: CookieName, Value: s.ID}) }},
		{"token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+text) }},
		{"admin-token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testAdminToken) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", "/x", nil)
				bc.set(req)
				w := httptest.NewRecorder()
				e.ServeHTTP(w, req)
				if w.Code != http.StatusNoContent {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}

func TestHTTPLoginNeedsJSON(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	mustUser(t, a, "ana", RoleAgent, pw)
	c := &client{tb: t, srv: testServer(t, a)}
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", ""} {
		r := c.do("POST", "/api/v1/login", `{"user":"ana","password":"`+pw+`"}`, "Content-Type", ct)
		expect(t, r, http.StatusUnsupportedMediaType)
	}
	expect(t, c.do("POST", "/api/v1/login", `{"user":"ana","password":"`+pw+`"}`, "Content-Type", "application/json; charset=utf-8"), http.StatusOK)
}

func TestHTTPChangeOwnPassword(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	mustUser(t, a, "ana", RoleAgent, pw)
	srv := testServer(t, a)
	c := &client{tb: t, srv: srv}
	other := &client{tb: t, srv: srv}
	expect(t, c.login("ana", pw), http.StatusOK)
	expect(t, other.login("ana", pw), http.StatusOK)

	expect(t, c.do("POST", "/api/v1/me/password", `{"current":"wrong password","new":"a new password"}`), http.StatusForbidden)
	expect(t, c.do("POST", "/api/v1/me/password", `{"current":"`+pw+`","new":"short"}`), http.StatusBadRequest)
	expect(t, c.do("POST", "/api/v1/me/password", `{"current":"`+pw+`"}`), http.StatusBadRequest)
	expect(t, c.do("POST", "/api/v1/me/password", `{"current":"`+pw+`","new":"a new password"}`), http.StatusNoContent)
	// This session goes on; the other one ended.
	expect(t, c.do("GET", "/api/v1/me", ""), http.StatusOK)
	expect(t, other.do("GET", "/api/v1/me", ""), http.StatusUnauthorized)
	expect(t, other.login("ana", pw), http.StatusUnauthorized)
	expect(t, other.login("ana", "a new password"), http.StatusOK)

	admin := &client{tb: t, srv: srv, bearer: testAdminToken}
	expect(t, admin.do("POST", "/api/v1/me/password", `{"current":"x","new":"a new password"}`), http.StatusBadRequest)
}
