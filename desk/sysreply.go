package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
)

// errQueuedBefore aborts a system reply whose key the outbox holds already.
var errQueuedBefore = errors.New("queued before")

// SystemReply queues a message from the brand, written by no person (a
// CSAT survey after a resolution), for posting on the ticket's network
// through the same outbox as the agents' replies. Like a rule's automatic
// reply it is no response: it sets no first response, changes neither the
// status nor the assignee, and its event has no actor (the archive does not
// count it).
//
// key identifies the message: a second call with the same key, even after
// a restart, queues nothing and returns queued false with the message
// queued the first time. It is also the platform's idempotency key.
func (d *Desk) SystemReply(ctx context.Context, id int64, text, key string) (msg Message, queued bool, err error) {
	if err := checkText(text); err != nil {
		return Message{}, false, err
	}
	if key == "" || len(key) > 200 {
		return Message{}, false, fmt.Errorf("%w: key: 1 to 200 bytes", ErrInvalid)
	}
	var prev int64
	_, m, err := d.update(ctx, id, "", ChangeReplied, func(tx *sqlite.Tx, t *Ticket, now time.Time) (*Message, error) {
		err := tx.QueryRowContext(ctx, "SELECT message_id FROM outbox WHERE idempotency_key=?", key).Scan(&prev)
		if err == nil {
			return nil, errQueuedBefore
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("look up system reply: %w", err)
		}
		var replyTo, conv string
		err = tx.QueryRowContext(ctx, "SELECT native_id, conversation FROM messages WHERE ticket_id=? AND direction='in' ORDER BY id DESC LIMIT 1", t.ID).Scan(&replyTo, &conv)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("find the post to answer: %w", err)
		}
		if conv == "" {
			conv = t.Conversation
		}
		m := &Message{TicketID: t.ID, Direction: Outbound, Source: t.Source, Text: text, CreatedAt: now, Delivery: DeliveryPending}
		if err := insertMessage(ctx, tx, m, conv); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO outbox(message_id, ticket_id, source, reply_to, text, idempotency_key, status, next_at) VALUES(?,?,?,?,?,?,?,?)",
			m.ID, t.ID, t.Source, replyTo, text, key, string(DeliveryPending), now.UnixNano()); err != nil {
			return nil, fmt.Errorf("queue system reply: %w", err)
		}
		t.MessageCount++
		return m, nil
	})
	if errors.Is(err, errQueuedBefore) {
		m, err := d.message(ctx, d.db.R, prev)
		return m, false, err
	}
	if err != nil {
		return Message{}, false, err
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return *m, true, nil
}
