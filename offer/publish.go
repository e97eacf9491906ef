package offer

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/pause"
)

// publishBatch bounds the events one pass of the publisher takes.
const publishBatch = 256

// publishLoop hands the outbox's events to the desk, in order, until ctx is
// done. An event leaves the outbox only once published: a crash in between
// publishes it again (consumers drop repeats by decision id).
func (e *Engine) publishLoop(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		n, err := e.publishOnce(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e.log.Error("offer_publish_failed", "error", err, "retry_in", backoff)
			if err := pause.For(ctx, backoff); err != nil {
				return err
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if n == publishBatch {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.wakePublish:
		}
	}
}

func (e *Engine) publishOnce(ctx context.Context) (int, error) {
	rows, err := e.db.R.QueryContext(ctx, "SELECT id, type, data FROM outbox ORDER BY id LIMIT ?", publishBatch)
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	type event struct {
		id   int64
		typ  string
		data json.RawMessage
	}
	var evs []event
	for rows.Next() {
		var ev event
		if err := rows.Scan(&ev.id, &ev.typ, &ev.data); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read outbox: %w", err)
		}
		evs = append(evs, ev)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	for _, ev := range evs {
		var err error
		if pf, ok := e.pub.(personPublisher); ok {
			// Tagged with the person, so that an erasure wipes it from the
			// desk's log.
			var who struct {
				Source string `json:"source"`
				UserID string `json:"user_id"`
			}
			json.Unmarshal(ev.data, &who)
			_, err = pf.PublishFor(ctx, desk.EventType(ev.typ), desk.TopicOffers, who.Source, who.UserID, ev.data)
		} else {
			_, err = e.pub.Publish(ctx, desk.EventType(ev.typ), desk.TopicOffers, ev.data)
		}
		if err != nil {
			return 0, fmt.Errorf("publish %s: %w", ev.typ, err)
		}
		if _, err := e.db.Exec(ctx, "DELETE FROM outbox WHERE id = ?", ev.id); err != nil {
			return 0, fmt.Errorf("clear outbox: %w", err)
		}
	}
	return len(evs), nil
}

// personPublisher is the optional capability of a Publisher to tag an event
// with the person it is about (*desk.Desk has it).
type personPublisher interface {
	PublishFor(ctx context.Context, typ desk.EventType, topic desk.Topic, source, authorID string, data any) (desk.Event, error)
}
