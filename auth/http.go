package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// CookieName is the session cookie.
const CookieName = "vigie_session"

// HeaderCSRF carries a session's CSRF token on unsafe requests.
const HeaderCSRF = "X-CSRF-Token"

// maxBody bounds the JSON bodies of the auth endpoints.
const maxBody = 64 << 10

// Register mounts the auth endpoints. public must not run the auth
// middleware (POST /login is how one gets a credential); private must run
// a.Middleware(). Both are normally the /api/v1 prefix:
//
//	public:  POST /login
//	private: POST /logout, GET /me, POST /me/password,
//	         GET|POST /users, PATCH|DELETE /users/:name   (PermManageUsers)
//	         GET|POST /tokens, DELETE /tokens/:id          (own tokens; others' with PermManageUsers)
//	         GET /audit                                    (PermReadAudit)
func (a *Auth) Register(public, private *echo.Group) {
	public.POST("/login", a.handleLogin)
	private.POST("/logout", a.handleLogout)
	private.GET("/me", a.handleMe)
	private.POST("/me/password", a.handleChangePassword)
	admin := Require(PermManageUsers)
	private.GET("/users", a.handleListUsers, admin)
	private.POST("/users", a.handleCreateUser, admin)
	private.PATCH("/users/:name", a.handleUpdateUser, admin)
	private.DELETE("/users/:name", a.handleDeleteUser, admin)
	private.GET("/tokens", a.handleListTokens)
	private.POST("/tokens", a.handleCreateToken)
	private.DELETE("/tokens/:id", a.handleRevokeToken)
	private.GET("/audit", a.handleAudit, Require(PermReadAudit))
}

// withRequest returns the request's context carrying its client address
// and request id (the X-Request-Id answer header, set here when no
// middleware did), for the audit log.
func withRequest(c echo.Context) context.Context {
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if rid == "" {
		rid = c.Request().Header.Get(echo.HeaderXRequestID)
	}
	ctx := WithRequest(c.Request().Context(), c.RealIP(), rid)
	ri := ctx.Value(requestKey{}).(requestInfo)
	c.Response().Header().Set(echo.HeaderXRequestID, ri.id)
	return ctx
}

// AuthenticateRequest returns the principal of r: from its Authorization
// bearer token, else its session cookie, else — only on Config.WebSocketPath,
// because browsers cannot set headers on a websocket — its ?token= query
// parameter. A present but invalid Authorization header is an error, not a
// fall-back to the cookie. An unsafe method (not GET, HEAD, OPTIONS, TRACE)
// on a cookie session must carry the session's X-CSRF-Token (ErrCSRF).
// Errors wrap ErrUnauthenticated, ErrInvalidToken or ErrCSRF, or are storage
// failures. The websocket handler calls it before the upgrade, and must
// still check the Origin: a cookie rides along on cross-site websockets.
func (a *Auth) AuthenticateRequest(r *http.Request) (Principal, error) {
	ctx := r.Context()
	if h := r.Header.Get(echo.HeaderAuthorization); h != "" {
		cred, err := bearer(h)
		if err != nil {
			return Principal{}, err
		}
		return a.bearerPrincipal(ctx, cred)
	}
	if c, err := r.Cookie(CookieName); err == nil {
		p, csrf, err := a.session(ctx, c.Value)
		if err != nil {
			return Principal{}, err
		}
		if !safeMethod(r.Method) && !checkCSRF(r.Header.Get(HeaderCSRF), csrf) {
			return Principal{}, ErrCSRF
		}
		p.csrf = csrf
		return p, nil
	}
	if r.URL.Path == a.cfg.WebSocketPath {
		if tok := r.URL.Query().Get("token"); tok != "" {
			return a.bearerPrincipal(ctx, tok)
		}
	}
	return Principal{}, ErrUnauthenticated
}

func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// Middleware authenticates every request (see AuthenticateRequest) and
// stores its Principal in the request's context (FromContext). It answers
// 401 {"error": ...} without a valid credential, 403 on a CSRF failure, and
// 500 when the store fails.
func (a *Auth) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			p, err := a.AuthenticateRequest(r)
			if err != nil {
				return a.deny(c, err)
			}
			c.SetRequest(r.WithContext(NewContext(withRequest(c), p)))
			return next(c)
		}
	}
}

func (a *Auth) deny(c echo.Context, err error) error {
	switch {
	case errors.Is(err, ErrUnauthenticated):
		a.metrics.denied.WithLabelValues("missing").Inc()
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="vigie"`)
		return c.JSON(http.StatusUnauthorized, errorBody("authentication required: log in or send Authorization: Bearer <token>"))
	case errors.Is(err, ErrInvalidToken):
		a.metrics.denied.WithLabelValues("invalid").Inc()
		if _, cerr := c.Cookie(CookieName); cerr == nil && c.Request().Header.Get(echo.HeaderAuthorization) == "" {
			a.clearCookie(c)
		}
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="vigie", error="invalid_token"`)
		return c.JSON(http.StatusUnauthorized, errorBody(err.Error()))
	case errors.Is(err, ErrCSRF):
		a.metrics.denied.WithLabelValues("csrf").Inc()
		return c.JSON(http.StatusForbidden, errorBody(err.Error()))
	}
	a.log.Error("authenticate request", "error", err)
	return c.JSON(http.StatusInternalServerError, errorBody("authentication unavailable"))
}

// Require returns middleware that answers 403 unless the request's principal
// (set by Auth.Middleware, which must run first) is allowed p, and 401 when
// there is no principal at all.
func Require(p Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			pr, ok := FromContext(c.Request().Context())
			if !ok {
				return c.JSON(http.StatusUnauthorized, errorBody("authentication required"))
			}
			if !pr.Can(p) {
				return c.JSON(http.StatusForbidden, errorBody(fmt.Sprintf("role %s lacks permission %s", pr.Role, p)))
			}
			return next(c)
		}
	}
}

// LoginRequest is the body of POST /login.
type LoginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// LoginResponse is the body of a successful POST /login.
type LoginResponse struct {
	User      string `json:"user"`
	Role      Role   `json:"role"`
	CSRFToken string `json:"csrf_token"`
}

// MeResponse is the body of GET /me.
type MeResponse struct {
	User        string       `json:"user"`
	Role        Role         `json:"role"`
	Via         string       `json:"via"`
	TokenID     string       `json:"token_id,omitempty"`
	Source      string       `json:"source,omitempty"`
	Permissions []Permission `json:"permissions"`
	// CSRFToken is the session's (sessions only): a reloaded page reads it
	// here. Same-origin only: the cookie is SameSite=Strict and the answer
	// is JSON, which a foreign page cannot read.
	CSRFToken string `json:"csrf_token,omitempty"`
}

func (a *Auth) handleLogin(c echo.Context) error {
	var req LoginRequest
	if err := decodeBody(c, &req); err != nil {
		return a.fail(c, err)
	}
	if req.User == "" || req.Password == "" {
		return c.JSON(http.StatusBadRequest, errorBody(`"user" and "password" are required`))
	}
	s, err := a.Login(withRequest(c), req.User, req.Password, c.RealIP())
	if err != nil {
		return a.fail(c, err)
	}
	c.SetCookie(&http.Cookie{
		Name:     CookieName,
		Value:    s.ID,
		Path:     "/",
		MaxAge:   int(a.cfg.MaxLifetime.Seconds()),
		HttpOnly: true,
		Secure:   a.secure(c),
		SameSite: http.SameSiteStrictMode,
	})
	return c.JSON(http.StatusOK, LoginResponse{User: s.User, Role: s.Role, CSRFToken: s.CSRFToken})
}

func (a *Auth) secure(c echo.Context) bool {
	return a.cfg.SecureCookies || c.Request().TLS != nil
}

func (a *Auth) clearCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: a.secure(c), SameSite: http.SameSiteStrictMode,
	})
}

func (a *Auth) handleLogout(c echo.Context) error {
	p, _ := FromContext(c.Request().Context())
	if p.Via == ViaSession {
		if ck, err := c.Cookie(CookieName); err == nil {
			if err := a.Logout(c.Request().Context(), ck.Value); err != nil {
				return a.fail(c, err)
			}
		}
		a.clearCookie(c)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *Auth) handleMe(c echo.Context) error {
	p, _ := FromContext(c.Request().Context())
	return c.JSON(http.StatusOK, MeResponse{User: p.User, Role: p.Role, Via: p.Via, TokenID: p.TokenID, Source: p.Source, Permissions: p.Permissions(), CSRFToken: p.csrf})
}

// ChangePasswordRequest is the body of POST /me/password.
type ChangePasswordRequest struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

func (a *Auth) handleChangePassword(c echo.Context) error {
	p, _ := FromContext(c.Request().Context())
	if p.Via == ViaAdminToken {
		return c.JSON(http.StatusBadRequest, errorBody("the admin token has no password"))
	}
	var req ChangePasswordRequest
	if err := decodeBody(c, &req); err != nil {
		return a.fail(c, err)
	}
	if req.Current == "" || req.New == "" {
		return c.JSON(http.StatusBadRequest, errorBody(`"current" and "new" are required`))
	}
	var keep string
	if ck, err := c.Cookie(CookieName); err == nil && p.Via == ViaSession {
		keep = ck.Value
	}
	if err := a.ChangePassword(c.Request().Context(), p.User, req.Current, req.New, c.RealIP(), keep); err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// CreateUserRequest is the body of POST /users.
type CreateUserRequest struct {
	Name     string `json:"name"`
	Role     Role   `json:"role"`
	Password string `json:"password"`
}

// UpdateUserRequest is the body of PATCH /users/{name}; absent fields are
// left alone.
type UpdateUserRequest struct {
	Role     *Role   `json:"role"`
	Disabled *bool   `json:"disabled"`
	Password *string `json:"password"`
}

func (a *Auth) handleListUsers(c echo.Context) error {
	us, err := a.Users(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"users": us})
}

func (a *Auth) handleCreateUser(c echo.Context) error {
	var req CreateUserRequest
	if err := decodeBody(c, &req); err != nil {
		return a.fail(c, err)
	}
	u, err := a.CreateUser(c.Request().Context(), req.Name, req.Role, req.Password)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusCreated, u)
}

func (a *Auth) handleUpdateUser(c echo.Context) error {
	var req UpdateUserRequest
	if err := decodeBody(c, &req); err != nil {
		return a.fail(c, err)
	}
	if req.Role == nil && req.Disabled == nil && req.Password == nil {
		return c.JSON(http.StatusBadRequest, errorBody(`nothing to change: give "role", "disabled" or "password"`))
	}
	u, err := a.UpdateUser(c.Request().Context(), c.Param("name"), UserUpdate(req))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, u)
}

func (a *Auth) handleDeleteUser(c echo.Context) error {
	if err := a.DeleteUser(c.Request().Context(), c.Param("name")); err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// CreateTokenRequest is the body of POST /tokens. User defaults to the
// caller, Role to the user's role; making a token for someone else needs
// PermManageUsers, and the scope may never exceed the caller's own role.
type CreateTokenRequest struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	User string `json:"user"`
	// Source scopes the token to one source: it may then only ingest items
	// of that source.
	Source string `json:"source"`
}

// CreateTokenResponse is the body of a 201 from POST /tokens: the token's
// description and, once only, its text.
type CreateTokenResponse struct {
	Token
	Secret string `json:"token"`
}

func (a *Auth) handleListTokens(c echo.Context) error {
	p, _ := FromContext(c.Request().Context())
	user := c.QueryParam("user")
	switch {
	case p.Can(PermManageUsers):
	case user == "" || user == p.User:
		user = p.User
	default:
		return c.JSON(http.StatusForbidden, errorBody("listing another user's tokens needs permission "+string(PermManageUsers)))
	}
	ts, err := a.Tokens(c.Request().Context(), user)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": ts})
}

func (a *Auth) handleCreateToken(c echo.Context) error {
	p, _ := FromContext(c.Request().Context())
	var req CreateTokenRequest
	if err := decodeBody(c, &req); err != nil {
		return a.fail(c, err)
	}
	if p.Source != "" {
		return c.JSON(http.StatusForbidden, errorBody("a token scoped to a source cannot issue tokens"))
	}
	if req.User == "" {
		if p.Via == ViaAdminToken {
			return c.JSON(http.StatusBadRequest, errorBody(`the admin token is no user: name the token's owner in "user"`))
		}
		req.User = p.User
	}
	if req.User != p.User && !p.Can(PermManageUsers) {
		return c.JSON(http.StatusForbidden, errorBody("a token for another user needs permission "+string(PermManageUsers)))
	}
	if req.Role != "" && req.Role.Valid() && !p.Role.Covers(req.Role) {
		return c.JSON(http.StatusForbidden, errorBody(fmt.Sprintf("a %s may not issue a %s token", p.Role, req.Role)))
	}
	if req.Role == "" && req.User == p.User && p.Via == ViaToken {
		req.Role = p.Role // a token mints at most its own scope
	}
	t, text, err := a.IssueToken(c.Request().Context(), TokenSpec{User: req.User, Name: req.Name, Role: req.Role, Source: req.Source})
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusCreated, CreateTokenResponse{Token: t, Secret: text})
}

func (a *Auth) handleRevokeToken(c echo.Context) error {
	p, _ := FromContext(c.Request().Context())
	id := c.Param("id")
	if !validTokenID(id) {
		return c.JSON(http.StatusBadRequest, errorBody("token id must be 16 lower-case hex digits"))
	}
	t, err := a.Token(c.Request().Context(), id)
	if err != nil {
		return a.fail(c, err)
	}
	if t.User != p.User && !p.Can(PermManageUsers) {
		// Someone else's token: as good as absent.
		return a.fail(c, fmt.Errorf("%w: %q", ErrTokenNotFound, id))
	}
	if err := a.RevokeToken(c.Request().Context(), id); err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

// handleAudit answers GET /audit?actor=&action=&from=&to=&before=&limit=:
// the audit log, newest first, a page at a time (next_before is the next
// page's before).
func (a *Auth) handleAudit(c echo.Context) error {
	var q AuditQuery
	q.Actor, q.Action = c.QueryParam("actor"), c.QueryParam("action")
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := c.QueryParam(t.name); v != "" {
			tm, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return c.JSON(http.StatusBadRequest, errorBody(t.name+": not an RFC 3339 time"))
			}
			*t.dst = tm
		}
	}
	parseInt := func(name string, max int64) (int64, error) {
		v := c.QueryParam(name)
		if v == "" {
			return 0, nil
		}
		x, err := strconv.ParseInt(v, 10, 64)
		if err != nil || x < 1 || x > max {
			return 0, fmt.Errorf("%s: want an integer from 1 to %d", name, max)
		}
		return x, nil
	}
	before, err := parseInt("before", math.MaxInt64)
	if err != nil {
		return c.JSON(http.StatusBadRequest, errorBody(err.Error()))
	}
	limit, err := parseInt("limit", MaxAuditPage)
	if err != nil {
		return c.JSON(http.StatusBadRequest, errorBody(err.Error()))
	}
	q.Before, q.Limit = before, int(limit)
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return c.JSON(http.StatusBadRequest, errorBody("from must be before to"))
	}
	page, err := a.QueryAudit(c.Request().Context(), q)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, page)
}

// bodyError is a request body that could not be decoded.
type bodyError struct {
	code int
	msg  string
}

func (e *bodyError) Error() string { return e.msg }

// decodeBody reads a JSON object strictly (unknown fields are errors) into
// v; its errors are *bodyError (400, 413 or 415).
func decodeBody(c echo.Context, v any) error {
	// Requiring JSON also keeps cross-site HTML forms, which cannot send it
	// without a CORS preflight, away from POST /login (login CSRF).
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return &bodyError{http.StatusUnsupportedMediaType, ErrUnsupportedMediaType.Error()}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &bodyError{http.StatusRequestEntityTooLarge, "body larger than " + strconv.Itoa(maxBody) + " bytes"}
		}
		return &bodyError{http.StatusBadRequest, "read body: " + err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &bodyError{http.StatusBadRequest, "invalid JSON body: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return &bodyError{http.StatusBadRequest, "invalid JSON body: more than one value"}
	}
	return nil
}

// fail answers err with its status code and a JSON {"error": ...}.
func (a *Auth) fail(c echo.Context, err error) error {
	var te *ThrottledError
	var be *bodyError
	switch {
	case errors.As(err, &be):
		return c.JSON(be.code, errorBody(be.msg))
	case errors.As(err, &te):
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(te.RetryAfter.Seconds()))))
		return c.JSON(http.StatusTooManyRequests, errorBody(te.Error()))
	case errors.Is(err, ErrBusy):
		c.Response().Header().Set("Retry-After", "1")
		return c.JSON(http.StatusServiceUnavailable, errorBody(ErrBusy.Error()+": retry shortly"))
	case errors.Is(err, ErrInvalidCredentials):
		return c.JSON(http.StatusUnauthorized, errorBody(ErrInvalidCredentials.Error()))
	case errors.Is(err, ErrUserNotFound), errors.Is(err, ErrTokenNotFound):
		return c.JSON(http.StatusNotFound, errorBody(err.Error()))
	case errors.Is(err, ErrUserExists), errors.Is(err, ErrLastAdmin), errors.Is(err, ErrUserDisabled):
		return c.JSON(http.StatusConflict, errorBody(err.Error()))
	case errors.Is(err, ErrScope), errors.Is(err, ErrWrongPassword):
		return c.JSON(http.StatusForbidden, errorBody(err.Error()))
	case errors.Is(err, ErrInvalidRole), errors.Is(err, ErrInvalidName), errors.Is(err, ErrInvalidSource), errors.Is(err, ErrWeakPassword), errors.Is(err, ErrInvalidTokenName):
		return c.JSON(http.StatusBadRequest, errorBody(err.Error()))
	}
	a.log.Error("auth request failed", "path", c.Path(), "error", err)
	return c.JSON(http.StatusInternalServerError, errorBody("internal error"))
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }
