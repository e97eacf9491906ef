package intake

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/internal/seqtail"
	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/listener"
)

// Outcome says what Append did with one item.
type Outcome string

// The outcomes of an append.
const (
	Accepted  Outcome = "accepted"  // a new item, version 1
	Edited    Outcome = "edited"    // a known key with a new text: a new version
	Duplicate Outcome = "duplicate" // already in the log, same content: nothing stored
)

// Result is the fate of one appended item. Seq is 0 for a duplicate.
type Result struct {
	Seq     int64
	Version int
	Outcome Outcome
}

// Record is one committed item of the log.
type Record struct {
	Seq        int64
	Version    int
	ReceivedAt time.Time
	// Arrived is when this process received the item (monotonic clock), for
	// latency measurement; zero for records read back after a restart.
	Arrived time.Time
	Item    listener.Item
}

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("intake log closed")

var migrations = []string{
	`CREATE TABLE items(
		seq INTEGER PRIMARY KEY,
		kind TEXT NOT NULL,
		source TEXT NOT NULL,
		native_id TEXT NOT NULL,
		version INTEGER NOT NULL,
		author_id TEXT NOT NULL,
		received_at INTEGER NOT NULL,
		body BLOB NOT NULL
	);
	CREATE INDEX items_author ON items(source, author_id);
	CREATE TABLE latest(
		kind TEXT NOT NULL,
		source TEXT NOT NULL,
		key TEXT NOT NULL,
		version INTEGER NOT NULL,
		hash BLOB NOT NULL,
		PRIMARY KEY(kind, source, key)
	) WITHOUT ROWID;
	CREATE TABLE cursors(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
	// 2: a post's erasure finds its items by id. Without this index it
	// walked items_author through every item of the post's network while
	// holding the writer, so that ingest stopped for as long.
	`CREATE INDEX items_native ON items(source, native_id);`,
	// 3: a post's erasure finds its items through a chain instead of an
	// index. latest.seq is the newest stored version of a key, items.prev
	// the version before each one, so that items_native, a random-key
	// index that took about a quarter of the pages of every fsynced
	// commit, can go. The backfill reads it one last time.
	`ALTER TABLE latest ADD COLUMN seq INTEGER;
	ALTER TABLE items ADD COLUMN prev INTEGER;
	UPDATE latest SET seq = (SELECT MAX(i.seq) FROM items i
		WHERE i.source = latest.source AND i.native_id = latest.key AND i.kind = latest.kind)
	WHERE kind IN ('mention', 'checkin');
	UPDATE items SET prev = (SELECT MAX(p.seq) FROM items p
		WHERE p.source = items.source AND p.native_id = items.native_id AND p.kind = items.kind AND p.seq < items.seq)
	WHERE kind IN ('mention', 'checkin') AND version > 1;
	DROP INDEX items_native;`,
}

// The statements of an erasure; each searches an index or a primary key
// (TestErasureSearchesIndexes). A post's items are a chain: the newest
// version's seq in latest, and each version's prev.
const (
	erasePostHead    = "SELECT seq FROM latest WHERE kind=? AND source=? AND key=?"
	erasePostItem    = "DELETE FROM items WHERE seq=? AND kind=? AND source=? AND native_id=? RETURNING prev"
	eraseAuthorItems = "DELETE FROM items WHERE kind IN ('mention','checkin') AND source=? AND author_id=?"
)

// Log is the durable, deduplicated log of everything accepted. It is safe for
// concurrent use. Appends are group-committed: concurrent callers share one
// transaction and one fsync.
type Log struct {
	cfg     Config
	db      *sqlite.DB
	log     *slog.Logger
	metrics *metrics

	reqs chan *appendReq
	done chan struct{}
	wg   sync.WaitGroup
	// pending counts the Append calls not answered yet (Pending).
	pending atomic.Int64

	mu      sync.Mutex
	closed  bool
	lastSeq int64
	tail    *seqtail.Tail[Record] // the newest records, for readers
	changed chan struct{}

	// scope is the ingest endpoints' source scope (SetSourceScope).
	scope func(ctx context.Context) string
}

type appendReq struct {
	items   []listener.Item
	arrived time.Time
	res     []Result
	err     error
	done    chan struct{}
}

// Open opens the log in cfg.Path, creating it when missing.
func Open(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, cfg.Path, sqlite.SyncFull, migrations)
	if err != nil {
		return nil, fmt.Errorf("open intake log: %w", err)
	}
	l := &Log{
		cfg:     cfg,
		db:      db,
		log:     logger.With("component", "intake"),
		metrics: newMetrics(reg),
		reqs:    make(chan *appendReq, 1024),
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		tail:    seqtail.New(cfg.TailRecords, func(r *Record) int64 { return r.Seq }),
	}
	// The head is the newest seq ever given out. Retention may have deleted
	// the newest items, but never past its watermark: without it a restart
	// would give their seqs again, and followers, already past them, would
	// skip the new items, and a post's erasure could follow a stale link.
	wm, err := l.retentionWatermark(ctx)
	if err == nil {
		err = db.R.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM items").Scan(&l.lastSeq)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read intake log head: %w", err)
	}
	l.lastSeq = max(l.lastSeq, wm)
	l.wg.Add(1)
	go l.writer()
	return l, nil
}

// Close stops the writer after the appends already queued are committed.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.done)
	l.wg.Wait()
	return l.db.Close()
}

// LastSeq returns the sequence number of the newest committed record.
func (l *Log) LastSeq() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastSeq
}

// Append commits items and returns one Result an item, in order. It returns
// only when the accepted items are durable (fsynced), or with an error, in
// which case none of them was committed.
func (l *Log) Append(ctx context.Context, items []listener.Item, arrived time.Time) ([]Result, error) {
	if len(items) == 0 {
		return nil, nil
	}
	req := &appendReq{items: items, arrived: arrived, done: make(chan struct{})}
	l.pending.Add(1)
	defer l.pending.Add(-1)
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	select {
	case l.reqs <- req:
	case <-l.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Once queued, the request is committed or failed by the writer even if
	// ctx ends: wait for its fate so that a 202 is never sent for nothing and
	// an error is never sent for a committed item.
	<-req.done
	return req.res, req.err
}

// Pending returns how many Append calls are waiting for their commit: the
// hot path's own queue, which background stages step aside for
// (internal/yield).
func (l *Log) Pending() int64 { return l.pending.Load() }

// writer is the single goroutine that writes the log. It takes every request
// waiting and commits them in one transaction.
func (l *Log) writer() {
	defer l.wg.Done()
	for {
		var batch []*appendReq
		select {
		case r := <-l.reqs:
			batch = append(batch, r)
		case <-l.done:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-l.reqs:
					l.commit([]*appendReq{r})
				default:
					return
				}
			}
		}
		n := len(batch[0].items)
	gather:
		for n < l.cfg.MaxBatchItems {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
				n += len(r.items)
			default:
				break gather
			}
		}
		l.commit(batch)
	}
}

type pendingKey struct{ kind, source, key string }

type latest struct {
	version int
	hash    []byte
	seq     sql.NullInt64 // the newest version stored; NULL if migration 3 found none left
}

func (l *Log) commit(batch []*appendReq) {
	start := time.Now()
	err := l.commitTx(batch)
	if err != nil {
		l.log.Error("intake_commit_failed", "error", err, "requests", len(batch))
		for _, r := range batch {
			r.res, r.err = nil, fmt.Errorf("commit intake log: %w", err)
			close(r.done)
		}
		return
	}
	l.metrics.commitSeconds.Observe(time.Since(start).Seconds())
	var n int
	for _, r := range batch {
		n += len(r.items)
		for _, res := range r.res {
			l.metrics.items.WithLabelValues(string(res.Outcome)).Inc()
		}
		close(r.done)
	}
	l.metrics.batchItems.Observe(float64(n))
}

func (l *Log) commitTx(batch []*appendReq) (err error) {
	ctx := context.Background()
	tx, err := l.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	get, err := tx.Stmt(ctx, "SELECT version, hash, seq FROM latest WHERE kind=? AND source=? AND key=?")
	if err != nil {
		return fmt.Errorf("lookup: %w", err)
	}
	putLatest, err := tx.Stmt(ctx, "INSERT INTO latest(kind, source, key, version, hash, seq) VALUES(?,?,?,?,?,?) ON CONFLICT(kind, source, key) DO UPDATE SET version=excluded.version, hash=excluded.hash, seq=excluded.seq")
	if err != nil {
		return fmt.Errorf("latest: %w", err)
	}
	ins, err := tx.Stmt(ctx, "INSERT INTO items(seq, kind, source, native_id, version, author_id, received_at, body, prev) VALUES(?,?,?,?,?,?,?,?,?)")
	if err != nil {
		return fmt.Errorf("insert: %w", err)
	}

	l.mu.Lock()
	seq := l.lastSeq
	l.mu.Unlock()
	now := time.Now()
	seen := map[pendingKey]latest{} // keys written earlier in this batch
	var records []Record
	for _, r := range batch {
		r.res = make([]Result, len(r.items))
		for i := range r.items {
			it := r.items[i]
			kind, source, key, author := identity(&it)
			h := contentHash(&it)
			pk := pendingKey{string(kind), source, key}
			prev, ok := seen[pk]
			if !ok {
				var v int
				var hb []byte
				var head sql.NullInt64
				switch err := get.QueryRowContext(ctx, pk.kind, pk.source, pk.key).Scan(&v, &hb, &head); {
				case err == nil:
					prev, ok = latest{v, hb, head}, true
				case errors.Is(err, sql.ErrNoRows):
				default:
					return fmt.Errorf("look up %s/%s: %w", source, key, err)
				}
			}
			version, outcome := 1, Accepted
			if ok {
				if string(prev.hash) == string(h) {
					r.res[i] = Result{Version: prev.version, Outcome: Duplicate}
					continue
				}
				version, outcome = prev.version+1, Edited
			}
			if t := it.Tombstone; t != nil {
				if err := eraseCovered(ctx, tx, t); err != nil {
					return err
				}
			}
			body, err := json.Marshal(&it)
			if err != nil {
				return fmt.Errorf("encode item: %w", err)
			}
			seq++
			if _, err := ins.ExecContext(ctx, seq, string(kind), source, it.NativeID(), version, author, now.UnixNano(), body, prev.seq); err != nil {
				return fmt.Errorf("insert item: %w", err)
			}
			if _, err := putLatest.ExecContext(ctx, pk.kind, pk.source, pk.key, version, h, seq); err != nil {
				return fmt.Errorf("update latest: %w", err)
			}
			seen[pk] = latest{version, h, sql.NullInt64{Int64: seq, Valid: true}}
			r.res[i] = Result{Seq: seq, Version: version, Outcome: outcome}
			records = append(records, Record{Seq: seq, Version: version, ReceivedAt: now, Arrived: r.arrived, Item: it})
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	l.publish(seq, records)
	return nil
}

// eraseCovered deletes the raw items a tombstone covers: one post, or all
// of an account's posts and check-ins. The latest-version rows stay (a hash,
// no content) so that a network re-delivering a deleted post is recognised
// as a duplicate.
func eraseCovered(ctx context.Context, tx *sqlite.Tx, t *listener.Tombstone) error {
	if t.ID == "" {
		if _, err := tx.ExecContext(ctx, eraseAuthorItems, t.Source, t.AuthorID); err != nil {
			return fmt.Errorf("erase items covered by a tombstone: %w", err)
		}
		return nil
	}
	for _, kind := range []listener.Kind{listener.KindMention, listener.KindCheckIn} {
		if err := erasePost(ctx, tx, string(kind), t.Source, t.ID); err != nil {
			return fmt.Errorf("erase items covered by a tombstone: %w", err)
		}
	}
	return nil
}

// erasePost deletes every stored version of one post or check-in, newest
// first, following the chain from latest.seq through items.prev. The walk
// stops at the first link no longer stored: retention deletes a key's
// versions oldest first, and an erasure all of them, so nothing older
// remains behind a missing link. Each link is checked against the key, so
// that a seq the log reused after a restart can never lead it astray.
func erasePost(ctx context.Context, tx *sqlite.Tx, kind, source, id string) error {
	var next sql.NullInt64
	err := tx.QueryRowContext(ctx, erasePostHead, kind, source, id).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find the newest version of %s/%s: %w", source, id, err)
	}
	for next.Valid {
		seq := next.Int64
		err := tx.QueryRowContext(ctx, erasePostItem, seq, kind, source, id).Scan(&next)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("delete item %d of %s/%s: %w", seq, source, id, err)
		}
	}
	return nil
}

// Checkpoint flushes the WAL into the database and truncates it (after an
// erasure, so that no deleted bytes remain in the WAL).
func (l *Log) Checkpoint(ctx context.Context) error { return l.db.Checkpoint(ctx) }

// publish makes committed records visible to readers and wakes them.
func (l *Log) publish(seq int64, records []Record) {
	if len(records) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range records {
		if records[i].Item.Tombstone != nil {
			// The commit erased earlier items from the database: forget
			// the copies kept in memory too.
			l.tail.Reset()
			break
		}
	}
	l.tail.Append(records...)
	l.lastSeq = seq
	close(l.changed)
	l.changed = make(chan struct{})
}

// Wait blocks until the log holds a record after seq, or ctx is done.
func (l *Log) Wait(ctx context.Context, after int64) error {
	for {
		l.mu.Lock()
		last, ch := l.lastSeq, l.changed
		l.mu.Unlock()
		if last > after {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Read returns up to max records with seq > after, in order, without
// blocking. Recent records come from memory; older ones from the database.
func (l *Log) Read(ctx context.Context, after int64, max int) ([]Record, error) {
	l.mu.Lock()
	if out, ok := l.tail.Read(after, max); ok {
		l.mu.Unlock()
		return out, nil
	}
	l.mu.Unlock()
	rows, err := l.db.R.QueryContext(ctx, "SELECT seq, version, received_at, body FROM items WHERE seq > ? ORDER BY seq LIMIT ?", after, max)
	if err != nil {
		return nil, fmt.Errorf("read intake log after %d: %w", after, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var rec Record
		var at int64
		var body []byte
		if err := rows.Scan(&rec.Seq, &rec.Version, &at, &body); err != nil {
			return nil, fmt.Errorf("scan intake record: %w", err)
		}
		if err := json.Unmarshal(body, &rec.Item); err != nil {
			return nil, fmt.Errorf("decode intake record %d: %w", rec.Seq, err)
		}
		rec.ReceivedAt = time.Unix(0, at).UTC()
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read intake log after %d: %w", after, err)
	}
	return out, nil
}

// Cursor returns the persisted cursor called name ("" when unset). Sources
// keep their resume positions here, so that a cursor is stored in the same
// database as the items it covers.
func (l *Log) Cursor(ctx context.Context, name string) (string, error) {
	var v string
	err := l.db.R.QueryRowContext(ctx, "SELECT value FROM cursors WHERE name=?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read cursor %q: %w", name, err)
	}
	return v, nil
}

// SetCursor persists a cursor. Call it only after the items it covers were
// appended.
func (l *Log) SetCursor(ctx context.Context, name, value string) error {
	_, err := l.db.Exec(ctx, "INSERT INTO cursors(name, value) VALUES(?,?) ON CONFLICT(name) DO UPDATE SET value=excluded.value", name, value)
	if err != nil {
		return fmt.Errorf("write cursor %q: %w", name, err)
	}
	return nil
}

// ByAuthor returns every item the log holds from one author (or check-in
// user) of a source, oldest first: what a person's access request covers.
func (l *Log) ByAuthor(ctx context.Context, source, authorID string) ([]Record, error) {
	rows, err := l.db.R.QueryContext(ctx, "SELECT seq, version, received_at, body FROM items WHERE source=? AND author_id=? AND kind IN ('mention','checkin') ORDER BY seq", source, authorID)
	if err != nil {
		return nil, fmt.Errorf("read items of an author: %w", err)
	}
	defer rows.Close()
	out := []Record{}
	for rows.Next() {
		var rec Record
		var at int64
		var body []byte
		if err := rows.Scan(&rec.Seq, &rec.Version, &at, &body); err != nil {
			return nil, fmt.Errorf("read items of an author: %w", err)
		}
		if err := json.Unmarshal(body, &rec.Item); err != nil {
			return nil, fmt.Errorf("decode intake record %d: %w", rec.Seq, err)
		}
		rec.ReceivedAt = time.Unix(0, at).UTC()
		out = append(out, rec)
	}
	return out, rows.Err()
}

// Count returns the number of records in the log.
func (l *Log) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := l.db.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM items").Scan(&n); err != nil {
		return 0, fmt.Errorf("count intake log: %w", err)
	}
	return n, nil
}

func identity(it *listener.Item) (kind listener.Kind, source, key, author string) {
	switch {
	case it.Mention != nil:
		return listener.KindMention, it.Mention.Source, it.Mention.ID, it.Mention.Author.ID
	case it.CheckIn != nil:
		return listener.KindCheckIn, it.CheckIn.Source, it.CheckIn.ID, it.CheckIn.User.ID
	case it.Tombstone != nil:
		t := it.Tombstone
		if t.ID == "" {
			return listener.KindTombstone, t.Source, "@" + t.AuthorID, t.AuthorID
		}
		return listener.KindTombstone, t.Source, t.ID, t.AuthorID
	}
	return it.Kind, "", "", ""
}

// contentHash is what makes a second item with the same key an edit rather
// than a duplicate: the text for a mention (an edited post), the whole item
// otherwise.
func contentHash(it *listener.Item) []byte {
	h := sha256.New()
	if it.Mention != nil {
		h.Write([]byte(it.Mention.Text))
	} else {
		b, _ := json.Marshal(it)
		h.Write(b)
	}
	return h.Sum(nil)[:16]
}
