package listenertest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigie/vigie/listener"
)

// Start runs src until the test ends, and returns what it emits. At the
// end of the test Run must return context.Canceled within 5 s.
func Start(tb testing.TB, src listener.Source) <-chan listener.Item {
	tb.Helper()
	out := make(chan listener.Item, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				tb.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			tb.Error("Run did not return after cancel")
		}
	})
	return out
}

// Next returns the next item from out, failing the test if none comes
// within 5 s.
func Next(tb testing.TB, out <-chan listener.Item) listener.Item {
	tb.Helper()
	select {
	case it := <-out:
		return it
	case <-time.After(5 * time.Second):
		tb.Fatal("no item within 5 s")
		return listener.Item{}
	}
}

// None fails the test if out yields an item within d.
func None(tb testing.TB, out <-chan listener.Item, d time.Duration) {
	tb.Helper()
	select {
	case it := <-out:
		tb.Fatalf("unexpected item %+v (mention %+v, tombstone %+v)", it, it.Mention, it.Tombstone)
	case <-time.After(d):
	}
}

// WaitFor polls cond every 5 ms until it holds, failing the test after
// 10 s with what it waited for.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
