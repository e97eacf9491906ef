package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vigie/vigie/listener"
)

// Pump runs src and appends what it emits, in batches of up to 500 items or
// 20 ms, until ctx is done or a finite source ends. After each commit it
// tells a listener.Committer source, so that its cursor never runs ahead of
// the log. An append that fails is retried, never dropped.
func (l *Log) Pump(ctx context.Context, src listener.Source, logger *slog.Logger) error {
	logger = logger.With("component", "pump", "source", src.Name())
	out := make(chan listener.Item, 1024)
	srcDone := make(chan error, 1)
	srcCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { srcDone <- src.Run(srcCtx, out) }()
	committer, _ := src.(listener.Committer)

	var batch []listener.Item
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		backoff := 100 * time.Millisecond
		for {
			_, err := l.Append(context.WithoutCancel(ctx), batch, time.Now())
			if err == nil {
				break
			}
			if errors.Is(err, ErrClosed) {
				return err
			}
			logger.Error("append_failed", "error", err, "items", len(batch), "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return ctx.Err()
			}
			backoff = min(2*backoff, 5*time.Second)
		}
		if committer != nil {
			if err := committer.Commit(ctx, batch); err != nil {
				logger.Warn("cursor_commit_failed", "error", err)
			}
		}
		batch = batch[:0]
		return nil
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case it := <-out:
			if len(batch) == 0 {
				timer.Reset(20 * time.Millisecond)
			}
			batch = append(batch, it)
			if len(batch) >= 500 {
				timer.Stop()
				if err := flush(); err != nil {
					return err
				}
			}
		case <-timer.C:
			if err := flush(); err != nil {
				return err
			}
		case err := <-srcDone:
			// Take what the source emitted before it returned.
			for {
				select {
				case it := <-out:
					batch = append(batch, it)
					continue
				default:
				}
				break
			}
			if ferr := flush(); ferr != nil {
				return ferr
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("source %s: %w", src.Name(), err)
			}
			return nil
		}
	}
}
