package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/vigie/vigie/internal/sqlite"
)

// User is an account. The password hash never leaves the package.
type User struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	Disabled  bool      `json:"disabled"`
}

// UserUpdate is a partial change to a user; nil fields are left alone.
type UserUpdate struct {
	Role     *Role
	Disabled *bool
	Password *string
}

// MaxNameLen bounds user names.
const MaxNameLen = 64

// CheckName reports whether name is a valid user name: 1 to 64 characters
// among lower-case ASCII letters, digits, '.', '_', '-' and '@', starting
// with a letter or digit, and not the reserved AdminTokenUser. Lower case
// only, so that "Ana" and "ana" cannot be two accounts; Login lower-cases
// what it is given.
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("%w: %q must be 1 to %d characters", ErrInvalidName, name, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-' || c == '@'):
		default:
			return fmt.Errorf("%w: %q: use lower-case letters, digits, '.', '_', '-', '@', starting with a letter or digit", ErrInvalidName, name)
		}
	}
	if name == AdminTokenUser {
		return fmt.Errorf("%w: %q is reserved", ErrInvalidName, name)
	}
	return nil
}

// CreateUser adds a user. The password must be MinPasswordLen characters at
// least.
func (a *Auth) CreateUser(ctx context.Context, name string, role Role, password string) (User, error) {
	if err := CheckName(name); err != nil {
		return User{}, err
	}
	if !role.Valid() {
		return User{}, fmt.Errorf("%w: %q", ErrInvalidRole, role)
	}
	if err := CheckPassword(password); err != nil {
		return User{}, err
	}
	hash, err := a.hasher.hash(ctx, password)
	if err != nil {
		return User{}, fmt.Errorf("hash password of %q: %w", name, err)
	}
	u := User{Name: name, Role: role, CreatedAt: fromMS(ms(a.now()))}
	err = a.txAudit(ctx, func(tx *sqlite.Tx) ([]auditRecord, error) {
		_, err := tx.ExecContext(ctx, `INSERT INTO users(name, role, password_hash, created_at) VALUES(?, ?, ?, ?)`,
			name, string(role), hash, ms(u.CreatedAt))
		if isConstraint(err) {
			return nil, fmt.Errorf("%w: %q", ErrUserExists, name)
		}
		if err != nil {
			return nil, fmt.Errorf("insert user %q: %w", name, err)
		}
		return []auditRecord{{AuditUserCreated, "user:" + name, map[string]any{"role": role}}}, nil
	})
	if err != nil {
		return User{}, err
	}
	a.log.Info("user created", "user", name, "role", string(role))
	return u, nil
}

// EnsureUser creates the user when no user has that name, and leaves an
// existing one as it is (role and password included). The demo mode uses it.
func (a *Auth) EnsureUser(ctx context.Context, name string, role Role, password string) error {
	if _, err := a.User(ctx, name); err == nil {
		return nil
	} else if !errors.Is(err, ErrUserNotFound) {
		return err
	}
	if _, err := a.CreateUser(ctx, name, role, password); err != nil && !errors.Is(err, ErrUserExists) {
		return err
	}
	return nil
}

// User returns the user named name, or ErrUserNotFound.
func (a *Auth) User(ctx context.Context, name string) (User, error) {
	return scanUser(a.db.R.QueryRowContext(ctx, `SELECT name, role, created_at, disabled FROM users WHERE name = ?`, name), name)
}

// Users returns every user, by name.
func (a *Auth) Users(ctx context.Context) ([]User, error) {
	rows, err := a.db.R.QueryContext(ctx, `SELECT name, role, created_at, disabled FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows, "")
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

type scanner interface{ Scan(...any) error }

func scanUser(s scanner, name string) (User, error) {
	var u User
	var created int64
	err := s.Scan(&u.Name, &u.Role, &created, &u.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%w: %q", ErrUserNotFound, name)
	}
	if err != nil {
		return User{}, fmt.Errorf("read user: %w", err)
	}
	u.CreatedAt = fromMS(created)
	return u, nil
}

// UpdateUser changes a user's role, disabled flag or password. Disabling a
// user or changing their password ends their sessions; tokens stay but are
// refused while the user is disabled, and a role change applies to sessions
// at once and refuses tokens the new role does not cover. No change may leave
// the database without an enabled admin (ErrLastAdmin).
func (a *Auth) UpdateUser(ctx context.Context, name string, up UserUpdate) (User, error) {
	if up.Role != nil && !up.Role.Valid() {
		return User{}, fmt.Errorf("%w: %q", ErrInvalidRole, *up.Role)
	}
	var hash string
	if up.Password != nil {
		if err := CheckPassword(*up.Password); err != nil {
			return User{}, err
		}
		h, err := a.hasher.hash(ctx, *up.Password)
		if err != nil {
			return User{}, fmt.Errorf("hash password of %q: %w", name, err)
		}
		hash = h
	}
	var u User
	err := a.txAudit(ctx, func(tx *sqlite.Tx) ([]auditRecord, error) {
		var err error
		if u, err = scanUser(tx.QueryRowContext(ctx, `SELECT name, role, created_at, disabled FROM users WHERE name = ?`, name), name); err != nil {
			return nil, err
		}
		before := u
		wasAdmin := u.Role == RoleAdmin && !u.Disabled
		if up.Role != nil {
			u.Role = *up.Role
		}
		if up.Disabled != nil {
			u.Disabled = *up.Disabled
		}
		if wasAdmin && (u.Role != RoleAdmin || u.Disabled) {
			if err := lastAdminGuard(ctx, tx, name); err != nil {
				return nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, disabled = ? WHERE name = ?`, string(u.Role), u.Disabled, name); err != nil {
			return nil, fmt.Errorf("update user %q: %w", name, err)
		}
		if hash != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE name = ?`, hash, name); err != nil {
				return nil, fmt.Errorf("update password of %q: %w", name, err)
			}
		}
		if hash != "" || u.Disabled {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user = ?`, name); err != nil {
				return nil, fmt.Errorf("end sessions of %q: %w", name, err)
			}
		}
		detail := map[string]any{"role": u.Role, "disabled": u.Disabled, "password_reset": hash != ""}
		if before.Role != u.Role {
			detail["previous_role"] = before.Role
		}
		if before.Disabled != u.Disabled {
			detail["previous_disabled"] = before.Disabled
		}
		return []auditRecord{{AuditUserUpdated, "user:" + name, detail}}, nil
	})
	if err != nil {
		return User{}, err
	}
	a.log.Info("user updated", "user", name, "role", string(u.Role), "disabled", u.Disabled, "password_changed", hash != "")
	return u, nil
}

// DeleteUser removes a user with their sessions and tokens.
func (a *Auth) DeleteUser(ctx context.Context, name string) error {
	err := a.txAudit(ctx, func(tx *sqlite.Tx) ([]auditRecord, error) {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT name, role, created_at, disabled FROM users WHERE name = ?`, name), name)
		if err != nil {
			return nil, err
		}
		if u.Role == RoleAdmin && !u.Disabled {
			if err := lastAdminGuard(ctx, tx, name); err != nil {
				return nil, err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name); err != nil {
			return nil, fmt.Errorf("delete user %q: %w", name, err)
		}
		return []auditRecord{{AuditUserDeleted, "user:" + name, map[string]any{"role": u.Role}}}, nil
	})
	if err != nil {
		return err
	}
	a.log.Info("user deleted", "user", name)
	return nil
}

// lastAdminGuard fails with ErrLastAdmin when no enabled admin but name exists.
func lastAdminGuard(ctx context.Context, tx *sqlite.Tx, name string) error {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND name <> ?`, name).Scan(&n); err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %q is the last one", ErrLastAdmin, name)
	}
	return nil
}

// tx runs fn in a write transaction, committed when fn returns nil.
func (a *Auth) tx(ctx context.Context, fn func(*sqlite.Tx) error) error {
	tx, err := a.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func isConstraint(err error) bool {
	var se *msqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// normalizeName is what Login does to a typed user name.
func normalizeName(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
