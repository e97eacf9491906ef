package offer

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigie/vigie/internal/pause"
)

// The headers of a signed request, both ways (webhooks to the gateway, its
// redemption callbacks).
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256, keyed with the
	// shared secret, of the timestamp, a ".", and the raw body.
	HeaderSignature = "X-Vigie-Signature"
	// HeaderTimestamp is the signing time in Unix seconds. It is signed
	// with the body, so that a captured request cannot be replayed once
	// it is older than the allowed skew.
	HeaderTimestamp = "X-Vigie-Timestamp"
	// HeaderIdempotencyKey is the offer id, the same on every attempt: the
	// gateway sends the SMS once per key.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderAttempt numbers the attempts of one delivery, from 1.
	HeaderAttempt = "X-Vigie-Attempt"
)

// Sign returns the X-Vigie-Signature value of body signed at ts.
func Sign(secret []byte, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a signature and its timestamp (Unix seconds, as sent in
// X-Vigie-Timestamp) against body: the signature must match in constant
// time and the timestamp be within skew of now. Its errors wrap
// ErrUnauthorized.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, skew time.Duration) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: no gateway secret is configured", ErrUnauthorized)
	}
	if timestamp == "" || signature == "" {
		return fmt.Errorf("%w: %s and %s are required", ErrUnauthorized, HeaderTimestamp, HeaderSignature)
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not Unix seconds", ErrUnauthorized, HeaderTimestamp)
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > skew || d < -skew {
		return fmt.Errorf("%w: %s is more than %s away from now", ErrUnauthorized, HeaderTimestamp, skew)
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return fmt.Errorf("%w: bad signature", ErrUnauthorized)
	}
	return nil
}

// Webhook is the body of a delivery to the gateway. It is the same on
// every attempt.
type Webhook struct {
	OfferID    int64     `json:"offer_id"`
	CampaignID int64     `json:"campaign_id"`
	Source     string    `json:"source"`
	UserID     string    `json:"user_id"`
	Handle     string    `json:"handle,omitempty"`
	FenceID    int64     `json:"fence_id"`
	Store      string    `json:"store"`
	Text       string    `json:"text"`
	Code       string    `json:"code,omitempty"`
	At         time.Time `json:"at"`
	DecidedAt  time.Time `json:"decided_at"`
}

// idempotencyKey is the Idempotency-Key of offer id: the install id and
// the offer id, the same on every attempt.
func (e *Engine) idempotencyKey(id int64) string {
	return fmt.Sprintf("vigie-%x-%d", e.install, id)
}

// deliveryBatch bounds the offers one delivery pass takes.
const deliveryBatch = 64

// deliverLoop calls the gateway for every queued offer that is due, until
// ctx is done.
func (e *Engine) deliverLoop(ctx context.Context) error {
	for {
		due, next, err := e.due(ctx)
		if err != nil {
			e.log.Error("offer_delivery_read_failed", "error", err)
			if err := pause.For(ctx, time.Second); err != nil {
				return err
			}
			continue
		}
		if len(due) > 0 {
			e.deliverAll(ctx, due)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(0, next.Sub(e.cfg.Now()))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-e.wakeDeliver:
		case <-t.C:
		}
		t.Stop()
	}
}

// due returns the queued offers whose time has come, and when the next one
// is due otherwise.
func (e *Engine) due(ctx context.Context) ([]Decision, time.Time, error) {
	now := e.cfg.Now().UnixNano()
	rows, err := e.db.R.QueryContext(ctx, "SELECT "+decisionColumns+" FROM decisions WHERE delivery = 'queued' AND next_at <= ? ORDER BY next_at, id LIMIT ?", now, deliveryBatch)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read due deliveries: %w", err)
	}
	ds, err := scanDecisions(rows)
	if err != nil {
		return nil, time.Time{}, err
	}
	var next sql.NullInt64
	var queued int
	if err := e.db.R.QueryRowContext(ctx, "SELECT MIN(next_at), COUNT(*) FROM decisions WHERE delivery = 'queued'").Scan(&next, &queued); err != nil {
		return nil, time.Time{}, fmt.Errorf("read next delivery: %w", err)
	}
	e.metrics.queued.Set(float64(queued))
	var at time.Time
	if next.Valid {
		at = time.Unix(0, next.Int64)
	}
	return ds, at, nil
}

func (e *Engine) deliverAll(ctx context.Context, due []Decision) {
	sem := make(chan struct{}, e.cfg.DeliveryWorkers)
	var wg sync.WaitGroup
	for i := range due {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func(d *Decision) {
			defer func() { <-sem; wg.Done() }()
			if err := e.deliver(ctx, d); err != nil && ctx.Err() == nil {
				e.log.Error("offer_delivery_update_failed", "error", err, "offer_id", d.ID)
			}
		}(&due[i])
	}
	wg.Wait()
}

// deliver makes one attempt at one offer and records its outcome.
func (e *Engine) deliver(ctx context.Context, d *Decision) error {
	// Consent is checked again at the last moment: a withdrawal between the
	// decision and the call cancels the offer.
	var granted bool
	err := e.db.R.QueryRowContext(ctx, "SELECT granted FROM consents WHERE source = ? AND user_id = ?", d.Source, d.UserID).Scan(&granted)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read consent: %w", err)
	}
	if !granted {
		e.metrics.deliveries.WithLabelValues("cancelled").Inc()
		return e.setDelivery(ctx, d.ID, DeliveryCancelled, d.Attempts, nil, "consent withdrawn before delivery", nil)
	}
	attempt := d.Attempts + 1
	status, callErr := e.call(ctx, d, attempt)
	if callErr == nil {
		e.metrics.deliveries.WithLabelValues("delivered").Inc()
		now := e.cfg.Now()
		return e.setDelivery(ctx, d.ID, DeliveryDelivered, attempt, nil, "", &now)
	}
	if ctx.Err() != nil {
		return nil // shutting down: the attempt does not count
	}
	// A 4xx other than 408 (timeout) and 429 (slow down) says the gateway
	// will never take this request: retrying cannot help.
	permanent := status >= 400 && status < 500 && status != http.StatusRequestTimeout && status != http.StatusTooManyRequests
	if permanent || attempt >= e.cfg.MaxAttempts {
		e.metrics.deliveries.WithLabelValues("dead").Inc()
		e.log.Warn("offer_delivery_dead", "offer_id", d.ID, "attempts", attempt, "error", callErr)
		return e.setDelivery(ctx, d.ID, DeliveryDead, attempt, nil, callErr.Error(), nil)
	}
	e.metrics.deliveries.WithLabelValues("retry").Inc()
	next := e.cfg.Now().Add(e.backoff(attempt))
	return e.setDelivery(ctx, d.ID, DeliveryQueued, attempt, &next, callErr.Error(), nil)
}

// backoff is the delay after the given failed attempt: RetryBase doubled
// each attempt, capped at RetryMax, ±20% jitter so that a recovering
// gateway is not hit by every offer at once.
func (e *Engine) backoff(attempt int) time.Duration {
	d := e.cfg.RetryBase
	for i := 1; i < attempt && d < e.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, e.cfg.RetryMax)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func (e *Engine) setDelivery(ctx context.Context, id int64, st Delivery, attempts int, next *time.Time, lastErr string, deliveredAt *time.Time) error {
	var nextAt, delivered any
	if next != nil {
		nextAt = next.UnixNano()
	}
	if deliveredAt != nil {
		delivered = deliveredAt.UnixNano()
	}
	if len(lastErr) > 500 {
		lastErr = lastErr[:500]
	}
	// Only a queued offer moves: a retry requested meanwhile is not undone.
	_, err := e.db.Exec(ctx, "UPDATE decisions SET delivery = ?, attempts = ?, next_at = ?, last_error = ?, delivered_at = COALESCE(?, delivered_at) WHERE id = ? AND delivery = 'queued'",
		string(st), attempts, nextAt, lastErr, delivered, id)
	if err != nil {
		return fmt.Errorf("record delivery of offer %d: %w", id, err)
	}
	return nil
}

// call posts one offer to the gateway. It returns the HTTP status (0 when
// none came back) and an error unless the gateway answered 2xx.
func (e *Engine) call(ctx context.Context, d *Decision, attempt int) (int, error) {
	body, err := json.Marshal(Webhook{
		OfferID: d.ID, CampaignID: d.CampaignID, Source: d.Source, UserID: d.UserID, Handle: d.Handle,
		FenceID: d.FenceID, Store: d.Store, Text: d.Text, Code: d.Code, At: d.At, DecidedAt: d.DecidedAt,
	})
	if err != nil {
		return 0, fmt.Errorf("encode webhook: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.GatewayTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.GatewayURL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build webhook: %w", err)
	}
	now := e.cfg.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigie-offer/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign([]byte(e.cfg.GatewaySecret), now, body))
	req.Header.Set(HeaderIdempotencyKey, e.idempotencyKey(d.ID))
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post to gateway: %w", err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("gateway answered %s: %s", resp.Status, strings.TrimSpace(string(snippet)))
	}
	return resp.StatusCode, nil
}
