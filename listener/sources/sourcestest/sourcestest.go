// Package sourcestest holds in-memory stand-ins for what sources plug into:
// a Log that is both a sources.Appender (deduplicating as the intake log
// does) and a sources.CursorStore, and a Health that records reports.
package sourcestest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/sources"
)

// ErrInjected is the error Log.Append returns while FailNext is counting.
var ErrInjected = errors.New("injected append failure")

// Log is an in-memory intake log. An item whose kind, source and id are
// known with the same text is a duplicate and not kept. Safe for concurrent
// use.
type Log struct {
	mu      sync.Mutex
	items   []listener.Item
	seen    map[string]string
	fail    int
	cursors map[string]string
	changed chan struct{}
}

var (
	_ sources.Appender    = (*Log)(nil)
	_ sources.CursorStore = (*Log)(nil)
)

// NewLog returns an empty Log.
func NewLog() *Log {
	return &Log{seen: map[string]string{}, cursors: map[string]string{}, changed: make(chan struct{})}
}

// FailNext makes the next n appends fail with ErrInjected.
func (l *Log) FailNext(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fail = n
}

// Append keeps the items that are new or edited.
func (l *Log) Append(_ context.Context, items []listener.Item, _ time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail > 0 {
		l.fail--
		return ErrInjected
	}
	for _, it := range items {
		key := string(it.Kind) + "/" + it.SourceName() + "/" + it.NativeID()
		text := ""
		if it.Mention != nil {
			text = it.Mention.Text
		}
		if prev, ok := l.seen[key]; ok && prev == text {
			continue
		}
		l.seen[key] = text
		l.items = append(l.items, it)
	}
	close(l.changed)
	l.changed = make(chan struct{})
	return nil
}

// Items returns what was kept, in order.
func (l *Log) Items() []listener.Item {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]listener.Item(nil), l.items...)
}

// WaitItems waits until the log holds at least n items, or ctx is done.
func (l *Log) WaitItems(ctx context.Context, n int) ([]listener.Item, error) {
	for {
		l.mu.Lock()
		if len(l.items) >= n {
			items := append([]listener.Item(nil), l.items...)
			l.mu.Unlock()
			return items, nil
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return l.Items(), ctx.Err()
		}
	}
}

// Cursor returns the cursor called name.
func (l *Log) Cursor(_ context.Context, name string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cursors[name], nil
}

// SetCursor stores a cursor.
func (l *Log) SetCursor(_ context.Context, name, value string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cursors[name] = value
	return nil
}

// Pump is a sources.Pump over l: it runs src, appends each item as it
// comes, and calls the source's Commit after each append.
func (l *Log) Pump(ctx context.Context, src listener.Source) error {
	out := make(chan listener.Item, 64)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	committer, _ := src.(listener.Committer)
	take := func(it listener.Item) error {
		batch := []listener.Item{it}
		if err := l.Append(context.WithoutCancel(ctx), batch, time.Now()); err != nil {
			return err
		}
		if committer != nil {
			return committer.Commit(ctx, batch)
		}
		return nil
	}
	for {
		select {
		case it := <-out:
			if err := take(it); err != nil {
				return err
			}
		case err := <-done:
			for {
				select {
				case it := <-out:
					if err := take(it); err != nil {
						return err
					}
					continue
				default:
				}
				break
			}
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
	}
}

// Health records what a source reports. Safe for concurrent use.
type Health struct {
	mu        sync.Mutex
	connected bool
	errs      []error
	received  int
}

var _ sources.Health = (*Health)(nil)

// Connected records the connection state.
func (h *Health) Connected(ok bool) { h.mu.Lock(); h.connected = ok; h.mu.Unlock() }

// Failed records an error.
func (h *Health) Failed(err error) { h.mu.Lock(); h.errs = append(h.errs, err); h.mu.Unlock() }

// Received counts items.
func (h *Health) Received(items []listener.Item) {
	h.mu.Lock()
	h.received += len(items)
	h.mu.Unlock()
}

// Snapshot returns the connection state, the errors and the count received.
func (h *Health) Snapshot() (connected bool, errs []error, received int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.connected, append([]error(nil), h.errs...), h.received
}
