package listenertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigie/vigie/listener"
)

// Options tunes the conformance suite to a source.
type Options struct {
	// Finite says the source ends by itself: Run returns nil once it has
	// emitted everything.
	Finite bool
	// MinItems is how many items the source must emit (default 1).
	MinItems int
	// Timeout bounds each check (default 5 s).
	Timeout time.Duration
}

// Conformance checks the listener.Source contract on fresh sources from
// newSource: a name; items that survive the ingest decoder; Run returning
// ctx.Err() promptly when ctx is cancelled, whether it is blocked on a send
// nobody reads or running; out never closed; and, for finite sources, Run
// returning nil at the end.
func Conformance(t *testing.T, newSource func(tb testing.TB) listener.Source, opt Options) {
	t.Helper()
	if opt.MinItems <= 0 {
		opt.MinItems = 1
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Second
	}
	t.Run("name", func(t *testing.T) {
		if newSource(t).Name() == "" {
			t.Fatal("Name() is empty")
		}
	})
	t.Run("valid items", func(t *testing.T) {
		items := Collect(t, newSource(t), opt.MinItems, opt.Timeout)
		for i, it := range items {
			if err := Valid(it); err != nil {
				t.Errorf("item %d: %v", i, err)
			}
		}
	})
	t.Run("cancel while blocked on send", func(t *testing.T) {
		out := make(chan listener.Item) // nobody reads
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- newSource(t).Run(ctx, out) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		err := wait(t, done, opt.Timeout)
		if !opt.Finite || err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run returned %v after cancel, want context.Canceled", err)
			}
		}
		NotClosed(t, out)
	})
	t.Run("cancel while running", func(t *testing.T) {
		out := make(chan listener.Item, 16)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- newSource(t).Run(ctx, out) }()
		select {
		case <-out:
		case err := <-done:
			t.Fatalf("Run returned %v before emitting anything", err)
		case <-time.After(opt.Timeout):
			t.Fatal("no item within the timeout")
		}
		cancel()
		go func() { // keep reading, as a live consumer would
			for range out {
			}
		}()
		err := wait(t, done, opt.Timeout)
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("Run returned %v after cancel, want context.Canceled (or nil for a finite source already done)", err)
		}
		if err == nil && !opt.Finite {
			t.Fatal("an endless source returned nil after cancel, want context.Canceled")
		}
		close(out) // Run returned and never closed out: closing it here must not panic
	})
	if opt.Finite {
		t.Run("finite source ends with nil", func(t *testing.T) {
			out := make(chan listener.Item, 64)
			done := make(chan error, 1)
			go func() { done <- newSource(t).Run(context.Background(), out) }()
			n := 0
			timeout := time.After(opt.Timeout)
			for {
				select {
				case <-out:
					n++
					continue
				case err := <-done:
					if err != nil {
						t.Fatalf("Run returned %v at the end, want nil", err)
					}
				case <-timeout:
					t.Fatal("finite source did not end within the timeout")
				}
				break
			}
			n += len(out)
			if n < opt.MinItems {
				t.Fatalf("got %d items, want at least %d", n, opt.MinItems)
			}
			NotClosed(t, out)
		})
	}
}

func wait(t testing.TB, done <-chan error, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		t.Fatalf("Run did not return within %v of its context being cancelled", timeout)
		return nil
	}
}

// Collect runs src until it has emitted n items (or ended, or timeout
// passed), cancels it, and checks that Run returned context.Canceled (or nil
// for a source that ended by itself) and did not close its channel.
func Collect(t testing.TB, src listener.Source, n int, timeout time.Duration) []listener.Item {
	t.Helper()
	out := make(chan listener.Item)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	var items []listener.Item
	deadline := time.After(timeout)
	for len(items) < n {
		select {
		case it := <-out:
			items = append(items, it)
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: Run returned %v after %d items", src.Name(), err, len(items))
			}
			NotClosed(t, out)
			return items
		case <-deadline:
			t.Fatalf("%s: %d items within %v, want %d", src.Name(), len(items), timeout, n)
		}
	}
	cancel()
	if err := wait(t, done, timeout); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("%s: Run returned %v after cancel, want context.Canceled", src.Name(), err)
	}
	NotClosed(t, out)
	return items
}

// NotClosed fails the test if out has been closed. It may consume one
// buffered item.
func NotClosed(t testing.TB, out chan listener.Item) {
	t.Helper()
	select {
	case _, ok := <-out:
		if !ok {
			t.Fatal("the source closed its out channel")
		}
	default:
	}
}

// Valid checks that an item has exactly the payload its Kind names and that
// a mention or check-in survives the strict ingest decoder after a JSON
// round trip, as if it had been posted to /api/v1/mentions or /checkins.
func Valid(it listener.Item) error {
	set := 0
	for _, p := range []bool{it.Mention != nil, it.CheckIn != nil, it.Tombstone != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("item carries %d payloads, want exactly 1", set)
	}
	var (
		raw    []byte
		err    error
		decode func([]byte, bool) ([]listener.Decoded, []listener.Rejection, error)
	)
	switch it.Kind {
	case listener.KindMention:
		if it.Mention == nil {
			return errors.New("kind mention without a mention")
		}
		raw, err = json.Marshal(it.Mention)
		decode = listener.DecodeMentions
	case listener.KindCheckIn:
		if it.CheckIn == nil {
			return errors.New("kind checkin without a check-in")
		}
		raw, err = json.Marshal(it.CheckIn)
		decode = listener.DecodeCheckIns
	case listener.KindTombstone:
		if it.Tombstone == nil {
			return errors.New("kind tombstone without a tombstone")
		}
		if it.Tombstone.Source == "" || (it.Tombstone.ID == "" && it.Tombstone.AuthorID == "") {
			return errors.New("tombstone needs a source and an id or author id")
		}
		return nil
	default:
		return errors.New("unknown kind " + string(it.Kind))
	}
	if err != nil {
		return err
	}
	_, rej, err := decode(raw, true)
	if err != nil {
		return err
	}
	if len(rej) > 0 {
		return errors.New("rejected by the ingest decoder: " + rej[0].Error)
	}
	return nil
}
