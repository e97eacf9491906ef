package auth

import (
	"errors"
	"fmt"
	"time"
)

// Config configures Auth. The zero value of every field but Path means its
// documented default.
type Config struct {
	// Path is the SQLite file holding users, sessions and tokens, normally
	// <data>/auth.db. Required.
	Path string
	// AdminToken, when not empty, is accepted as an administrator's bearer
	// token (VIGIE_ADMIN_TOKEN), for automation and tests. At least 16
	// characters: it is a password that is never throttled.
	AdminToken string
	// SecureCookies marks the session cookie Secure even on plain-HTTP
	// requests (set it when a TLS-terminating proxy is in front). Requests
	// that arrive over TLS always get Secure cookies.
	SecureCookies bool
	// IdleTimeout ends a session that made no request for this long
	// (default 12h: a working day with long breaks).
	IdleTimeout time.Duration
	// MaxLifetime ends a session this long after login whatever its activity
	// (default 7 days: a weekly login).
	MaxLifetime time.Duration
	// WebSocketPath is the only path where a token is accepted in the query
	// string (?token=), because browsers cannot set headers on a websocket
	// upgrade (default "/ws").
	WebSocketPath string
	// Hash are the argon2id parameters for new hashes (default DefaultParams).
	Hash Params
	// MaxConcurrentHashes bounds the argon2id computations running at once,
	// each taking Hash.MemoryKiB (default 2: one per core of the reference
	// machine, so 128 MiB at most with the default parameters).
	MaxConcurrentHashes int
	// MaxHashWaiters bounds the logins waiting for a hashing slot; more get
	// ErrBusy (HTTP 503) at once instead of piling up (default 64, about
	// three seconds of queue at default cost on two cores).
	MaxHashWaiters int
	// Throttle bounds failed logins.
	Throttle ThrottleConfig
	// PruneInterval is how often Run deletes expired sessions and refreshes
	// the active sessions gauge (default 1 minute).
	PruneInterval time.Duration
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
}

// ThrottleConfig bounds failed logins at three scopes. An attempt counts as
// a failure from the moment it is let through until its password proves
// right (so concurrent guesses cannot overtake the count); a throttled
// attempt is refused before the password is checked and counts for nothing. The (user, address) pair is throttled hardest, so that an attacker
// at one address locks out only themself; the user-wide limit, which stops
// guessing spread over many addresses, is loose enough that one address never
// reaches it, and refills quickly, so nobody is locked out for long.
type ThrottleConfig struct {
	// PairFailures is how many consecutive failures for one user name from
	// one address are free (default 5).
	PairFailures int
	// PairLockout is the wait after the first failure beyond PairFailures,
	// doubled on each further one (default 1s)...
	PairLockout time.Duration
	// PairMaxLockout ... up to this (default 15m). A success clears the pair;
	// so does PairForget without a failure (default 1h).
	PairMaxLockout time.Duration
	PairForget     time.Duration
	// UserBurst failures for one user name from anywhere are allowed at once
	// (default 20), then one every UserEvery (default 30s, 120 an hour, where
	// one throttled address manages about 18 in its first hour and 4 an hour
	// after that).
	UserBurst int
	UserEvery time.Duration
	// IPBurst failures from one address (an IPv6 /64) over any user names are
	// allowed at once (default 30), then one every IPEvery (default 10s):
	// this bounds password spraying across many names.
	IPBurst int
	IPEvery time.Duration
	// MaxEntries bounds the remembered pairs, users and addresses, each
	// (default 100,000: some tens of MB at most). Beyond it arbitrary state is
	// dropped, which only ever forgives.
	MaxEntries int
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("auth: path required")
	}
	if c.AdminToken != "" && len(c.AdminToken) < 16 {
		return errors.New("auth: admin token must be at least 16 characters")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.IdleTimeout, 12*time.Hour)
	def(&c.MaxLifetime, 7*24*time.Hour)
	def(&c.PruneInterval, time.Minute)
	if c.WebSocketPath == "" {
		c.WebSocketPath = "/ws"
	}
	if c.Hash == (Params{}) {
		c.Hash = DefaultParams
	}
	defInt(&c.MaxConcurrentHashes, 2)
	defInt(&c.MaxHashWaiters, 64)
	if c.Now == nil {
		c.Now = time.Now
	}
	t := &c.Throttle
	defInt(&t.PairFailures, 5)
	def(&t.PairLockout, time.Second)
	def(&t.PairMaxLockout, 15*time.Minute)
	def(&t.PairForget, time.Hour)
	defInt(&t.UserBurst, 20)
	def(&t.UserEvery, 30*time.Second)
	defInt(&t.IPBurst, 30)
	def(&t.IPEvery, 10*time.Second)
	defInt(&t.MaxEntries, 100_000)

	if err := c.Hash.validate(); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	switch {
	case c.IdleTimeout < 0 || c.MaxLifetime < 0 || c.PruneInterval < 0:
		return errors.New("auth: durations must be positive")
	case c.IdleTimeout > c.MaxLifetime:
		return fmt.Errorf("auth: idle timeout %s longer than max lifetime %s", c.IdleTimeout, c.MaxLifetime)
	case c.MaxConcurrentHashes < 1 || c.MaxHashWaiters < 1:
		return errors.New("auth: hash concurrency and waiters must be positive")
	case c.WebSocketPath[0] != '/':
		return fmt.Errorf("auth: websocket path %q must start with /", c.WebSocketPath)
	case t.PairFailures < 1 || t.UserBurst < 1 || t.IPBurst < 1 || t.MaxEntries < 1:
		return errors.New("auth: throttle counts must be positive")
	case t.PairLockout < 0 || t.PairMaxLockout < t.PairLockout || t.PairForget < 0 || t.UserEvery < 0 || t.IPEvery < 0:
		return errors.New("auth: throttle durations must be positive, max lockout ≥ lockout")
	}
	return nil
}
