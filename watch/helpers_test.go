package watch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/yield/yieldtest"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// memLog is an in-memory EventLog.
type memLog struct {
	mu      sync.Mutex
	events  []desk.Event
	changed chan struct{}
}

func newMemLog() *memLog { return &memLog{changed: make(chan struct{})} }

func (l *memLog) append(typ desk.EventType, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, desk.Event{Seq: int64(len(l.events) + 1), Type: typ, Data: raw})
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *memLog) ReadEvents(_ context.Context, after int64, max int) ([]desk.Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if after >= int64(len(l.events)) {
		return nil, nil
	}
	end := min(int64(len(l.events)), after+int64(max))
	return append([]desk.Event(nil), l.events[after:end]...), nil
}

func (l *memLog) WaitEvents(ctx context.Context, after int64) error {
	for {
		l.mu.Lock()
		n, ch := int64(len(l.events)), l.changed
		l.mu.Unlock()
		if n > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// memPub records what is published.
type memPub struct {
	mu     sync.Mutex
	events []AlertEvent
	types  []desk.EventType
	fail   int // fail this many calls first
}

func (p *memPub) Publish(_ context.Context, typ desk.EventType, topic desk.Topic, data any) (desk.Event, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail > 0 {
		p.fail--
		return desk.Event{}, fmt.Errorf("desk unavailable")
	}
	if topic != desk.TopicAlerts {
		panic("alert published on topic " + topic)
	}
	raw, _ := json.Marshal(data)
	var ev AlertEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		panic(err)
	}
	p.events = append(p.events, ev)
	p.types = append(p.types, typ)
	return desk.Event{Type: typ}, nil
}

func (p *memPub) snapshot() ([]desk.EventType, []AlertEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]desk.EventType(nil), p.types...), append([]AlertEvent(nil), p.events...)
}

// fixedClock is a clock that only moves when told.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func testConfig(tb testing.TB) Config {
	tb.Helper()
	return Config{Path: filepath.Join(tb.TempDir(), "watch.db")}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// harness is a watch on an in-memory log, driven synchronously.
type harness struct {
	tb    testing.TB
	w     *Watch
	log   *memLog
	pub   *memPub
	clock *fixedClock
	fed   int
}

func newHarness(tb testing.TB, cfg Config, opts ...Option) *harness {
	tb.Helper()
	h := &harness{tb: tb, log: newMemLog(), pub: &memPub{}, clock: &fixedClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}
	w, err := Open(context.Background(), cfg, h.log, h.pub, discard(), prometheus.NewRegistry(), append([]Option{WithClock(h.clock)}, opts...)...)
	if err != nil {
		tb.Fatalf("open watch: %v", err)
	}
	tb.Cleanup(func() { w.Close() })
	h.w = w
	return h
}

// feed appends mention data to the log and consumes it in batches.
func (h *harness) feed(mds ...desk.MentionData) {
	h.tb.Helper()
	for i := range mds {
		h.log.append(desk.EventMentionReceived, &mds[i])
	}
	h.sync()
}

// sync consumes what the log holds and publishes the outbox.
func (h *harness) sync() {
	h.tb.Helper()
	ctx := context.Background()
	for {
		evs, err := h.log.ReadEvents(ctx, h.w.Cursor(), 256)
		if err != nil {
			h.tb.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		if err := h.w.consume(ctx, evs); err != nil {
			h.tb.Fatalf("consume: %v", err)
		}
	}
	for {
		n, err := h.w.publishSome(ctx)
		if err != nil {
			h.tb.Fatalf("publish: %v", err)
		}
		if n == 0 {
			break
		}
	}
}

// published returns the alert events published so far, for one detector
// ("" for all).
func (h *harness) published(det Detector) []AlertEvent {
	_, evs := h.pub.snapshot()
	var out []AlertEvent
	for _, ev := range evs {
		if det == "" || ev.Alert.Detector == det {
			out = append(out, ev)
		}
	}
	return out
}

func countChanges(evs []AlertEvent, c Change) int {
	n := 0
	for _, ev := range evs {
		if ev.Change == c {
			n++
		}
	}
	return n
}

var calmTexts = []string{
	"Is the 8:15 train to Lyon on time today?",
	"Thanks for the coffee at the station this morning",
	"How do I change my seat reservation online?",
	"The wifi on board works fine today",
	"Where can I find the lost and found office?",
	"Booked my tickets for the holidays",
	"Can I bring my bike on the regional train?",
	"The app shows my ticket twice, is that normal?",
}

// mention builds mention data.
type mk struct {
	at        time.Time
	id        string
	author    string
	text      string
	sentiment float64
	label     string
	influence int
	queue     string
	tags      []string
	lang      string
}

func (m mk) data() desk.MentionData {
	if m.label == "" {
		m.label = "neutral"
	}
	if m.queue == "" {
		m.queue = "general"
	}
	if m.lang == "" {
		m.lang = "en"
	}
	return desk.MentionData{
		Mention: listener.Mention{Source: "mastodon", ID: m.id, URL: "https://social.example/@" + m.author + "/" + m.id, CreatedAt: m.at,
			Author: listener.Author{ID: m.author, Handle: "@" + m.author}, Text: m.text, Lang: m.lang},
		Version: 1, ReceivedAt: m.at.Add(2 * time.Second),
		Enrichment: router.Enrichment{Lang: m.lang, Sentiment: m.sentiment, Label: m.label, Intent: "other", Influence: m.influence},
		Decision:   router.Decision{Queue: m.queue, Tags: m.tags},
	}
}

// traffic generates Poisson arrivals at rate(t) mentions a minute over
// [from, to), neutral, from many authors.
func traffic(rng *rand.Rand, from, to time.Time, rate func(time.Time) float64, prefix string) []desk.MentionData {
	var out []desk.MentionData
	n := 0
	for m := from; m.Before(to); m = m.Add(time.Minute) {
		k := poisson(rng, rate(m))
		for i := 0; i < k; i++ {
			at := m.Add(time.Duration(rng.IntN(60_000)) * time.Millisecond)
			n++
			out = append(out, mk{at: at, id: fmt.Sprintf("%s%d", prefix, n), author: fmt.Sprintf("u%d", rng.IntN(5000)),
				text: calmTexts[rng.IntN(len(calmTexts))], sentiment: 0.05}.data())
		}
	}
	sortByTime(out)
	return out
}

func sortByTime(mds []desk.MentionData) {
	for i := 1; i < len(mds); i++ { // insertion sort: nearly sorted already
		for j := i; j > 0 && mds[j].Mention.CreatedAt.Before(mds[j-1].Mention.CreatedAt); j-- {
			mds[j], mds[j-1] = mds[j-1], mds[j]
		}
	}
}

func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func constant(r float64) func(time.Time) float64 { return func(time.Time) float64 { return r } }

func TestRunYieldsBeforeCounting(t *testing.T) {
	hold := yieldtest.NewHold()
	defer hold.Release()
	cfg := testConfig(t)
	cfg.MaxDelay, cfg.Yield = time.Millisecond, hold.Yield
	h := newHarness(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.w.Run(ctx) }()
	md := mk{at: h.clock.Now(), id: "1", author: "alice", text: "held"}.data()
	h.log.append(desk.EventMentionReceived, &md)
	hold.WaitEntered(t)
	time.Sleep(100 * time.Millisecond) // time to count, were it not held
	if c := h.w.Cursor(); c != 0 {
		t.Fatalf("cursor = %d while the hot path is busy, want 0", c)
	}
	hold.Release()
	deadline := time.Now().Add(time.Minute)
	for h.w.Cursor() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the event was never counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}
