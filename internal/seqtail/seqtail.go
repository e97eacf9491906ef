// Package seqtail keeps the newest entries of an append-only log in memory,
// so that followers keeping up read them without going to the database.
// The intake log and the desk's event log both use it.
package seqtail

import "slices"

// Tail holds up to about Max entries with contiguous sequence numbers, the
// newest last. It is not safe for concurrent use: its owner's lock guards
// it.
type Tail[T any] struct {
	max   int
	seq   func(*T) int64
	items []T
}

// New returns an empty Tail keeping at least max entries (up to 2×max
// between trims, so that appending stays amortised O(1)); seq gives an
// entry's sequence number.
func New[T any](max int, seq func(*T) int64) *Tail[T] {
	return &Tail[T]{max: max, seq: seq}
}

// Append adds committed entries, in order. Entries that do not follow the
// newest one start the tail over (a log with one writer never does that).
func (t *Tail[T]) Append(items ...T) {
	if len(items) == 0 {
		return
	}
	if n := len(t.items); n > 0 && t.seq(&t.items[n-1])+1 != t.seq(&items[0]) {
		t.items = nil
	}
	t.items = append(t.items, items...)
	if len(t.items) > 2*t.max {
		t.items = slices.Clone(t.items[len(t.items)-t.max:])
	}
}

// Read returns a copy of up to max entries with a sequence number above
// after, and whether the tail covers after; when it does not, the caller
// reads its database.
func (t *Tail[T]) Read(after int64, max int) ([]T, bool) {
	n := len(t.items)
	if n == 0 || after+1 < t.seq(&t.items[0]) {
		return nil, false
	}
	i := int(after + 1 - t.seq(&t.items[0]))
	if i >= n {
		return nil, true
	}
	return slices.Clone(t.items[i:min(n, i+max)]), true
}

// DropOldest forgets entries from the oldest on while drop holds (the tail
// stays contiguous: older reads go to the database).
func (t *Tail[T]) DropOldest(drop func(*T) bool) {
	i := 0
	for i < len(t.items) && drop(&t.items[i]) {
		i++
	}
	if i > 0 {
		t.items = slices.Clone(t.items[i:])
	}
}

// Reset forgets every entry.
func (t *Tail[T]) Reset() { t.items = nil }
