package yield

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestIdleHotPathNeverWaits(t *testing.T) {
	var calls atomic.Int64
	g := New(func() bool { calls.Add(1); return false }, time.Hour, nil)
	g.For("test")(context.Background())
	if calls.Load() != 1 {
		t.Fatalf("busy asked %d times, want 1", calls.Load())
	}
	if got := testutil.ToFloat64(g.waited.WithLabelValues("test")); got != 0 {
		t.Fatalf("waited %v s, want 0", got)
	}
}

func TestWaitsUntilTheHotPathIsIdle(t *testing.T) {
	var busy atomic.Bool
	busy.Store(true)
	var asked atomic.Int64
	reg := prometheus.NewRegistry()
	g := New(func() bool { asked.Add(1); return busy.Load() }, time.Hour, reg)
	done := make(chan struct{})
	go func() { g.For("crm")(context.Background()); close(done) }()
	// Several polls answered "busy" must not release it.
	for asked.Load() < 5 {
		select {
		case <-done:
			t.Fatal("returned while the hot path was busy")
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case <-done:
		t.Fatal("returned while the hot path was busy")
	default:
	}
	busy.Store(false)
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("still waiting after the hot path became idle")
	}
	if got := testutil.ToFloat64(g.waited.WithLabelValues("crm")); got <= 0 {
		t.Fatalf("waited %v s, want > 0", got)
	}
	if got := testutil.ToFloat64(g.timeouts.WithLabelValues("crm")); got != 0 {
		t.Fatalf("timeouts %v, want 0", got)
	}
}

func TestWaitIsBounded(t *testing.T) {
	g := New(func() bool { return true }, 5*time.Millisecond, nil)
	done := make(chan struct{})
	go func() { g.For("search")(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a hot path that never idles starved the stage")
	}
	if got := testutil.ToFloat64(g.timeouts.WithLabelValues("search")); got != 1 {
		t.Fatalf("timeouts %v, want 1", got)
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	g := New(func() bool { return true }, time.Hour, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { g.For("archive")(ctx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("still waiting after its context ended")
	}
	if got := testutil.ToFloat64(g.timeouts.WithLabelValues("archive")); got != 0 {
		t.Fatalf("timeouts %v, want 0", got)
	}
}
