package desk

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/internal/jsonx"
	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

type scanner interface {
	Scan(dest ...any) error
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const ticketColumns = "id, queue, status, priority, sentiment, intent, lang, source, author, conversation, created_at, updated_at, first_response_at, resolved_at, assignee, tags, routing, message_count, sla_status, first_response_due, resolution_due"

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.Unix(0, n.Int64).UTC()
	return &t
}

func scanTicket(s scanner) (Ticket, error) {
	var t Ticket
	var status, priority string
	var author, tags, routing []byte
	var created, updated int64
	var first, resolved, frDue, resDue sql.NullInt64
	var slaStatus string
	if err := s.Scan(&t.ID, &t.Queue, &status, &priority, &t.Sentiment, &t.Intent, &t.Lang, &t.Source, &author, &t.Conversation,
		&created, &updated, &first, &resolved, &t.Assignee, &tags, &routing, &t.MessageCount, &slaStatus, &frDue, &resDue); err != nil {
		return Ticket{}, err
	}
	t.SLAStatus, t.FirstResponseDue, t.ResolutionDue = sla.State(slaStatus), timePtr(frDue), timePtr(resDue)
	t.Status, t.Priority = Status(status), router.Priority(priority)
	t.CreatedAt, t.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	if first.Valid {
		ft := time.Unix(0, first.Int64).UTC()
		t.FirstResponseAt = &ft
	}
	if resolved.Valid {
		rt := time.Unix(0, resolved.Int64).UTC()
		t.ResolvedAt = &rt
	}
	if err := jsonx.Unmarshal(author, &t.Author); err != nil {
		return Ticket{}, fmt.Errorf("decode author of ticket %d: %w", t.ID, err)
	}
	if err := jsonx.Unmarshal(tags, &t.Tags); err != nil {
		return Ticket{}, fmt.Errorf("decode tags of ticket %d: %w", t.ID, err)
	}
	if t.Tags == nil {
		t.Tags = []string{}
	}
	if err := jsonx.Unmarshal(routing, &t.Routing); err != nil {
		return Ticket{}, fmt.Errorf("decode routing of ticket %d: %w", t.ID, err)
	}
	return t, nil
}

func (d *Desk) ticket(ctx context.Context, q querier, id int64) (Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, "SELECT "+ticketColumns+" FROM tickets WHERE id=?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, fmt.Errorf("ticket %d: %w", id, ErrTicketNotFound)
	}
	if err != nil {
		return Ticket{}, fmt.Errorf("read ticket %d: %w", id, err)
	}
	return t, nil
}

const messageColumns = "id, ticket_id, direction, source, native_id, version, author, agent, text, url, created_at, delivery, error, enrichment"

func scanMessage(s scanner) (Message, error) {
	var m Message
	var dir, delivery string
	var author, enrichment []byte
	var created int64
	if err := s.Scan(&m.ID, &m.TicketID, &dir, &m.Source, &m.NativeID, &m.Version, &author, &m.Agent, &m.Text, &m.URL, &created, &delivery, &m.Error, &enrichment); err != nil {
		return Message{}, err
	}
	m.Direction, m.Delivery, m.CreatedAt = Direction(dir), Delivery(delivery), time.Unix(0, created).UTC()
	if len(author) > 0 {
		m.Author = new(listener.Author)
		if err := jsonx.Unmarshal(author, m.Author); err != nil {
			return Message{}, fmt.Errorf("decode message author: %w", err)
		}
	}
	if len(enrichment) > 0 {
		m.Enrichment = new(router.Enrichment)
		if err := jsonx.Unmarshal(enrichment, m.Enrichment); err != nil {
			return Message{}, fmt.Errorf("decode message enrichment: %w", err)
		}
	}
	return m, nil
}

func (d *Desk) message(ctx context.Context, q querier, id int64) (Message, error) {
	m, err := scanMessage(q.QueryRowContext(ctx, "SELECT "+messageColumns+" FROM messages WHERE id=?", id))
	if err != nil {
		return Message{}, fmt.Errorf("read message %d: %w", id, err)
	}
	return m, nil
}

// Ticket returns a ticket with its messages, in order.
func (d *Desk) Ticket(ctx context.Context, id int64) (Ticket, error) {
	t, err := d.ticket(ctx, d.db.R, id)
	if err != nil {
		return Ticket{}, err
	}
	rows, err := d.db.R.QueryContext(ctx, "SELECT "+messageColumns+" FROM messages WHERE ticket_id=? ORDER BY id", id)
	if err != nil {
		return Ticket{}, fmt.Errorf("read messages of ticket %d: %w", id, err)
	}
	defer rows.Close()
	t.Messages = []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return Ticket{}, fmt.Errorf("read messages of ticket %d: %w", id, err)
		}
		t.Messages = append(t.Messages, m)
	}
	return t, rows.Err()
}

// Filter selects tickets. Zero fields select everything.
type Filter struct {
	Queue    string
	Status   Status
	Assignee string
	// SLA selects tickets by SLA status (at_risk, missed, ...).
	SLA sla.State
	// Author selects an author's tickets, as "<source>/<author id>".
	Author string
	// Limit is at most 500; 0 means 50.
	Limit int
	// Cursor continues a previous listing (its NextCursor).
	Cursor string
}

// Page is one page of tickets, newest first.
type Page struct {
	Tickets    []Ticket `json:"tickets"`
	NextCursor string   `json:"next_cursor"`
}

// Tickets lists tickets, newest first, by keyset pagination: a page costs
// the same wherever it is in the list.
func (d *Desk) Tickets(ctx context.Context, f Filter) (Page, error) {
	if f.Limit == 0 {
		f.Limit = 50
	}
	q, args, err := ticketsQuery(f)
	if err != nil {
		return Page{}, err
	}
	rows, err := d.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	page := Page{Tickets: []Ticket{}}
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return Page{}, fmt.Errorf("list tickets: %w", err)
		}
		page.Tickets = append(page.Tickets, t)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("list tickets: %w", err)
	}
	if len(page.Tickets) > f.Limit {
		page.Tickets = page.Tickets[:f.Limit]
		page.NextCursor = encodeCursor(page.Tickets[f.Limit-1].ID)
	}
	return page, nil
}

// ticketsQuery checks f and returns the query listing its page, one ticket
// more than f.Limit to tell whether another page follows.
func ticketsQuery(f Filter) (string, []any, error) {
	if f.Limit < 1 || f.Limit > 500 {
		return "", nil, fmt.Errorf("%w: limit must be between 1 and 500", ErrInvalid)
	}
	if f.Status != "" && !f.Status.Valid() {
		return "", nil, fmt.Errorf("%w: status %q: want open, assigned, pending or resolved", ErrInvalid, f.Status)
	}
	var where []string
	var args []any
	if f.Queue != "" {
		where, args = append(where, "queue=?"), append(args, f.Queue)
	}
	if f.Status != "" {
		where, args = append(where, "status=?"), append(args, string(f.Status))
	}
	if f.Assignee != "" {
		where, args = append(where, "assignee=?"), append(args, f.Assignee)
	}
	if f.SLA != "" {
		switch f.SLA {
		case sla.StateNone, sla.StateActive, sla.StateAtRisk, sla.StatePaused, sla.StateHit, sla.StateMissed:
		default:
			return "", nil, fmt.Errorf("%w: sla %q: want none, active, at_risk, paused, hit or missed", ErrInvalid, f.SLA)
		}
		where, args = append(where, "sla_status=?"), append(args, string(f.SLA))
	}
	if f.Author != "" {
		source, id, ok := strings.Cut(f.Author, "/")
		if !ok || source == "" || id == "" {
			return "", nil, fmt.Errorf("%w: author %q: want <source>/<author id>", ErrInvalid, f.Author)
		}
		where, args = append(where, "source=? AND author_id=?"), append(args, source, id)
	}
	if f.Cursor != "" {
		before, err := decodeCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		where, args = append(where, "id<?"), append(args, before)
	}
	q := "SELECT " + ticketColumns + " FROM tickets"
	if f.Author != "" {
		// An author has few tickets: read them all and sort, rather than
		// walk another filter's index through everyone's.
		q += " INDEXED BY tickets_thread"
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	return q, append(args, f.Limit+1), nil
}

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("t:" + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), "t:"); ok {
			if id, err := strconv.ParseInt(rest, 10, 64); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: cursor: not one this server gave", ErrInvalid)
}

// QueueStat is a queue's load.
type QueueStat struct {
	Name              string  `json:"name"`
	Open              int     `json:"open"`
	Assigned          int     `json:"assigned"`
	Pending           int     `json:"pending"`
	OldestWaitSeconds float64 `json:"oldest_wait_seconds"`
}

// Queues returns every queue that has tickets or is named in known, with
// its counts; "open" counts tickets not yet answered or owned.
func (d *Desk) Queues(ctx context.Context, known []string) ([]QueueStat, error) {
	rows, err := d.db.R.QueryContext(ctx, `SELECT queue,
		SUM(status='open'), SUM(status='assigned'), SUM(status='pending'),
		MIN(CASE WHEN status='open' THEN created_at END)
		FROM tickets WHERE status != 'resolved' GROUP BY queue`)
	if err != nil {
		return nil, fmt.Errorf("queue stats: %w", err)
	}
	defer rows.Close()
	byName := map[string]*QueueStat{}
	var out []QueueStat
	for _, k := range known {
		if _, ok := byName[k]; !ok {
			out = append(out, QueueStat{Name: k})
			byName[k] = nil
		}
	}
	now := time.Now()
	stats := map[string]QueueStat{}
	for rows.Next() {
		var q QueueStat
		var oldest sql.NullInt64
		if err := rows.Scan(&q.Name, &q.Open, &q.Assigned, &q.Pending, &oldest); err != nil {
			return nil, fmt.Errorf("queue stats: %w", err)
		}
		if oldest.Valid {
			q.OldestWaitSeconds = now.Sub(time.Unix(0, oldest.Int64)).Seconds()
		}
		stats[q.Name] = q
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue stats: %w", err)
	}
	for i := range out {
		if s, ok := stats[out[i].Name]; ok {
			out[i] = s
			delete(stats, out[i].Name)
		}
	}
	for _, s := range stats {
		out = append(out, s)
	}
	return out, nil
}

// MaxTextBytes bounds a reply or a note.
const MaxTextBytes = 16 << 10

func checkText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return fmt.Errorf("%w: text: empty", ErrInvalid)
	case !utf8.ValidString(text):
		return fmt.Errorf("%w: text: invalid UTF-8", ErrInvalid)
	case len(text) > MaxTextBytes:
		return fmt.Errorf("%w: text: longer than %d bytes", ErrInvalid, MaxTextBytes)
	}
	return nil
}

// update runs a change to one ticket and emits ticket.updated.
func (d *Desk) update(ctx context.Context, id int64, actor string, change Change, fn func(tx *sqlite.Tx, t *Ticket, now time.Time) (*Message, error)) (Ticket, *Message, error) {
	var out Ticket
	var msg *Message
	_, err := d.tx(ctx, func(tx *sqlite.Tx, ev *eventBuf) error {
		t, err := d.ticket(ctx, tx, id)
		if err != nil {
			return err
		}
		now := d.now()
		msg, err = fn(tx, &t, now)
		if err != nil {
			return err
		}
		t.UpdatedAt = now
		out, err = d.saveChange(ctx, tx, ev, TicketData{Ticket: t, Change: change, Actor: actor, Message: msg}, now)
		return err
	})
	if err != nil {
		return Ticket{}, nil, err
	}
	d.metrics.actions.WithLabelValues(string(change)).Inc()
	return out, msg, nil
}

// Assign gives a ticket to agent (the actor when agent is empty).
func (d *Desk) Assign(ctx context.Context, id int64, actor, agent string) (Ticket, error) {
	if agent == "" {
		agent = actor
	}
	if agent == "" {
		return Ticket{}, fmt.Errorf("%w: agent: required", ErrInvalid)
	}
	t, _, err := d.update(ctx, id, actor, ChangeAssigned, func(tx *sqlite.Tx, t *Ticket, now time.Time) (*Message, error) {
		if t.Status == StatusResolved {
			return nil, fmt.Errorf("%w: ticket %d is resolved", ErrConflict, t.ID)
		}
		t.Assignee = agent
		if t.Status == StatusOpen {
			t.Status = StatusAssigned
		}
		return nil, nil
	})
	return t, err
}

// ErrOwnedByOther is returned when an agent replies to a ticket assigned to
// someone else without confirming: two agents must not answer the same
// customer at cross purposes.
var ErrOwnedByOther = fmt.Errorf("%w: assigned to another agent", ErrConflict)

// ReplyOptions qualify a reply.
type ReplyOptions struct {
	// Confirm sends the reply even when the ticket is someone else's.
	Confirm bool
	// Tags are added to the ticket, and Resolve resolves it, in the same
	// change (a macro).
	Tags    []string
	Resolve bool
}

// Reply records an agent's reply and queues it for posting on the ticket's
// network. The ticket then waits on the customer.
func (d *Desk) Reply(ctx context.Context, id int64, actor, text string) (Ticket, Message, error) {
	return d.ReplyWith(ctx, id, actor, text, ReplyOptions{Confirm: true})
}

// ReplyWith is Reply with options.
func (d *Desk) ReplyWith(ctx context.Context, id int64, actor, text string, opt ReplyOptions) (Ticket, Message, error) {
	if err := checkText(text); err != nil {
		return Ticket{}, Message{}, err
	}
	if actor == "" {
		return Ticket{}, Message{}, fmt.Errorf("%w: a reply needs a person behind it", ErrInvalid)
	}
	t, msg, err := d.update(ctx, id, actor, ChangeReplied, func(tx *sqlite.Tx, t *Ticket, now time.Time) (*Message, error) {
		if t.Assignee != "" && t.Assignee != actor && !opt.Confirm {
			return nil, fmt.Errorf("ticket %d is assigned to %s (send again with confirm to reply anyway): %w", t.ID, t.Assignee, ErrOwnedByOther)
		}
		var replyTo, conv string
		err := tx.QueryRowContext(ctx, "SELECT native_id, conversation FROM messages WHERE ticket_id=? AND direction='in' ORDER BY id DESC LIMIT 1", t.ID).Scan(&replyTo, &conv)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("find the post to answer: %w", err)
		}
		m := &Message{TicketID: t.ID, Direction: Outbound, Source: t.Source, Agent: actor, Text: text, CreatedAt: now, Delivery: DeliveryPending}
		if conv == "" {
			conv = t.Conversation
		}
		if err := insertMessage(ctx, tx, m, conv); err != nil {
			return nil, err
		}
		key := fmt.Sprintf("vigie-%d-%d", t.ID, m.ID)
		if _, err := tx.ExecContext(ctx, "INSERT INTO outbox(message_id, ticket_id, source, reply_to, text, idempotency_key, status, next_at) VALUES(?,?,?,?,?,?,?,?)",
			m.ID, t.ID, t.Source, replyTo, text, key, string(DeliveryPending), now.UnixNano()); err != nil {
			return nil, fmt.Errorf("queue reply: %w", err)
		}
		if t.FirstResponseAt == nil {
			t.FirstResponseAt = &now
		}
		if t.Assignee == "" {
			t.Assignee = actor
		}
		t.Status = StatusPending
		t.MessageCount++
		for _, tag := range opt.Tags {
			if !containsString(t.Tags, tag) {
				t.Tags = append(t.Tags, tag)
			}
		}
		if opt.Resolve {
			t.Status = StatusResolved
			t.ResolvedAt = &now
		}
		return m, nil
	})
	if err != nil {
		return Ticket{}, Message{}, err
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return t, *msg, nil
}

// AddNote adds an internal note, never posted.
func (d *Desk) AddNote(ctx context.Context, id int64, actor, text string) (Ticket, Message, error) {
	if err := checkText(text); err != nil {
		return Ticket{}, Message{}, err
	}
	t, msg, err := d.update(ctx, id, actor, ChangeNote, func(tx *sqlite.Tx, t *Ticket, now time.Time) (*Message, error) {
		m := &Message{TicketID: t.ID, Direction: Note, Source: t.Source, Agent: actor, Text: text, CreatedAt: now}
		return m, insertMessage(ctx, tx, m, t.Conversation)
	})
	if err != nil {
		return Ticket{}, Message{}, err
	}
	return t, *msg, nil
}

// Resolve closes a ticket. A follow-up within the reopen window reopens it.
func (d *Desk) Resolve(ctx context.Context, id int64, actor string) (Ticket, error) {
	t, _, err := d.update(ctx, id, actor, ChangeResolved, func(tx *sqlite.Tx, t *Ticket, now time.Time) (*Message, error) {
		if t.Status == StatusResolved {
			return nil, fmt.Errorf("%w: ticket %d is already resolved", ErrConflict, t.ID)
		}
		t.Status = StatusResolved
		t.ResolvedAt = &now
		return nil, nil
	})
	return t, err
}

// saveChange saves a change made to td's ticket in tx, with its effect on
// the SLA (slaWith), and emits its ticket.updated. It returns the ticket as
// saved.
func (d *Desk) saveChange(ctx context.Context, tx *sqlite.Tx, ev *eventBuf, td TicketData, now time.Time) (Ticket, error) {
	if err := d.slaWith(ctx, tx, &td, now); err != nil {
		return Ticket{}, err
	}
	if err := saveTicket(ctx, tx, &td.Ticket); err != nil {
		return Ticket{}, err
	}
	t := td.Ticket
	return t, ev.add(EventTicketUpdated, TopicTickets, t.Queue, t.ID, "", "", now, time.Time{}, td)
}

// MaxBulk is the most tickets one bulk action takes.
const MaxBulk = 500

// Bulk is the outcome of a bulk action, by ticket id, in the order asked.
type Bulk struct {
	// Done are the tickets the action changed.
	Done []int64 `json:"done"`
	// Conflicts are the tickets whose state the action does not fit (already
	// resolved, for a resolve), left as they were.
	Conflicts []int64 `json:"conflicts"`
	// NotFound are the ids the desk does not hold.
	NotFound []int64 `json:"not_found"`
	// Failed are the tickets an error left as they were, after others were
	// done: the action may be tried again for them. Error says why.
	Failed []int64 `json:"failed"`
	Error  string  `json:"error,omitempty"`
}

// resolveChunk bounds the tickets a bulk resolve changes in one
// transaction. The desk's lock is held for a transaction, and the router's
// batches wait for it: 500 resolves in one took 63-79 ms on a quiet desk
// (BenchmarkBulkResolve), and a post arriving meanwhile waited for all of
// it.
const resolveChunk = 25

// ResolveMany resolves tickets: a wave of spam, or a queue's worth of
// answered questions, closed at once. Each resolved ticket gets its own
// ticket.updated, as from Resolve. Tickets already resolved and unknown ids
// are reported, not errors; ids must be positive, at most MaxBulk, and are
// taken once each.
//
// It commits resolveChunk tickets at a time, letting the router's batches
// in between two, and fsyncs once at the end. An error in the first chunk
// is returned, nothing changed; an error in a later one ends the action,
// and the tickets not reached are reported as Failed, with the error. When
// the final fsync fails, the error wraps ErrNotDurable and the Bulk still
// says what was resolved.
func (d *Desk) ResolveMany(ctx context.Context, ids []int64, actor string) (Bulk, error) {
	empty := func() Bulk {
		return Bulk{Done: []int64{}, Conflicts: []int64{}, NotFound: []int64{}, Failed: []int64{}}
	}
	out := empty()
	switch {
	case len(ids) == 0:
		return out, fmt.Errorf("%w: ids: empty", ErrInvalid)
	case len(ids) > MaxBulk:
		return out, fmt.Errorf("%w: ids: %d tickets, at most %d at once", ErrInvalid, len(ids), MaxBulk)
	}
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		if id <= 0 {
			return out, fmt.Errorf("%w: ids: ticket id %d is not a positive integer", ErrInvalid, id)
		}
		if seen[id] {
			return out, fmt.Errorf("%w: ids: ticket %d is given twice", ErrInvalid, id)
		}
		seen[id] = true
	}
	size := resolveChunk
	if d.bulkChunk > 0 {
		size = d.bulkChunk
	}
	for from := 0; from < len(ids); from += size {
		if from > 0 {
			if d.betweenChunks != nil {
				d.betweenChunks()
			}
			// The router's batch waiting on the lock takes it now (a
			// mutex hands itself over to a waiter of more than a
			// millisecond); a shorter wait gets its turn here.
			runtime.Gosched()
		}
		chunk := ids[from:min(from+size, len(ids))]
		part := empty()
		_, err := d.commit(ctx, func(tx *sqlite.Tx, ev *eventBuf) error {
			now := d.now()
			for _, id := range chunk {
				t, err := d.ticket(ctx, tx, id)
				if errors.Is(err, ErrTicketNotFound) {
					part.NotFound = append(part.NotFound, id)
					continue
				}
				if err != nil {
					return err
				}
				if t.Status == StatusResolved {
					part.Conflicts = append(part.Conflicts, id)
					continue
				}
				t.Status, t.ResolvedAt, t.UpdatedAt = StatusResolved, &now, now
				if _, err := d.saveChange(ctx, tx, ev, TicketData{Ticket: t, Change: ChangeResolved, Actor: actor}, now); err != nil {
					return err
				}
				part.Done = append(part.Done, id)
			}
			return nil
		})
		if err != nil && from == 0 {
			return empty(), err
		}
		if err != nil {
			out.Failed = append(out.Failed, ids[from:]...)
			out.Error = err.Error()
			break
		}
		out.Done = append(out.Done, part.Done...)
		out.Conflicts = append(out.Conflicts, part.Conflicts...)
		out.NotFound = append(out.NotFound, part.NotFound...)
	}
	d.metrics.actions.WithLabelValues(string(ChangeResolved)).Add(float64(len(out.Done)))
	if err := d.syncWAL(); err != nil {
		// The tickets are resolved for everyone: say which.
		return out, fmt.Errorf("%w: %w", ErrNotDurable, err)
	}
	return out, nil
}
