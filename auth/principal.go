package auth

import "context"

// How a principal authenticated: the Via values.
const (
	ViaSession    = "session"     // the vigie_session cookie
	ViaToken      = "token"       // an API token (vgt_...)
	ViaAdminToken = "admin-token" // Config.AdminToken
	ViaSystem     = "system"      // Vigie itself or the command line (SystemContext)
)

// AdminTokenUser is the user name of a principal authenticated with
// Config.AdminToken; it is reserved and cannot name a real user.
const AdminTokenUser = "admin-token"

// Principal is who is making a request, and with what rights. The zero value
// is nobody: its empty Role can do nothing.
type Principal struct {
	// User is the user name (AdminTokenUser for the admin token).
	User string `json:"user"`
	// Role is what this request may do: the user's role for a session, the
	// token's scope for an API token.
	Role Role `json:"role"`
	// TokenID is the API token's id when Via is ViaToken, else empty.
	TokenID string `json:"token_id,omitempty"`
	// Via says how the principal authenticated (ViaSession, ViaToken,
	// ViaAdminToken, ViaSystem).
	Via string `json:"via"`
	// Source is the source scope of the API token ("" for none): such a
	// token may only ingest items of that source (PermIngest), nothing
	// else, whatever its role.
	Source string `json:"source,omitempty"`
	// csrf is the session's CSRF token (sessions only), so that a page
	// reloaded by the browser can get it back from GET /me.
	csrf string
}

// Can reports whether the principal is allowed p. A principal scoped to a
// source is allowed PermIngest at most.
func (p Principal) Can(perm Permission) bool {
	if p.Source != "" && perm != PermIngest {
		return false
	}
	return p.Role.Can(perm)
}

// Permissions returns what the principal is allowed, in the order of
// Permissions.
func (p Principal) Permissions() []Permission {
	out := []Permission{}
	for _, perm := range Permissions {
		if p.Can(perm) {
			out = append(out, perm)
		}
	}
	return out
}

type principalKey struct{}

// NewContext returns ctx carrying p. The middleware calls it; tests of other
// packages use it to act as someone without a login.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal the auth middleware stored in ctx (the
// request's context), and false when there is none.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
