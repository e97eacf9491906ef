package desk

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

type feeder struct {
	t   testing.TB
	d   *testDesk
	seq int64
}

func (f *feeder) mention(id, author, text, replyTo string, version int) router.Routed {
	f.seq++
	m := listener.Mention{Source: "x", ID: id, CreatedAt: time.Now().UTC(), Author: listener.Author{ID: author, Name: "Ana " + author, Handle: "@" + author}, Text: text, ReplyTo: replyTo}
	return router.Routed{
		Record:     intake.Record{Seq: f.seq, Version: version, ReceivedAt: time.Now(), Item: listener.MentionItem(m)},
		Enrichment: router.Enrichment{Lang: "en", Sentiment: -0.5, Label: "negative", Intent: "complaint"},
		Decision:   router.Decision{Queue: "complaints", Priority: router.PriorityNormal, Rule: "r"},
	}
}

func (f *feeder) apply(rs ...router.Routed) {
	f.t.Helper()
	if err := f.d.Apply(context.Background(), rs); err != nil {
		f.t.Fatal(err)
	}
}

func (f *feeder) tombstone(t listener.Tombstone) {
	f.seq++
	f.apply(router.Routed{Record: intake.Record{Seq: f.seq, Version: 1, Item: listener.TombstoneItem(t)}})
}

func tickets(t testing.TB, d *testDesk) []Ticket {
	t.Helper()
	p, err := d.Tickets(context.Background(), Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return p.Tickets
}

func TestThreading(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	f.apply(f.mention("1", "ana", "train late", "", 1))
	f.apply(f.mention("2", "ana", "still late", "1", 1)) // follow-up: joins
	f.apply(f.mention("3", "bob", "me too", "1", 1))     // another author: own ticket
	f.apply(f.mention("4", "ana", "other topic", "", 1)) // a new conversation
	f.apply(f.mention("2", "ana", "still late", "1", 1)) // replayed: nothing
	f.apply(f.mention("2", "ana", "STILL late", "1", 2)) // an edit
	ts := tickets(t, d)
	if len(ts) != 3 {
		t.Fatalf("%d tickets, want 3", len(ts))
	}
	ana, err := d.Ticket(context.Background(), ts[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ana.Messages) != 2 || ana.Messages[1].Text != "STILL late" || ana.Messages[1].Version != 2 {
		t.Fatalf("ana's ticket: %+v", ana.Messages)
	}
	// Resolved, then the customer writes again: reopened.
	if _, err := d.Resolve(context.Background(), ana.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	f.apply(f.mention("5", "ana", "hello?", "2", 1))
	again, _ := d.Ticket(context.Background(), ana.ID)
	if again.Status != StatusOpen || again.ResolvedAt != nil || len(again.Messages) != 3 {
		t.Fatalf("after a follow-up to a resolved ticket: %s, %d messages", again.Status, len(again.Messages))
	}
}

func TestTombstoneRemovesAndRedacts(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	f.apply(f.mention("1", "ana", "my secret complaint", "", 1), f.mention("2", "ana", "another secret", "1", 1), f.mention("3", "bob", "bob's words", "", 1))
	f.apply(f.mention("4", "ana", "a lone secret", "", 1))
	ctx := context.Background()
	var first, lone int64
	for _, tk := range tickets(t, d) {
		switch tk.Conversation {
		case "1":
			first = tk.ID
		case "4":
			lone = tk.ID
		}
	}
	// Agents' work on her ticket: events that are not about her posts.
	if _, err := d.Assign(ctx, first, "alice", "alice"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.ReplyWith(ctx, first, "alice", "we are on it", ReplyOptions{}); err != nil {
		t.Fatal(err)
	}
	f.tombstone(listener.Tombstone{Source: "x", ID: "1"})
	f.tombstone(listener.Tombstone{Source: "x", ID: "4"}) // the lone ticket has no post left
	f.tombstone(listener.Tombstone{Source: "x", AuthorID: "ana"})
	evs, err := d.ReadEvents(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var reply bool
	for _, e := range evs {
		reply = reply || strings.Contains(string(e.Data), "we are on it")
	}
	if !reply {
		t.Fatal("the agent's reply is gone from the log")
	}
	for _, id := range []int64{first, lone} {
		if tk, err := d.Ticket(ctx, id); err != nil || tk.Author != (listener.Author{ID: "ana"}) {
			t.Fatalf("ticket %d after the account's deletion: author %+v, %v", id, tk.Author, err)
		}
	}
	var deleted int
	for _, e := range evs {
		if strings.Contains(string(e.Data), "secret") || strings.Contains(string(e.Data), "Ana ana") {
			t.Fatalf("event %d still holds the deleted text: %s", e.Seq, e.Data)
		}
		if e.Type == EventMentionDeleted {
			deleted++
		}
	}
	if deleted != 3 {
		t.Fatalf("%d mention.deleted events", deleted)
	}
	for _, tk := range tickets(t, d) {
		full, _ := d.Ticket(ctx, tk.ID)
		for _, m := range full.Messages {
			if strings.Contains(m.Text, "secret") {
				t.Fatalf("message still there: %+v", m)
			}
		}
	}
}

// TestTombstoneReachesEventsWithoutTicket: an erasure also redacts what no
// ticket holds (a dropped mention, an event about the person published by
// another part of Vigie), and leaves other people's events alone.
func TestTombstoneReachesEventsWithoutTicket(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	dropped := f.mention("9", "ana", "secret spam", "", 1)
	dropped.Decision = router.Decision{Drop: true, Rule: "spam"}
	f.apply(dropped, f.mention("1", "ana", "my secret complaint", "", 1), f.mention("3", "bob", "bob's words", "", 1))
	ctx := context.Background()
	if _, err := d.PublishFor(ctx, "offer.sent", TopicOffers, "x", "ana", map[string]string{"text": "secret offer"}); err != nil {
		t.Fatal(err)
	}
	f.tombstone(listener.Tombstone{Source: "x", ID: "9"})
	evs, err := d.ReadEvents(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if strings.Contains(string(e.Data), "secret spam") {
			t.Fatalf("the dropped post's event %d still holds its text: %s", e.Seq, e.Data)
		}
	}
	f.tombstone(listener.Tombstone{Source: "x", AuthorID: "ana"})
	if evs, err = d.ReadEvents(ctx, 0, 1000); err != nil {
		t.Fatal(err)
	}
	var bob bool
	for _, e := range evs {
		if strings.Contains(string(e.Data), "secret") || strings.Contains(string(e.Data), "Ana ana") {
			t.Fatalf("event %d still holds the erased person's data: %s", e.Seq, e.Data)
		}
		bob = bob || strings.Contains(string(e.Data), "bob's words")
	}
	if !bob {
		t.Fatal("erasing ana redacted bob's post")
	}
}

// TestQueriesSearchIndexes: erasures and the listing of an author's tickets
// search an index; scanning tickets, messages or events, or walking another
// filter's index through everyone's tickets, would hold the desk for as long
// as it reads them.
func TestQueriesSearchIndexes(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	type want struct {
		args  []any
		index string // the index the plan must search, if any
	}
	queries := map[string]want{
		erasePostMessages:       {args: []any{"x", "1"}},
		eraseAuthorMessages:     {args: []any{"x", "ana"}},
		erasePostLooseEvents:    {args: []any{"x/1"}},
		erasePostTicketEvents:   {args: []any{1, "x/1"}},
		eraseAuthorLooseEvents:  {args: []any{"x/ana"}},
		eraseAuthorTicketEvents: {args: []any{"x", "ana", "x/ana"}},
	}
	for _, f := range []Filter{
		{Author: "x/ana"},
		{Author: "x/ana", Status: StatusOpen},
		{Author: "x/ana", Queue: "complaints", Status: StatusOpen},
		{Author: "x/ana", Assignee: "alice", SLA: "active", Cursor: encodeCursor(10)},
	} {
		f.Limit = 50
		q, args, err := ticketsQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		queries[q] = want{args: args, index: "tickets_thread"}
	}
	for q, w := range queries {
		all, err := sqlite.Plan(context.Background(), d.db.R, q, w.args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.Contains(all, "SCAN ") || !strings.Contains(all, "INDEX "+w.index) {
			t.Errorf("%s\n%s", q, all)
		}
	}
	// The dry runs walk the mentions in log order, newest first: through
	// the index of mentions, not the events table.
	for q, args := range map[string][]any{dryRunLast: {500}, dryRunRange: {1, 2}} {
		all, err := sqlite.Plan(context.Background(), d.db.R, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if all != "SCAN events USING INDEX events_mentions" {
			t.Errorf("%s\n%s", q, all)
		}
	}
}

func TestCollisionAndMacros(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	f.apply(f.mention("1", "ana", "refund please", "", 1))
	id := tickets(t, d)[0].ID
	ctx := context.Background()
	if _, err := d.Assign(ctx, id, "bob", ""); err != nil {
		t.Fatal(err)
	}
	_, _, err := d.ReplyWith(ctx, id, "alice", "hi", ReplyOptions{})
	if !errors.Is(err, ErrOwnedByOther) || !strings.Contains(err.Error(), "assigned to bob") {
		t.Fatalf("reply to bob's ticket without confirm: %v", err)
	}
	if _, err := d.SaveMacro(ctx, Macro{Name: "refund", Text: "Hello {{author.name}}, ticket {{ticket.id}}: {{wat}}"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown variable accepted: %v", err)
	}
	if _, err := d.SaveMacro(ctx, Macro{Name: "refund", Title: "Refund on its way", Text: "Hello {{author.name}}, your refund for ticket {{ticket.id}} is on its way. {{agent}}", Tags: []string{"refund-sent"}, Resolve: true}); err != nil {
		t.Fatal(err)
	}
	tk, msg, err := d.ApplyMacro(ctx, id, "alice", "refund", true)
	if err != nil {
		t.Fatal(err)
	}
	want := "Hello Ana ana, your refund for ticket " + itoa(id) + " is on its way. alice"
	if msg.Text != want || tk.Status != StatusResolved || !containsString(tk.Tags, "refund-sent") || tk.FirstResponseAt == nil {
		t.Fatalf("macro: %q, status %s, tags %v", msg.Text, tk.Status, tk.Tags)
	}
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func TestAutomaticAcknowledgementIsNotAFirstResponse(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	ctx := context.Background()
	if _, err := d.SaveMacro(ctx, Macro{Name: "ack", Text: "Thanks {{author.name}}, we are on it (ticket {{ticket.id}})."}); err != nil {
		t.Fatal(err)
	}
	f := &feeder{t: t, d: d}
	r := f.mention("1", "ana", "refund please", "", 1)
	r.Decision.AutoReply = "ack"
	f.apply(r)
	tk, err := d.Ticket(ctx, tickets(t, d)[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(tk.Messages) != 2 || tk.Messages[1].Direction != Outbound || tk.Messages[1].Agent != "" || tk.FirstResponseAt != nil || tk.Status != StatusOpen {
		t.Fatalf("after an automatic acknowledgement: %+v, first response %v, status %s", tk.Messages, tk.FirstResponseAt, tk.Status)
	}
	if !strings.HasPrefix(tk.Messages[1].Text, "Thanks Ana ana, we are on it (ticket ") {
		t.Fatalf("text %q", tk.Messages[1].Text)
	}
}

// TestRoutedBatchesLeaveTheWriterFull: the router's batches commit without
// an fsync of their own, the writer connection is back to its own
// durability after them, and what people do is fsynced before they are
// answered.
func TestRoutedBatchesLeaveTheWriterFull(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	f.apply(f.mention("1", "ana", "train late", "", 1))
	if n := d.db.WALSyncs(); n != 0 {
		t.Fatalf("%d fsyncs of the WAL after a routed batch, want 0", n)
	}
	var level int
	if err := d.db.Writer(context.Background(), func(conn *sql.Conn) error {
		return conn.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&level)
	}); err != nil {
		t.Fatal(err)
	}
	if level != 2 { // FULL
		t.Fatalf("synchronous = %d after a routed batch, want 2 (FULL)", level)
	}
	ts := tickets(t, d)
	if len(ts) != 1 {
		t.Fatalf("%d tickets, want 1", len(ts))
	}
	if _, err := d.Resolve(context.Background(), ts[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if n := d.db.WALSyncs(); n != 1 {
		t.Fatalf("%d fsyncs of the WAL after an agent's action, want 1", n)
	}
}

// TestDecodePayloadSkipsOnlyTraces: a sink's reading of a ticket event has
// everything but the routing trace.
func TestDecodePayloadSkipsOnlyTraces(t *testing.T) {
	td := TicketData{Ticket: Ticket{ID: 7, Queue: "refunds", Tags: []string{"fr"}, Routing: Routing{Rule: "refunds-fr", Trace: []router.Step{{Rule: "refunds-fr", Matched: true, Why: "text matches"}}}}, Change: ChangeCreated}
	raw, err := json.Marshal(td)
	if err != nil {
		t.Fatal(err)
	}
	var got TicketData
	if err := DecodePayload(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Ticket.Routing.Trace != nil {
		t.Fatalf("trace decoded: %+v", got.Ticket.Routing.Trace)
	}
	td.Ticket.Routing.Trace = nil
	want, _ := json.Marshal(td)
	if again, _ := json.Marshal(got); string(again) != string(want) {
		t.Fatalf("decoded %s\nwant    %s", again, want)
	}
}

// TestReadEventsFromTheTail: the sinks read the newest events from memory,
// exactly as the database holds them, and an erasure is never served stale.
func TestReadEventsFromTheTail(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	for i := range 20 {
		f.apply(f.mention(strconv.Itoa(i), "ana"+strconv.Itoa(i%3), "train late "+strconv.Itoa(i), "", 1))
	}
	ctx := context.Background()
	fromDB := func(after int64, max int) []Event {
		evs, err := d.readStoredEvents(ctx, after, max)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	check := func(after int64, max int) {
		t.Helper()
		got, err := d.ReadEvents(ctx, after, max)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			got[i].shared = nil // memory's decoding cache, checked in TestSharedDecoding
		}
		if want := fromDB(after, max); !reflect.DeepEqual(got, want) {
			t.Fatalf("after %d, max %d: from memory %+v\nfrom the database %+v", after, max, got, want)
		}
	}
	head := d.LastSeq()
	if evs, _ := d.fromTail(0, 1000); len(evs) != int(head) {
		t.Fatalf("the tail holds %d events, want all %d", len(evs), head)
	}
	for _, c := range []struct {
		after int64
		max   int
	}{{0, 5}, {3, 1000}, {head - 1, 10}, {head, 10}} {
		f.apply(f.mention("again"+strconv.FormatInt(c.after, 10), "bob", "refresh the tail", "", 1))
		check(c.after, c.max)
	}
	// An erasure rewrites stored events: what memory held of them is gone.
	if _, ok := d.fromTail(0, 1); !ok {
		t.Fatal("the tail no longer holds the first events")
	}
	f.tombstone(listener.Tombstone{Source: "x", AuthorID: "ana0", Reason: "gdpr"})
	evs, err := d.ReadEvents(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type == EventMentionReceived && strings.Contains(string(e.Data), `"train late 0"`) {
			t.Fatalf("event %d still has the erased text: %s", e.Seq, e.Data)
		}
	}
}

// TestSharedDecoding: the sinks reading an event from memory share one
// decoding of its payload, equal to DecodePayload's; events from the
// database are decoded by each reader.
func TestSharedDecoding(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	f.apply(f.mention("1", "ana", "train late", "", 1))
	ctx := context.Background()
	read := func() []Event {
		t.Helper()
		evs, err := d.ReadEvents(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	a, b := read(), read()
	stored, err := d.readStoredEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var mentions, tickets int
	for i := range a {
		switch a[i].Type {
		case EventMentionReceived:
			mentions++
			x, err := a[i].MentionData()
			if err != nil {
				t.Fatal(err)
			}
			y, _ := b[i].MentionData()
			if x != y {
				t.Errorf("event %d decoded twice from memory", a[i].Seq)
			}
			var want MentionData
			if err := DecodePayload(a[i].Data, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*x, want) {
				t.Errorf("event %d: shared %+v\nwant %+v", a[i].Seq, *x, want)
			}
			z, _ := stored[i].MentionData()
			if z == x || !reflect.DeepEqual(*z, want) {
				t.Errorf("event %d from the database: %p %+v, want its own decoding of %+v", a[i].Seq, z, *z, want)
			}
			if _, err := a[i].TicketData(); err == nil {
				t.Errorf("event %d: a mention decoded as a ticket", a[i].Seq)
			}
		case EventTicketCreated, EventTicketUpdated:
			tickets++
			x, err := a[i].TicketData()
			if err != nil {
				t.Fatal(err)
			}
			y, _ := b[i].TicketData()
			if x != y {
				t.Errorf("event %d decoded twice from memory", a[i].Seq)
			}
			var want TicketData
			if err := DecodePayload(a[i].Data, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*x, want) {
				t.Errorf("event %d: shared %+v\nwant %+v", a[i].Seq, *x, want)
			}
			if _, err := a[i].MentionData(); err == nil {
				t.Errorf("event %d: a ticket event decoded as a mention", a[i].Seq)
			}
		}
	}
	if mentions == 0 || tickets == 0 {
		t.Fatalf("%d mention and %d ticket events, want some of each", mentions, tickets)
	}
}

// TestResolveMany: a bulk resolve changes the open tickets, each with its
// own ticket.updated, reports the resolved and unknown ones, and takes
// nothing from a request it refuses.
func TestResolveMany(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	f.apply(f.mention("1", "ana", "train late", "", 1), f.mention("2", "bob", "no refund", "", 1), f.mention("3", "cyd", "lost bag", "", 1))
	ctx := context.Background()
	ts := tickets(t, d)
	if len(ts) != 3 {
		t.Fatalf("%d tickets, want 3", len(ts))
	}
	by := map[string]int64{}
	for _, tk := range ts {
		by[tk.Conversation] = tk.ID
	}
	a, b, c := by["1"], by["2"], by["3"]
	if _, err := d.Resolve(ctx, c, "alice"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]int64{nil, {a, b, a}, {a, 0}, {a, -4}, make([]int64, MaxBulk+1)} {
		if bad != nil && len(bad) > MaxBulk {
			for i := range bad {
				bad[i] = int64(i + 1)
			}
		}
		if _, err := d.ResolveMany(ctx, bad, "alice"); !errors.Is(err, ErrInvalid) {
			t.Fatalf("ResolveMany(%d ids %v...): %v, want ErrInvalid", len(bad), bad[:min(len(bad), 3)], err)
		}
	}
	if got, _ := d.Ticket(ctx, a); got.Status == StatusResolved {
		t.Fatal("a refused request resolved a ticket")
	}
	head := d.LastSeq()
	out, err := d.ResolveMany(ctx, []int64{b, 999, c, a}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := Bulk{Done: []int64{b, a}, Conflicts: []int64{c}, NotFound: []int64{999}, Failed: []int64{}}
	if !reflect.DeepEqual(out, want) {
		t.Fatalf("ResolveMany: %+v, want %+v", out, want)
	}
	evs, err := d.ReadEvents(ctx, head, 100)
	if err != nil {
		t.Fatal(err)
	}
	var resolved []int64
	for _, ev := range evs {
		var td TicketData
		if err := json.Unmarshal(ev.Data, &td); err != nil {
			t.Fatal(err)
		}
		if ev.Type != EventTicketUpdated || td.Change != ChangeResolved || td.Actor != "alice" || td.Ticket.Status != StatusResolved || td.Ticket.ResolvedAt == nil {
			t.Fatalf("event %s: change %q by %q, ticket %s", ev.Type, td.Change, td.Actor, td.Ticket.Status)
		}
		resolved = append(resolved, td.Ticket.ID)
	}
	if !reflect.DeepEqual(resolved, []int64{b, a}) {
		t.Fatalf("events for tickets %v, want %v", resolved, []int64{b, a})
	}
	for _, id := range []int64{a, b} {
		if got, _ := d.Ticket(ctx, id); got.Status != StatusResolved || got.ResolvedAt == nil {
			t.Fatalf("ticket %d: %s", id, got.Status)
		}
	}
	// As after a resolve of one: the customer's follow-up reopens it.
	f.apply(f.mention("4", "ana", "hello?", "1", 1))
	if got, _ := d.Ticket(ctx, a); got.Status != StatusOpen {
		t.Fatalf("after a follow-up: %s, want open", got.Status)
	}
}

// A bulk resolve commits resolveChunk tickets at a time and leaves the
// desk's lock free between two chunks; an error after the first chunk
// reports the tickets not reached as failed, and keeps those done.
func TestResolveManyInChunks(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	const n = 2*resolveChunk + 5
	var batch []router.Routed
	for i := range n {
		batch = append(batch, f.mention("c"+strconv.Itoa(i), "u"+strconv.Itoa(i), "lost parcel", "", 1))
	}
	f.apply(batch...)
	var ids []int64
	for _, tk := range tickets(t, d) {
		ids = append(ids, tk.ID)
	}
	slices.Sort(ids)
	if len(ids) != n {
		t.Fatalf("%d tickets, want %d", len(ids), n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var between []int
	d.betweenChunks = func() {
		// The desk's other goroutines may hold the lock a moment; the
		// bulk action must not.
		free := make(chan struct{})
		go func() {
			d.mu.Lock()
			d.mu.Unlock()
			close(free)
		}()
		select {
		case <-free:
		case <-time.After(10 * time.Second):
			t.Error("the desk's lock is held between two chunks")
		}
		resolved := 0
		for _, id := range ids {
			if tk, _ := d.Ticket(ctx, id); tk.Status == StatusResolved {
				resolved++
			}
		}
		between = append(between, resolved)
	}
	first := ids[:resolveChunk+3]
	out, err := d.ResolveMany(ctx, first, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Done, first) || len(out.Failed) != 0 || out.Error != "" {
		t.Fatalf("ResolveMany: %+v", out)
	}
	if !slices.Equal(between, []int{resolveChunk}) {
		t.Fatalf("resolved between the chunks: %v, want %v", between, []int{resolveChunk})
	}

	// The client goes away after the first chunk of the rest.
	rest := ids[resolveChunk:]
	between = nil
	d.betweenChunks = func() { cancel() }
	out, err = d.ResolveMany(ctx, rest, "alice")
	if err != nil {
		t.Fatalf("an error after the first chunk: %v, want it in the answer", err)
	}
	if !slices.Equal(out.Conflicts, rest[:3]) || !slices.Equal(out.Done, rest[3:resolveChunk]) ||
		!slices.Equal(out.Failed, rest[resolveChunk:]) || !strings.Contains(out.Error, "context canceled") {
		t.Fatalf("ResolveMany cut short: %+v", out)
	}
	for i, id := range ids {
		tk, err := d.Ticket(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if resolved := i < 2*resolveChunk; (tk.Status == StatusResolved) != resolved {
			t.Errorf("ticket %d: %s, resolved %v expected", id, tk.Status, resolved)
		}
	}

	// An error in the first chunk is the answer's, nothing done.
	d.betweenChunks = nil
	if _, err := d.ResolveMany(ctx, ids[2*resolveChunk:], "alice"); !errors.Is(err, context.Canceled) {
		t.Fatalf("with the first chunk failing: %v, want context.Canceled", err)
	}
}

// TestActionNotKnownOnDisk: when the fsync after an action fails, the
// action is still done (everyone sees it), and the error says so, with
// what a bulk action did; it is not an error like any other, which a
// client would take for nothing done and send again.
func TestActionNotKnownOnDisk(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	f.apply(f.mention("nd1", "u1", "lost parcel", "", 1), f.mention("nd2", "u2", "lost parcel", "", 1), f.mention("nd3", "u3", "lost parcel", "", 1))
	var ids []int64
	for _, tk := range tickets(t, d) {
		ids = append(ids, tk.ID)
	}
	slices.Sort(ids)
	if len(ids) != 3 {
		t.Fatalf("%d tickets, want 3", len(ids))
	}
	ctx := context.Background()
	d.syncFault = func() error { return errors.New("sync the WAL: input/output error") }
	tk, err := d.Resolve(ctx, ids[0], "ana")
	if !errors.Is(err, ErrNotDurable) {
		t.Fatalf("resolve with a failing fsync: %+v, %v; want ErrNotDurable", tk, err)
	}
	// The bulk action through its handler, which leaves the tickets it
	// resolved for the audit log.
	h := &Handler{Desk: d.Desk, Who: func(context.Context) string { return "ana" }}
	e := echo.New()
	var detail any
	e.POST("/api/v1/tickets/resolve", h.resolveMany, func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err = next(c)
			detail = c.Get(AuditDetailKey)
			return err
		}
	})
	body, _ := json.Marshal(map[string]any{"ids": ids})
	req := httptest.NewRequest(http.MethodPost, "/api/v1/tickets/resolve", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	e.ServeHTTP(httptest.NewRecorder(), req)
	if !errors.Is(err, ErrNotDurable) || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("bulk resolve with a failing fsync: %v; want ErrNotDurable with the cause", err)
	}
	if want := map[string]any{"resolved": ids[1:]}; !reflect.DeepEqual(detail, want) {
		t.Errorf("bulk resolve with a failing fsync left %v for the audit log, want %v", detail, want)
	}
	out, err := d.ResolveMany(ctx, ids, "ana")
	if !errors.Is(err, ErrNotDurable) || len(out.Done) != 0 || !slices.Equal(out.Conflicts, ids) {
		t.Errorf("bulk resolve again with a failing fsync: %+v, %v; want all conflicts and ErrNotDurable", out, err)
	}
	d.syncFault = nil
	for _, id := range ids {
		if tk, err := d.Ticket(ctx, id); err != nil || tk.Status != StatusResolved {
			t.Errorf("ticket %d after an action not known on disk: %s, %v; want resolved", id, tk.Status, err)
		}
	}
}
