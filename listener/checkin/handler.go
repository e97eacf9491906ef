package checkin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/sources"
)

// DefaultMaxBodyBytes bounds a delivery: a Radar batch of 5 events with
// their users is a few KiB; 256 KiB is generous.
const DefaultMaxBodyBytes = 256 << 10

// Deps is what a Handler needs besides its Config.
type Deps struct {
	// Append makes the check-ins durable. Required.
	Append sources.Appender
	// Health reports to the source registry; nil when not registered.
	Health sources.Health
	Logger *slog.Logger
	// Metrics registers the package's metrics; nil registers none.
	Metrics prometheus.Registerer
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// RequestError is a refused delivery: the status to answer and why.
type RequestError struct {
	Status int
	Result string // metric label: unsigned, bad_signature, expired, bad_payload, no_consent
	Err    error
}

func (e *RequestError) Error() string { return e.Err.Error() }
func (e *RequestError) Unwrap() error { return e.Err }

func refuse(status int, result string, format string, args ...any) error {
	return &RequestError{Status: status, Result: result, Err: fmt.Errorf(format, args...)}
}

// kind is one check-in network's webhook logic.
type kind interface {
	// authenticate checks the delivery's signature or secret.
	authenticate(r *http.Request, body []byte, now time.Time) error
	// parse turns an authenticated delivery into check-ins; skipped counts
	// events kept out, by reason.
	parse(r *http.Request, body []byte, now time.Time) (items []listener.Item, skipped map[string]int, err error)
}

// Handler is a check-in webhook receiver.
type Handler struct {
	name    string
	k       kind
	maxBody int64
	deps    Deps
	log     *slog.Logger
	m       *metrics
}

func newHandler(name string, k kind, maxBody int64, deps Deps) (*Handler, error) {
	if deps.Append == nil {
		return nil, fmt.Errorf("checkin %s: an appender is required", name)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}
	return &Handler{name: name, k: k, maxBody: maxBody, deps: deps, log: deps.Logger.With("component", "checkin", "kind", name), m: newMetrics(deps.Metrics)}, nil
}

// ServeHTTP receives one delivery (POST).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	n, err := h.handle(r.Context(), r)
	if err != nil {
		var re *RequestError
		if !errors.As(err, &re) {
			re = &RequestError{Status: http.StatusServiceUnavailable, Result: "append_failed", Err: err}
		}
		h.m.deliveries.WithLabelValues(h.name, re.Result).Inc()
		h.log.Warn("delivery_rejected", "result", re.Result, "error", err)
		if h.deps.Health != nil {
			h.deps.Health.Failed(fmt.Errorf("%s: %w", re.Result, err))
		}
		msg := re.Err.Error()
		if re.Result == "append_failed" {
			msg = "not stored: try again later"
		}
		http.Error(w, msg, re.Status)
		return
	}
	h.m.deliveries.WithLabelValues(h.name, "ok").Inc()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"accepted":%d}`+"\n", n)
}

func (h *Handler) handle(ctx context.Context, r *http.Request) (int, error) {
	arrived := h.deps.Now()
	body, err := io.ReadAll(io.LimitReader(r.Body, h.maxBody+1))
	if err != nil {
		return 0, refuse(http.StatusBadRequest, "bad_payload", "read body: %w", err)
	}
	if int64(len(body)) > h.maxBody {
		return 0, refuse(http.StatusRequestEntityTooLarge, "too_large", "body larger than %d bytes", h.maxBody)
	}
	if err := h.k.authenticate(r, body, arrived); err != nil {
		return 0, err
	}
	items, skipped, err := h.k.parse(r, body, arrived)
	if err != nil {
		return 0, err
	}
	for reason, n := range skipped {
		h.m.skipped.WithLabelValues(h.name, reason).Add(float64(n))
	}
	kept := items[:0]
	for _, it := range items {
		if err := sources.CheckItem(it); err != nil {
			h.m.skipped.WithLabelValues(h.name, "invalid").Inc()
			h.log.Debug("checkin_invalid", "error", err)
			continue
		}
		kept = append(kept, it)
	}
	if len(kept) == 0 {
		return 0, nil
	}
	if err := h.deps.Append.Append(ctx, kept, arrived); err != nil {
		return 0, err
	}
	if h.deps.Health != nil {
		h.deps.Health.Received(kept)
	}
	return len(kept), nil
}
