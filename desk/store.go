package desk

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/internal/jsonx"
	"github.com/vigie/vigie/internal/seqtail"
	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

var migrations = []string{
	`CREATE TABLE tickets(
		id INTEGER PRIMARY KEY,
		queue TEXT NOT NULL,
		status TEXT NOT NULL,
		priority TEXT NOT NULL,
		sentiment REAL NOT NULL,
		intent TEXT NOT NULL,
		lang TEXT NOT NULL,
		source TEXT NOT NULL,
		author_id TEXT NOT NULL,
		author BLOB NOT NULL,
		conversation TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		first_response_at INTEGER,
		resolved_at INTEGER,
		assignee TEXT NOT NULL DEFAULT '',
		tags BLOB NOT NULL,
		routing BLOB NOT NULL,
		message_count INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX tickets_thread ON tickets(source, author_id, conversation, id);
	CREATE INDEX tickets_queue ON tickets(queue, status, id);
	CREATE INDEX tickets_status ON tickets(status, id);
	CREATE INDEX tickets_assignee ON tickets(assignee, status, id);
	CREATE TABLE messages(
		id INTEGER PRIMARY KEY,
		ticket_id INTEGER NOT NULL REFERENCES tickets(id),
		direction TEXT NOT NULL,
		source TEXT NOT NULL,
		native_id TEXT NOT NULL DEFAULT '',
		version INTEGER NOT NULL DEFAULT 0,
		author_id TEXT NOT NULL DEFAULT '',
		author BLOB,
		agent TEXT NOT NULL DEFAULT '',
		text TEXT NOT NULL,
		url TEXT NOT NULL DEFAULT '',
		conversation TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		delivery TEXT NOT NULL DEFAULT '',
		error TEXT NOT NULL DEFAULT '',
		enrichment BLOB
	);
	CREATE INDEX messages_ticket ON messages(ticket_id, id);
	CREATE INDEX messages_native ON messages(source, native_id);
	CREATE INDEX messages_author ON messages(source, author_id);
	CREATE TABLE events(
		seq INTEGER PRIMARY KEY,
		type TEXT NOT NULL,
		topic TEXT NOT NULL,
		queue TEXT NOT NULL DEFAULT '',
		ticket_id INTEGER NOT NULL DEFAULT 0,
		ref TEXT NOT NULL DEFAULT '',
		author_ref TEXT NOT NULL DEFAULT '',
		at INTEGER NOT NULL,
		data BLOB NOT NULL
	);
	CREATE INDEX events_ref ON events(ref) WHERE ref != '';
	CREATE INDEX events_author ON events(author_ref) WHERE author_ref != '';
	CREATE TABLE state(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
	CREATE TABLE outbox(
		id INTEGER PRIMARY KEY,
		message_id INTEGER NOT NULL REFERENCES messages(id),
		ticket_id INTEGER NOT NULL,
		source TEXT NOT NULL,
		reply_to TEXT NOT NULL,
		text TEXT NOT NULL,
		idempotency_key TEXT NOT NULL UNIQUE,
		status TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_at INTEGER NOT NULL,
		error TEXT NOT NULL DEFAULT '',
		external_id TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX outbox_pending ON outbox(status, next_at);`,
	// 2: versioned rules, and events by type (dry runs read mentions).
	`CREATE TABLE rule_versions(
		version INTEGER PRIMARY KEY,
		yaml TEXT NOT NULL,
		author TEXT NOT NULL,
		comment TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL
	);
	CREATE INDEX events_type ON events(type, seq);`,
	// 3: canned replies and macros.
	`CREATE TABLE macros(
		name TEXT PRIMARY KEY,
		title TEXT NOT NULL,
		queue TEXT NOT NULL DEFAULT '',
		lang TEXT NOT NULL DEFAULT '',
		text TEXT NOT NULL,
		tags BLOB NOT NULL,
		resolve INTEGER NOT NULL DEFAULT 0,
		created_by TEXT NOT NULL,
		created_at INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// 4: SLA clocks on tickets, an author's tickets, a ticket's events, and
	// the agents the assignment engine hands tickets to.
	`ALTER TABLE tickets ADD COLUMN sla_status TEXT NOT NULL DEFAULT 'none';
	ALTER TABLE tickets ADD COLUMN first_response_due INTEGER;
	ALTER TABLE tickets ADD COLUMN resolution_due INTEGER;
	CREATE INDEX tickets_sla ON tickets(sla_status, id);
	CREATE INDEX tickets_author ON tickets(source, author_id, id);
	CREATE INDEX events_ticket ON events(ticket_id, seq) WHERE ticket_id != 0;
	CREATE TABLE agents(
		name TEXT PRIMARY KEY,
		skills BLOB NOT NULL,
		capacity INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	) WITHOUT ROWID;`,
	// 5: fewer indexes to write for each mention. An erasure finds an
	// author's messages and events through their tickets (tickets_thread
	// starts with the author; every incoming message and every event about
	// it sits on the author's own ticket), so events_ref and events_author
	// hold only the events no ticket holds: dropped mentions and events
	// about a person. Their former versions were never used: SQLite uses a
	// partial index only for a query that repeats its WHERE.
	// tickets_author was a prefix of tickets_thread.
	`DROP INDEX tickets_author;
	DROP INDEX messages_author;
	DROP INDEX events_ref;
	DROP INDEX events_author;
	CREATE INDEX events_ref ON events(ref) WHERE ref != '' AND ticket_id = 0;
	CREATE INDEX events_author ON events(author_ref) WHERE author_ref != '' AND ticket_id = 0;`,
	// 6: the rules' dry runs read past mentions through an index of the
	// mentions alone, in log order: each commit appends to its last page.
	// events_type kept every event by type, so each router batch wrote a
	// page at the end of each type's range, 5.3 of the 47 pages a batch
	// wrote to the WAL at 615 mentions/s. at is in the index: a dry run
	// over a time range reads from the table the rows of that range only.
	`DROP INDEX events_type;
	CREATE INDEX events_mentions ON events(seq, at) WHERE type = 'mention.received';`,
}

// Desk holds tickets, their messages and the event log, and owns the
// websocket hub. All writes go through one lock, so that events get their
// sequence numbers and reach the hub in commit order. It is safe for
// concurrent use.
type Desk struct {
	cfg     Config
	db      *sqlite.DB
	log     *slog.Logger
	metrics *metrics
	hub     *Hub
	replier Replier

	mu      sync.Mutex // serialises writes and their broadcast
	lastSeq int64

	headMu  sync.Mutex
	head    int64
	changed chan struct{}
	// tail holds the newest events as stored: the sinks following the log
	// read them from memory while they keep up.
	tail *seqtail.Tail[Event]

	wake chan struct{} // the outbox has work

	policies *sla.Policies
	inbox    *inbox      // to the assignment engine's goroutine
	engineUp atomic.Bool // the engine's goroutine runs

	activityMu   sync.Mutex
	lastActivity map[string]time.Time

	// For the tests and benchmarks: called between two chunks of a bulk
	// action; a chunk's size other than resolveChunk; an fsync's failure.
	betweenChunks func()
	bulkChunk     int
	syncFault     func() error
}

// Open opens the desk's database in cfg.Path. Call Run to start the hub and
// the outbox.
func Open(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Desk, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	policies, err := sla.NewPolicies(cfg.SLA)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, cfg.Path, sqlite.SyncFull, migrations)
	if err != nil {
		return nil, fmt.Errorf("open desk: %w", err)
	}
	d := &Desk{
		cfg:     cfg,
		db:      db,
		log:     logger.With("component", "desk"),
		metrics: newMetrics(reg),
		changed: make(chan struct{}),
		tail:    seqtail.New(tailEvents, func(e *Event) int64 { return e.Seq }),
		wake:    make(chan struct{}, 1),
		replier: NewSandbox(),

		policies:     policies,
		inbox:        newInbox(),
		lastActivity: map[string]time.Time{},
	}
	if err := db.R.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM events").Scan(&d.lastSeq); err != nil {
		db.Close()
		return nil, fmt.Errorf("read event log head: %w", err)
	}
	d.head = d.lastSeq
	d.hub = newHub(cfg.Hub, d, d.log, d.metrics)
	return d, nil
}

// Checkpoint flushes the WAL into the database and truncates it (after an
// erasure).
func (d *Desk) Checkpoint(ctx context.Context) error { return d.db.Checkpoint(ctx) }

// Hub returns the websocket hub.
func (d *Desk) Hub() *Hub { return d.hub }

// SetReplier sets what posts replies back to the networks (a sandbox that
// records them by default). Call it before Run.
func (d *Desk) SetReplier(r Replier) { d.replier = r }

// Close closes the database. Run must have returned.
func (d *Desk) Close() error { return d.db.Close() }

// Run runs the hub, the outbox, and the assignment engine with the SLA
// timers until ctx is done.
func (d *Desk) Run(ctx context.Context) error {
	errc := make(chan error, 3)
	go func() { errc <- d.hub.Run(ctx) }()
	go func() { errc <- d.runOutbox(ctx) }()
	go func() { errc <- d.runEngine(ctx) }()
	var first error
	for range 3 {
		if err := <-errc; err != nil && !errors.Is(err, context.Canceled) && first == nil {
			first = err
		}
	}
	return first
}

// LastSeq returns the sequence number of the newest event.
func (d *Desk) LastSeq() int64 {
	d.headMu.Lock()
	defer d.headMu.Unlock()
	return d.head
}

// tx runs fn in a write transaction under the desk's lock; after the commit,
// the events fn returned get their sequence numbers, are stored, and are
// broadcast in order.
func (d *Desk) tx(ctx context.Context, fn func(tx *sqlite.Tx, ev *eventBuf) error) ([]Event, error) {
	return d.txSync(ctx, sqlite.SyncFull, fn)
}

// txSync is tx with the commit's durability chosen. What people do on the
// desk is committed with SyncFull: on disk before the person is answered.
// What the router derives from the intake log may be committed with
// SyncNormal: it survives a crash of the process, and after a power loss
// the router derives it again from the intake log, which is fsynced, from a
// cursor committed in the same transaction. A SyncFull fsync covers the WAL
// with everything before it, so the file never holds a person's action
// without the routing it followed.
//
// A SyncFull transaction commits without an fsync, lets the next
// transaction in, then waits for an fsync of the WAL shared with the other
// actions of the moment (sqlite.DB.SyncWAL): the router's batches no
// longer wait for the disk behind each agent's action, and a hundred
// agents acting at once cost an fsync or two. Its events are broadcast at
// the commit, like the router's, before that fsync; the caller is
// answered after it.
func (d *Desk) txSync(ctx context.Context, durability sqlite.Sync, fn func(tx *sqlite.Tx, ev *eventBuf) error) ([]Event, error) {
	evs, err := d.commit(ctx, fn)
	if err != nil || durability != sqlite.SyncFull {
		return evs, err
	}
	if err := d.syncWAL(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotDurable, err)
	}
	return evs, nil
}

// syncWAL makes the actions committed so far survive a power loss.
func (d *Desk) syncWAL() error {
	if d.syncFault != nil {
		if err := d.syncFault(); err != nil {
			return err
		}
	}
	return d.db.SyncWAL()
}

// commit runs fn in a write transaction under the desk's lock, commits it
// without an fsync (txSync makes the fsync when needed), and publishes its
// events.
func (d *Desk) commit(ctx context.Context, fn func(tx *sqlite.Tx, ev *eventBuf) error) ([]Event, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	tx, err := d.db.BeginWith(ctx, sqlite.SyncNormal)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	ev := &eventBuf{next: d.lastSeq}
	if err := fn(tx, ev); err != nil {
		tx.Rollback()
		return nil, err
	}
	if len(ev.events) > 0 {
		stmt, err := tx.Stmt(ctx, "INSERT INTO events(seq, type, topic, queue, ticket_id, ref, author_ref, at, data) VALUES(?,?,?,?,?,?,?,?,?)")
		if err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("event insert: %w", err)
		}
		for i := range ev.events {
			e := &ev.events[i]
			if _, err := stmt.ExecContext(ctx, e.Seq, string(e.Type), string(e.Topic), e.Queue, ev.ticket[i], ev.ref[i], ev.authorRef[i], e.At.UnixNano(), []byte(e.Data)); err != nil {
				tx.Rollback()
				return nil, fmt.Errorf("insert event: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	if n := len(ev.events); n > 0 {
		d.lastSeq = ev.events[n-1].Seq
		d.headMu.Lock()
		d.head = d.lastSeq
		d.keep(ev.events)
		close(d.changed)
		d.changed = make(chan struct{})
		d.headMu.Unlock()
		d.hub.broadcast(ev.events)
		d.metrics.events.Add(float64(n))
	}
	return ev.events, nil
}

// eventBuf collects the events of one transaction.
type eventBuf struct {
	next      int64
	events    []Event
	ticket    []int64
	ref       []string
	authorRef []string
}

func (b *eventBuf) add(typ EventType, topic Topic, queue string, ticketID int64, ref, authorRef string, at time.Time, arrived time.Time, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("encode %s event: %w", typ, err)
	}
	b.next++
	b.events = append(b.events, Event{Seq: b.next, Type: typ, At: at, Topic: topic, Queue: queue, Data: raw, arrived: arrived})
	b.ticket = append(b.ticket, ticketID)
	b.ref = append(b.ref, ref)
	b.authorRef = append(b.authorRef, authorRef)
	return nil
}

// Publish appends an event from another part of Vigie (alerts, offers) to
// the log and broadcasts it. data is encoded as JSON.
func (d *Desk) Publish(ctx context.Context, typ EventType, topic Topic, data any) (Event, error) {
	return d.PublishFor(ctx, typ, topic, "", "", data)
}

// PublishFor is Publish for an event about one person (source and author
// id): when that person is erased, the event's data is wiped from the log.
func (d *Desk) PublishFor(ctx context.Context, typ EventType, topic Topic, source, authorID string, data any) (Event, error) {
	authorRef := ""
	if authorID != "" {
		authorRef = source + "/" + authorID
	}
	evs, err := d.tx(ctx, func(tx *sqlite.Tx, ev *eventBuf) error {
		return ev.add(typ, topic, "", 0, "", authorRef, d.now(), time.Time{}, data)
	})
	if err != nil {
		return Event{}, fmt.Errorf("publish %s: %w", typ, err)
	}
	return evs[0], nil
}

// Cursor returns the seq of the last intake record applied (router.Sink).
func (d *Desk) Cursor(ctx context.Context) (int64, error) {
	var v int64
	err := d.db.R.QueryRowContext(ctx, "SELECT value FROM state WHERE name='intake_cursor'").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read intake cursor: %w", err)
	}
	return v, nil
}

var _ router.Sink = (*Desk)(nil)

// Apply turns routed records into tickets and events, and commits them with
// the intake cursor in one transaction (router.Sink).
func (d *Desk) Apply(ctx context.Context, batch []router.Routed) error {
	if len(batch) == 0 {
		return nil
	}
	start := time.Now()
	wake := false
	ctx = sqlite.Detached(ctx)
	_, err := d.txSync(ctx, sqlite.SyncNormal, func(tx *sqlite.Tx, ev *eventBuf) error {
		a := applier{d: d, tx: tx, ev: ev, ctx: ctx, now: d.now()}
		for i := range batch {
			if err := a.apply(&batch[i]); err != nil {
				return fmt.Errorf("apply intake record %d: %w", batch[i].Record.Seq, err)
			}
		}
		_, err := tx.ExecContext(ctx, "INSERT INTO state(name, value) VALUES('intake_cursor', ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value", batch[len(batch)-1].Record.Seq)
		if err != nil {
			return fmt.Errorf("write intake cursor: %w", err)
		}
		wake = a.wake
		return nil
	})
	if wake {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
	d.metrics.applySeconds.Observe(time.Since(start).Seconds())
	return err
}

type applier struct {
	d    *Desk
	tx   *sqlite.Tx
	ev   *eventBuf
	ctx  context.Context
	now  time.Time
	wake bool // the outbox has new work
}

// queryRow and exec run q in the batch's transaction, with the writer's
// statement for it (sqlite.Tx): a batch runs the same few statements
// hundreds of times, and the next batch the same again.
func (a *applier) queryRow(q string, args ...any) *sql.Row {
	return a.tx.QueryRowContext(a.ctx, q, args...)
}

func (a *applier) exec(q string, args ...any) (sql.Result, error) {
	return a.tx.ExecContext(a.ctx, q, args...)
}

func (a *applier) apply(r *router.Routed) error {
	switch it := r.Record.Item; {
	case it.Mention != nil:
		return a.mention(r)
	case it.Tombstone != nil:
		return a.tombstone(it.Tombstone)
	}
	return nil // check-ins go to offers, not to the desk
}

func (a *applier) mention(r *router.Routed) error {
	m := r.Record.Item.Mention
	ref := m.Source + "/" + m.ID
	authorRef := m.Source + "/" + m.Author.ID
	data := MentionData{Mention: *m, Version: r.Record.Version, IntakeSeq: r.Record.Seq, ReceivedAt: r.Record.ReceivedAt, Enrichment: r.Enrichment, Decision: r.Decision}

	// A version we already hold (a replay after a crash): nothing to do.
	var msgID, ticketID int64
	var version int
	err := a.queryRow("SELECT id, ticket_id, version FROM messages WHERE source=? AND native_id=? AND direction='in'", m.Source, m.ID).Scan(&msgID, &ticketID, &version)
	switch {
	case err == nil:
		if version >= r.Record.Version {
			return nil
		}
		return a.edit(r, msgID, ticketID, data, ref, authorRef)
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("look up message: %w", err)
	}

	if r.Decision.Drop {
		return a.ev.add(EventMentionReceived, TopicMentions, r.Decision.Queue, 0, ref, authorRef, a.now, r.Record.Arrived, data)
	}
	conv, err := a.conversation(m)
	if err != nil {
		return err
	}
	t, found, err := a.openTicket(m.Source, m.Author.ID, conv)
	if err != nil {
		return err
	}
	change := ChangeMessage
	if found && t.Status == StatusResolved {
		change = ChangeReopened
		t.ResolvedAt = nil
	}
	if !found {
		t = Ticket{
			Queue: r.Decision.Queue, Status: StatusOpen, Priority: r.Decision.Priority,
			Source: m.Source, Author: m.Author, Conversation: conv, CreatedAt: a.now,
			Tags: append([]string{}, r.Decision.Tags...), Routing: Routing{Rule: r.Decision.Rule, Trace: r.Decision.Trace},
		}
		change = ChangeCreated
	} else {
		// A follow-up: the customer spoke again, so the ticket waits on us.
		if t.Status == StatusPending || t.Status == StatusResolved {
			t.Status = StatusOpen
			if t.Assignee != "" {
				t.Status = StatusAssigned
			}
		}
		if r.Decision.Priority.Rank() > t.Priority.Rank() {
			t.Priority = r.Decision.Priority
		}
		for _, tag := range r.Decision.Tags {
			if !containsString(t.Tags, tag) {
				t.Tags = append(t.Tags, tag)
			}
		}
		t.Author = m.Author // the freshest profile
	}
	t.Sentiment, t.Intent, t.Lang = r.Enrichment.Sentiment, r.Enrichment.Intent, r.Enrichment.Lang
	t.UpdatedAt = a.now
	t.MessageCount++
	if err := a.saveTicket(&t); err != nil {
		return err
	}
	en := r.Enrichment
	msg := Message{
		TicketID: t.ID, Direction: Inbound, Source: m.Source, NativeID: m.ID, Version: r.Record.Version,
		Author: &m.Author, Text: m.Text, URL: m.URL, CreatedAt: m.CreatedAt, Enrichment: &en,
	}
	if err := a.insertMessage(&msg, conv); err != nil {
		return err
	}
	data.TicketID = t.ID
	if err := a.ev.add(EventMentionReceived, TopicMentions, t.Queue, t.ID, ref, authorRef, a.now, time.Time{}, data); err != nil {
		return err
	}
	typ := EventTicketUpdated
	if change == ChangeCreated {
		typ = EventTicketCreated
	}
	if err := a.ev.add(typ, TopicTickets, t.Queue, t.ID, ref, authorRef, a.now, r.Record.Arrived, TicketData{Ticket: t, Change: change, Message: &msg}); err != nil {
		return err
	}
	if change == ChangeCreated && r.Decision.AutoReply != "" {
		return a.autoReply(&t, r.Decision.AutoReply, m.ID, conv)
	}
	return nil
}

// autoReply queues a rule's automatic acknowledgement. It is a reply by no
// person: it does not set the first response, and its event has no actor.
func (a *applier) autoReply(t *Ticket, macro, replyTo, conv string) error {
	mc, err := a.d.Macro(a.ctx, macro)
	if errors.Is(err, ErrNotFound) {
		a.d.log.Warn("auto_reply_macro_missing", "macro", macro, "ticket_id", t.ID)
		return nil
	}
	if err != nil {
		return err
	}
	msg := Message{TicketID: t.ID, Direction: Outbound, Source: t.Source, Text: mc.Render(t, ""), CreatedAt: a.now, Delivery: DeliveryPending}
	if err := a.insertMessage(&msg, conv); err != nil {
		return err
	}
	key := fmt.Sprintf("vigie-%d-%d", t.ID, msg.ID)
	if _, err := a.exec("INSERT INTO outbox(message_id, ticket_id, source, reply_to, text, idempotency_key, status, next_at) VALUES(?,?,?,?,?,?,?,?)",
		msg.ID, t.ID, t.Source, replyTo, msg.Text, key, string(DeliveryPending), a.now.UnixNano()); err != nil {
		return fmt.Errorf("queue automatic reply: %w", err)
	}
	t.MessageCount++
	if err := saveTicket(a.ctx, a.tx, t); err != nil {
		return err
	}
	a.wake = true
	return a.ev.add(EventTicketUpdated, TopicTickets, t.Queue, t.ID, "", "", a.now, time.Time{}, TicketData{Ticket: *t, Change: ChangeReplied, Message: &msg})
}

func (a *applier) edit(r *router.Routed, msgID, ticketID int64, data MentionData, ref, authorRef string) error {
	m := r.Record.Item.Mention
	en := r.Enrichment
	enc, _ := json.Marshal(&en)
	if _, err := a.tx.ExecContext(a.ctx, "UPDATE messages SET text=?, version=?, enrichment=? WHERE id=?", m.Text, r.Record.Version, enc, msgID); err != nil {
		return fmt.Errorf("update edited message: %w", err)
	}
	t, err := a.d.ticket(a.ctx, a.tx, ticketID)
	if err != nil {
		return err
	}
	t.UpdatedAt = a.now
	t.Sentiment, t.Intent = en.Sentiment, en.Intent
	if err := a.saveTicket(&t); err != nil {
		return err
	}
	msg, err := a.d.message(a.ctx, a.tx, msgID)
	if err != nil {
		return err
	}
	data.TicketID = ticketID
	if err := a.ev.add(EventMentionReceived, TopicMentions, t.Queue, t.ID, ref, authorRef, a.now, time.Time{}, data); err != nil {
		return err
	}
	return a.ev.add(EventTicketUpdated, TopicTickets, t.Queue, t.ID, ref, authorRef, a.now, r.Record.Arrived, TicketData{Ticket: t, Change: ChangeEdited, Message: &msg})
}

// conversation returns the thread key of a mention: the conversation of the
// post it answers when we hold that post (ours or the customer's), else what
// the source says, else the post itself.
func (a *applier) conversation(m *listener.Mention) (string, error) {
	if m.ReplyTo != "" {
		var conv string
		err := a.queryRow("SELECT conversation FROM messages WHERE source=? AND native_id=?", m.Source, m.ReplyTo).Scan(&conv)
		switch {
		case err == nil && conv != "":
			return conv, nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("look up replied post: %w", err)
		}
		if m.Conversation != "" {
			return m.Conversation, nil
		}
		return m.ReplyTo, nil
	}
	if m.Conversation != "" {
		return m.Conversation, nil
	}
	return m.ID, nil
}

// openTicket finds the author's ticket in a conversation that a new message
// joins: one not resolved, or resolved within the reopen window.
func (a *applier) openTicket(source, authorID, conv string) (Ticket, bool, error) {
	var id int64
	var status string
	var resolvedAt sql.NullInt64
	err := a.queryRow("SELECT id, status, resolved_at FROM tickets WHERE source=? AND author_id=? AND conversation=? ORDER BY id DESC LIMIT 1", source, authorID, conv).Scan(&id, &status, &resolvedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, false, nil
	}
	if err != nil {
		return Ticket{}, false, fmt.Errorf("look up open ticket: %w", err)
	}
	if Status(status) == StatusResolved && (!resolvedAt.Valid || a.now.Sub(time.Unix(0, resolvedAt.Int64)) > a.d.cfg.ReopenWindow) {
		return Ticket{}, false, nil
	}
	t, err := a.d.ticket(a.ctx, a.tx, id)
	return t, err == nil, err
}

func (a *applier) saveTicket(t *Ticket) error {
	author, _ := json.Marshal(&t.Author)
	tags, _ := json.Marshal(t.Tags)
	routing, _ := json.Marshal(&t.Routing)
	if t.ID == 0 {
		a.d.initialSLA(t)
		res, err := a.exec(`INSERT INTO tickets(queue, status, priority, sentiment, intent, lang, source, author_id, author, conversation, created_at, updated_at, first_response_at, resolved_at, assignee, tags, routing, message_count, sla_status, first_response_due, resolution_due)
			VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			t.Queue, string(t.Status), string(t.Priority), t.Sentiment, t.Intent, t.Lang, t.Source, t.Author.ID, author, t.Conversation,
			t.CreatedAt.UnixNano(), t.UpdatedAt.UnixNano(), nanos(t.FirstResponseAt), nanos(t.ResolvedAt), t.Assignee, tags, routing, t.MessageCount,
			string(t.SLAStatus), nanos(t.FirstResponseDue), nanos(t.ResolutionDue))
		if err != nil {
			return fmt.Errorf("insert ticket: %w", err)
		}
		t.ID, _ = res.LastInsertId()
		return nil
	}
	return saveTicket(a.ctx, a.tx, t)
}

func saveTicket(ctx context.Context, tx *sqlite.Tx, t *Ticket) error {
	author, _ := json.Marshal(&t.Author)
	tags, _ := json.Marshal(t.Tags)
	_, err := tx.ExecContext(ctx, `UPDATE tickets SET queue=?, status=?, priority=?, sentiment=?, intent=?, lang=?, author=?, updated_at=?, first_response_at=?, resolved_at=?, assignee=?, tags=?, message_count=?, sla_status=?, first_response_due=?, resolution_due=? WHERE id=?`,
		t.Queue, string(t.Status), string(t.Priority), t.Sentiment, t.Intent, t.Lang, author, t.UpdatedAt.UnixNano(), nanos(t.FirstResponseAt), nanos(t.ResolvedAt), t.Assignee, tags, t.MessageCount,
		string(t.SLAStatus), nanos(t.FirstResponseDue), nanos(t.ResolutionDue), t.ID)
	if err != nil {
		return fmt.Errorf("update ticket %d: %w", t.ID, err)
	}
	return nil
}

func (a *applier) insertMessage(m *Message, conv string) error {
	return insertMessageWith(a.exec, m, conv)
}

func insertMessage(ctx context.Context, tx *sqlite.Tx, m *Message, conv string) error {
	return insertMessageWith(func(q string, args ...any) (sql.Result, error) { return tx.ExecContext(ctx, q, args...) }, m, conv)
}

func insertMessageWith(exec func(q string, args ...any) (sql.Result, error), m *Message, conv string) error {
	var author, enrichment []byte
	authorID := ""
	if m.Author != nil {
		author, _ = json.Marshal(m.Author)
		authorID = m.Author.ID
	}
	if m.Enrichment != nil {
		enrichment, _ = json.Marshal(m.Enrichment)
	}
	res, err := exec(`INSERT INTO messages(ticket_id, direction, source, native_id, version, author_id, author, agent, text, url, conversation, created_at, delivery, error, enrichment)
		VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		m.TicketID, string(m.Direction), m.Source, m.NativeID, m.Version, authorID, author, m.Agent, m.Text, m.URL, conv, m.CreatedAt.UnixNano(), string(m.Delivery), m.Error, enrichment)
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	m.ID, _ = res.LastInsertId()
	return nil
}

// The queries an erasure runs. Each searches an index: a scan of messages or
// events would hold the desk's writer for as long as it reads them all.
// Incoming messages, and the events about them, are all on their author's
// tickets; the events no ticket holds have their own partial indexes, whose
// WHERE each query repeats (SQLite uses a partial index only then).
const (
	erasePostMessages       = "SELECT id, ticket_id FROM messages WHERE source=? AND native_id=? AND direction='in'"
	eraseAuthorMessages     = "SELECT m.id, m.ticket_id FROM tickets t JOIN messages m ON m.ticket_id = t.id WHERE t.source=? AND t.author_id=? AND m.direction='in'"
	erasePostLooseEvents    = "SELECT seq, type, data, author_ref FROM events WHERE ref=? AND ref != '' AND ticket_id = 0"
	erasePostTicketEvents   = "SELECT seq, type, data, author_ref FROM events WHERE ticket_id=? AND ticket_id != 0 AND ref=?"
	eraseAuthorLooseEvents  = "SELECT seq, type, data, author_ref FROM events WHERE author_ref=? AND author_ref != '' AND ticket_id = 0"
	eraseAuthorTickets      = "SELECT id FROM tickets WHERE source=? AND author_id=?"
	eraseAuthorTicketEvents = "SELECT e.seq, e.type, e.data, e.author_ref FROM tickets t JOIN events e ON e.ticket_id = t.id AND e.ticket_id != 0 WHERE t.source=? AND t.author_id=?"
)

// tombstone removes deleted posts from the desk and redacts them from the
// event log; the sinks learn of it from the mention.deleted event.
func (a *applier) tombstone(t *listener.Tombstone) error {
	var rows *sql.Rows
	var err error
	if t.ID != "" {
		rows, err = a.tx.QueryContext(a.ctx, erasePostMessages, t.Source, t.ID)
	} else {
		rows, err = a.tx.QueryContext(a.ctx, eraseAuthorMessages, t.Source, t.AuthorID)
	}
	if err != nil {
		return fmt.Errorf("find deleted posts: %w", err)
	}
	type hit struct{ msg, ticket int64 }
	var hits []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.msg, &h.ticket); err != nil {
			rows.Close()
			return fmt.Errorf("scan deleted post: %w", err)
		}
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find deleted posts: %w", err)
	}
	for _, h := range hits {
		if _, err := a.tx.ExecContext(a.ctx, "DELETE FROM messages WHERE id=?", h.msg); err != nil {
			return fmt.Errorf("delete message: %w", err)
		}
		tk, err := a.d.ticket(a.ctx, a.tx, h.ticket)
		if err != nil {
			return err
		}
		tk.MessageCount = max(0, tk.MessageCount-1)
		tk.UpdatedAt = a.now
		if t.ID == "" {
			// The account is gone: keep only its id on the ticket.
			tk.Author = listener.Author{ID: tk.Author.ID}
		}
		if err := saveTicket(a.ctx, a.tx, &tk); err != nil {
			return err
		}
		authorRef := tk.Source + "/" + tk.Author.ID
		if err := a.ev.add(EventTicketUpdated, TopicTickets, tk.Queue, tk.ID, "", authorRef, a.now, time.Time{}, TicketData{Ticket: tk, Change: ChangeDeleted}); err != nil {
			return err
		}
	}
	tickets := make([]int64, 0, len(hits))
	for _, h := range hits {
		if !slices.Contains(tickets, h.ticket) {
			tickets = append(tickets, h.ticket)
		}
	}
	if t.ID == "" {
		if err := a.forgetAuthor(t, tickets); err != nil {
			return err
		}
	}
	a.d.dropTail()
	if err := redactEvents(a.ctx, a.tx, t, tickets); err != nil {
		return err
	}
	return a.ev.add(EventMentionDeleted, TopicMentions, "", 0, "", "", a.now, time.Time{}, DeletedData{Source: t.Source, ID: t.ID, AuthorID: t.AuthorID, Reason: t.Reason})
}

// forgetAuthor keeps only the id of a deleted account on the author's
// tickets that the deletion of their messages did not reach (done, those
// whose posts were all deleted before).
func (a *applier) forgetAuthor(t *listener.Tombstone, done []int64) error {
	rows, err := a.tx.QueryContext(a.ctx, eraseAuthorTickets, t.Source, t.AuthorID)
	if err != nil {
		return fmt.Errorf("find the author's tickets: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("scan ticket: %w", err)
		}
		if !slices.Contains(done, id) {
			ids = append(ids, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find the author's tickets: %w", err)
	}
	for _, id := range ids {
		tk, err := a.d.ticket(a.ctx, a.tx, id)
		if err != nil {
			return err
		}
		if tk.Author == (listener.Author{ID: tk.Author.ID}) {
			continue
		}
		tk.Author = listener.Author{ID: tk.Author.ID}
		tk.UpdatedAt = a.now
		if err := saveTicket(a.ctx, a.tx, &tk); err != nil {
			return err
		}
		authorRef := tk.Source + "/" + tk.Author.ID
		if err := a.ev.add(EventTicketUpdated, TopicTickets, tk.Queue, tk.ID, "", authorRef, a.now, time.Time{}, TicketData{Ticket: tk, Change: ChangeDeleted}); err != nil {
			return err
		}
	}
	return nil
}

// redactEvents rewrites the stored events that carry the deleted posts so
// that their text and the author's identity are gone from the log. tickets
// holds the tickets of a deleted post's messages; an account's are looked
// up. The other events on a deleted account's tickets (an agent's reply, an
// assignment) keep their own content but lose the author's identity.
func redactEvents(ctx context.Context, tx *sqlite.Tx, t *listener.Tombstone, tickets []int64) error {
	type ev struct {
		seq       int64
		typ       string
		data      []byte
		authorRef string
	}
	var evs []ev
	read := func(q string, args ...any) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("find events to redact: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e ev
			if err := rows.Scan(&e.seq, &e.typ, &e.data, &e.authorRef); err != nil {
				return fmt.Errorf("scan event: %w", err)
			}
			evs = append(evs, e)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find events to redact: %w", err)
		}
		return nil
	}
	if t.ID != "" {
		ref := t.Source + "/" + t.ID
		if err := read(erasePostLooseEvents, ref); err != nil {
			return err
		}
		for _, id := range tickets {
			if err := read(erasePostTicketEvents, id, ref); err != nil {
				return err
			}
		}
	} else {
		if err := read(eraseAuthorLooseEvents, t.Source+"/"+t.AuthorID); err != nil {
			return err
		}
		if err := read(eraseAuthorTicketEvents, t.Source, t.AuthorID); err != nil {
			return err
		}
	}
	for _, e := range evs {
		if t.ID == "" && e.authorRef != t.Source+"/"+t.AuthorID {
			// Not about the author's posts: only their identity goes.
			red, changed, err := forgetIdentity(EventType(e.typ), e.data)
			if err != nil {
				return fmt.Errorf("redact event %d: %w", e.seq, err)
			}
			if !changed {
				continue
			}
			if _, err := tx.ExecContext(ctx, "UPDATE events SET data=? WHERE seq=?", red, e.seq); err != nil {
				return fmt.Errorf("redact event %d: %w", e.seq, err)
			}
			continue
		}
		red, err := redactWith(EventType(e.typ), e.data, redacted)
		if err != nil {
			return fmt.Errorf("redact event %d: %w", e.seq, err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE events SET data=?, ref='', author_ref='' WHERE seq=?", red, e.seq); err != nil {
			return fmt.Errorf("redact event %d: %w", e.seq, err)
		}
	}
	return nil
}

const redacted = "[deleted]"

// forgetIdentity removes a deleted account's identity but its id from an
// event on one of its tickets that is not about its posts, and reports
// whether that changed the event.
func forgetIdentity(typ EventType, data []byte) ([]byte, bool, error) {
	if typ != EventTicketCreated && typ != EventTicketUpdated {
		return data, false, nil
	}
	var td TicketData
	if err := jsonx.Unmarshal(data, &td); err != nil {
		return nil, false, err
	}
	if td.Ticket.Author == (listener.Author{ID: td.Ticket.Author.ID}) && len(td.Ticket.Routing.Trace) == 0 {
		return data, false, nil
	}
	td.Ticket.Author = listener.Author{ID: td.Ticket.Author.ID}
	td.Ticket.Routing.Trace = nil // it quotes the words the rules matched
	red, err := json.Marshal(&td)
	return red, true, err
}

// redactWith removes the post text (replaced by marker) and the author's
// identity but their id from an event's data.
func redactWith(typ EventType, data []byte, marker string) ([]byte, error) {
	switch typ {
	case EventMentionReceived:
		var md MentionData
		if err := jsonx.Unmarshal(data, &md); err != nil {
			return nil, err
		}
		md.Mention.Text, md.Mention.URL, md.Mention.Geo = marker, "", nil
		md.Mention.Author = listener.Author{ID: md.Mention.Author.ID}
		md.Enrichment.SentimentTerms, md.Enrichment.IntentTerms = nil, nil
		md.Decision.Trace = nil
		return json.Marshal(&md)
	case EventTicketCreated, EventTicketUpdated:
		var td TicketData
		if err := jsonx.Unmarshal(data, &td); err != nil {
			return nil, err
		}
		td.Ticket.Author = listener.Author{ID: td.Ticket.Author.ID}
		td.Ticket.Routing.Trace = nil
		if td.Message != nil {
			td.Message.Text, td.Message.URL = marker, ""
			if td.Message.Author != nil {
				td.Message.Author = &listener.Author{ID: td.Message.Author.ID}
			}
			td.Message.Enrichment = nil
		}
		return json.Marshal(&td)
	}
	// Any other event about the person (an offer, an alert's sample) is
	// wiped whole.
	return []byte(`{"erased":true}`), nil
}

// ReadEvents returns up to max events with seq > after, in order.
func (d *Desk) ReadEvents(ctx context.Context, after int64, max int) ([]Event, error) {
	if max <= 0 {
		return nil, nil
	}
	if evs, ok := d.fromTail(after, max); ok {
		return evs, nil
	}
	return d.readStoredEvents(ctx, after, max)
}

// readStoredEvents is ReadEvents from the database.
func (d *Desk) readStoredEvents(ctx context.Context, after int64, max int) ([]Event, error) {
	return readEvents(ctx, d.db.R, after, max)
}

// readEvents reads up to max events with seq > after from db, in order.
func readEvents(ctx context.Context, db *sql.DB, after int64, max int) ([]Event, error) {
	rows, err := db.QueryContext(ctx, "SELECT seq, type, topic, queue, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?", after, max)
	if err != nil {
		return nil, fmt.Errorf("read events after %d: %w", after, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var typ, topic string
		var at int64
		var data []byte
		if err := rows.Scan(&e.Seq, &typ, &topic, &e.Queue, &at, &data); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		e.Type, e.Topic, e.At, e.Data = EventType(typ), Topic(topic), time.Unix(0, at).UTC(), data
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events after %d: %w", after, err)
	}
	return out, nil
}

// tailEvents bounds the events kept in memory for ReadEvents: seconds of
// traffic at full speed.
const tailEvents = 16384

// keep appends committed events to the tail, as ReadEvents would read them
// from the database. d.headMu is held.
func (d *Desk) keep(evs []Event) {
	stored := slices.Clone(evs)
	for i := range stored {
		stored[i].At = time.Unix(0, stored[i].At.UnixNano()).UTC()
		stored[i].arrived = time.Time{}
		if t := stored[i].Type; t == EventMentionReceived || t == EventTicketCreated || t == EventTicketUpdated {
			stored[i].shared = &sharedPayload{}
		}
	}
	d.tail.Append(stored...)
}

// dropTail forgets the tail, before a transaction rewrites stored events
// (an erasure, retention): from then on ReadEvents reads the database.
func (d *Desk) dropTail() {
	d.headMu.Lock()
	d.tail.Reset()
	d.headMu.Unlock()
}

// fromTail returns the events after seq from the tail, and whether the tail
// covers seq.
func (d *Desk) fromTail(after int64, max int) ([]Event, bool) {
	d.headMu.Lock()
	defer d.headMu.Unlock()
	return d.tail.Read(after, max)
}

// WaitEvents blocks until an event after seq exists, or ctx is done.
func (d *Desk) WaitEvents(ctx context.Context, after int64) error {
	for {
		d.headMu.Lock()
		head, ch := d.head, d.changed
		d.headMu.Unlock()
		if head > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func nanos(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
