package search

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// memLog is an in-memory EventLog: event i has Seq i+1.
type memLog struct {
	mu     sync.Mutex
	evs    []desk.Event
	notify chan struct{} // closed and replaced on every append
	reads  int
}

func newMemLog() *memLog { return &memLog{notify: make(chan struct{})} }

func (l *memLog) ReadEvents(ctx context.Context, after int64, max int) ([]desk.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	if after >= int64(len(l.evs)) {
		return nil, nil
	}
	end := min(int(after)+max, len(l.evs))
	return append([]desk.Event(nil), l.evs[after:end]...), nil
}

func (l *memLog) WaitEvents(ctx context.Context, after int64) error {
	for {
		l.mu.Lock()
		n, ch := int64(len(l.evs)), l.notify
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

func (l *memLog) LastSeq() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.evs))
}

// add appends an event with data marshalled to JSON and returns its Seq.
func (l *memLog) add(tb testing.TB, typ desk.EventType, data any) int64 {
	tb.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		tb.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	seq := int64(len(l.evs) + 1)
	l.evs = append(l.evs, desk.Event{Seq: seq, Type: typ, At: time.Now(), Data: raw})
	close(l.notify)
	l.notify = make(chan struct{})
	return seq
}

// addRaw appends an event with the given raw payload.
func (l *memLog) addRaw(typ desk.EventType, raw string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	seq := int64(len(l.evs) + 1)
	l.evs = append(l.evs, desk.Event{Seq: seq, Type: typ, At: time.Now(), Data: json.RawMessage(raw)})
	close(l.notify)
	l.notify = make(chan struct{})
	return seq
}

// mentionOpt adjusts a test mention.
type mentionOpt func(*desk.MentionData)

// mentionData returns the payload of a mention.received event: a mention on
// source "mastodon" by author "a1", created at base + id minutes.
func mentionData(id, lang, text string, opts ...mentionOpt) desk.MentionData {
	d := desk.MentionData{
		Mention: listener.Mention{
			Source: "mastodon", ID: id, URL: "https://social.example/" + id,
			CreatedAt: baseTime.Add(time.Duration(len(id)) * time.Minute),
			Author:    listener.Author{ID: "a1", Handle: "@ana@social.example", Name: "Ana", Followers: 1200},
			Text:      text, Lang: lang,
		},
		Version:    1,
		Enrichment: router.Enrichment{Lang: lang, Sentiment: 0, Label: "neutral", Intent: "other", Influence: 36},
		Decision:   router.Decision{Queue: "general", Priority: router.PriorityNormal, Trace: []router.Step{{Rule: "r", Matched: true, Why: "because"}}},
	}
	for _, o := range opts {
		o(&d)
	}
	return d
}

var baseTime = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func at(t time.Time) mentionOpt { return func(d *desk.MentionData) { d.Mention.CreatedAt = t } }
func source(s string) mentionOpt {
	return func(d *desk.MentionData) { d.Mention.Source = s }
}
func author(id string) mentionOpt {
	return func(d *desk.MentionData) { d.Mention.Author.ID = id; d.Mention.Author.Handle = "@" + id }
}
func sentiment(s float64, label string) mentionOpt {
	return func(d *desk.MentionData) { d.Enrichment.Sentiment = s; d.Enrichment.Label = label }
}
func intent(i string) mentionOpt { return func(d *desk.MentionData) { d.Enrichment.Intent = i } }
func queue(q string) mentionOpt  { return func(d *desk.MentionData) { d.Decision.Queue = q } }
func ticket(id int64) mentionOpt { return func(d *desk.MentionData) { d.TicketID = id } }
func version(v int) mentionOpt   { return func(d *desk.MentionData) { d.Version = v } }
func geo(lat, lon float64) mentionOpt {
	return func(d *desk.MentionData) { d.Mention.Geo = &listener.Geo{Lat: lat, Lon: lon} }
}

// ticketData returns the payload of a ticket event.
func ticketData(id int64, q string, status desk.Status, assignee string, tags ...string) desk.TicketData {
	return desk.TicketData{Ticket: desk.Ticket{
		ID: id, Queue: q, Status: status, Assignee: assignee, Tags: tags, Priority: router.PriorityNormal,
		Source: "mastodon", CreatedAt: baseTime, UpdatedAt: baseTime,
	}, Change: desk.ChangeCreated}
}

// openTest opens an index in a temporary directory over log.
func openTest(tb testing.TB, log EventLog, dir string, tune ...func(*Config)) *Index {
	tb.Helper()
	if dir == "" {
		dir = tb.TempDir()
	}
	cfg := Config{Path: filepath.Join(dir, "search.bleve"), MaxDelay: 20 * time.Millisecond, RetryDelay: 10 * time.Millisecond}
	for _, t := range tune {
		t(&cfg)
	}
	ix, err := Open(cfg, log, nil, prometheus.NewRegistry())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = ix.Close() })
	return ix
}

// catchUp writes every event of the log to the index.
func catchUp(tb testing.TB, ix *Index) {
	tb.Helper()
	if _, err := ix.CatchUp(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// mustSearch runs a search that must succeed.
func mustSearch(tb testing.TB, ix *Index, r Request) Result {
	tb.Helper()
	res, err := ix.Search(context.Background(), r)
	if err != nil {
		tb.Fatalf("search %+v: %v", r, err)
	}
	return res
}

// keys returns the hits' keys, in order.
func keys(res Result) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.Key
	}
	return out
}
