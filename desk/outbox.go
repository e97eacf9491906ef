package desk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
)

// Reply is an agent's answer to post on a network.
type Reply struct {
	Source   string
	TicketID int64
	// InReplyTo is the native id of the customer's post being answered.
	InReplyTo string
	Text      string
	// IdempotencyKey is the same on every attempt of the same reply, so that
	// a platform offering idempotency never posts it twice.
	IdempotencyKey string
}

// Replier posts replies to the networks. Post returns the platform's id of
// the new post. An error wrapping ErrPermanent is not retried.
// Implementations are safe for concurrent use.
type Replier interface {
	Post(ctx context.Context, r Reply) (externalID string, err error)
}

// ErrPermanent marks a reply failure that a retry will not fix (the platform
// refuses replies, the post is gone).
var ErrPermanent = errors.New("permanent failure")

// Sandbox is the Replier used until a network's connector is configured: it
// posts nothing and records every reply, so that the demo and the tests can
// see what would have gone out.
type Sandbox struct {
	mu    sync.Mutex
	posts []Reply
	keys  map[string]string
}

// NewSandbox returns an empty Sandbox.
func NewSandbox() *Sandbox { return &Sandbox{keys: map[string]string{}} }

// Post records r; the same idempotency key gives the same id once.
func (s *Sandbox) Post(_ context.Context, r Reply) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.keys[r.IdempotencyKey]; ok {
		return id, nil
	}
	s.posts = append(s.posts, r)
	id := "sandbox-" + strconv.Itoa(len(s.posts))
	s.keys[r.IdempotencyKey] = id
	return id, nil
}

// Posts returns what was posted, in order.
func (s *Sandbox) Posts() []Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Reply(nil), s.posts...)
}

const maxDeliveryAttempts = 8

// runOutbox posts queued replies, oldest first, retrying with back-off.
func (d *Desk) runOutbox(ctx context.Context) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for {
			n, err := d.deliverDue(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				d.log.Error("outbox_failed", "error", err)
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.wake:
		case <-tick.C:
		}
	}
}

type outboxItem struct {
	id, messageID, ticketID int64
	attempts                int
	reply                   Reply
}

func (d *Desk) deliverDue(ctx context.Context) (int, error) {
	rows, err := d.db.R.QueryContext(ctx, "SELECT id, message_id, ticket_id, source, reply_to, text, idempotency_key, attempts FROM outbox WHERE status='pending' AND next_at <= ? ORDER BY id LIMIT 32", time.Now().UnixNano())
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	var items []outboxItem
	for rows.Next() {
		var it outboxItem
		if err := rows.Scan(&it.id, &it.messageID, &it.ticketID, &it.reply.Source, &it.reply.InReplyTo, &it.reply.Text, &it.reply.IdempotencyKey, &it.attempts); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read outbox: %w", err)
		}
		it.reply.TicketID = it.ticketID
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	for _, it := range items {
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		extID, perr := d.replier.Post(pctx, it.reply)
		cancel()
		if err := d.recordDelivery(ctx, it, extID, perr); err != nil {
			return 0, err
		}
	}
	return len(items), nil
}

func (d *Desk) recordDelivery(ctx context.Context, it outboxItem, extID string, perr error) error {
	attempts := it.attempts + 1
	outcome := "sent"
	switch {
	case perr == nil:
	case errors.Is(perr, ErrPermanent) || attempts >= maxDeliveryAttempts:
		outcome = "failed"
	default:
		outcome = "retry"
	}
	d.metrics.deliveries.WithLabelValues(it.reply.Source, outcome).Inc()
	if outcome == "retry" {
		backoff := time.Duration(1<<min(attempts, 10)) * time.Second
		_, err := d.db.Exec(ctx, "UPDATE outbox SET attempts=?, next_at=?, error=? WHERE id=?", attempts, time.Now().Add(backoff).UnixNano(), perr.Error(), it.id)
		if err != nil {
			return fmt.Errorf("reschedule reply: %w", err)
		}
		return nil
	}
	_, _, err := d.update(ctx, it.ticketID, "", ChangeDelivery, func(tx *sqlite.Tx, t *Ticket, now time.Time) (*Message, error) {
		status, errText := DeliverySent, ""
		if perr != nil {
			status, errText = DeliveryFailed, perr.Error()
		}
		if _, err := tx.ExecContext(ctx, "UPDATE outbox SET status=?, attempts=?, error=?, external_id=? WHERE id=?", string(status), attempts, errText, extID, it.id); err != nil {
			return nil, fmt.Errorf("record delivery: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE messages SET delivery=?, error=?, native_id=? WHERE id=?", string(status), errText, extID, it.messageID); err != nil {
			return nil, fmt.Errorf("record delivery: %w", err)
		}
		m, err := d.message(ctx, tx, it.messageID)
		if err != nil {
			return nil, err
		}
		return &m, nil
	})
	return err
}
