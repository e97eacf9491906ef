package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password length bounds, in characters (runes). The minimum follows NIST SP
// 800-63B's advice of length over composition rules, raised from 8 to 10;
// the maximum only keeps hashing input bounded.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 1024
)

// Params are argon2id's cost parameters, stored in every hash (PHC string
// format) so that they can be raised later without invalidating old hashes:
// a user whose hash has weaker parameters is re-hashed at their next login.
type Params struct {
	// Time is the number of passes over memory.
	Time uint32
	// MemoryKiB is the memory one hash fills, in KiB.
	MemoryKiB uint32
	// Threads is the parallelism (lanes).
	Threads uint8
}

// DefaultParams suit Vigie's reference machine, two cores: 64 MiB and two
// passes over two lanes cost about 100 ms of CPU per hash, split over both
// cores (BenchmarkHash; /usr/bin/time on it), which keeps a login snappy
// while making every offline guess cost the same 64 MiB and 100 ms. RFC
// 9106's second recommended option is t=3, m=64 MiB, p=4; with two cores,
// four lanes buy nothing, so one pass is traded for latency. Because every
// hash needs MemoryKiB, Config.MaxConcurrentHashes bounds how many run at
// once.
var DefaultParams = Params{Time: 2, MemoryKiB: 64 * 1024, Threads: 2}

const (
	saltLen = 16 // bytes, RFC 9106's recommendation
	keyLen  = 32 // bytes of derived key

	// maxMemoryKiB bounds the memory a stored hash may ask for (1 GiB): a hash
	// with more is treated as malformed rather than allowed to exhaust memory.
	maxMemoryKiB = 1 << 20
	maxTime      = 64
)

func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2 time %d out of [1, %d]", p.Time, maxTime)
	case p.Threads < 1:
		return fmt.Errorf("argon2 threads must be at least 1")
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2 memory %d KiB out of [8×threads, %d]", p.MemoryKiB, maxMemoryKiB)
	}
	return nil
}

// CheckPassword reports whether pw is an acceptable password: valid UTF-8,
// MinPasswordLen to MaxPasswordLen characters. Errors wrap ErrWeakPassword.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: not valid UTF-8", ErrWeakPassword)
	case n < MinPasswordLen:
		return fmt.Errorf("%w: at least %d characters required", ErrWeakPassword, MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("%w: at most %d characters allowed", ErrWeakPassword, MaxPasswordLen)
	}
	return nil
}

var b64 = base64.RawStdEncoding.Strict()

// encodeHash derives the argon2id key of password with a fresh salt and
// returns it as a PHC string: $argon2id$v=19$m=65536,t=2,p=2$<salt>$<key>.
func encodeHash(password string, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// parseHash parses a PHC argon2id string strictly: version 19, parameters
// m, t, p in that order and within bounds, unpadded standard base64 salt
// (8-64 bytes) and key (16-64 bytes).
func parseHash(s string) (p Params, salt, key []byte, err error) {
	bad := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want $argon2id$v=..$m=..,t=..,p=..$salt$key")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return bad("want parameters m, t, p")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(kv[i], name)
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return bad("want parameters m, t, p")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("parameter " + name + " not a number")
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return bad("parallelism above 255")
	}
	p = Params{MemoryKiB: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2])}
	if err := p.validate(); err != nil {
		return bad(err.Error())
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 || len(salt) > 64 {
		return bad("salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return bad("key")
	}
	return p, salt, key, nil
}

// verifyHash reports whether password matches the PHC string, comparing
// keys in constant time, and the parameters the hash was made with.
func verifyHash(password, encoded string) (bool, Params, error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, Params{}, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, p, nil
}

// hasher runs argon2id under a semaphore: every hash fills Params.MemoryKiB,
// so concurrent logins must not multiply that without bound.
type hasher struct {
	params     Params
	sem        chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
	metrics    *metrics

	// dummy is a well-formed hash of no password (random salt and key), with
	// the current parameters: verifying anything against it costs a real
	// hash and fails.
	dummy string
}

func newHasher(p Params, concurrent, maxWaiting int, m *metrics) *hasher {
	dummy := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(randomBytes(saltLen)), b64.EncodeToString(randomBytes(keyLen)))
	return &hasher{params: p, sem: make(chan struct{}, concurrent), maxWaiting: int64(maxWaiting), metrics: m, dummy: dummy}
}

// acquire takes a hashing slot, waiting for one at most as long as ctx allows,
// and fails fast with ErrBusy when too many callers already wait.
func (h *hasher) acquire(ctx context.Context) (release func(), err error) {
	if h.waiting.Add(1) > h.maxWaiting {
		h.waiting.Add(-1)
		return nil, ErrBusy
	}
	defer h.waiting.Add(-1)
	select {
	case h.sem <- struct{}{}:
		return func() { <-h.sem }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a hashing slot: %w", ctx.Err())
	}
}

// hash returns the PHC string of password with the current parameters.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	t := h.metrics.startHash()
	defer t()
	return encodeHash(password, h.params)
}

// verify checks password against encoded. stale reports that the hash was
// made with parameters other than the current ones and should be redone.
func (h *hasher) verify(ctx context.Context, password, encoded string) (ok, stale bool, err error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	t := h.metrics.startHash()
	defer t()
	ok, p, err := verifyHash(password, encoded)
	return ok, err == nil && p != h.params, err
}

// burn spends the same work as verifying a password against a real hash, so
// that an unknown or disabled user answers in about the same time as a wrong
// password. Its result is always a failure.
func (h *hasher) burn(ctx context.Context, password string) error {
	_, _, err := h.verify(ctx, password, h.dummy)
	return err
}
