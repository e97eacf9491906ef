package source

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigie/vigie/listener"
)

// Status is a source's health, for the admin API and the logs.
type Status struct {
	// Name is the source's name (listener.Source.Name).
	Name string `json:"name"`
	// Connected is true while the stream connection is up.
	Connected bool `json:"connected"`
	// Since is when the source last connected or disconnected.
	Since time.Time `json:"since,omitzero"`
	// LastItemAt is when the source last emitted an item.
	LastItemAt time.Time `json:"last_item_at,omitzero"`
	// LagSeconds is the last item's arrival time minus its creation time on
	// the network.
	LagSeconds float64 `json:"lag_seconds"`
	// ItemsPerMinute counts the items emitted over the last minute.
	ItemsPerMinute int `json:"items_per_minute"`
	// Reconnects counts connection attempts after the first.
	Reconnects int64 `json:"reconnects"`
	// LastError is the text of the last error ("" if none yet).
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// Observer is told when a source connects, disconnects or fails (the
// sources registry's Health has these methods). Calls come from the
// source's goroutines; an Observer must not block.
type Observer interface {
	Connected(ok bool)
	Failed(err error)
}

// Tracker keeps a source's Status and feeds its metrics. Safe for concurrent
// use.
type Tracker struct {
	name string
	m    *Metrics
	now  func() time.Time
	obs  atomicObserver

	mu      sync.Mutex
	st      Status
	buckets [6]int   // items per 10 s slot, over the last minute
	slots   [6]int64 // which 10 s slot (unix/10) each bucket counts
}

// NewTracker returns a Tracker for the source called name. m may be nil (no
// metrics).
func NewTracker(name string, m *Metrics) *Tracker {
	if m == nil {
		m = NewMetrics(nil, "unregistered")
	}
	return &Tracker{name: name, m: m, now: time.Now, st: Status{Name: name}}
}

// Observe makes t tell o about connections and errors from now on (nil
// stops it).
func (t *Tracker) Observe(o Observer) { t.obs.Store(&o) }

type atomicObserver struct{ atomic.Pointer[Observer] }

func (a *atomicObserver) get() Observer {
	if p := a.Load(); p != nil {
		return *p
	}
	return nil
}

// Connected records that the stream connection went up (true) or down.
func (t *Tracker) Connected(up bool) {
	if o := t.obs.get(); o != nil {
		o.Connected(up)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.st.Connected == up && !t.st.Since.IsZero() {
		return
	}
	t.st.Connected, t.st.Since = up, t.now()
	v := 0.0
	if up {
		v = 1
	}
	t.m.connected.WithLabelValues(t.name).Set(v)
}

// Reconnect counts a connection attempt after the first.
func (t *Tracker) Reconnect() {
	t.mu.Lock()
	t.st.Reconnects++
	t.mu.Unlock()
	t.m.reconnects.WithLabelValues(t.name).Inc()
}

// Error records err as the last error.
func (t *Tracker) Error(err error) {
	if err == nil {
		return
	}
	if o := t.obs.get(); o != nil {
		o.Failed(err)
	}
	now := t.now()
	t.mu.Lock()
	t.st.LastError, t.st.LastErrorAt = err.Error(), now
	t.mu.Unlock()
	t.m.errors.WithLabelValues(t.name).Inc()
	t.m.lastError.WithLabelValues(t.name).Set(float64(now.UnixNano()) / 1e9)
}

// Invalid counts a payload dropped because it could not be read.
func (t *Tracker) Invalid(reason string) {
	t.m.invalid.WithLabelValues(t.name, reason).Inc()
}

// Item records an emitted item created on the network at created (zero when
// unknown, as for tombstones).
func (t *Tracker) Item(kind listener.Kind, created time.Time) {
	now := t.now()
	t.m.items.WithLabelValues(t.name, string(kind)).Inc()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.LastItemAt = now
	if !created.IsZero() {
		lag := max(now.Sub(created), 0)
		t.st.LagSeconds = lag.Seconds()
		t.m.lag.WithLabelValues(t.name).Set(lag.Seconds())
	}
	slot := now.Unix() / 10
	i := int(slot % int64(len(t.buckets)))
	if t.slots[i] != slot {
		t.slots[i], t.buckets[i] = slot, 0
	}
	t.buckets[i]++
}

// Status returns a copy of the source's status.
func (t *Tracker) Status() Status {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.st
	slot := now.Unix() / 10
	for i, s := range t.slots {
		if s > slot-int64(len(t.slots)) && s <= slot {
			st.ItemsPerMinute += t.buckets[i]
		}
	}
	return st
}

// Send hands it to out, watching ctx, and records it on success. created is
// the item's creation time on the network (zero when unknown).
func (t *Tracker) Send(ctx context.Context, out chan<- listener.Item, it listener.Item, created time.Time) error {
	select {
	case out <- it:
		t.Item(it.Kind, created)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
