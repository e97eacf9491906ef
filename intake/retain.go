package intake

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// retentionCursor is the cursors row holding the retention watermark: every
// mention and check-in with a seq up to it that was received before the
// last cutoff is gone.
const retentionCursor = "intake.retention"

// retainChunk bounds the rows one retention transaction deletes, so that
// appends (which share the single writer) wait at most one chunk.
const retainChunk = 2000

// Retain deletes the raw mentions and check-ins received before `before`
// whose seq is at most upTo (what every follower of the log has read), and
// returns how many it deleted. It is the retention policy's sweep over the
// log: like an erasure, it keeps the latest-version rows (a hash, no
// content), so that a network re-delivering an expired post is still a
// duplicate, and it keeps tombstones. A watermark makes each sweep start
// where the previous one stopped. Safe to call while appends run.
func (l *Log) Retain(ctx context.Context, before time.Time, upTo int64) (int64, error) {
	wm, err := l.retentionWatermark(ctx)
	if err != nil {
		return 0, err
	}
	cut := before.UnixNano()
	var deleted int64
	for {
		rows, err := l.db.R.QueryContext(ctx, `SELECT seq, kind, received_at FROM items WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`, wm, upTo, retainChunk)
		if err != nil {
			return deleted, fmt.Errorf("retention: read items after %d: %w", wm, err)
		}
		var (
			doomed []any
			last   = wm
			seen   int
			young  bool
		)
		for rows.Next() {
			var seq, at int64
			var kind string
			if err := rows.Scan(&seq, &kind, &at); err != nil {
				rows.Close()
				return deleted, fmt.Errorf("retention: read item: %w", err)
			}
			seen++
			if at >= cut {
				// Received after the cutoff: stop here, so that the
				// watermark never passes an item still to expire.
				young = true
				break
			}
			last = seq
			if kind == "mention" || kind == "checkin" {
				doomed = append(doomed, seq)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return deleted, fmt.Errorf("retention: read items: %w", err)
		}
		if last > wm {
			n, err := l.deleteRetained(ctx, doomed, last)
			deleted += n
			if err != nil {
				return deleted, err
			}
			wm = last
		}
		if young || seen < retainChunk {
			break
		}
	}
	l.metrics.retained.Add(float64(deleted))
	l.dropTail(wm, before)
	return deleted, nil
}

// retentionWatermark returns the seq up to which retention has swept (0
// before the first sweep).
func (l *Log) retentionWatermark(ctx context.Context) (int64, error) {
	text, err := l.Cursor(ctx, retentionCursor)
	if err != nil || text == "" {
		return 0, err
	}
	wm, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("retention watermark %q: %w", text, err)
	}
	return wm, nil
}

func (l *Log) deleteRetained(ctx context.Context, seqs []any, watermark int64) (int64, error) {
	tx, err := l.db.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("retention: begin: %w", err)
	}
	defer tx.Rollback()
	var n int64
	if len(seqs) > 0 {
		res, err := tx.ExecContext(ctx, `DELETE FROM items WHERE seq IN (?`+strings.Repeat(",?", len(seqs)-1)+`)`, seqs...)
		if err != nil {
			return 0, fmt.Errorf("retention: delete items: %w", err)
		}
		n, _ = res.RowsAffected()
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO cursors(name, value) VALUES(?,?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
		retentionCursor, strconv.FormatInt(watermark, 10)); err != nil {
		return 0, fmt.Errorf("retention: write watermark: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("retention: commit: %w", err)
	}
	return n, nil
}

// dropTail forgets the in-memory records the sweep deleted, from the oldest
// on (the tail stays contiguous; older reads go to the database).
func (l *Log) dropTail(upTo int64, before time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tail.DropOldest(func(r *Record) bool { return r.Seq <= upTo && r.ReceivedAt.Before(before) })
}
