package archive

import (
	"context"
	"fmt"
	"time"
)

// Config configures the Feeder.
type Config struct {
	// BatchSize is the most events written at once (default 5,000: one
	// ClickHouse insert of that size takes a few milliseconds, and
	// ClickHouse prefers few large inserts to many small ones).
	BatchSize int
	// MaxDelay is how long the Feeder waits to fill a batch once an event is
	// pending (default 1s: KPIs are at most about a second behind the desk).
	MaxDelay time.Duration
	// RetryMin and RetryMax bound the back-off between attempts when the
	// store fails (defaults 200ms and 30s: a restarting ClickHouse is picked
	// up quickly, a dead one is not hammered).
	RetryMin, RetryMax time.Duration
	// Yield, when set, is called before each batch is written: it returns
	// once the hot path (intake, router) has no work waiting, or after a
	// bounded delay (internal/yield), so that bursts and agents' tickets
	// get the CPUs first. Nil: never wait.
	Yield func(context.Context)
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.BatchSize == 0 {
		c.BatchSize = 5_000
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = time.Second
	}
	if c.RetryMin == 0 {
		c.RetryMin = 200 * time.Millisecond
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Second
	}
	switch {
	case c.BatchSize < 1:
		return fmt.Errorf("archive: batch size %d must be positive", c.BatchSize)
	case c.MaxDelay < 0:
		return fmt.Errorf("archive: max delay %s must not be negative", c.MaxDelay)
	case c.RetryMin <= 0 || c.RetryMax < c.RetryMin:
		return fmt.Errorf("archive: retry back-off %s..%s must be positive and ordered", c.RetryMin, c.RetryMax)
	}
	return nil
}
