// Package sqlite opens Vigie's embedded SQLite databases (modernc.org/sqlite,
// pure Go) the one way they are all opened: WAL journal, a single writer
// connection and a pool of readers, and forward-only migrations recorded in
// the database itself.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is a database file opened for one writer and many readers. In WAL mode
// readers never block the writer, and the writer never blocks readers.
type DB struct {
	// w is the writer's pool: one connection, so that transactions queue
	// for it and never fail with SQLITE_BUSY. The connection is held from
	// one use to the next in writer, with the statements prepared on it;
	// Begin, Exec and Writer take it in turn.
	w      *sql.DB
	writer chan *writer // holds the writer while nobody uses it
	// closed is a closed connection: what a transaction's late queries run
	// on, so that they fail (sql.ErrConnDone) instead of running on the
	// writer another transaction holds.
	closed *sql.Conn
	// R is the reader pool.
	R    *sql.DB
	Path string

	sync Sync // the writer's durability (Begin)

	// ckpt is the background checkpointer's own connection; stop ends it.
	// ckptMu keeps it out while Checkpoint truncates the WAL.
	ckpt   *sql.DB
	ckptMu sync.Mutex
	stop   context.CancelFunc
	done   chan struct{}
	rounds atomic.Uint64 // the checkpointer's rounds done, for the tests

	wal walSync
}

// CheckpointEvery is how often the background checkpointer copies the WAL
// into the database file. A round copies the latest version of each page
// written since the last one and fsyncs the file: a second apart, a page
// written in every commit is copied once a second, not once a commit.
const CheckpointEvery = time.Second

// Sync says how hard a commit waits for the disk.
type Sync string

const (
	// SyncFull fsyncs the WAL on every commit: a commit survives a power loss.
	SyncFull Sync = "FULL"
	// SyncNormal fsyncs at checkpoints only: a commit survives a process
	// crash but not a power loss.
	SyncNormal Sync = "NORMAL"
)

// Open opens (creating when missing) the database at path and applies the
// migrations not yet applied, in order. Migration i is recorded as schema
// version i+1 in PRAGMA user_version; migrations are never edited once
// released, only appended.
func Open(ctx context.Context, path string, sync Sync, migrations []string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create directory for %q: %w", path, err)
	}
	dsn := func(readonly bool) string {
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous("+string(sync)+")")
		q.Add("_pragma", "foreign_keys(ON)")
		// Deleted content is overwritten, not left in free pages: an
		// erasure must leave no trace in the file's bytes.
		q.Add("_pragma", "secure_delete(ON)")
		q.Add("_txlock", "immediate")
		if readonly {
			q.Add("_pragma", "query_only(1)")
		} else {
			// No commit copies the WAL into the database itself (SQLite
			// does it in the commit that crosses 1,000 pages, some tens of
			// milliseconds then spent in one unlucky request): the
			// checkpointer below does it beside the writer.
			q.Add("_pragma", "wal_autocheckpoint(0)")
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		return nil, fmt.Errorf("open %q: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %q: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn(true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %q for reading: %w", path, err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	ckpt, err := sql.Open("sqlite", dsn(false))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open %q for checkpoints: %w", path, err)
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	ckpt.SetConnMaxLifetime(0)
	ckpt.SetConnMaxIdleTime(0)
	cctx, stop := context.WithCancel(context.Background())
	closed, err := r.Conn(ctx)
	if err != nil {
		stop()
		w.Close()
		r.Close()
		ckpt.Close()
		return nil, fmt.Errorf("open %q for reading: %w", path, err)
	}
	closed.Close()
	db := &DB{w: w, writer: make(chan *writer, 1), closed: closed, R: r, Path: path, sync: sync, ckpt: ckpt, stop: stop, done: make(chan struct{})}
	db.writer <- &writer{stmts: map[string]*cached{}}
	db.wal.fsync = db.fsyncWAL
	go db.checkpointer(cctx)
	return db, nil
}

// checkpointer copies committed WAL frames into the database file every
// CheckpointEvery, on its own connection, so that writers never do it. A
// PASSIVE checkpoint takes no lock a writer or a reader needs: it copies
// what no reader still needs and leaves the rest for the next round. Once
// everything is copied, the next write starts the WAL over, so it stays
// bounded; past restartFrames, restart does it between two writes.
func (db *DB) checkpointer(ctx context.Context) {
	defer close(db.done)
	t := time.NewTicker(CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Checkpoint is truncating: this round is not needed.
		if !db.ckptMu.TryLock() {
			continue
		}
		// An error (a full disk) is retried on the next tick; the WAL
		// holds every commit meanwhile.
		var busy, frames, copied int
		err := db.ckpt.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied)
		if err == nil && frames >= restartFrames {
			db.restart(ctx)
		}
		db.ckptMu.Unlock()
		db.rounds.Add(1)
	}
}

// restartFrames is the WAL's length, in pages, past which the checkpointer
// starts it over itself (64 MiB of 4 KiB pages).
const restartFrames = 16384

// restartWait bounds how long a restart waits for readers to leave the WAL;
// writers wait meanwhile.
const restartWait = 20 * time.Millisecond

// restart copies the rest of the WAL into the database and starts it over,
// on the writer's connection, between two writes. Under steady writes a
// PASSIVE round never catches up with the writer: commits land while it
// copies, so the WAL is never all copied when a write begins, SQLite never
// starts it over, and it grows without end (gigabytes in minutes at 600
// mentions/s), making every read and write slower. Readers still on the
// WAL make it give up after restartWait; the next round tries again. It
// reports whether the WAL was started over.
//
// It is a RESTART, not a TRUNCATE: the next commit writes from the start of
// the file, which keeps its size (about restartFrames pages). Truncating
// it cost 30-60 ms at each restart, every 2-3 seconds at 1,200 mentions/s,
// while every writer waited; a RESTART after the PASSIVE round takes a
// few milliseconds, at most restartWait. Checkpoint still truncates.
func (db *DB) restart(ctx context.Context) bool {
	var busy int
	err := db.Writer(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", restartWait.Milliseconds())); err != nil {
			return err
		}
		var frames, copied int
		err := conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(RESTART)").Scan(&busy, &frames, &copied)
		if _, rerr := conn.ExecContext(context.Background(), "PRAGMA busy_timeout = 10000"); rerr != nil {
			return fmt.Errorf("%w: %w", driver.ErrBadConn, rerr) // never reuse it with the short timeout
		}
		return err
	})
	return err == nil && busy == 0
}

// Checkpoint copies the WAL into the database file and truncates it, so
// that content deleted from the database is gone from the WAL's bytes too.
//
// SQLite reports a checkpoint it could not finish (another checkpoint
// running, a reader still on an old snapshot) as a result, not an error:
// Checkpoint keeps the background checkpointer out meanwhile and tries
// again until the WAL is empty, or fails when ctx ends or after
// truncateWait.
func (db *DB) Checkpoint(ctx context.Context) error {
	db.ckptMu.Lock()
	defer db.ckptMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, truncateWait)
	defer cancel()
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		var busy, log, done int
		err := db.Writer(ctx, func(conn *sql.Conn) error {
			return conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &done)
		})
		if err != nil {
			return fmt.Errorf("checkpoint %q: %w", db.Path, err)
		}
		if busy == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("checkpoint %q: the WAL is still in use (%d of %d frames copied): %w", db.Path, done, log, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// truncateWait bounds how long Checkpoint waits for readers to move on.
const truncateWait = 30 * time.Second

// Close closes both pools. A transaction still running gets closeWait to
// end first.
func (db *DB) Close() error {
	db.stop()
	<-db.done
	select {
	case w := <-db.writer:
		w.drop(false)  // back to the pool, which closes it last
		db.writer <- w // a later Begin gets the pool's "database is closed"
	case <-time.After(closeWait):
	}
	var walErr error
	db.wal.mu.Lock()
	if db.wal.file != nil {
		walErr = db.wal.file.Close()
		db.wal.file = nil
	}
	db.wal.mu.Unlock()
	// The writer closes last: SQLite checkpoints the WAL when its last
	// connection closes.
	return errors.Join(db.ckpt.Close(), db.R.Close(), db.w.Close(), walErr)
}

// closeWait bounds how long Close waits for a transaction to end.
const closeWait = 10 * time.Second

// SyncWAL makes every transaction committed before the call survive a
// power loss, as a SyncFull commit would have, by fsyncing the WAL file.
// It lets a writer commit with SyncNormal, let the next transaction in, and
// wait for the disk outside the write lock. Callers at the same time share
// an fsync (a group commit): a call waits for the first fsync that begins
// after it, so a hundred agents' actions cost one or two fsyncs, not a
// hundred one after the other.
//
// A checkpoint never loses what it copies: with either durability SQLite
// fsyncs the WAL before copying and the database file after, and it
// starts the WAL over (or truncates it) only once everything is copied.
func (db *DB) SyncWAL() error { return db.wal.sync() }

// WALSyncs returns how many fsyncs SyncWAL has made.
func (db *DB) WALSyncs() uint64 {
	db.wal.mu.Lock()
	defer db.wal.mu.Unlock()
	return db.wal.syncs
}

// fsyncWAL fsyncs the WAL file, opened once and kept: SQLite keeps the same
// file while a connection is open, restarting or truncating it in place.
// One round runs at a time, so one call at a time opens it.
func (db *DB) fsyncWAL() error {
	db.wal.mu.Lock()
	f := db.wal.file
	db.wal.mu.Unlock()
	if f == nil {
		var err error
		if f, err = os.OpenFile(db.Path+"-wal", os.O_RDWR, 0); err != nil {
			return fmt.Errorf("open the WAL to sync it: %w", err)
		}
		db.wal.mu.Lock()
		db.wal.file = f
		db.wal.mu.Unlock()
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync the WAL: %w", err)
	}
	return nil
}

// walSync groups SyncWAL's callers into rounds of one fsync each. A call
// joins the round that starts next: the one it starts itself when none is
// running, else the one that starts when the running one ends, so that
// every fsync it waits for began after it was called.
type walSync struct {
	mu      sync.Mutex
	running bool
	next    *walRound // the round the callers arriving now join
	syncs   uint64
	file    *os.File
	fsync   func() error
}

type walRound struct {
	callers int
	done    chan struct{}
	err     error
}

func (w *walSync) sync() error {
	w.mu.Lock()
	if w.next == nil {
		w.next = &walRound{done: make(chan struct{})}
	}
	r := w.next
	r.callers++
	if !w.running {
		w.running, w.next = true, nil
		w.mu.Unlock()
		w.run(r)
	} else {
		w.mu.Unlock()
	}
	<-r.done
	return r.err
}

// run fsyncs for round r, then starts the round that gathered meanwhile.
func (w *walSync) run(r *walRound) {
	r.err = w.fsync()
	w.mu.Lock()
	w.syncs++
	close(r.done)
	next := w.next
	w.next, w.running = nil, next != nil
	w.mu.Unlock()
	if next != nil {
		go w.run(next)
	}
}

// Version returns the schema version recorded in the file.
func Version(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Plan returns how SQLite would run query with args: the details of
// EXPLAIN QUERY PLAN, a line each ("SEARCH t USING INDEX i (a=?)", "SCAN
// t"). Tests use it to check that a query searches the index it needs.
func Plan(ctx context.Context, db *sql.DB, query string, args ...any) (string, error) {
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		return "", fmt.Errorf("query plan: %w", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return "", fmt.Errorf("query plan: %w", err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("query plan: %w", err)
	}
	return strings.Join(plan, "\n"), nil
}

func migrate(ctx context.Context, db *sql.DB, migrations []string) error {
	have, err := Version(ctx, db)
	if err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this binary knows (%d): refusing to open", have, len(migrations))
	}
	for i := have; i < len(migrations); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %d: %w", i+1, err)
		}
	}
	return nil
}

// OpenReader opens the existing database at path for reading only, from
// another process than its writer's (WAL mode lets readers in other
// processes see every commit). The file must exist and hold exactly the
// schema version of migrations: a reader never migrates, and a file another
// binary migrated is refused.
func OpenReader(ctx context.Context, path string, migrations []string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open %q for reading: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %q for reading: %w", path, err)
	}
	r.SetMaxOpenConns(2)
	r.SetMaxIdleConns(2)
	v, err := Version(ctx, r)
	if err == nil && v != len(migrations) {
		err = fmt.Errorf("schema version %d, this binary knows %d", v, len(migrations))
	}
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("open %q for reading: %w", path, err)
	}
	return r, nil
}

// Detached returns ctx without its cancellation, for the short reads and
// write transactions of the pipeline (the router's, the sinks', the
// assignment loop's). On a context that can end, the driver starts a
// goroutine for every statement, to interrupt it if the context ends, and
// database/sql another for every query, to close its rows: at 1,200
// mentions/s, some 19,000 goroutines a second, each put at the head of a run
// queue, ahead of the hot path's. This work takes milliseconds, and is
// better finished than interrupted anyway. (In database/sql's own Tx, every
// query starts the second goroutine whatever its context; in Tx, none does.)
func Detached(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}
