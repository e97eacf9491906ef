package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
)

// Token describes an API token. The secret is shown once, by CreateToken,
// and never again.
type Token struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	User string `json:"user"`
	// Role is the token's scope: what a request made with it may do. The
	// user's role must cover it (Role.Covers), at creation and at every use.
	Role Role `json:"role"`
	// Source, when not empty, scopes the token to one source: it may only
	// ingest items of that source (see Principal.Source).
	Source    string    `json:"source,omitempty"`
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
	return a.IssueToken(ctx, TokenSpec{User: user, Name: name, Role: role})
}

// TokenSpec describes a token to issue.
type TokenSpec struct {
	User string
	Name string
	// Role is the token's scope (the user's role when empty).
	Role Role
	// Source, when not empty, scopes the token to one source: an ingest
	// token for that source only. Its role must allow ingest.
	Source string
}

// CheckSource reports whether s can name a source (the rule of the ingest
// API's "source" field: 1 to 32 of a-z, 0-9, '_', '.', '-', starting with a
// letter or digit).
func CheckSource(s string) error {
	ok := len(s) >= 1 && len(s) <= 32
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '_' || c == '.' || c == '-')
	}
	if !ok {
		return fmt.Errorf("%w: %q: 1 to 32 of a-z, 0-9, '_', '.', '-', starting with a letter or digit", ErrInvalidSource, s)
	}
	return nil
}

// IssueToken issues the token spec describes, like CreateToken.
func (a *Auth) IssueToken(ctx context.Context, spec TokenSpec) (Token, string, error) {
	name := strings.TrimSpace(spec.Name)
	if name == "" || len(name) > MaxTokenNameLen {
		return Token{}, "", fmt.Errorf("%w: must be 1 to %d characters", ErrInvalidTokenName, MaxTokenNameLen)
	}
	if spec.Source != "" {
		if err := CheckSource(spec.Source); err != nil {
			return Token{}, "", err
		}
	}
	u, err := a.User(ctx, spec.User)
	if err != nil {
		return Token{}, "", err
	}
	role := spec.Role
	if role == "" {
		role = u.Role
	}
	if !role.Valid() {
		return Token{}, "", fmt.Errorf("%w: %q", ErrInvalidRole, role)
	}
	if !u.Role.Covers(role) {
		return Token{}, "", fmt.Errorf("%w: %s may not hold a %s token", ErrScope, u.Role, role)
	}
	if spec.Source != "" && !role.Can(PermIngest) {
		return Token{}, "", fmt.Errorf("%w: a token scoped to source %q ingests, which a %s may not", ErrScope, spec.Source, role)
	}
	if u.Disabled {
		return Token{}, "", fmt.Errorf("%w: %q", ErrUserDisabled, spec.User)
	}
	id, secret, text := newToken()
	t := Token{ID: id, Name: name, User: spec.User, Role: role, Source: spec.Source, CreatedAt: fromMS(ms(a.now()))}
	err = a.txAudit(ctx, func(tx *sqlite.Tx) ([]auditRecord, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens(id, name, secret_hash, role, user, created_at, source) VALUES(?, ?, ?, ?, ?, ?, ?)`,
			id, name, digest(secret), string(role), spec.User, ms(t.CreatedAt), spec.Source); err != nil {
			return nil, fmt.Errorf("store token: %w", err)
		}
		detail := map[string]any{"user": spec.User, "name": name, "role": role}
		if spec.Source != "" {
			detail["source"] = spec.Source
		}
		return []auditRecord{{AuditTokenCreated, "token:" + id, detail}}, nil
	})
	if err != nil {
		return Token{}, "", err
	}
	a.log.Info("token created", "user", spec.User, "token_id", id, "role", string(role), "source", spec.Source)
	return t, text, nil
}

// Tokens lists the tokens of user, or of everyone when user is empty,
// revoked ones included, newest first.
func (a *Auth) Tokens(ctx context.Context, user string) ([]Token, error) {
	q := `SELECT id, name, user, role, source, created_at, last_used, revoked_at FROM tokens`
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
	t, err := scanToken(a.db.R.QueryRowContext(ctx, `SELECT id, name, user, role, source, created_at, last_used, revoked_at FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("%w: %q", ErrTokenNotFound, id)
	}
	return t, err
}

func scanToken(s scanner) (Token, error) {
	var t Token
	var created, used, revoked int64
	if err := s.Scan(&t.ID, &t.Name, &t.User, &t.Role, &t.Source, &created, &used, &revoked); err != nil {
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
	err := a.txAudit(ctx, func(tx *sqlite.Tx) ([]auditRecord, error) {
		var user string
		var revoked int64
		err := tx.QueryRowContext(ctx, `SELECT user, revoked_at FROM tokens WHERE id = ?`, id).Scan(&user, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("%w: %q", ErrTokenNotFound, id)
		}
		if err != nil {
			return nil, fmt.Errorf("read token: %w", err)
		}
		if revoked != 0 {
			return nil, nil // already revoked: nothing happens, nothing to record
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ?`, ms(a.now()), id); err != nil {
			return nil, fmt.Errorf("revoke token: %w", err)
		}
		return []auditRecord{{AuditTokenRevoked, "token:" + id, map[string]any{"user": user}}}, nil
	})
	if err != nil {
		return err
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
	err = a.db.R.QueryRowContext(ctx, `SELECT t.secret_hash, t.role, t.source, t.user, t.last_used, t.revoked_at, u.role, u.disabled
		FROM tokens t JOIN users u ON u.name = t.user WHERE t.id = ?`, id).
		Scan(&stored, &p.Role, &p.Source, &p.User, &lastUsed, &revoked, &userRole, &disabled)
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
		if _, err := a.db.Exec(ctx, `UPDATE tokens SET last_used = ? WHERE id = ?`, ms(now), id); err != nil {
			return Principal{}, fmt.Errorf("touch token: %w", err)
		}
	}
	return p, nil
}
