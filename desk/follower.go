package desk

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
)

// Follower reads the desk's event log from another process than the
// desk's: a sink that runs apart (the search worker) follows the log
// through the database file, which WAL mode lets it read while the desk
// writes. It never writes.
type Follower struct {
	db   *sql.DB
	poll time.Duration
	head atomic.Int64
}

// FollowerPoll is how often a Follower looks for new events while a sink
// waits: a sink batches for hundreds of milliseconds anyway.
const FollowerPoll = 25 * time.Millisecond

// OpenFollower opens the event log of the desk database at path for
// reading. The desk must have created it: a follower neither creates nor
// migrates it.
func OpenFollower(ctx context.Context, path string) (*Follower, error) {
	db, err := sqlite.OpenReader(ctx, path, migrations)
	if err != nil {
		return nil, fmt.Errorf("follow desk: %w", err)
	}
	f := &Follower{db: db, poll: FollowerPoll}
	if _, err := f.readHead(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return f, nil
}

// Close closes the database.
func (f *Follower) Close() error { return f.db.Close() }

// ReadEvents returns up to max events with seq > after, in order.
func (f *Follower) ReadEvents(ctx context.Context, after int64, max int) ([]Event, error) {
	if max <= 0 {
		return nil, nil
	}
	evs, err := readEvents(ctx, f.db, after, max)
	if err != nil {
		return nil, err
	}
	if len(evs) == max {
		// More to read: the head, for the sink's lag, is further on.
		if _, err := f.readHead(ctx); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// WaitEvents blocks until an event after seq exists, or ctx is done,
// looking every FollowerPoll.
func (f *Follower) WaitEvents(ctx context.Context, after int64) error {
	t := time.NewTicker(f.poll)
	defer t.Stop()
	for {
		head, err := f.readHead(ctx)
		if err != nil {
			return err
		}
		if head > after {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// LastSeq returns the newest event's sequence number the follower has seen:
// when it last waited, or read a full page.
func (f *Follower) LastSeq() int64 { return f.head.Load() }

func (f *Follower) readHead(ctx context.Context) (int64, error) {
	var head int64
	if err := f.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM events").Scan(&head); err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("read event log head: %w", err)
	}
	f.head.Store(head)
	return head, nil
}
