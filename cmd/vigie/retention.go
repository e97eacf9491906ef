package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/auth"
)

// retentionInterval is how often the retention sweep runs: hourly keeps
// content at most an hour past its age limit, and each sweep only looks at
// what aged since the previous one (watermarks), so it is cheap.
const retentionInterval = time.Hour

// retentionMetrics are the sweep's metrics.
type retentionMetrics struct {
	// sweeping serialises sweeps (the ticker's and any other caller's).
	sweeping sync.Mutex

	runs     *prometheus.CounterVec
	expired  *prometheus.CounterVec
	lastRun  prometheus.Gauge
	duration prometheus.Histogram
}

func newRetentionMetrics(reg prometheus.Registerer) *retentionMetrics {
	m := &retentionMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_retention_runs_total",
			Help: "Retention sweeps, by outcome (ok, failed).",
		}, []string{"outcome"}),
		expired: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_retention_expired_total",
			Help: "Raw content expired by the retention policy, by what (intake_items, desk_messages, desk_events, desk_tickets).",
		}, []string{"what"}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_retention_last_success_timestamp_seconds",
			Help: "When the last retention sweep succeeded (Unix time; 0 before the first).",
		}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "vigie_retention_sweep_seconds",
			Help:    "Time one retention sweep takes.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}),
	}
	for _, o := range []string{"ok", "failed"} {
		m.runs.WithLabelValues(o)
	}
	for _, w := range []string{"intake_items", "desk_messages", "desk_events", "desk_tickets"} {
		m.expired.WithLabelValues(w)
	}
	reg.MustRegister(m.runs, m.expired, m.lastRun, m.duration)
	return m
}

// retentionResult is what one sweep did; it is the detail of its audit
// entry.
type retentionResult struct {
	Days         int       `json:"days"`
	Before       time.Time `json:"before"`
	IntakeItems  int64     `json:"intake_items"`
	DeskMessages int64     `json:"desk_messages"`
	DeskEvents   int64     `json:"desk_events"`
	DeskTickets  int64     `json:"desk_tickets"`
	Error        string    `json:"error,omitempty"`
}

// runRetention sweeps every retentionInterval (and once at start) until ctx
// is done. A failed sweep is logged, counted and audited, and tried again
// at the next tick.
func (s *server) runRetention(ctx context.Context) error {
	t := time.NewTicker(retentionInterval)
	defer t.Stop()
	for {
		if _, err := s.sweepRetention(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Error("retention_failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// sweepRetention expires the raw content older than --retention-days at
// now, everywhere, keeping what KPIs count:
//
//   - the intake log deletes the raw items received before the cutoff that
//     the router and the offer engine have read;
//   - the desk blanks message texts and authors and redacts events, then
//     publishes retention.applied, from which search deletes the documents
//     and the archive the authors of old posts (in order with every other
//     event, as an erasure travels);
//   - the SQLite files are checkpointed so that no expired bytes stay in a
//     WAL.
//
// Each sweep writes an audit entry ("retention.ran", or
// "retention.failed") and the vigie_retention_* metrics.
func (s *server) sweepRetention(ctx context.Context, now time.Time) (retentionResult, error) {
	res := retentionResult{Days: s.cfg.RetentionDays}
	if s.cfg.RetentionDays <= 0 {
		return res, nil
	}
	s.retention.sweeping.Lock()
	defer s.retention.sweeping.Unlock()
	start := time.Now()
	res.Before = now.Add(-time.Duration(s.cfg.RetentionDays) * 24 * time.Hour).UTC()
	err := s.sweep(ctx, &res)
	s.retention.duration.Observe(time.Since(start).Seconds())
	actx := auth.SystemContext(ctx, "retention")
	action := "retention.ran"
	if err != nil {
		s.retention.runs.WithLabelValues("failed").Inc()
		res.Error, action = err.Error(), "retention.failed"
	} else {
		s.retention.runs.WithLabelValues("ok").Inc()
		s.retention.lastRun.Set(float64(now.Unix()))
	}
	s.retention.expired.WithLabelValues("intake_items").Add(float64(res.IntakeItems))
	s.retention.expired.WithLabelValues("desk_messages").Add(float64(res.DeskMessages))
	s.retention.expired.WithLabelValues("desk_events").Add(float64(res.DeskEvents))
	s.retention.expired.WithLabelValues("desk_tickets").Add(float64(res.DeskTickets))
	if aerr := s.auth.Audit(actx, action, "", res); aerr != nil {
		err = errors.Join(err, aerr)
	}
	if err == nil {
		s.log.Info("retention_ran", "before", res.Before, "intake_items", res.IntakeItems, "desk_messages", res.DeskMessages,
			"desk_events", res.DeskEvents, "desk_tickets", res.DeskTickets)
	}
	return res, err
}

func (s *server) sweep(ctx context.Context, res *retentionResult) error {
	// Raw items go only once everything that reads the intake log has read
	// them: the router (the desk's cursor) and the offer engine.
	upTo, err := s.desk.Cursor(ctx)
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	upTo = min(upTo, s.offer.Cursor())
	if res.IntakeItems, err = s.intake.Retain(ctx, res.Before, upTo); err != nil {
		return fmt.Errorf("retention: intake: %w", err)
	}
	dr, err := s.desk.Retain(ctx, res.Before)
	res.DeskMessages, res.DeskEvents, res.DeskTickets = dr.Messages, dr.Events, dr.Tickets
	if err != nil {
		return fmt.Errorf("retention: desk: %w", err)
	}
	if err := errors.Join(s.intake.Checkpoint(ctx), s.desk.Checkpoint(ctx)); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	return nil
}
