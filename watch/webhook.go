package watch

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigie/vigie/desk"
)

// The headers of a webhook request.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the raw body
	// with the webhook's secret (set only when the webhook has a secret).
	HeaderSignature = "X-Vigie-Signature"
	// HeaderTimestamp is the Unix time, in seconds, of the attempt.
	HeaderTimestamp = "X-Vigie-Timestamp"
	// HeaderDelivery is the delivery's id, the same on every retry:
	// receivers dedupe on it.
	HeaderDelivery = "X-Vigie-Delivery"
	// HeaderEvent is the event type (alert.raised, ...).
	HeaderEvent = "X-Vigie-Event"
)

// The delivery states.
const (
	deliveryPending = "pending"
	deliverySent    = "sent"
	deliveryDead    = "dead"
)

// WebhookPayload is the body of a JSON webhook: the alert event, its type,
// and when it was queued. The alert carries no excerpts of posts: those
// stay in Vigie, where an erasure reaches them.
type WebhookPayload struct {
	Type desk.EventType `json:"type"`
	// QueuedAt is when the delivery was queued; with the signature, it lets
	// a receiver refuse replays of old bodies.
	QueuedAt time.Time `json:"queued_at"`
	// IdempotencyKey names this change of this alert.
	IdempotencyKey string `json:"idempotency_key"`
	AlertEvent
}

// Sign returns the X-Vigie-Signature value of body for secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is body's for secret, in constant time.
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

func wants(h WebhookConfig, c Change, s Severity) bool {
	return slices.Contains(h.Events, c) && s.Rank() >= h.MinSeverity.Rank()
}

// webhookBody renders an alert event in the webhook's format.
func webhookBody(h WebhookConfig, ev AlertEvent, updates int, now time.Time) ([]byte, error) {
	var v any
	switch h.Format {
	case FormatSlack:
		v = slackMessage(ev)
	default:
		v = WebhookPayload{Type: ev.Change.eventType(), QueuedAt: now.UTC(),
			IdempotencyKey: fmt.Sprintf("alert-%d-%s-%d", ev.Alert.ID, ev.Change, updates), AlertEvent: ev}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode webhook %s: %w", h.Name, err)
	}
	return b, nil
}

// slackBlock is one Block Kit block of a Slack message.
type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// slackMessage is a Slack incoming-webhook message: a text fallback and
// blocks (header, reason, figures, context).
func slackMessage(ev AlertEvent) map[string]any {
	a := ev.Alert
	icon := map[Severity]string{SeverityInfo: ":information_source:", SeverityWarning: ":warning:", SeverityCritical: ":rotating_light:"}[a.Severity]
	verb := map[Change]string{ChangeRaised: "Alert", ChangeUpdated: "Updated", ChangeEscalated: "Escalated", ChangeReopened: "Reopened",
		ChangeAcked: "Acknowledged", ChangeResolved: "Resolved"}[ev.Change]
	text := fmt.Sprintf("%s %s [%s] %s", icon, verb, a.Severity, a.Title)
	if ev.Change == ChangeAcked && ev.Actor != "" {
		text += " — by " + ev.Actor
	}
	ex := a.Explanation
	fields := []slackText{
		{"mrkdwn", "*Metric*\n" + ex.Metric},
		{"mrkdwn", fmt.Sprintf("*Observed / threshold*\n%s / %s", num(ex.Observed), num(ex.Threshold))},
		{"mrkdwn", fmt.Sprintf("*Window*\n%s – %s UTC", ex.WindowStart.Format("Jan 2 15:04"), ex.WindowEnd.Format("15:04"))},
	}
	if ex.Baseline != nil {
		fields = append(fields, slackText{"mrkdwn", fmt.Sprintf("*Baseline (%s)*\nmedian %s, σ %s", ex.Baseline.Kind, num(ex.Baseline.Median), num(ex.Baseline.Sigma))})
	}
	blocks := []slackBlock{
		{Type: "header", Text: &slackText{"plain_text", truncate(fmt.Sprintf("%s %s: %s", verb, a.Severity, a.Title), 150)}},
		{Type: "section", Text: &slackText{"mrkdwn", ex.Reason}},
		{Type: "section", Fields: fields},
	}
	var ctx []string
	if len(ex.TopTerms) > 0 {
		var ts []string
		for _, t := range ex.TopTerms {
			ts = append(ts, fmt.Sprintf("%s (%d)", t.Term, t.Count))
		}
		ctx = append(ctx, "Top terms: "+strings.Join(ts, ", "))
	}
	var links []string
	for _, s := range ex.Samples {
		if s.URL != "" {
			links = append(links, fmt.Sprintf("<%s|%s>", s.URL, s.Source))
		}
	}
	if len(links) > 0 {
		ctx = append(ctx, "Posts: "+strings.Join(links, " "))
	}
	ctx = append(ctx, fmt.Sprintf("Alert #%d · %s · %s", a.ID, a.Detector, a.Status))
	blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{{"mrkdwn", strings.Join(ctx, "\n")}}})
	return map[string]any{"text": text, "blocks": blocks}
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// runDeliveries sends queued webhook deliveries, retrying failures with
// exponential back-off until Delivery.MaxAttempts, then dead-lettering them.
func (w *Watch) runDeliveries(ctx context.Context) {
	for {
		next, err := w.deliverDue(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Second
		if err != nil {
			w.log.Error("delivery_queue_failed", "error", err)
			wait = 5 * time.Second
		} else if !next.IsZero() {
			wait = max(0, min(time.Until(next), time.Minute))
		} else {
			wait = time.Minute
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-w.wakeDeliver:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}

type delivery struct {
	id       int64
	webhook  string
	change   string
	body     []byte
	attempts int
}

// deliverDue sends what is due and returns when the next pending delivery
// is (zero if none).
func (w *Watch) deliverDue(ctx context.Context) (time.Time, error) {
	now := time.Now()
	rows, err := w.db.R.QueryContext(ctx, "SELECT id, webhook, change, body, attempts FROM deliveries WHERE status=? AND next_at <= ? ORDER BY id LIMIT 64", deliveryPending, now.UnixNano())
	if err != nil {
		return time.Time{}, fmt.Errorf("read deliveries: %w", err)
	}
	var due []delivery
	for rows.Next() {
		var d delivery
		if err := rows.Scan(&d.id, &d.webhook, &d.change, &d.body, &d.attempts); err != nil {
			rows.Close()
			return time.Time{}, fmt.Errorf("read deliveries: %w", err)
		}
		due = append(due, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return time.Time{}, fmt.Errorf("read deliveries: %w", err)
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		if err := w.deliver(ctx, d); err != nil {
			return time.Time{}, err
		}
	}
	var next int64
	err = w.db.R.QueryRowContext(ctx, "SELECT COALESCE(MIN(next_at), 0) FROM deliveries WHERE status=?", deliveryPending).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("read deliveries: %w", err)
	}
	if next == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, next), nil
}

// deliver makes one attempt and records its outcome.
func (w *Watch) deliver(ctx context.Context, d delivery) error {
	h, ok := w.hooks[d.webhook]
	var sendErr error
	if !ok {
		sendErr = fmt.Errorf("webhook %q is no longer configured", d.webhook)
		d.attempts = w.cfg.Delivery.MaxAttempts - 1 // dead at once
	} else {
		sendErr = w.send(ctx, h, d)
	}
	if ctx.Err() != nil {
		return nil // shutting down: the attempt does not count
	}
	d.attempts++
	now := time.Now()
	status, next, lastErr, outcome := deliverySent, now, "", "sent"
	if sendErr != nil {
		lastErr = truncate(sendErr.Error(), 500)
		if d.attempts >= w.cfg.Delivery.MaxAttempts {
			status, outcome = deliveryDead, "dead"
			w.log.Warn("webhook_dead_letter", "webhook", d.webhook, "delivery_id", d.id, "attempts", d.attempts, "error", sendErr)
		} else {
			status, outcome = deliveryPending, "retry"
			next = now.Add(backoff(w.cfg.Delivery, d.attempts))
		}
	}
	w.metrics.deliveries.WithLabelValues(d.webhook, outcome).Inc()
	if _, err := w.db.Exec(ctx, "UPDATE deliveries SET status=?, attempts=?, next_at=?, last_error=?, updated_at=? WHERE id=?",
		status, d.attempts, next.UnixNano(), lastErr, now.UnixNano(), d.id); err != nil {
		return fmt.Errorf("record delivery %d: %w", d.id, err)
	}
	return nil
}

// backoff is the wait after the n-th failed attempt: Backoff·2^(n-1),
// capped at MaxBackoff.
func backoff(c DeliveryConfig, n int) time.Duration {
	d := c.Backoff
	for i := 1; i < n && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}

func (w *Watch) send(ctx context.Context, h WebhookConfig, d delivery) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Delivery.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(d.body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Vigie-Webhook/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.id, 10))
	req.Header.Set(HeaderEvent, string(Change(d.change).eventType()))
	if h.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(h.Secret, d.body))
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("post: status %d", resp.StatusCode)
	}
	return nil
}

// DeliveryStats counts the webhook deliveries by state.
type DeliveryStats struct {
	Pending int `json:"pending"`
	Sent    int `json:"sent"`
	Dead    int `json:"dead"`
}

// Deliveries counts the webhook deliveries by state.
func (w *Watch) Deliveries(ctx context.Context) (DeliveryStats, error) {
	var s DeliveryStats
	err := w.db.R.QueryRowContext(ctx, `SELECT COALESCE(SUM(status='pending'),0), COALESCE(SUM(status='sent'),0), COALESCE(SUM(status='dead'),0) FROM deliveries`).Scan(&s.Pending, &s.Sent, &s.Dead)
	if err != nil {
		return s, fmt.Errorf("count deliveries: %w", err)
	}
	return s, nil
}
