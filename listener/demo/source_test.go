package demo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/listenertest"
)

func TestSourceConformance(t *testing.T) {
	t.Parallel()
	listenertest.Conformance(t, func(tb testing.TB) listener.Source {
		return newGen(tb, Config{Seed: 1, Rate: 500, CheckInRate: 50})
	}, listenertest.Options{MinItems: 50})
}

func TestRunNeedsARate(t *testing.T) {
	t.Parallel()
	g := newGen(t, Config{Seed: 1})
	if err := g.Run(context.Background(), make(chan listener.Item)); !errors.Is(err, ErrNoRate) {
		t.Fatalf("Run = %v, want ErrNoRate", err)
	}
}

// TestRunPacing measures the real rate over a second. Arrivals are Poisson:
// at 300/s the count over one second has a standard deviation of about 17,
// so the bounds (±40%) are loose enough for a loaded machine yet catch a
// pacer that ignores the rate.
func TestRunPacing(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	g, err := New(Config{Seed: 1, Rate: 300, CheckInRate: 30, Now: time.Now}, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	out := make(chan listener.Item, 1024)
	start := time.Now()
	err = g.Run(ctx, out)
	elapsed := time.Since(start).Seconds()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want context.DeadlineExceeded", err)
	}
	listenertest.NotClosed(t, out)
	close(out)
	var mentions, checkIns int
	last := time.Time{}
	seen := map[string]bool{}
	for it := range out {
		switch it.Kind {
		case listener.KindMention:
			mentions++
			if seen[it.Mention.Key()] {
				continue // an edit keeps the post's created_at
			}
			seen[it.Mention.Key()] = true
			if it.Mention.CreatedAt.Before(last) {
				t.Errorf("created_at went back in time")
			}
			last = it.Mention.CreatedAt
		case listener.KindCheckIn:
			checkIns++
		}
	}
	if rate := float64(mentions) / elapsed; rate < 180 || rate > 420 {
		t.Errorf("%d mentions in %.2fs: %.0f/s, want about 300/s", mentions, elapsed, rate)
	}
	if rate := float64(checkIns) / elapsed; rate < 10 || rate > 55 {
		t.Errorf("%d check-ins in %.2fs: %.0f/s, want about 30/s", checkIns, elapsed, rate)
	}
	if got := counterValue(t, g.metrics.checkIns); int(got) != checkIns {
		t.Errorf("check-in counter %v, emitted %d", got, checkIns)
	}
}

// TestRunSkipsAheadWhenBehind: a consumer that stops reading for longer than
// maxLag must not get the whole backlog in a burst when it comes back.
func TestRunSkipsAheadWhenBehind(t *testing.T) {
	t.Parallel()
	g := newGen(t, Config{Seed: 1, Rate: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan listener.Item)
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, out) }()
	<-out
	time.Sleep(maxLag + 500*time.Millisecond) // Run is blocked on its send
	<-out
	// Drain for 200 ms: at 1000/s about 200 items, not the 1,500 of the
	// backlog.
	n := 0
	deadline := time.After(200 * time.Millisecond)
loop:
	for {
		select {
		case <-out:
			n++
		case <-deadline:
			break loop
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v", err)
	}
	if n > 900 {
		t.Errorf("%d items in 200 ms after a stall: the backlog was replayed", n)
	}
	if got := counterValue(t, g.metrics.pacingResets); got < 1 {
		t.Errorf("pacing resets = %v, want at least 1", got)
	}
}

func TestBurst(t *testing.T) {
	t.Parallel()
	g := newGen(t, Config{Seed: 1, Rate: 2, Burst: Burst{Every: time.Minute, Length: 10 * time.Second, Factor: 5}})
	start := t0
	tests := []struct {
		name  string
		at    time.Duration
		burst bool
	}{
		{"start", 0, false},
		{"just before", 49*time.Second + 999*time.Millisecond, false},
		{"first burst", 50 * time.Second, true},
		{"end of first burst", 59 * time.Second, true},
		{"after", 61 * time.Second, false},
		{"second burst", 115 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := start.Add(tt.at)
			if got := g.inBurst(start, at); got != tt.burst {
				t.Fatalf("inBurst(%v) = %v, want %v", tt.at, got, tt.burst)
			}
			want := 2.0
			if tt.burst {
				want = 10
			}
			if got := g.rateAt(start, at); got != want {
				t.Fatalf("rateAt(%v) = %v, want %v", tt.at, got, want)
			}
		})
	}
	// Bursts are incidents: complaints dominate.
	complaints := 0
	g.mu.Lock()
	for range 1000 {
		if l := g.mention(t0, true); l.Label.Intent == Complaint {
			complaints++
		}
	}
	g.mu.Unlock()
	if complaints < 700 {
		t.Errorf("%d of 1000 burst mentions are complaints, want most", complaints)
	}
}

func counterValue(tb testing.TB, c prometheus.Counter) float64 {
	tb.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		tb.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
