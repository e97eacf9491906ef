package archive

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// t0 is a Monday at midnight UTC: the start of every test's timeline.
var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// events builds a realistic event log: desk.Event values with the payloads
// the desk writes.
type events struct {
	seq     int64
	list    []desk.Event
	tickets map[int64]*desk.Ticket
}

func newEvents() *events { return &events{tickets: map[int64]*desk.Ticket{}} }

func (e *events) add(tb testing.TB, typ desk.EventType, when time.Time, data any) {
	tb.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		tb.Fatalf("encode %s: %v", typ, err)
	}
	e.seq++
	e.list = append(e.list, desk.Event{Seq: e.seq, Type: typ, At: when, Data: raw})
}

// mention is a mention.received; tags and label describe its routing and
// sentiment.
type mention struct {
	source, id, author, queue, label string
	version                          int
	received                         time.Time
	tags                             []string
	ticket                           int64
}

func (e *events) mention(tb testing.TB, m mention) {
	tb.Helper()
	if m.version == 0 {
		m.version = 1
	}
	if m.source == "" {
		m.source = "mastodon"
	}
	score := map[string]float64{"positive": 0.6, "negative": -0.7}[m.label]
	e.add(tb, desk.EventMentionReceived, m.received, desk.MentionData{
		Mention: listener.Mention{Source: m.source, ID: m.id, CreatedAt: m.received.Add(-time.Second),
			Author: listener.Author{ID: m.author, Handle: "@" + m.author, Followers: 1200}, Text: "some text"},
		Version:    m.version,
		ReceivedAt: m.received,
		Enrichment: router.Enrichment{Lang: "fr", Sentiment: score, Label: m.label, Intent: "complaint", Influence: 45},
		Decision:   router.Decision{Queue: m.queue, Priority: router.PriorityNormal, Tags: m.tags},
		TicketID:   m.ticket,
	})
}

func (e *events) created(tb testing.TB, id int64, queue, source string, when time.Time) {
	tb.Helper()
	t := &desk.Ticket{ID: id, Queue: queue, Source: source, Status: desk.StatusOpen, CreatedAt: when, UpdatedAt: when,
		Priority: router.PriorityNormal, Author: listener.Author{ID: "a", Handle: "@a"}}
	e.tickets[id] = t
	e.add(tb, desk.EventTicketCreated, when, desk.TicketData{Ticket: *t, Change: desk.ChangeCreated,
		Message: &desk.Message{TicketID: id, Direction: desk.Inbound, Source: source, Text: "help", CreatedAt: when}})
}

func (e *events) update(tb testing.TB, id int64, change desk.Change, actor string, when time.Time) {
	tb.Helper()
	t := e.tickets[id]
	if t == nil {
		tb.Fatalf("ticket %d not created", id)
	}
	t.UpdatedAt = when
	switch change {
	case desk.ChangeReplied:
		if t.FirstResponseAt == nil {
			w := when
			t.FirstResponseAt = &w
		}
		t.Status = desk.StatusPending
	case desk.ChangeResolved:
		w := when
		t.ResolvedAt, t.Status = &w, desk.StatusResolved
	case desk.ChangeReopened:
		t.ResolvedAt, t.Status = nil, desk.StatusOpen
	case desk.ChangeAssigned:
		t.Assignee, t.Status = actor, desk.StatusAssigned
	}
	e.add(tb, desk.EventTicketUpdated, when, desk.TicketData{Ticket: *t, Change: change, Actor: actor})
}

func (e *events) move(tb testing.TB, id int64, queue string, when time.Time) {
	tb.Helper()
	e.tickets[id].Queue = queue
	e.update(tb, id, desk.ChangeAssigned, "", when)
}

func (e *events) deleted(tb testing.TB, source, id, author string, when time.Time) {
	tb.Helper()
	e.add(tb, desk.EventMentionDeleted, when, desk.DeletedData{Source: source, ID: id, AuthorID: author, Reason: "test"})
}

// newEmbedded opens an embedded archive in a temporary directory.
func newEmbedded(tb testing.TB) *Embedded {
	tb.Helper()
	e, err := OpenEmbedded(context.Background(), filepath.Join(tb.TempDir(), "archive.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

// clickhouseDSN returns the test ClickHouse's DSN from VIGIE_TEST_CLICKHOUSE
// (deploy/clickhouse/test-server.sh start prints it). Without it the test is
// skipped, except in CI (CI=true), where it fails: CI must test ClickHouse.
func clickhouseDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("VIGIE_TEST_CLICKHOUSE")
	if dsn == "" {
		const why = "VIGIE_TEST_CLICKHOUSE is not set: start a private ClickHouse with " +
			"`deploy/clickhouse/test-server.sh start` and export VIGIE_TEST_CLICKHOUSE=$(deploy/clickhouse/test-server.sh dsn)"
		if os.Getenv("CI") == "true" {
			tb.Fatal(why + " (CI=true: ClickHouse tests must run)")
		}
		tb.Skip(why)
	}
	return dsn
}

// newClickHouse returns a ClickHouse archive in a fresh database of the
// test server, dropped when the test ends.
func newClickHouse(tb testing.TB) *ClickHouse {
	tb.Helper()
	dsn := freshDatabase(tb, clickhouseDSN(tb))
	c, err := OpenClickHouse(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	if err := c.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return c
}

// freshDatabase creates a database named for the test on the server of dsn
// and returns a DSN naming it; the database is dropped at cleanup.
func freshDatabase(tb testing.TB, dsn string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		tb.Fatalf("parse %q: %v", dsn, err)
	}
	var b [6]byte
	crand.Read(b[:])
	name := "vigie_t_" + hex.EncodeToString(b[:])
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		tb.Fatal(err)
	}
	opts.Auth.Database = "default"
	conn, err := clickhouse.Open(opts)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	if err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database on %s: %v", dsn, err)
	}
	tb.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name)
		conn.Close()
	})
	u.Path = "/" + name
	return u.String()
}

// stores returns the implementations under test, by name: the embedded
// store always, ClickHouse when the test server is configured (and always
// in CI, see clickhouseDSN).
func stores(tb testing.TB) map[string]Store {
	tb.Helper()
	out := map[string]Store{"embedded": newEmbedded(tb)}
	if os.Getenv("VIGIE_TEST_CLICKHOUSE") == "" && os.Getenv("CI") != "true" {
		tb.Log("ClickHouse half skipped: VIGIE_TEST_CLICKHOUSE is not set (deploy/clickhouse/test-server.sh start)")
		return out
	}
	out["clickhouse"] = newClickHouse(tb)
	return out
}

func f64(v float64) *float64 { return &v }

func randFor(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// testLogger logs through tb when -v is set.
func testLogger(tb testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(tbWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
