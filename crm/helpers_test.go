package crm

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/internal/yield/yieldtest"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// clock is a settable clock shared by the desk and the CRM.
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
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a real desk (its hub running, not its outbox nor its
// assignment engine), and a CRM
// following it, caught up by hand.
type env struct {
	t     testing.TB
	ctx   context.Context
	clock *clock
	desk  *desk.Desk
	crm   *CRM
	seq   int64
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: t0}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	d, err := desk.Open(ctx, desk.Config{Path: filepath.Join(dir, "desk.db"), Now: clk.Now}, logger, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	// The hub takes the desk's broadcasts (no one listens): without it,
	// writes block once its queue is full.
	hubCtx, stopHub := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); d.Hub().Run(hubCtx) }()
	t.Cleanup(func() { stopHub(); <-hubDone; d.Close() })
	cfg.Path = filepath.Join(dir, "crm.db")
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	c, err := Open(ctx, cfg, d, d, logger, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{t: t, ctx: ctx, clock: clk, desk: d, crm: c}
}

// post is a mention to feed through the desk.
type post struct {
	source, id, author, handle, name string
	text, replyTo, conversation      string
	at                               time.Time
	intent                           string
	sentiment                        float64
	influence                        int
	queue                            string
	tags                             []string
	drop                             bool
}

func (e *env) routed(p post) router.Routed {
	e.seq++
	if p.at.IsZero() {
		p.at = e.clock.Now()
	}
	if p.queue == "" {
		p.queue = "support"
	}
	if p.text == "" {
		p.text = "hello " + p.id
	}
	m := listener.Mention{Source: p.source, ID: p.id, CreatedAt: p.at, Text: p.text, ReplyTo: p.replyTo, Conversation: p.conversation,
		Author: listener.Author{ID: p.author, Handle: p.handle, Name: p.name}}
	return router.Routed{
		Record:     intake.Record{Seq: e.seq, Version: 1, ReceivedAt: p.at, Item: listener.MentionItem(m)},
		Enrichment: router.Enrichment{Lang: "en", Sentiment: p.sentiment, Intent: p.intent, Influence: p.influence},
		Decision:   router.Decision{Queue: p.queue, Priority: router.PriorityNormal, Tags: p.tags, Drop: p.drop},
	}
}

// feed applies posts through the desk, then catches the CRM up.
func (e *env) feed(ps ...post) {
	e.t.Helper()
	batch := make([]router.Routed, len(ps))
	for i, p := range ps {
		batch[i] = e.routed(p)
	}
	if err := e.desk.Apply(e.ctx, batch); err != nil {
		e.t.Fatal(err)
	}
	e.catchUp()
}

func (e *env) erase(source, authorID string) {
	e.t.Helper()
	e.seq++
	r := router.Routed{Record: intake.Record{Seq: e.seq, Version: 1, Item: listener.TombstoneItem(listener.Tombstone{Source: source, AuthorID: authorID, Reason: "erasure", At: e.clock.Now()})}}
	if err := e.desk.Apply(e.ctx, []router.Routed{r}); err != nil {
		e.t.Fatal(err)
	}
	e.catchUp()
}

// catchUp applies every desk event and publishes the CRM's own.
func (e *env) catchUp() {
	e.t.Helper()
	for range 3 { // published events are read back once more
		for {
			n, err := e.crm.Step(e.ctx)
			if err != nil {
				e.t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if _, err := e.crm.publishSome(e.ctx); err != nil {
			e.t.Fatal(err)
		}
	}
}

func (e *env) profileOf(source, authorID string) Profile {
	e.t.Helper()
	p, err := e.crm.ProfileByIdentity(e.ctx, source, authorID)
	if err != nil {
		e.t.Fatalf("profile of %s/%s: %v", source, authorID, err)
	}
	return p
}

func (e *env) profileCount() int {
	e.t.Helper()
	var n int
	if err := e.crm.db.R.QueryRowContext(e.ctx, "SELECT COUNT(*) FROM profiles").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestRunYieldsBeforeApplying(t *testing.T) {
	hold := yieldtest.NewHold()
	defer hold.Release()
	e := newEnv(t, Config{MaxDelay: time.Millisecond, Yield: hold.Yield})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- e.crm.Run(ctx) }()
	hold.WaitEntered(t)
	if err := e.desk.Apply(e.ctx, []router.Routed{e.routed(post{source: "mastodon", id: "1", author: "alice"})}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // time to apply, were it not held
	if c := e.crm.Cursor(); c != 0 {
		t.Fatalf("cursor = %d while the hot path is busy, want 0", c)
	}
	hold.Release()
	deadline := time.Now().Add(time.Minute)
	for e.crm.Cursor() < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the events were never applied")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}
