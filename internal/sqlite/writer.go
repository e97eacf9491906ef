package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"maps"
	"slices"
	"strings"
)

// writer is the writer's connection, held from one use to the next, and
// the statements prepared on it. Preparing a statement (SQLite parsing and
// planning the query) cost more than running it for most of the pipeline's
// queries: a router batch of a few mentions, or a chunk of a bulk resolve,
// ran each of its queries a handful of times, and prepared each again in
// every transaction. Only the holder of the writer (db.writer) touches it.
type writer struct {
	conn  *sql.Conn // nil until first used, and after it was dropped
	stmts map[string]*cached
	uses  uint64 // how many times the writer was taken, for eviction
}

type cached struct {
	st   *sql.Stmt
	used uint64 // the use that last ran it
}

// maxStatements bounds the statements kept: a few queries are built with
// as many parameters as they have values (IN (?,?,...)), and each length
// is a statement of its own. Past it, the least recently used are closed
// down to three quarters.
const maxStatements = 256

// acquire takes the writer, waiting while someone else holds it, or until
// ctx ends; the connection is opened when there is none.
func (db *DB) acquire(ctx context.Context) (*writer, error) {
	var w *writer
	if ctx.Done() == nil {
		w = <-db.writer
	} else {
		select {
		case w = <-db.writer:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if w.conn == nil {
		conn, err := db.w.Conn(ctx)
		if err != nil {
			db.writer <- w
			return nil, err
		}
		w.conn = conn
	}
	w.uses++
	return w, nil
}

// release gives the writer back. A connection in doubt (clean false), or
// gone, is dropped with its statements; the next use opens another.
func (db *DB) release(w *writer, clean bool) {
	// database/sql closes a connection itself when its driver says it is
	// bad (driver.ErrBadConn; modernc's does not while a connection is
	// held): the next use opens another. Its statements are forgotten, not
	// closed, since finalizing them after the connection would crash the
	// driver.
	if w.conn.Raw(func(any) error { return nil }) != nil {
		w.conn, w.stmts = nil, map[string]*cached{}
	} else if clean {
		w.trim()
	} else {
		w.drop(true)
	}
	db.writer <- w
}

// errSeveral refuses to prepare text holding several statements: a
// prepared statement would run only the first.
var errSeveral = errors.New("several statements in one query")

// stmt returns the writer's statement for query, prepared on first use.
// It fails for text holding several statements (errSeveral), and with
// SQLite's error for a query it cannot prepare.
func (w *writer) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if c, ok := w.stmts[query]; ok {
		c.used = w.uses
		return c.st, nil
	}
	if strings.Contains(query, ";") {
		return nil, errSeveral
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = &cached{st: st, used: w.uses}
	return st, nil
}

// trim closes the least recently used statements past maxStatements.
func (w *writer) trim() {
	if len(w.stmts) <= maxStatements {
		return
	}
	queries := slices.SortedFunc(maps.Keys(w.stmts), func(a, b string) int {
		return cmp.Compare(w.stmts[a].used, w.stmts[b].used)
	})
	for _, q := range queries[:len(queries)-maxStatements*3/4] {
		_ = w.stmts[q].st.Close()
		delete(w.stmts, q)
	}
}

// drop closes the statements, then gives the connection back to the pool,
// or closes it when bad, so that database/sql does not pool it again
// (SQLite rolls back whatever it still held open). Statements go first:
// database/sql does not track a connection's statements, whose
// finalization after the connection closed would crash the driver.
func (w *writer) drop(bad bool) {
	for q, c := range w.stmts {
		_ = c.st.Close()
		delete(w.stmts, q)
	}
	if w.conn != nil {
		if bad {
			_ = w.conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = w.conn.Close()
		w.conn = nil
	}
}

// Exec runs a statement on the writer, outside any transaction (it commits
// by itself), with the writer's statement for it.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	w, err := db.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer db.release(w, true)
	if st, err := w.stmt(ctx, query); err == nil {
		return st.ExecContext(ctx, args...)
	}
	// Several statements, or SQLite's error for the plain call to report.
	return w.conn.ExecContext(ctx, query, args...)
}

// Writer runs fn with the writer's connection, outside any transaction:
// for pragmas and checkpoints, and for the tests. fn must leave no
// transaction open and no rows unclosed; an error wrapping
// driver.ErrBadConn drops the connection.
func (db *DB) Writer(ctx context.Context, fn func(conn *sql.Conn) error) error {
	w, err := db.acquire(ctx)
	if err != nil {
		return err
	}
	err = fn(w.conn)
	db.release(w, !errors.Is(err, driver.ErrBadConn))
	return err
}
