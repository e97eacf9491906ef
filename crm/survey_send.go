package crm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/vigie/vigie/desk"
)

// SurveySender posts a survey message to the customer on the ticket's
// network, through the desk's outbox like an agent's reply, but as a
// message from no person: it never counts as a first response. key is the
// same on every attempt for one ticket; a second call with it queues
// nothing (queued false), even across restarts. (*desk.Desk).SystemReply
// is one; the CRM finds it on its Publisher by type assertion. It must be
// safe for concurrent use.
type SurveySender interface {
	SystemReply(ctx context.Context, ticketID int64, text, key string) (msg desk.Message, queued bool, err error)
}

// Survey send states (surveys.send_status).
const (
	sendPending = "pending" // to send
	sendSent    = "sent"    // queued in the desk's outbox, which posts it
	sendFailed  = "failed"  // the desk refused it for good (send_error says why)
	sendExpired = "expired" // not sent before the survey expired
)

// surveyKey is the idempotency key of a ticket's survey message: one
// survey per ticket, and ticket ids are the desk's, so that a CRM rebuilt
// from the log never sends a survey twice.
func surveyKey(ticketID int64) string { return "vigie-csat-" + strconv.FormatInt(ticketID, 10) }

// runSurveys sends the surveys recorded, oldest first, retrying with
// back-off while the desk fails.
func (c *CRM) runSurveys(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		n, err := c.SendSurveys(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			c.log.Error("survey_send_failed", "error", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, 30*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if n > 0 {
			continue
		}
		select {
		case <-c.wakeSurveys:
		case <-ctx.Done():
			return
		}
	}
}

// SendSurveys sends up to 50 pending survey messages through the sender
// and returns how many it settled (sent, failed for good, or expired).
// Run calls it; tests call it to send synchronously. Without a sender it
// does nothing.
func (c *CRM) SendSurveys(ctx context.Context) (int, error) {
	if c.sender == nil {
		return 0, nil
	}
	rows, err := c.db.R.QueryContext(ctx, "SELECT ticket_id, expires_at FROM surveys WHERE send_status='pending' ORDER BY id LIMIT 50")
	if err != nil {
		return 0, fmt.Errorf("read surveys to send: %w", err)
	}
	type todo struct{ ticketID, expires int64 }
	var batch []todo
	for rows.Next() {
		var t todo
		if err := rows.Scan(&t.ticketID, &t.expires); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read surveys to send: %w", err)
		}
		batch = append(batch, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read surveys to send: %w", err)
	}
	for i, t := range batch {
		status, errText := sendSent, ""
		if !c.cfg.Now().Before(timeOf(t.expires)) {
			status = sendExpired
		} else {
			msg, err := c.SurveyMessage(ctx, t.ticketID)
			if errors.Is(err, ErrNotFound) {
				// Erased meanwhile, or the queue lost its template.
				status, errText = sendFailed, err.Error()
			} else if err != nil {
				return i, err
			} else if _, _, err := c.sender.SystemReply(ctx, t.ticketID, msg.Text, surveyKey(t.ticketID)); err != nil {
				if !errors.Is(err, desk.ErrTicketNotFound) && !errors.Is(err, desk.ErrNotFound) && !errors.Is(err, desk.ErrInvalid) {
					return i, fmt.Errorf("send the survey of ticket %d: %w", t.ticketID, err)
				}
				status, errText = sendFailed, err.Error()
			}
		}
		c.metrics.surveys.WithLabelValues("send_" + status).Inc()
		c.mu.Lock()
		_, err := c.db.Exec(ctx, "UPDATE surveys SET send_status=?, send_error=?, sent_at=? WHERE ticket_id=? AND send_status='pending'",
			status, errText, c.cfg.Now().UnixNano(), t.ticketID)
		c.mu.Unlock()
		if err != nil {
			return i, fmt.Errorf("record the survey sent: %w", err)
		}
	}
	return len(batch), nil
}
