package sources

import (
	"sync"
	"time"

	"github.com/vigie/vigie/listener"
)

// Health is how a source tells the registry how it is doing. The registry
// gives each source its own in Deps. Safe for concurrent use.
type Health interface {
	// Connected says whether the source reaches its network right now.
	Connected(ok bool)
	// Failed records an error (a failed fetch, a rejected delivery).
	Failed(err error)
	// Received counts items that are durable. Polling sources need not call
	// it: the registry counts what they hand over when it is committed.
	// Webhook receivers call it after their append returned.
	Received(items []listener.Item)
}

// Status is a source's runtime status, as GET /api/v1/sources shows it.
type Status struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Kind is "poll" for a source the registry runs, "webhook" for a
	// receiver under /hooks/{name}, "reply" for a source that only answers.
	Kind      string `json:"kind"`
	Enabled   bool   `json:"enabled"`
	Running   bool   `json:"running"`
	Connected bool   `json:"connected"`
	// Hook is the path deliveries go to, for a webhook source.
	Hook string `json:"hook,omitempty"`
	// LagSeconds is how old the newest item was when it became durable:
	// the delay from the network to the log.
	LagSeconds     float64    `json:"lag_seconds"`
	ItemsPerMinute int        `json:"items_per_minute"`
	ItemsTotal     int64      `json:"items_total"`
	LastItemAt     *time.Time `json:"last_item_at,omitempty"`
	LastError      string     `json:"last_error,omitempty"`
	LastErrorAt    *time.Time `json:"last_error_at,omitempty"`
	Restarts       int        `json:"restarts"`
}

// window counts events over the last minute in one-second buckets.
type window struct {
	buckets [60]int
	secs    [60]int64 // the Unix second each bucket counts
}

func (w *window) add(now time.Time, n int) {
	s := now.Unix()
	i := s % 60
	if w.secs[i] != s {
		w.secs[i], w.buckets[i] = s, 0
	}
	w.buckets[i] += n
}

func (w *window) sum(now time.Time) int {
	s, total := now.Unix(), 0
	for i := range w.buckets {
		if s-w.secs[i] < 60 && w.secs[i] <= s {
			total += w.buckets[i]
		}
	}
	return total
}

// state is one source's status and its Health.
type state struct {
	name string
	m    *metrics
	now  func() time.Time

	mu     sync.Mutex
	status Status
	rate   window
}

var _ Health = (*state)(nil)

func (s *state) Connected(ok bool) {
	s.mu.Lock()
	s.status.Connected = ok
	s.mu.Unlock()
	v := 0.0
	if ok {
		v = 1
	}
	s.m.connected.WithLabelValues(s.name).Set(v)
}

func (s *state) Failed(err error) {
	if err == nil {
		return
	}
	now := s.now()
	s.mu.Lock()
	s.status.LastError = err.Error()
	s.status.LastErrorAt = &now
	s.mu.Unlock()
	s.m.errors.WithLabelValues(s.name).Inc()
}

func (s *state) Received(items []listener.Item) {
	if len(items) == 0 {
		return
	}
	now := s.now()
	var newest time.Time
	for i := range items {
		var t time.Time
		switch it := &items[i]; {
		case it.Mention != nil:
			t = it.Mention.CreatedAt
		case it.CheckIn != nil:
			t = it.CheckIn.CreatedAt
		case it.Tombstone != nil:
			t = it.Tombstone.At
		}
		if t.After(newest) {
			newest = t
		}
	}
	s.mu.Lock()
	s.status.ItemsTotal += int64(len(items))
	s.status.LastItemAt = &now
	if !newest.IsZero() {
		s.status.LagSeconds = max(0, now.Sub(newest).Seconds())
	}
	s.rate.add(now, len(items))
	s.mu.Unlock()
	s.m.items.WithLabelValues(s.name).Add(float64(len(items)))
}

func (s *state) snapshot() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.ItemsPerMinute = s.rate.sum(s.now())
	return st
}

func (s *state) update(f func(*Status)) {
	s.mu.Lock()
	f(&s.status)
	s.mu.Unlock()
}
