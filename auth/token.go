package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Token describes an API token. The secret is shown once, by CreateToken,
// and never again.
type Token struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	User string `json:"user"`
	// Role is the token's scope: what a request made with it may do. The
	// user's role must cover it (Role.Covers), at creation and at every use.
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsed is exact to a minute; zero when never used.
	LastUsed time.Time `json:"last_used,omitzero"`
	// RevokedAt is zero while the token is valid.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// MaxTokenNameLen bounds a token's descriptive name.
const MaxTokenNameLen = 100

// CreateToken issues an API token for user, scoped to role (the user's own
// role when empty), and returns it with its text (vgt_<id>_<secret>), which
// is not stored and cannot be shown again. The user's role must cover the
// scope (ErrScope).
func (a *Auth) CreateToken(ctx context.Context, user, name string, role Role) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxTokenNameLen {
		return Token{}, "", fmt.Errorf("%w: must be 1 to %d characters", ErrInvalidTokenName, MaxTokenNameLen)
	}
	u, err := a.User(ctx, user)
	if err != nil {
		return Token{}, "", err
	}
	if role == "" {
		role = u.Role
	}
	if !role.Valid() {
		return Token{}, "", fmt.Errorf("%w: %q", ErrInvalidRole, role)
	}
	if !u.Role.Covers(role) {
		return Token{}, "", fmt.Errorf("%w: %s may not hold a %s token", ErrScope, u.Role, role)
	}
	if u.Disabled {
		return Token{}, "", fmt.Errorf("%w: %q", ErrUserDisabled, user)
	}
	id, secret, text := newToken()
	t := Token{ID: id, Name: name, User: user, Role: role, CreatedAt: fromMS(ms(a.now()))}
	if _, err := a.db.W.ExecContext(ctx, `INSERT INTO tokens(id, name, secret_hash, role, user, created_at) VALUES(?, ?, ?, ?, ?, ?)`,
		id, name, digest(secret), string(role), user, ms(t.CreatedAt)); err != nil {
		return Token{}, "", fmt.Errorf("store token: %w", err)
	}
	a.log.Info("token created", "user", user, "token_id", id, "role", string(role))
	return t, text, nil
}

// Tokens lists the tokens of user, or of everyone when user is empty,
// revoked ones included, newest first.
func (a *Auth) Tokens(ctx context.Context, user string) ([]Token, error) {
	q := `SELECT id, name, user, role, created_at, last_used, revoked_at FROM tokens`
	var args []any
	if user != "" {
		q += ` WHERE user = ?`
		args = append(args, user)
	}
	rows, err := a.db.R.QueryContext(ctx, q+` ORDER BY created_at DESC, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// Token returns the token with that id, or ErrTokenNotFound.
func (a *Auth) Token(ctx context.Context, id string) (Token, error) {
	t, err := scanToken(a.db.R.QueryRowContext(ctx, `SELECT id, name, user, role, created_at, last_used, revoked_at FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("%w: %q", ErrTokenNotFound, id)
	}
	return t, err
}

func scanToken(s scanner) (Token, error) {
	var t Token
	var created, used, revoked int64
	if err := s.Scan(&t.ID, &t.Name, &t.User, &t.Role, &created, &used, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Token{}, err
		}
		return Token{}, fmt.Errorf("read token: %w", err)
	}
	t.CreatedAt, t.LastUsed, t.RevokedAt = fromMS(created), fromMS(used), fromMS(revoked)
	return t, nil
}

// RevokeToken revokes a token for good. Revoking a revoked token is not an
// error; an unknown id is ErrTokenNotFound.
func (a *Auth) RevokeToken(ctx context.Context, id string) error {
	res, err := a.db.W.ExecContext(ctx, `UPDATE tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`, ms(a.now()), id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %q", ErrTokenNotFound, id)
	}
	a.log.Info("token revoked", "token_id", id)
	return nil
}

// bearerPrincipal authenticates a bearer credential: the admin token, or an
// API token that is not revoked, whose user is enabled and whose role still
// covers the token's scope.
func (a *Auth) bearerPrincipal(ctx context.Context, cred string) (Principal, error) {
	if a.cfg.AdminToken != "" && subtle.ConstantTimeCompare([]byte(cred), []byte(a.cfg.AdminToken)) == 1 {
		return Principal{User: AdminTokenUser, Role: RoleAdmin, Via: ViaAdminToken}, nil
	}
	id, secret, err := parseToken(cred)
	if err != nil {
		return Principal{}, err
	}
	var (
		stored            []byte
		p                 = Principal{TokenID: id, Via: ViaToken}
		userRole          Role
		lastUsed, revoked int64
		disabled          bool
	)
	err = a.db.R.QueryRowContext(ctx, `SELECT t.secret_hash, t.role, t.user, t.last_used, t.revoked_at, u.role, u.disabled
		FROM tokens t JOIN users u ON u.name = t.user WHERE t.id = ?`, id).
		Scan(&stored, &p.Role, &p.User, &lastUsed, &revoked, &userRole, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, fmt.Errorf("%w: unknown token", ErrInvalidToken)
	}
	if err != nil {
		return Principal{}, fmt.Errorf("read token: %w", err)
	}
	switch {
	case subtle.ConstantTimeCompare(digest(secret), stored) != 1:
		return Principal{}, fmt.Errorf("%w: wrong token secret", ErrInvalidToken)
	case revoked != 0:
		return Principal{}, fmt.Errorf("%w: token revoked", ErrInvalidToken)
	case disabled:
		return Principal{}, fmt.Errorf("%w: user disabled", ErrInvalidToken)
	case !userRole.Covers(p.Role):
		return Principal{}, fmt.Errorf("%w: token scope %s exceeds the user's role %s", ErrInvalidToken, p.Role, userRole)
	}
	if now := a.now(); now.Sub(fromMS(lastUsed)) >= lastSeenResolution {
		if _, err := a.db.W.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ?`, ms(now), id); err != nil {
			return Principal{}, fmt.Errorf("touch token: %w", err)
		}
	}
	return p, nil
}
