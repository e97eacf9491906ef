package search

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Config configures the search index and its feeder.
type Config struct {
	// Path is the Bleve index directory, conventionally
	// "<data>/search.bleve". Required.
	Path string
	// BatchEvents is how many events one index batch takes at most (default
	// 2,000: big enough that Bleve's per-batch cost — a new segment, an
	// introduction, a merge later — is spread thin, small enough that a
	// batch of small posts stays well under a second).
	BatchEvents int
	// MaxDelay is how long an event may wait for its batch to fill before
	// the batch is written anyway (default 500ms): the freshness of search
	// when traffic is light.
	MaxDelay time.Duration
	// ReadEvents is how many events one read from the event log asks for
	// (default 1,000).
	ReadEvents int
	// TicketCache bounds how many tickets the feeder remembers (their
	// status, queue, tags, assignee and the documents they hold), so that a
	// ticket change that changes nothing costs no index lookup (default
	// 200,000, some tens of MB at most). A ticket it forgot is looked up in
	// the index by its id.
	TicketCache int
	// SyncBatches makes every batch wait for its fsync. Off by default: the
	// index is derived data, and the feeder's cursor is written in the same
	// batch as the documents, so after a crash the index reopens at a
	// consistent older point and the feeder replays what it lost.
	SyncBatches bool
	// RetryDelay is the pause after a failed read or write before the
	// feeder tries again (default 1s).
	RetryDelay time.Duration
	// Yield, when set, is called before each batch is written: it returns
	// once the hot path (intake, router) has no work waiting, or after a
	// bounded delay (internal/yield), so that bursts and agents' tickets
	// get the CPUs first. Nil: never wait.
	Yield func(context.Context)
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("search: index path required")
	}
	if c.BatchEvents == 0 {
		c.BatchEvents = 2_000
	}
	if c.MaxDelay == 0 {
		c.MaxDelay = 500 * time.Millisecond
	}
	if c.ReadEvents == 0 {
		c.ReadEvents = 1_000
	}
	if c.TicketCache == 0 {
		c.TicketCache = 200_000
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = time.Second
	}
	if c.BatchEvents < 1 || c.ReadEvents < 1 || c.TicketCache < 1 {
		return fmt.Errorf("search: batch (%d), read (%d) and ticket cache (%d) sizes must be positive",
			c.BatchEvents, c.ReadEvents, c.TicketCache)
	}
	if c.MaxDelay < 0 || c.RetryDelay < 0 {
		return fmt.Errorf("search: delays must not be negative (max delay %s, retry delay %s)", c.MaxDelay, c.RetryDelay)
	}
	return nil
}
