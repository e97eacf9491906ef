package auth

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testThrottle(tb testing.TB, mods ...func(*ThrottleConfig)) (*throttle, *fakeClock) {
	tb.Helper()
	cfg := Config{Path: "x"}
	for _, m := range mods {
		m(&cfg.Throttle)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	clock := newFakeClock()
	return newThrottle(cfg.Throttle, clock.Now), clock
}

// probe reports how long a login of user from ip would wait, leaving the
// throttle as it was when it would go ahead (as a successful login does).
func probe(th *throttle, user, ip string) time.Duration {
	w, _ := th.attempt(user, ip)
	if w == 0 {
		th.succeed(user, ip)
	}
	return w
}

func TestThrottlePairLockoutDoubles(t *testing.T) {
	t.Parallel()
	th, clock := testThrottle(t)
	for i := range 5 {
		if w, _ := th.attempt("ana", "192.0.2.1"); w != 0 {
			t.Fatalf("attempt %d throttled for %s; the first 5 failures are free", i+1, w)
		}
	}
	// The 6th attempt goes ahead and locks for 1s, the 7th for 2s, ...
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if w, _ := th.attempt("ana", "192.0.2.1"); w != 0 {
			t.Fatalf("attempt %d refused for %s after its lockout", 6+i, w)
		}
		w, scope := th.attempt("ana", "192.0.2.1")
		if w != want || scope != "pair" {
			t.Fatalf("after failure %d: wait %s scope %q, want %s pair", 6+i, w, scope, want)
		}
		// Another address, and another user, are not held back.
		if w := probe(th, "ana", "192.0.2.2"); w != 0 {
			t.Fatalf("ana from another address waits %s", w)
		}
		if w := probe(th, "bob", "192.0.2.1"); w != 0 {
			t.Fatalf("bob from the same address waits %s", w)
		}
		clock.Advance(want)
	}
	// The lockout is capped.
	for n := 0; n < 20; {
		if w, _ := th.attempt("ana", "192.0.2.1"); w > 0 {
			clock.Advance(w)
			continue
		}
		n++
	}
	if w, _ := th.attempt("ana", "192.0.2.1"); w != 15*time.Minute {
		t.Fatalf("capped wait = %s, want 15m", w)
	}
	// A success clears the pair.
	clock.Advance(15 * time.Minute)
	if w := probe(th, "ana", "192.0.2.1"); w != 0 {
		t.Fatalf("right password refused after the lockout: %s", w)
	}
	th.attempt("ana", "192.0.2.1")
	if w, _ := th.attempt("ana", "192.0.2.1"); w != 0 {
		t.Fatalf("after a success, one failure throttles for %s", w)
	}
}

// TestThrottleConcurrentAttempts fires many attempts at once: each is
// counted before any password is checked, so only the free ones and the one
// that triggers the lockout go ahead.
func TestThrottleConcurrentAttempts(t *testing.T) {
	t.Parallel()
	th, _ := testThrottle(t)
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if w, _ := th.attempt("ana", "192.0.2.1"); w == 0 {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 6 {
		t.Errorf("%d of 50 concurrent attempts went ahead, want 6", n)
	}
}

// TestThrottleOneAddressCannotLockOutUser runs an attacker at one address
// guessing ana's password as fast as the throttle lets them for a day: the
// user-wide limit must never trigger, so ana can log in from elsewhere.
func TestThrottleOneAddressCannotLockOutUser(t *testing.T) {
	t.Parallel()
	th, clock := testThrottle(t)
	attempts := 0
	for end := clock.Now().Add(24 * time.Hour); clock.Now().Before(end); {
		w, scope := th.attempt("ana", "198.51.100.7")
		if w > 0 {
			if scope != "pair" {
				t.Fatalf("after %d attempts the attacker is held by scope %q", attempts, scope)
			}
			clock.Advance(w)
			continue
		}
		attempts++
		if w := probe(th, "ana", "203.0.113.9"); w != 0 {
			t.Fatalf("after %d attacker failures ana must wait %s from her own address", attempts, w)
		}
	}
	// 5 free, 10 doubling lockouts (17 min), then one every 15 minutes.
	if attempts > 5+10+4*24 {
		t.Errorf("one address made %d guesses in a day", attempts)
	}
	t.Logf("one address: %d guesses in 24h", attempts)
}

func TestThrottleUserScopeAcrossAddresses(t *testing.T) {
	t.Parallel()
	th, clock := testThrottle(t)
	// 20 addresses, one failure each: the user bucket (20) empties.
	for i := range 20 {
		if w, _ := th.attempt("ana", fmt.Sprintf("192.0.2.%d", i)); w != 0 {
			t.Fatalf("failure %d throttled", i)
		}
	}
	w, scope := th.attempt("ana", "203.0.113.1")
	if scope != "user" || w != 30*time.Second {
		t.Fatalf("after 20 spread failures: wait %s scope %q, want 30s user", w, scope)
	}
	if w := probe(th, "bob", "203.0.113.1"); w != 0 {
		t.Fatalf("another user throttled %s", w)
	}
	// Not for long: one token refills every 30s.
	clock.Advance(30 * time.Second)
	if w := probe(th, "ana", "203.0.113.1"); w != 0 {
		t.Fatalf("still throttled %s after the refill", w)
	}
}

func TestThrottleIPScope(t *testing.T) {
	t.Parallel()
	th, _ := testThrottle(t)
	// Password spraying: one address, 30 names.
	for i := range 30 {
		th.attempt(fmt.Sprintf("user%d", i), "192.0.2.1")
	}
	if w, scope := th.attempt("someone-else", "192.0.2.1"); scope != "ip" || w != 10*time.Second {
		t.Fatalf("after spraying: wait %s scope %q, want 10s ip", w, scope)
	}
	if w := probe(th, "someone-else", "192.0.2.2"); w != 0 {
		t.Fatalf("another address throttled %s", w)
	}
}

func TestIPKey(t *testing.T) {
	t.Parallel()
	tests := []struct{ a, b string }{
		{"2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::2"}, // one /64
		{"::ffff:192.0.2.1", "192.0.2.1"},                // 4-in-6
	}
	for _, tt := range tests {
		if ipKey(tt.a) != ipKey(tt.b) {
			t.Errorf("ipKey(%q)=%q != ipKey(%q)=%q", tt.a, ipKey(tt.a), tt.b, ipKey(tt.b))
		}
	}
	if ipKey("2001:db8:1:2::1") == ipKey("2001:db8:1:3::1") {
		t.Error("two /64s share a key")
	}
	if ipKey("192.0.2.1") == ipKey("192.0.2.2") {
		t.Error("two IPv4 addresses share a key")
	}
}

func TestThrottleMemoryBounded(t *testing.T) {
	t.Parallel()
	th, clock := testThrottle(t, func(c *ThrottleConfig) { c.MaxEntries = 100 })
	for i := range 1000 {
		th.attempt(fmt.Sprintf("u%d", i), fmt.Sprintf("10.0.%d.%d", i/256, i%256))
	}
	if len(th.pairs) > 100 || len(th.users) > 100 || len(th.ips) > 100 {
		t.Fatalf("entries: %d pairs, %d users, %d ips; cap 100", len(th.pairs), len(th.users), len(th.ips))
	}
	// Quiet state is forgotten by the sweep.
	clock.Advance(2 * time.Hour)
	th.attempt("last", "10.9.9.9")
	if len(th.pairs) != 1 || len(th.users) != 1 || len(th.ips) != 1 {
		t.Fatalf("after 2h quiet: %d pairs, %d users, %d ips; want 1 each", len(th.pairs), len(th.users), len(th.ips))
	}
}
