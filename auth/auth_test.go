package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

const pw = "correct horse battery"

func TestLogin(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	ctx := context.Background()
	mustUser(t, a, "ana", RoleAgent, pw)
	mustUser(t, a, "dis", RoleAgent, pw)
	if _, err := a.UpdateUser(ctx, "dis", UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, password string
		wantErr              error
	}{
		{"right", "ana", pw, nil},
		{"name is case-insensitive", " ANA ", pw, nil},
		{"wrong password", "ana", pw + "!", ErrInvalidCredentials},
		{"unknown user", "nobody", pw, ErrInvalidCredentials},
		{"disabled user, right password", "dis", pw, ErrInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := hashCount(t, a)
			s, err := a.Login(ctx, tt.user, tt.password, "192.0.2.1")
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Login error = %v, want %v", err, tt.wantErr)
			}
			// Every outcome costs exactly one argon2id hash: same timing.
			if got := hashCount(t, a) - before; got != 1 {
				t.Errorf("Login computed %d hashes, want 1", got)
			}
			if err != nil {
				return
			}
			if s.User != "ana" || s.Role != RoleAgent || len(s.ID) != sessionIDLen || len(s.CSRFToken) < 32 {
				t.Errorf("session %+v", s)
			}
			p, csrf, err := a.session(ctx, s.ID)
			if err != nil || p.User != "ana" || p.Role != RoleAgent || p.Via != ViaSession || csrf != s.CSRFToken {
				t.Errorf("session lookup = %+v, %q, %v", p, csrf, err)
			}
		})
	}
}

func hashCount(tb testing.TB, a *Auth) uint64 {
	tb.Helper()
	var m dto.Metric
	if err := a.metrics.hashSeconds.Write(&m); err != nil {
		tb.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}

func ptr[T any](v T) *T { return &v }

func TestLoginThrottled(t *testing.T) {
	t.Parallel()
	a, clock := newTestAuth(t)
	ctx := context.Background()
	mustUser(t, a, "ana", RoleAgent, pw)
	for range 5 {
		if _, err := a.Login(ctx, "ana", "wrong password", "192.0.2.1"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("err = %v", err)
		}
	}
	_, err := a.Login(ctx, "ana", "wrong password", "192.0.2.1")
	if !errors.Is(err, ErrInvalidCredentials) {
		t.Fatalf("6th failure: %v", err)
	}
	// Now locked for 1s: even the right password is not checked.
	before := hashCount(t, a)
	_, err = a.Login(ctx, "ana", pw, "192.0.2.1")
	var te *ThrottledError
	if !errors.As(err, &te) || te.RetryAfter != time.Second || te.Scope != "pair" {
		t.Fatalf("locked login: err = %v", err)
	}
	if hashCount(t, a) != before {
		t.Error("a throttled login computed a hash")
	}
	// From another address ana gets in at once.
	if _, err := a.Login(ctx, "ana", pw, "203.0.113.5"); err != nil {
		t.Fatalf("login from another address: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := a.Login(ctx, "ana", pw, "192.0.2.1"); err != nil {
		t.Fatalf("login after the lockout: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	a, clock := newTestAuth(t, func(c *Config) {
		c.IdleTimeout = time.Hour
		c.MaxLifetime = 3 * time.Hour
	})
	ctx := context.Background()
	mustUser(t, a, "ana", RoleAgent, pw)

	// Idle: a session unused for an hour ends.
	s, err := a.Login(ctx, "ana", pw, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Minute)
	if _, _, err := a.session(ctx, s.ID); err != nil {
		t.Fatalf("after 59 idle minutes: %v", err)
	}
	clock.Advance(59 * time.Minute) // used 59 minutes ago: still alive
	if _, _, err := a.session(ctx, s.ID); err != nil {
		t.Fatalf("59 minutes after last use: %v", err)
	}
	clock.Advance(time.Hour)
	if _, _, err := a.session(ctx, s.ID); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after an idle hour: err = %v, want ErrInvalidToken", err)
	}

	// Absolute: a session used every 30 minutes still ends after 3 hours.
	s, err = a.Login(ctx, "ana", pw, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		clock.Advance(30 * time.Minute)
		if _, _, err := a.session(ctx, s.ID); err != nil {
			t.Fatalf("active session refused after %d half hours: %v", i+1, err)
		}
	}
	clock.Advance(30 * time.Minute)
	if _, _, err := a.session(ctx, s.ID); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after the max lifetime: err = %v, want ErrInvalidToken", err)
	}
	// Prune removes what expired and counts what is left.
	s2, _ := a.Login(ctx, "ana", pw, "192.0.2.1")
	if err := a.prune(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	a.db.R.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n)
	if n != 1 {
		t.Errorf("%d sessions after prune, want 1", n)
	}
	if err := a.Logout(ctx, s2.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.session(ctx, s2.ID); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("after logout: err = %v", err)
	}
}

func TestSessionsEndOnDisableAndPasswordChange(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	ctx := context.Background()
	mustUser(t, a, "ana", RoleAgent, pw)
	for _, up := range []UserUpdate{{Password: ptr("another good password")}, {Disabled: ptr(true)}} {
		s, err := a.Login(ctx, "ana", currentPW(up), "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.UpdateUser(ctx, "ana", up); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.session(ctx, s.ID); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("after %+v: session err = %v", up, err)
		}
	}
}

func currentPW(up UserUpdate) string {
	if up.Password != nil {
		return pw
	}
	return "another good password"
}

func TestRoleChangeAppliesToSessions(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	ctx := context.Background()
	mustUser(t, a, "ana", RoleAgent, pw)
	s, _ := a.Login(ctx, "ana", pw, "192.0.2.1")
	if _, err := a.UpdateUser(ctx, "ana", UserUpdate{Role: ptr(RoleManager)}); err != nil {
		t.Fatal(err)
	}
	p, _, err := a.session(ctx, s.ID)
	if err != nil || p.Role != RoleManager {
		t.Fatalf("after promotion: %+v, %v", p, err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, clock := newTestAuth(t)
	ctx := context.Background()
	mustUser(t, a, "mgr", RoleManager, pw)
	mustUser(t, a, "root", RoleAdmin, pw)

	t.Run("scope must be covered by the user's role", func(t *testing.T) {
		for _, tt := range []struct {
			role Role
			ok   bool
		}{{RoleMonitor, true}, {RoleManager, true}, {"", true}, {RoleAgent, false}, {RoleAdmin, false}} {
			_, _, err := a.CreateToken(ctx, "mgr", "ci", tt.role)
			if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, ErrScope)) {
				t.Errorf("manager token scoped %q: err = %v", tt.role, err)
			}
		}
	})

	tok, text, err := a.CreateToken(ctx, "mgr", "dashboard", RoleMonitor)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.bearerPrincipal(ctx, text)
	if err != nil || p.User != "mgr" || p.Role != RoleMonitor || p.TokenID != tok.ID || p.Via != ViaToken {
		t.Fatalf("bearerPrincipal = %+v, %v", p, err)
	}

	t.Run("last_used is written at most once a minute", func(t *testing.T) {
		got, _ := a.Token(ctx, tok.ID)
		first := got.LastUsed
		if first.IsZero() {
			t.Fatal("last_used not set by the first use")
		}
		clock.Advance(30 * time.Second)
		a.bearerPrincipal(ctx, text)
		if got, _ := a.Token(ctx, tok.ID); !got.LastUsed.Equal(first) {
			t.Errorf("last_used moved after 30s: %s → %s", first, got.LastUsed)
		}
		clock.Advance(31 * time.Second)
		a.bearerPrincipal(ctx, text)
		if got, _ := a.Token(ctx, tok.ID); !got.LastUsed.After(first) {
			t.Errorf("last_used did not move after 61s")
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		bad := text[:len(text)-1] + map[bool]string{true: "0", false: "1"}[text[len(text)-1] != '0']
		if _, err := a.bearerPrincipal(ctx, bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("disabled user", func(t *testing.T) {
		a.UpdateUser(ctx, "mgr", UserUpdate{Disabled: ptr(true)})
		if _, err := a.bearerPrincipal(ctx, text); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("disabled user's token: err = %v", err)
		}
		a.UpdateUser(ctx, "mgr", UserUpdate{Disabled: ptr(false)})
		if _, err := a.bearerPrincipal(ctx, text); err != nil {
			t.Errorf("re-enabled user's token: err = %v", err)
		}
	})

	t.Run("demoted user", func(t *testing.T) {
		_, adminText, err := a.CreateToken(ctx, "root", "ops", RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		mustUser(t, a, "root2", RoleAdmin, pw) // so root is not the last admin
		a.UpdateUser(ctx, "root", UserUpdate{Role: ptr(RoleManager)})
		if _, err := a.bearerPrincipal(ctx, adminText); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("admin-scoped token of a demoted user: err = %v", err)
		}
	})

	t.Run("revoked", func(t *testing.T) {
		if err := a.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.bearerPrincipal(ctx, text); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("revoked token: err = %v", err)
		}
		if got, _ := a.Token(ctx, tok.ID); got.RevokedAt.IsZero() {
			t.Error("revoked_at not recorded")
		}
		if err := a.RevokeToken(ctx, "0123456789abcdef"); !errors.Is(err, ErrTokenNotFound) {
			t.Errorf("revoke unknown: %v", err)
		}
	})

	t.Run("admin token", func(t *testing.T) {
		p, err := a.bearerPrincipal(ctx, testAdminToken)
		if err != nil || p.User != AdminTokenUser || p.Role != RoleAdmin || p.Via != ViaAdminToken {
			t.Errorf("admin token = %+v, %v", p, err)
		}
		if _, err := a.bearerPrincipal(ctx, testAdminToken[:len(testAdminToken)-1]); err == nil {
			t.Error("a prefix of the admin token was accepted")
		}
	})

	t.Run("deleting the user deletes their tokens", func(t *testing.T) {
		_, text, _ := a.CreateToken(ctx, "mgr", "x", "")
		if err := a.DeleteUser(ctx, "mgr"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.bearerPrincipal(ctx, text); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("token of deleted user: %v", err)
		}
		if ts, _ := a.Tokens(ctx, "mgr"); len(ts) != 0 {
			t.Errorf("%d tokens left", len(ts))
		}
	})
}

func TestUserValidationAndLastAdmin(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name, user string
		role       Role
		password   string
		want       error
	}{
		{"upper case", "Ana", RoleAgent, pw, ErrInvalidName},
		{"space", "a b", RoleAgent, pw, ErrInvalidName},
		{"leading dot", ".a", RoleAgent, pw, ErrInvalidName},
		{"reserved", AdminTokenUser, RoleAdmin, pw, ErrInvalidName},
		{"too long", string(make([]byte, 65)), RoleAgent, pw, ErrInvalidName},
		{"bad role", "ana", "root", pw, ErrInvalidRole},
		{"short password", "ana", RoleAgent, "short", ErrWeakPassword},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := a.CreateUser(ctx, tt.user, tt.role, tt.password); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
	mustUser(t, a, "root", RoleAdmin, pw)
	if _, err := a.CreateUser(ctx, "root", RoleAgent, pw); !errors.Is(err, ErrUserExists) {
		t.Errorf("duplicate: %v", err)
	}
	for _, up := range []UserUpdate{{Role: ptr(RoleManager)}, {Disabled: ptr(true)}} {
		if _, err := a.UpdateUser(ctx, "root", up); !errors.Is(err, ErrLastAdmin) {
			t.Errorf("UpdateUser(last admin, %+v): %v", up, err)
		}
	}
	if err := a.DeleteUser(ctx, "root"); !errors.Is(err, ErrLastAdmin) {
		t.Errorf("DeleteUser(last admin): %v", err)
	}
	mustUser(t, a, "root2", RoleAdmin, pw)
	if err := a.DeleteUser(ctx, "root"); err != nil {
		t.Errorf("DeleteUser(admin, another left): %v", err)
	}
	if err := a.DeleteUser(ctx, "root"); !errors.Is(err, ErrUserNotFound) {
		t.Errorf("DeleteUser(gone): %v", err)
	}
}

func TestEnsureUser(t *testing.T) {
	t.Parallel()
	a, _ := newTestAuth(t)
	ctx := context.Background()
	if err := a.EnsureUser(ctx, "demo", RoleAgent, pw); err != nil {
		t.Fatal(err)
	}
	// A second call keeps what exists, even with other arguments.
	if err := a.EnsureUser(ctx, "demo", RoleAdmin, "a different password"); err != nil {
		t.Fatal(err)
	}
	u, _ := a.User(ctx, "demo")
	if u.Role != RoleAgent {
		t.Errorf("role = %s, want agent", u.Role)
	}
	if _, err := a.Login(ctx, "demo", pw, "192.0.2.1"); err != nil {
		t.Errorf("login with the first password: %v", err)
	}
}

func TestLoginRehashesWeakerParams(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, _ := newTestAuth(t, func(c *Config) { c.Path = dir + "/auth.db" })
	mustUser(t, a, "ana", RoleAgent, pw)
	a.Close()
	stronger := Params{Time: 2, MemoryKiB: 128, Threads: 1}
	b, _ := newTestAuth(t, func(c *Config) { c.Path = dir + "/auth.db"; c.Hash = stronger })
	ctx := context.Background()
	if _, err := b.Login(ctx, "ana", pw, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	var h string
	b.db.R.QueryRow(`SELECT password_hash FROM users WHERE name = 'ana'`).Scan(&h)
	if p, _, _, err := parseHash(h); err != nil || p != stronger {
		t.Errorf("after login the hash has %+v (%v), want %+v", p, err, stronger)
	}
	if _, err := b.Login(ctx, "ana", pw, "192.0.2.1"); err != nil {
		t.Errorf("login after rehash: %v", err)
	}
}

func TestRunPrunesUntilCancelled(t *testing.T) {
	t.Parallel()
	a, clock := newTestAuth(t, func(c *Config) { c.PruneInterval = 10 * time.Millisecond; c.IdleTimeout = time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	mustUser(t, a, "ana", RoleAgent, pw)
	a.Login(ctx, "ana", pw, "192.0.2.1")
	clock.Advance(2 * time.Minute)
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		a.db.R.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n)
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not prune the idle session")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{Path: "a.db"}, true},
		{"no path", Config{}, false},
		{"short admin token", Config{Path: "a.db", AdminToken: "short"}, false},
		{"idle beyond lifetime", Config{Path: "a.db", IdleTimeout: 48 * time.Hour, MaxLifetime: time.Hour}, false},
		{"bad hash params", Config{Path: "a.db", Hash: Params{Time: 1, MemoryKiB: 4, Threads: 1}}, false},
		{"relative ws path", Config{Path: "a.db", WebSocketPath: "ws"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Errorf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	c := Config{Path: "a.db"}
	c.Validate()
	if c.Hash != DefaultParams || c.IdleTimeout != 12*time.Hour || c.MaxLifetime != 7*24*time.Hour || c.WebSocketPath != "/ws" {
		t.Errorf("defaults not filled: %+v", c)
	}
}
