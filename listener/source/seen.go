package source

import "sync"

// Seen remembers the last N keys it was given, to drop the items a resume
// replays (a cursor rewound by a safety window, a REST catch-up overlapping
// the stream, X's backfill). Older keys are forgotten first in insertion
// order; the durable intake log still de-duplicates whatever falls out.
type Seen struct {
	mu   sync.Mutex
	ring []string
	next int
	set  map[string]struct{}
}

// NewSeen returns a Seen that remembers n keys (at least 1).
func NewSeen(n int) *Seen {
	n = max(n, 1)
	return &Seen{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

// Add records key and reports whether it was new.
func (s *Seen) Add(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[key]; ok {
		return false
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.set, old)
	}
	s.ring[s.next] = key
	s.next = (s.next + 1) % len(s.ring)
	s.set[key] = struct{}{}
	return true
}

// Has reports whether key is remembered.
func (s *Seen) Has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[key]
	return ok
}
