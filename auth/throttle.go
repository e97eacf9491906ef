package auth

import (
	"net/netip"
	"sync"
	"time"
)

// throttle remembers failed logins by (user, address) pair, by user and by
// address, and says how long a new attempt must wait. It is safe for
// concurrent use; its memory is bounded by ThrottleConfig.MaxEntries.
type throttle struct {
	cfg ThrottleConfig
	now func() time.Time

	mu        sync.Mutex
	pairs     map[pairKey]*lockout
	users     map[string]*bucket
	ips       map[string]*bucket
	lastSweep time.Time
}

type pairKey struct{ user, ip string }

// lockout is exponential: free failures, then a doubling wait.
type lockout struct {
	failures    int
	lastFailure time.Time
	until       time.Time
}

// bucket is a token bucket of failures: full means no recent failure.
type bucket struct {
	tokens  float64
	updated time.Time
}

func newThrottle(cfg ThrottleConfig, now func() time.Time) *throttle {
	return &throttle{
		cfg: cfg, now: now,
		pairs: map[pairKey]*lockout{},
		users: map[string]*bucket{},
		ips:   map[string]*bucket{},
	}
}

// ipKey groups addresses the way one attacker holds them: an IPv4 address,
// or an IPv6 /64 (one customer's subnet). Unparseable input is its own key.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func (b *bucket) refill(now time.Time, burst int, every time.Duration) {
	if every > 0 {
		b.tokens += float64(now.Sub(b.updated)) / float64(every)
	} else {
		b.tokens = float64(burst)
	}
	b.tokens = min(b.tokens, float64(burst))
	b.updated = now
}

// wait is how long until the bucket holds one token.
func (b *bucket) wait(every time.Duration) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(every))
}

// attempt asks whether user may try a password from ip now. When not, it
// returns how long to wait and the scope imposing the longest wait, and
// records nothing. When it may, the attempt is recorded as a failure at once,
// before the password is checked, so that concurrent attempts cannot all
// slip through before the first failure lands; succeed takes it back.
func (t *throttle) attempt(user, ip string) (time.Duration, string) {
	now := t.now()
	ip = ipKey(ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	var scope string
	k := pairKey{user, ip}
	l := t.pairs[k]
	if l != nil && now.Before(l.until) {
		wait, scope = l.until.Sub(now), "pair"
	}
	if b := t.users[user]; b != nil {
		b.refill(now, t.cfg.UserBurst, t.cfg.UserEvery)
		if w := b.wait(t.cfg.UserEvery); w > wait {
			wait, scope = w, "user"
		}
	}
	if b := t.ips[ip]; b != nil {
		b.refill(now, t.cfg.IPBurst, t.cfg.IPEvery)
		if w := b.wait(t.cfg.IPEvery); w > wait {
			wait, scope = w, "ip"
		}
	}
	if wait > 0 {
		return wait, scope
	}

	t.maybeSweep(now)
	if l == nil {
		l = &lockout{}
		t.pairs[k] = l
	}
	l.failures++
	l.lastFailure = now
	if over := l.failures - t.cfg.PairFailures; over > 0 {
		d := t.cfg.PairMaxLockout
		if over <= 30 {
			d = min(t.cfg.PairLockout<<(over-1), t.cfg.PairMaxLockout)
		}
		l.until = now.Add(d)
	}
	take(t.users, user, now, t.cfg.UserBurst, t.cfg.UserEvery, -1)
	take(t.ips, ip, now, t.cfg.IPBurst, t.cfg.IPEvery, -1)
	return 0, ""
}

// take adds delta tokens to the bucket k (creating it full), keeping it
// within [0, burst].
func take(m map[string]*bucket, k string, now time.Time, burst int, every time.Duration, delta float64) {
	b := m[k]
	if b == nil {
		b = &bucket{tokens: float64(burst), updated: now}
		m[k] = b
	}
	b.refill(now, burst, every)
	b.tokens = min(max(b.tokens+delta, 0), float64(burst))
}

// succeed takes back the failure attempt recorded: the password was right.
// The pair's earlier failures are forgotten too, since the user knows the
// password; the user and address buckets only get this attempt back.
func (t *throttle) succeed(user, ip string) {
	now := t.now()
	ip = ipKey(ip)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pairs, pairKey{user, ip})
	take(t.users, user, now, t.cfg.UserBurst, t.cfg.UserEvery, +1)
	take(t.ips, ip, now, t.cfg.IPBurst, t.cfg.IPEvery, +1)
}

// maybeSweep drops, at most once a minute, state that no longer restrains
// anyone, then enforces MaxEntries by dropping arbitrary entries (which only
// forgives failures: it never locks anyone out).
func (t *throttle) maybeSweep(now time.Time) {
	full := func() bool {
		return len(t.pairs) >= t.cfg.MaxEntries || len(t.users) >= t.cfg.MaxEntries || len(t.ips) >= t.cfg.MaxEntries
	}
	if now.Sub(t.lastSweep) < time.Minute && !full() {
		return
	}
	t.lastSweep = now
	for k, l := range t.pairs {
		if now.After(l.until) && now.Sub(l.lastFailure) >= t.cfg.PairForget {
			delete(t.pairs, k)
		}
	}
	sweepBuckets(t.users, now, t.cfg.UserBurst, t.cfg.UserEvery)
	sweepBuckets(t.ips, now, t.cfg.IPBurst, t.cfg.IPEvery)
	for k := range t.pairs {
		if len(t.pairs) < t.cfg.MaxEntries {
			break
		}
		delete(t.pairs, k)
	}
	for _, m := range []map[string]*bucket{t.users, t.ips} {
		for k := range m {
			if len(m) < t.cfg.MaxEntries {
				break
			}
			delete(m, k)
		}
	}
}

func sweepBuckets(m map[string]*bucket, now time.Time, burst int, every time.Duration) {
	for k, b := range m {
		b.refill(now, burst, every)
		if b.tokens >= float64(burst) {
			delete(m, k)
		}
	}
}
