package offer

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/listener"
)

// memLog is an in-memory intake log.
type memLog struct {
	mu      sync.Mutex
	recs    []intake.Record
	changed chan struct{}
}

func newMemLog() *memLog { return &memLog{changed: make(chan struct{})} }

func (l *memLog) add(items ...listener.Item) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, it := range items {
		l.recs = append(l.recs, intake.Record{Seq: int64(len(l.recs) + 1), Version: 1, ReceivedAt: time.Now(), Item: it})
	}
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *memLog) LastSeq() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.recs))
}

func (l *memLog) Wait(ctx context.Context, after int64) error {
	for {
		l.mu.Lock()
		n, ch := int64(len(l.recs)), l.changed
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

func (l *memLog) Read(_ context.Context, after int64, max int) ([]intake.Record, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if after >= int64(len(l.recs)) {
		return nil, nil
	}
	end := min(int64(len(l.recs)), after+int64(max))
	return append([]intake.Record(nil), l.recs[after:end]...), nil
}

// clock is a fake clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// fakePublisher records what the engine publishes.
type fakePublisher struct {
	mu     sync.Mutex
	events []desk.Event
}

func (p *fakePublisher) Publish(_ context.Context, typ desk.EventType, topic desk.Topic, data any) (desk.Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return desk.Event{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ev := desk.Event{Seq: int64(len(p.events) + 1), Type: typ, Topic: topic, Data: raw}
	p.events = append(p.events, ev)
	return ev, nil
}

func (p *fakePublisher) all() []desk.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]desk.Event(nil), p.events...)
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openEngine opens an engine in a temporary directory (or dir, when given)
// and closes it at the end of the test.
func openEngine(t testing.TB, cfg Config, in Log, pub Publisher) *Engine {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "offer.db")
	}
	if in == nil {
		in = newMemLog()
	}
	e, err := Open(context.Background(), cfg, in, pub, discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("open engine: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func checkIn(id, user string, at time.Time, lat, lon float64) listener.Item {
	return listener.CheckInItem(listener.CheckIn{
		Source: "foursquare", ID: id, CreatedAt: at, User: listener.CheckInUser{ID: user, Handle: "@" + user},
		Lat: lat, Lon: lon,
	})
}

// records numbers items as intake records from seq first.
func records(first int64, items ...listener.Item) []intake.Record {
	out := make([]intake.Record, len(items))
	for i, it := range items {
		out[i] = intake.Record{Seq: first + int64(i), Version: 1, Item: it}
	}
	return out
}

func mustFence(t testing.TB, e *Engine, f Fence) Fence {
	t.Helper()
	f, err := e.PutFence(context.Background(), 0, f)
	if err != nil {
		t.Fatalf("put fence: %v", err)
	}
	return f
}

func mustCampaign(t testing.TB, e *Engine, c Campaign) Campaign {
	t.Helper()
	c, err := e.PutCampaign(context.Background(), 0, c)
	if err != nil {
		t.Fatalf("put campaign: %v", err)
	}
	return c
}

func grant(t testing.TB, e *Engine, user string) {
	t.Helper()
	if _, err := e.PutConsent(context.Background(), "foursquare", user, ConsentRequest{Granted: true, Channel: "web form", Proof: "form #1"}, "test"); err != nil {
		t.Fatalf("grant consent: %v", err)
	}
}

func allDecisions(t testing.TB, e *Engine) []Decision {
	t.Helper()
	var out []Decision
	cursor := ""
	for {
		ds, next, err := e.Decisions(context.Background(), Filter{Limit: 500, Cursor: cursor})
		if err != nil {
			t.Fatalf("list decisions: %v", err)
		}
		out = append(out, ds...)
		if next == "" {
			break
		}
		cursor = next
	}
	// Oldest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// flatiron is a 100 m circle in New York, open 09:00-19:30 every day.
func flatiron() Fence {
	day := []string{"09:00-19:30"}
	return Fence{
		Name: "Velora Flatiron", Tags: []string{"nyc"}, Geometry: pointGeo(-73.9897, 40.7411), RadiusM: 100,
		TimeZone: "America/New_York",
		Hours:    Hours{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day},
	}
}
