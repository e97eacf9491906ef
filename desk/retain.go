package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
)

// EventRetentionApplied is published once a retention sweep has expired the
// desk's raw content older than its cutoff; the sinks (search, archive)
// expire theirs when they read it, in order with everything else.
const EventRetentionApplied EventType = "retention.applied"

// RetentionData is the payload of retention.applied.
type RetentionData struct {
	// Before is the cutoff: content of posts and messages created before it
	// is gone.
	Before time.Time `json:"before"`
	// What this sweep changed in the desk.
	Messages int64 `json:"messages"`
	Events   int64 `json:"events"`
	Tickets  int64 `json:"tickets"`
}

// expired replaces the text of messages and events a retention sweep
// expired.
const expired = "[expired]"

// retainChunk bounds the rows one retention transaction rewrites, so that
// the router's applies (which share the desk's lock) wait at most a chunk.
const retainChunk = 1000

// State rows holding the retention watermarks: every message (event) up to
// the id (seq) stored there that was created before the last cutoff has
// been expired.
const (
	stateRetainMessage = "retention_message_id"
	stateRetainEvent   = "retention_event_seq"
)

// Retain expires the raw content the desk holds about posts created before
// `before`, like an erasure by age: message texts and URLs become
// "[expired]", authors keep only their id, events carrying mentions or
// ticket messages are redacted as an erasure redacts them, and routing
// traces (which quote matched words) are dropped. Everything KPIs count —
// tickets, their queues, statuses, priorities, sentiment, times, the events
// with their types and times — stays. It then publishes retention.applied,
// for the sinks to do the same, and returns what it changed.
func (d *Desk) Retain(ctx context.Context, before time.Time) (RetentionData, error) {
	res := RetentionData{Before: before.UTC()}
	cut := before.UnixNano()
	// Tickets, then messages, then events, each in its own transactions:
	// an event the desk writes meanwhile (a delivery, a note) copies the
	// ticket and the message from the database, so one written after a
	// step holds what that step expired, and one written before the
	// events step is expired by it.
	_, err := d.tx(ctx, func(tx *sqlite.Tx, _ *eventBuf) error {
		r, err := tx.ExecContext(ctx, `UPDATE tickets SET
				author = json_object('id', json_extract(author, '$.id')),
				routing = json_set(routing, '$.trace', json('[]'))
			WHERE updated_at < ? AND (author != json_object('id', json_extract(author, '$.id'))
				OR json_array_length(routing, '$.trace') > 0)
				AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.ticket_id = tickets.id AND m.created_at >= ?)`, cut, cut)
		if err != nil {
			return fmt.Errorf("retention: expire tickets: %w", err)
		}
		res.Tickets, _ = r.RowsAffected()
		return nil
	})
	if err != nil {
		return res, err
	}
	if res.Messages, err = d.retainMessages(ctx, cut); err != nil {
		return res, err
	}
	if res.Events, err = d.retainEvents(ctx, cut); err != nil {
		return res, err
	}
	_, err = d.tx(ctx, func(tx *sqlite.Tx, ev *eventBuf) error {
		return ev.add(EventRetentionApplied, TopicAdmin, "", 0, "", "", d.now(), time.Time{}, res)
	})
	if err != nil {
		return res, err
	}
	d.metrics.retained.WithLabelValues("messages").Add(float64(res.Messages))
	d.metrics.retained.WithLabelValues("events").Add(float64(res.Events))
	d.metrics.retained.WithLabelValues("tickets").Add(float64(res.Tickets))
	return res, nil
}

// watermark reads a retention watermark from the state table.
func watermark(ctx context.Context, tx *sqlite.Tx, name string) (int64, error) {
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT value FROM state WHERE name = ?`, name).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("retention: read %s: %w", name, err)
	}
	return v, nil
}

func setWatermark(ctx context.Context, tx *sqlite.Tx, name string, v int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO state(name, value) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value`, name, v); err != nil {
		return fmt.Errorf("retention: write %s: %w", name, err)
	}
	return nil
}

// retainChunks runs step in transactions until it reports it is done, and
// sums what it changed.
func (d *Desk) retainChunks(ctx context.Context, step func(tx *sqlite.Tx) (changed int64, done bool, err error)) (int64, error) {
	var total int64
	for {
		var (
			n    int64
			done bool
		)
		_, err := d.tx(ctx, func(tx *sqlite.Tx, _ *eventBuf) error {
			var err error
			n, done, err = step(tx)
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if done {
			return total, nil
		}
	}
}

// retainMessages expires the messages created before cut, from the
// watermark on, stopping at the first younger one so that the watermark
// never passes a message still to expire.
func (d *Desk) retainMessages(ctx context.Context, cut int64) (int64, error) {
	return d.retainChunks(ctx, func(tx *sqlite.Tx) (int64, bool, error) {
		wm, err := watermark(ctx, tx, stateRetainMessage)
		if err != nil {
			return 0, false, err
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, created_at FROM messages WHERE id > ? ORDER BY id LIMIT ?`, wm, retainChunk)
		if err != nil {
			return 0, false, fmt.Errorf("retention: read messages: %w", err)
		}
		var ids []any
		last, seen, young := wm, 0, false
		for rows.Next() {
			var id, at int64
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return 0, false, fmt.Errorf("retention: read message: %w", err)
			}
			seen++
			if at >= cut {
				young = true
				break
			}
			ids, last = append(ids, id), id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, false, fmt.Errorf("retention: read messages: %w", err)
		}
		var n int64
		if len(ids) > 0 {
			r, err := tx.ExecContext(ctx, `UPDATE messages SET text = ?, url = '',
					author = CASE WHEN author IS NULL THEN NULL ELSE json_object('id', json_extract(author, '$.id')) END,
					enrichment = CASE WHEN enrichment IS NULL THEN NULL ELSE json_remove(enrichment, '$.sentiment_terms', '$.intent_terms') END
				WHERE id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, append([]any{expired}, ids...)...)
			if err != nil {
				return 0, false, fmt.Errorf("retention: expire messages: %w", err)
			}
			n, _ = r.RowsAffected()
			// The outbox keeps a copy of replies: expire those no longer
			// pending.
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET text = ? WHERE status != 'pending' AND message_id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`,
				append([]any{expired}, ids...)...); err != nil {
				return 0, false, fmt.Errorf("retention: expire outbox: %w", err)
			}
		}
		if last > wm {
			if err := setWatermark(ctx, tx, stateRetainMessage, last); err != nil {
				return 0, false, err
			}
		}
		return n, young || seen < retainChunk, nil
	})
}

// retainEvents redacts the events older than cut that carry a post or a
// person (mention.received, ticket.created and ticket.updated with their
// message, events about an author), from the watermark on.
func (d *Desk) retainEvents(ctx context.Context, cut int64) (int64, error) {
	return d.retainChunks(ctx, func(tx *sqlite.Tx) (int64, bool, error) {
		d.dropTail()
		wm, err := watermark(ctx, tx, stateRetainEvent)
		if err != nil {
			return 0, false, err
		}
		rows, err := tx.QueryContext(ctx, `SELECT seq, type, at, author_ref, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, wm, retainChunk)
		if err != nil {
			return 0, false, fmt.Errorf("retention: read events: %w", err)
		}
		type ev struct {
			seq  int64
			typ  EventType
			data []byte
		}
		var evs []ev
		last, seen, young := wm, 0, false
		for rows.Next() {
			var e ev
			var at int64
			var typ, authorRef string
			if err := rows.Scan(&e.seq, &typ, &at, &authorRef, &e.data); err != nil {
				rows.Close()
				return 0, false, fmt.Errorf("retention: read event: %w", err)
			}
			seen++
			if at >= cut {
				young = true
				break
			}
			last, e.typ = e.seq, EventType(typ)
			switch {
			case e.typ == EventMentionReceived, e.typ == EventTicketCreated, e.typ == EventTicketUpdated, authorRef != "":
				evs = append(evs, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, false, fmt.Errorf("retention: read events: %w", err)
		}
		for _, e := range evs {
			red, err := redactWith(e.typ, e.data, expired)
			if err != nil {
				return 0, false, fmt.Errorf("retention: redact event %d: %w", e.seq, err)
			}
			// ref and author_ref stay: a later erasure still finds the
			// person's events.
			if _, err := tx.ExecContext(ctx, `UPDATE events SET data = ? WHERE seq = ?`, red, e.seq); err != nil {
				return 0, false, fmt.Errorf("retention: redact event %d: %w", e.seq, err)
			}
		}
		if last > wm {
			if err := setWatermark(ctx, tx, stateRetainEvent, last); err != nil {
				return 0, false, err
			}
		}
		return int64(len(evs)), young || seen < retainChunk, nil
	})
}
