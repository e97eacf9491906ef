package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHashRoundTripDefaultParams(t *testing.T) {
	t.Parallel()
	h, err := encodeHash("correct horse battery", DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Fatalf("hash %q does not record the default parameters", h)
	}
	p, salt, key, err := parseHash(h)
	if err != nil {
		t.Fatalf("parseHash(own output): %v", err)
	}
	if p != DefaultParams || len(salt) != saltLen || len(key) != keyLen {
		t.Fatalf("parsed %+v, salt %d, key %d", p, len(salt), len(key))
	}
	ok, _, err := verifyHash("correct horse battery", h)
	if err != nil || !ok {
		t.Fatalf("verify right password = %v, %v", ok, err)
	}
	ok, _, err = verifyHash("correct horse batterY", h)
	if err != nil || ok {
		t.Fatalf("verify wrong password = %v, %v", ok, err)
	}
	h2, _ := encodeHash("correct horse battery", DefaultParams)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestParseHashRejectsMalformed(t *testing.T) {
	t.Parallel()
	good, err := encodeHash("0123456789", cheapParams)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"missing param", "$argon2id$v=19$m=64,t=1$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,k=3$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads above 255", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key},
		{"memory below 8p", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key},
		{"memory above 1 GiB", "$argon2id$v=19$m=2097152,t=1,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"negative", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key},
		{"overflow", "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key},
		{"short key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA"},
		{"bad base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$!!!!" + key[4:]},
		{"trailing field", good + "$x"},
		{"no leading dollar", good[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, _, err := parseHash(tt.in); !errors.Is(err, ErrMalformedHash) {
				t.Errorf("parseHash(%q) error = %v, want ErrMalformedHash", tt.in, err)
			}
			if ok, _, err := verifyHash("0123456789", tt.in); ok || err == nil {
				t.Errorf("verifyHash(%q) = %v, %v: want an error", tt.in, ok, err)
			}
		})
	}
}

func TestCheckPasswordRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pw   string
		ok   bool
	}{
		{"empty", "", false},
		{"nine", "123456789", false},
		{"ten", "1234567890", true},
		{"ten runes, more bytes", "éééééééééé", true},
		{"nine runes, many bytes", "ééééééééé", false},
		{"too long", strings.Repeat("x", MaxPasswordLen+1), false},
		{"longest", strings.Repeat("x", MaxPasswordLen), true},
		{"invalid utf-8", "0123456789\xff", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.pw)
			if (err == nil) != tt.ok {
				t.Errorf("checkPassword = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrWeakPassword) {
				t.Errorf("error %v is not ErrWeakPassword", err)
			}
		})
	}
}

func TestHasherBoundsConcurrencyAndWaiters(t *testing.T) {
	t.Parallel()
	h := newHasher(cheapParams, 1, 1, newMetrics(nil))
	release, err := h.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// One caller may wait for the busy slot...
	var wg sync.WaitGroup
	waiting := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		r, err := h.acquire(context.Background())
		if err == nil {
			r()
		}
		waiting <- err
	}()
	for h.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
	}
	// ...a second is refused at once.
	if _, err := h.acquire(context.Background()); !errors.Is(err, ErrBusy) {
		t.Errorf("second waiter: err = %v, want ErrBusy", err)
	}
	// A cancelled wait gives up.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h2 := newHasher(cheapParams, 1, 5, newMetrics(nil))
	r2, _ := h2.acquire(context.Background())
	if _, err := h2.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: err = %v", err)
	}
	r2()
	release()
	wg.Wait()
	if err := <-waiting; err != nil {
		t.Errorf("waiter: %v", err)
	}
}

func TestVerifyReportsStaleParams(t *testing.T) {
	t.Parallel()
	h := newHasher(cheapParams, 1, 1, newMetrics(nil))
	old, _ := encodeHash("0123456789", Params{Time: 1, MemoryKiB: 32, Threads: 1})
	ok, stale, err := h.verify(context.Background(), "0123456789", old)
	if !ok || !stale || err != nil {
		t.Errorf("verify old-params hash = %v, %v, %v; want ok, stale", ok, stale, err)
	}
	cur, _ := h.hash(context.Background(), "0123456789")
	if ok, stale, err := h.verify(context.Background(), "0123456789", cur); !ok || stale || err != nil {
		t.Errorf("verify current hash = %v, %v, %v; want ok, fresh", ok, stale, err)
	}
}

// BenchmarkHash measures one login's argon2id cost with DefaultParams.
func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := encodeHash("correct horse battery", DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashParallel shows the throughput of MaxConcurrentHashes=2 slots.
func BenchmarkHashParallel(b *testing.B) {
	h := newHasher(DefaultParams, 2, 1<<20, newMetrics(nil))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.hash(context.Background(), "correct horse battery"); err != nil {
				b.Error(err)
			}
		}
	})
}
