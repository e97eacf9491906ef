package auth

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeClock is a settable clock for throttling and expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// cheapParams make tests fast; DefaultParams are exercised by the round
// trip test and the benchmark.
var cheapParams = Params{Time: 1, MemoryKiB: 64, Threads: 1}

const testAdminToken = "test-admin-token-0123456789"

// newTestAuth opens an Auth on a temporary database with a fake clock and
// cheap hashing; mods adjust the configuration.
func newTestAuth(tb testing.TB, mods ...func(*Config)) (*Auth, *fakeClock) {
	tb.Helper()
	clock := newFakeClock()
	cfg := Config{
		Path:       filepath.Join(tb.TempDir(), "auth.db"),
		AdminToken: testAdminToken,
		Hash:       cheapParams,
		Now:        clock.Now,
	}
	for _, m := range mods {
		m(&cfg)
	}
	var logger *slog.Logger
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	a, err := New(context.Background(), cfg, logger, prometheus.NewRegistry())
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { a.Close() })
	return a, clock
}

// mustUser creates a user or fails the test.
func mustUser(tb testing.TB, a *Auth, name string, role Role, password string) {
	tb.Helper()
	if _, err := a.CreateUser(context.Background(), name, role, password); err != nil {
		tb.Fatalf("CreateUser(%q): %v", name, err)
	}
}
