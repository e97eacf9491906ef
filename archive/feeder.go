package archive

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/pause"
)

// Feeder follows the desk's event log into a Store, in batches, from the
// cursor the store persisted. It only reads the log: a slow or dead store
// makes the archive fall behind, never the desk. When the store fails, the
// Feeder retries the same batch with exponential back-off until it
// succeeds, so the backlog drains when the store returns.
type Feeder struct {
	log     EventLog
	store   Store
	cfg     Config
	logger  *slog.Logger
	metrics *metrics
}

// NewFeeder returns a Feeder from log into store. reg may be nil.
func NewFeeder(log EventLog, store Store, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Feeder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Feeder{log: log, store: store, cfg: cfg, logger: logger.With("component", "archive"), metrics: newMetrics(reg)}, nil
}

// Run archives events until ctx ends, then returns nil. A batch being
// written when ctx ends is abandoned and written again on the next run.
// Run returns an error only for a failure it cannot retry (none today:
// store and log errors are retried).
func (f *Feeder) Run(ctx context.Context) error {
	var cursor int64
	err := f.retry(ctx, "read cursor", nil, func() error {
		c, err := f.store.Cursor(ctx)
		cursor = c
		return err
	})
	if err != nil {
		return nil // ctx ended
	}
	f.metrics.cursor.Set(float64(cursor))
	f.logger.Info("archive_started", "cursor", cursor)
	for {
		// A batch's write finishes even when ctx ends: with a backlog,
		// ending is noticed here.
		if ctx.Err() != nil {
			return nil
		}
		batch, err := f.fill(ctx, cursor)
		if err != nil {
			return nil // fill retries everything else: ctx ended
		}
		last := batch[len(batch)-1].Seq
		if f.cfg.Yield != nil {
			f.cfg.Yield(ctx)
		}
		f.metrics.lag.Set(float64(len(batch)))
		// Decode once: the rows serve every retry, and the skipped events
		// are counted from the same reading.
		rs := decode(batch)
		err = f.retry(ctx, "write batch", f.metrics.writeErrors, func() error {
			start := time.Now()
			var err error
			if rw, ok := f.store.(rowsWriter); ok {
				err = rw.writeRows(ctx, &rs, last)
			} else {
				err = f.store.Write(ctx, batch, last)
			}
			if err != nil {
				return err
			}
			f.metrics.writeSeconds.Observe(time.Since(start).Seconds())
			return nil
		})
		if err != nil {
			return nil // ctx ended
		}
		f.account(batch, rs.skipped)
		cursor = last
		f.metrics.cursor.Set(float64(cursor))
		f.metrics.lag.Set(0)
	}
}

// fill returns the next batch after cursor: as soon as BatchSize events are
// there, or MaxDelay after the first one was read. It blocks while the log
// has nothing new, and returns an error only when ctx ends.
func (f *Feeder) fill(ctx context.Context, cursor int64) ([]desk.Event, error) {
	var batch []desk.Event
	var deadline time.Time
	for {
		after := lastSeq(batch, cursor)
		var got []desk.Event
		err := f.retry(ctx, "read events", nil, func() error {
			var err error
			got, err = f.log.ReadEvents(ctx, after, f.cfg.BatchSize-len(batch))
			return err
		})
		if err != nil {
			return nil, err
		}
		if len(got) > 0 && len(batch) == 0 {
			deadline = time.Now().Add(f.cfg.MaxDelay)
		}
		batch = append(batch, got...)
		if len(batch) >= f.cfg.BatchSize || (len(batch) > 0 && !time.Now().Before(deadline)) {
			return batch, nil
		}
		// The log has nothing more for now: wait for more, but with a
		// pending batch no later than its deadline.
		wctx, cancel := context.WithCancel(ctx)
		if len(batch) > 0 {
			cancel()
			wctx, cancel = context.WithDeadline(ctx, deadline)
		}
		err = f.log.WaitEvents(wctx, lastSeq(batch, cursor))
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && !errors.Is(err, context.DeadlineExceeded):
			f.logger.Warn("archive_wait_failed", "error", err)
			if err := pause.For(ctx, f.cfg.RetryMin); err != nil {
				return nil, err
			}
		}
	}
}

func lastSeq(batch []desk.Event, cursor int64) int64 {
	if len(batch) == 0 {
		return cursor
	}
	return batch[len(batch)-1].Seq
}

// rowsWriter is a Store that can write rows already decoded (both of this
// package's stores).
type rowsWriter interface {
	writeRows(ctx context.Context, rs *rows, cursor int64) error
}

// account counts a written batch in the metrics and logs what was skipped.
func (f *Feeder) account(batch []desk.Event, skipped []skip) {
	f.metrics.batchEvents.Observe(float64(len(batch)))
	for i := range batch {
		f.metrics.events.WithLabelValues(string(batch[i].Type)).Inc()
	}
	for _, s := range skipped {
		f.metrics.skipped.WithLabelValues(s.Reason).Inc()
		f.logger.Warn("archive_event_skipped", "seq", s.Seq, "reason", s.Reason, "error", s.Err)
	}
}

// retry calls op until it succeeds, backing off exponentially with jitter
// between RetryMin and RetryMax. It returns ctx.Err() if ctx ends first.
func (f *Feeder) retry(ctx context.Context, what string, failures prometheus.Counter, op func() error) error {
	return retry(ctx, f.cfg, f.logger, what, failures, op)
}

func retry(ctx context.Context, cfg Config, logger *slog.Logger, what string, failures prometheus.Counter, op func() error) error {
	wait := cfg.RetryMin
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil {
			if attempt > 1 {
				logger.Info("archive_recovered", "op", what, "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if failures != nil {
			failures.Inc()
		}
		logger.Warn("archive_retry", "op", what, "attempt", attempt, "retry_in", wait, "error", err)
		// Full jitter on the upper half: spread retries, keep progress.
		d := wait/2 + rand.N(wait/2+1)
		if err := pause.For(ctx, d); err != nil {
			return err
		}
		wait = min(2*wait, cfg.RetryMax)
	}
}
