package archive

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/yield/yieldtest"
)

// memLog is an in-memory EventLog: events are appended by the test and read
// by the Feeder, as from the desk.
type memLog struct {
	mu      sync.Mutex
	events  []desk.Event
	changed chan struct{} // closed and replaced on every append
	reads   atomic.Int64
}

func newMemLog() *memLog { return &memLog{changed: make(chan struct{})} }

var _ EventLog = (*memLog)(nil)

func (l *memLog) append(evs ...desk.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, evs...)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *memLog) ReadEvents(_ context.Context, after int64, max int) ([]desk.Event, error) {
	l.reads.Add(1)
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []desk.Event
	for _, e := range l.events {
		if e.Seq > after && len(out) < max {
			out = append(out, e)
		}
	}
	return out, nil
}

func (l *memLog) WaitEvents(ctx context.Context, after int64) error {
	for {
		l.mu.Lock()
		ch := l.changed
		has := len(l.events) > 0 && l.events[len(l.events)-1].Seq > after
		l.mu.Unlock()
		if has {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// flakyStore fails every write while down is set, and records batch sizes.
// Its cursor stays readable, so that a test sees the write retries.
type flakyStore struct {
	Store
	down    atomic.Bool
	fails   atomic.Int64
	mu      sync.Mutex
	batches []int
}

func (s *flakyStore) Write(ctx context.Context, batch []desk.Event, cursor int64) error {
	if s.down.Load() {
		s.fails.Add(1)
		return errors.New("store is down")
	}
	s.mu.Lock()
	s.batches = append(s.batches, len(batch))
	s.mu.Unlock()
	return s.Store.Write(ctx, batch, cursor)
}

// runFeeder starts a Feeder and returns a function that stops it and
// returns Run's result.
func runFeeder(tb testing.TB, log EventLog, s Store, cfg Config, reg prometheus.Registerer) func() error {
	tb.Helper()
	f, err := NewFeeder(log, s, cfg, testLogger(tb), reg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(10 * time.Second):
				runErr = errors.New("Run did not return within 10s of cancel")
			}
		})
		return runErr
	}
	tb.Cleanup(func() { stop() })
	return stop
}

// waitCursor waits until the store's cursor reaches seq.
func waitCursor(tb testing.TB, s Store, seq int64, within time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for {
		c, err := s.Cursor(context.Background())
		if err == nil && c >= seq {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("cursor = %d (err %v), want %d within %s", c, err, seq, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func totalMentions(tb testing.TB, s Store, q Query) (mentions, tickets int64) {
	tb.Helper()
	bs, err := s.KPIs(context.Background(), q)
	if err != nil {
		tb.Fatal(err)
	}
	for _, b := range bs {
		mentions += b.Mentions
		tickets += b.Tickets
	}
	return mentions, tickets
}

func TestFeederBatchesAndCatchesUp(t *testing.T) {
	t.Parallel()
	e := randomHistory(t, randFor(7), 200)
	log := newMemLog()
	log.append(e.list[:100]...)
	store := &flakyStore{Store: newEmbedded(t)}
	stop := runFeeder(t, log, store, Config{BatchSize: 32, MaxDelay: 20 * time.Millisecond}, nil)
	waitCursor(t, store, 100, 5*time.Second)
	log.append(e.list[100:]...)
	last := e.list[len(e.list)-1].Seq
	waitCursor(t, store, last, 5*time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, n := range store.batches {
		if n > 32 {
			t.Errorf("batch of %d events, BatchSize is 32", n)
		}
	}
	want := newEmbedded(t)
	writeReplaying(t, want, e.list, 1000)
	q := Query{From: t0, To: at(48 * time.Hour), Interval: time.Hour}
	gm, gt := totalMentions(t, store, q)
	wm, wt := totalMentions(t, want, q)
	if gm != wm || gt != wt || gm == 0 {
		t.Errorf("fed store has %d mentions and %d tickets, want %d and %d", gm, gt, wm, wt)
	}
}

func TestFeederRetriesWhileStoreIsDown(t *testing.T) {
	t.Parallel()
	e := randomHistory(t, randFor(8), 100)
	log := newMemLog()
	store := &flakyStore{Store: newEmbedded(t)}
	store.down.Store(true)
	reg := prometheus.NewRegistry()
	runFeeder(t, log, store, Config{BatchSize: 50, MaxDelay: 5 * time.Millisecond, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond}, reg)
	log.append(e.list...)
	deadline := time.Now().Add(5 * time.Second)
	for store.fails.Load() < 5 {
		if time.Now().After(deadline) {
			t.Fatal("the feeder did not retry")
		}
		time.Sleep(time.Millisecond)
	}
	store.down.Store(false)
	waitCursor(t, store, e.list[len(e.list)-1].Seq, 5*time.Second)
	want := newEmbedded(t)
	writeReplaying(t, want, e.list, 1000)
	q := Query{From: t0, To: at(48 * time.Hour), Interval: time.Hour, By: ByQueue}
	got, err := store.KPIs(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := want.KPIs(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	assertBuckets(t, got, exp)
	if n := counterValue(t, reg, "vigie_archive_write_errors_total"); n < 1 {
		t.Errorf("vigie_archive_write_errors_total = %v, want the failed writes counted", n)
	}
}

// counterValue returns the sum of the counter registered under name.
func counterValue(tb testing.TB, reg *prometheus.Registry, name string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			sum := 0.0
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	tb.Fatalf("metric %s not registered", name)
	return 0
}

func TestFeederStopsOnCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	store := newEmbedded(t)
	stop := runFeeder(t, newMemLog(), store, Config{}, nil)
	time.Sleep(20 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestFeederSkipsMalformedEvents(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	e := newEvents()
	e.mention(t, mention{id: "ok1", label: "positive", received: at(time.Minute)})
	e.seq++
	e.list = append(e.list, desk.Event{Seq: e.seq, Type: desk.EventTicketUpdated, At: at(time.Minute), Data: []byte(`{"ticket": 12}`)})
	e.seq++
	e.list = append(e.list, desk.Event{Seq: e.seq, Type: desk.EventMentionDeleted, At: at(time.Minute), Data: []byte(`{}`)})
	e.seq++
	e.list = append(e.list, desk.Event{Seq: e.seq, Type: "offer.sent", At: at(time.Minute), Data: []byte(`{}`)})
	e.mention(t, mention{id: "ok2", label: "negative", received: at(2 * time.Minute)})
	log.append(e.list...)
	store := newEmbedded(t)
	reg := prometheus.NewRegistry()
	runFeeder(t, log, store, Config{MaxDelay: time.Millisecond}, reg)
	waitCursor(t, store, e.seq, 5*time.Second)
	if m, _ := totalMentions(t, store, Query{From: t0, To: at(time.Hour), Interval: time.Hour}); m != 2 {
		t.Errorf("mentions = %d, want 2", m)
	}
	// The feeder counts a batch in its metrics just after the store has
	// committed it, so the cursor can be seen a moment before the count.
	deadline := time.Now().Add(5 * time.Second)
	for counterValue(t, reg, "vigie_archive_skipped_total") < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if v := counterValue(t, reg, "vigie_archive_skipped_total"); v != 2 {
		t.Errorf("skipped = %v, want 2 (the bad ticket and the bad deletion)", v)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"defaults", Config{}, false},
		{"negative batch", Config{BatchSize: -1}, true},
		{"negative delay", Config{MaxDelay: -time.Second}, true},
		{"retry max below min", Config{RetryMin: time.Second, RetryMax: time.Millisecond}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (tc.cfg.BatchSize != 5000 || tc.cfg.MaxDelay != time.Second) {
				t.Errorf("defaults not filled: %+v", tc.cfg)
			}
		})
	}
}

func TestFeederYieldsBeforeWriting(t *testing.T) {
	log := newMemLog()
	store := newEmbedded(t)
	hold := yieldtest.NewHold()
	defer hold.Release()
	stop := runFeeder(t, log, store, Config{MaxDelay: time.Millisecond, Yield: hold.Yield}, prometheus.NewRegistry())
	evs := newEvents()
	evs.mention(t, mention{id: "1", author: "alice", queue: "support", received: at(time.Minute)})
	log.append(evs.list...)
	hold.WaitEntered(t)
	time.Sleep(100 * time.Millisecond) // time to write, were it not held
	if c, err := store.Cursor(context.Background()); err != nil || c != 0 {
		t.Fatalf("cursor = %d, %v while the hot path is busy, want 0", c, err)
	}
	hold.Release()
	waitCursor(t, store, 1, 10*time.Second)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
