package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
)

// Session is a browser login, as Login returns it. ID goes in the
// vigie_session cookie and is never stored (only its SHA-256 is); CSRFToken
// must accompany every unsafe request of the session.
type Session struct {
	ID        string
	User      string
	Role      Role
	CSRFToken string
	ExpiresAt time.Time
}

// lastSeenResolution is how stale a session's or token's last use may be
// before a request writes it: at most one write a minute per credential,
// instead of one per request. Idle timeouts are therefore exact to a minute.
const lastSeenResolution = time.Minute

// Login checks a user's password and opens a session. ip is the client's
// address, for throttling. An unknown user, a disabled user and a wrong
// password all return ErrInvalidCredentials after the same argon2id work.
// Too many failures return a *ThrottledError without checking the password.
func (a *Auth) Login(ctx context.Context, name, password, ip string) (Session, error) {
	name = normalizeName(name)
	if wait, scope := a.throttle.attempt(name, ip); wait > 0 {
		a.metrics.logins.WithLabelValues("throttled").Inc()
		a.metrics.throttled.WithLabelValues(scope).Inc()
		return Session{}, &ThrottledError{RetryAfter: wait, Scope: scope}
	}
	var (
		role     Role
		hash     string
		disabled bool
	)
	err := a.db.R.QueryRowContext(ctx, `SELECT role, password_hash, disabled FROM users WHERE name = ?`, name).
		Scan(&role, &hash, &disabled)
	known := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		a.metrics.logins.WithLabelValues("error").Inc()
		return Session{}, fmt.Errorf("read user: %w", err)
	}
	var ok, stale bool
	if known {
		ok, stale, err = a.hasher.verify(ctx, password, hash)
	} else {
		err = a.hasher.burn(ctx, password)
	}
	if err != nil {
		outcome := "error"
		if errors.Is(err, ErrBusy) {
			outcome = "busy"
		}
		a.metrics.logins.WithLabelValues(outcome).Inc()
		return Session{}, fmt.Errorf("verify password: %w", err)
	}
	if !ok || disabled {
		a.metrics.logins.WithLabelValues("failure").Inc()
		// Unknown names are neither logged nor audited: people type
		// passwords there.
		target, detail := "", map[string]any{"reason": "unknown user"}
		if known {
			a.log.Info("login failed", "user", name, "disabled", disabled, "ip", ip)
			target, detail = "user:"+name, map[string]any{"reason": "wrong password"}
			if disabled {
				detail["reason"] = "user disabled"
			}
		} else {
			a.log.Info("login failed for an unknown user", "ip", ip)
		}
		if err := a.Audit(NewContext(ctx, Principal{User: "anonymous"}), AuditLoginFailed, target, detail); err != nil {
			a.log.Error("audit failed login", "error", err)
		}
		return Session{}, ErrInvalidCredentials
	}
	a.throttle.succeed(name, ip)
	if stale {
		a.rehash(ctx, name, password)
	}
	now := a.now()
	s := Session{
		ID:        newSessionID(),
		User:      name,
		Role:      role,
		CSRFToken: newSessionID(),
		ExpiresAt: now.Add(a.cfg.MaxLifetime),
	}
	key, _ := parseSessionID(s.ID)
	actx := NewContext(ctx, Principal{User: name, Role: role, Via: ViaSession})
	if err := a.txAudit(actx, func(tx *sqlite.Tx) ([]auditRecord, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions(id_hash, user, csrf, created_at, last_seen, expires_at) VALUES(?, ?, ?, ?, ?, ?)`,
			key, name, s.CSRFToken, ms(now), ms(now), ms(s.ExpiresAt)); err != nil {
			return nil, fmt.Errorf("store session: %w", err)
		}
		return []auditRecord{{AuditLoginSucceeded, "user:" + name, nil}}, nil
	}); err != nil {
		a.metrics.logins.WithLabelValues("error").Inc()
		return Session{}, err
	}
	a.metrics.logins.WithLabelValues("success").Inc()
	a.metrics.sessions.Inc()
	a.log.Info("login", "user", name, "role", string(role), "ip", ip)
	return s, nil
}

// ChangePassword lets a user replace their own password, proving the
// current one (throttled like a login; a wrong one is ErrWrongPassword). All
// the user's sessions end but keepSession (a session cookie value, or "").
func (a *Auth) ChangePassword(ctx context.Context, name, current, next, ip, keepSession string) error {
	if err := CheckPassword(next); err != nil {
		return err
	}
	if wait, scope := a.throttle.attempt(name, ip); wait > 0 {
		a.metrics.throttled.WithLabelValues(scope).Inc()
		return &ThrottledError{RetryAfter: wait, Scope: scope}
	}
	var hash string
	if err := a.db.R.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE name = ?`, name).Scan(&hash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrUserNotFound, name)
		}
		return fmt.Errorf("read user: %w", err)
	}
	ok, _, err := a.hasher.verify(ctx, current, hash)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return ErrWrongPassword
	}
	a.throttle.succeed(name, ip)
	newHash, err := a.hasher.hash(ctx, next)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	keep, _ := parseSessionID(keepSession)
	err = a.txAudit(ctx, func(tx *sqlite.Tx) ([]auditRecord, error) {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ?`, newHash, name); err != nil {
			return nil, fmt.Errorf("update password of %q: %w", name, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user = ? AND id_hash IS NOT ?`, name, keep); err != nil {
			return nil, fmt.Errorf("end sessions of %q: %w", name, err)
		}
		return []auditRecord{{AuditPasswordChanged, "user:" + name, nil}}, nil
	})
	if err != nil {
		return err
	}
	a.log.Info("password changed by its user", "user", name, "ip", ip)
	return nil
}

// rehash stores the password again with the current parameters, after a
// login proved it; a failure only postpones this to the next login.
func (a *Auth) rehash(ctx context.Context, name, password string) {
	h, err := a.hasher.hash(ctx, password)
	if err == nil {
		_, err = a.db.Exec(ctx, `UPDATE users SET password_hash = ? WHERE name = ?`, h, name)
	}
	if err != nil {
		a.log.Warn("rehash password with current parameters", "user", name, "error", err)
		return
	}
	a.log.Info("password rehashed with current parameters", "user", name)
}

// Logout ends the session whose cookie value is id. Ending an unknown or
// expired session is not an error.
func (a *Auth) Logout(ctx context.Context, id string) error {
	key, err := parseSessionID(id)
	if err != nil {
		return nil
	}
	return a.deleteSession(ctx, key)
}

func (a *Auth) deleteSession(ctx context.Context, key []byte) error {
	res, err := a.db.Exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, key)
	if err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		a.metrics.sessions.Dec()
	}
	return nil
}

// session authenticates a session cookie value and returns its principal and
// CSRF token.
func (a *Auth) session(ctx context.Context, id string) (Principal, string, error) {
	key, err := parseSessionID(id)
	if err != nil {
		return Principal{}, "", err
	}
	var (
		p                   = Principal{Via: ViaSession}
		csrf                string
		lastSeen, expiresAt int64
		disabled            bool
	)
	err = a.db.R.QueryRowContext(ctx, `SELECT s.user, s.csrf, s.last_seen, s.expires_at, u.role, u.disabled
		FROM sessions s JOIN users u ON u.name = s.user WHERE s.id_hash = ?`, key).
		Scan(&p.User, &csrf, &lastSeen, &expiresAt, &p.Role, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, "", fmt.Errorf("%w: unknown session", ErrInvalidToken)
	}
	if err != nil {
		return Principal{}, "", fmt.Errorf("read session: %w", err)
	}
	now := a.now()
	if !now.Before(fromMS(expiresAt)) || !now.Before(fromMS(lastSeen).Add(a.cfg.IdleTimeout)) || disabled {
		if err := a.deleteSession(ctx, key); err != nil {
			a.log.Warn("delete expired session", "error", err)
		}
		return Principal{}, "", fmt.Errorf("%w: session expired", ErrInvalidToken)
	}
	if now.Sub(fromMS(lastSeen)) >= lastSeenResolution {
		if _, err := a.db.Exec(ctx, `UPDATE sessions SET last_seen = ? WHERE id_hash = ?`, ms(now), key); err != nil {
			return Principal{}, "", fmt.Errorf("touch session: %w", err)
		}
	}
	return p, csrf, nil
}

// checkCSRF compares a request's X-CSRF-Token with the session's in
// constant time.
func checkCSRF(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
