package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// Tx is a write transaction on the writer's connection. It has the methods
// of database/sql's Tx that Vigie uses, but not its cost: a database/sql Tx
// starts a goroutine for every query it runs, to close the query's rows
// should the transaction end first, whatever the query's context. The
// pipeline looks up a row or two for every mention in each database, so
// that at 615 mentions/s the server started some 8,700 goroutines a second,
// each woken when its query's rows closed and put at the head of a run
// queue, ahead of the goroutines taking tickets to the agents. Tx runs BEGIN
// and COMMIT itself on the writer's connection instead, with the writer's
// statements (writer.stmt); its queries start no goroutine when their
// context cannot end (Detached).
//
// A Tx is not safe for concurrent use, as the writer's transactions never
// are. Every Tx must end with Commit or Rollback: until then it holds the
// writer.
type Tx struct {
	db      *DB
	w       *writer // the writer, held until the transaction ends
	conn    *sql.Conn
	restore Sync        // the database's own synchronous setting, when the transaction changed it
	stmts   []*sql.Stmt // closed when the transaction ends
	rows    []*sql.Rows // closed when the transaction ends
	done    bool
}

// Begin starts a write transaction (BEGIN IMMEDIATE: it takes the write
// lock at once, so that it never fails midway for another writer). It waits
// for the writer while another transaction holds it.
func (db *DB) Begin(ctx context.Context) (*Tx, error) {
	return db.BeginWith(ctx, db.sync)
}

// BeginWith is Begin with the commit's durability chosen for this
// transaction; the connection gets the database's own setting back after.
func (db *DB) BeginWith(ctx context.Context, sync Sync) (*Tx, error) {
	w, err := db.acquire(ctx)
	if err != nil {
		return nil, err
	}
	conn := w.conn
	tx := &Tx{db: db, w: w, conn: conn}
	if sync != db.sync {
		tx.restore = db.sync
		if _, err := conn.ExecContext(ctx, "PRAGMA synchronous="+string(sync)); err != nil {
			tx.release(false)
			return nil, fmt.Errorf("set synchronous: %w", err)
		}
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		tx.release(false)
		return nil, err
	}
	return tx, nil
}

// ExecContext runs a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if tx.done {
		return nil, sql.ErrTxDone
	}
	if st := tx.prepare(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.conn.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction. The transaction's end
// closes its rows, as database/sql's does (closing them again is harmless).
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if tx.done {
		return nil, sql.ErrTxDone
	}
	var rows *sql.Rows
	var err error
	if st := tx.prepare(ctx, query); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = tx.conn.QueryContext(ctx, query, args...)
	}
	if err == nil {
		tx.rows = append(tx.rows, rows)
	}
	return rows, err
}

// QueryRowContext runs a query expected to return at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	// After the transaction's end the released connection answers
	// sql.ErrConnDone: database/sql gives no way to build a Row holding an
	// error of our own.
	if !tx.done {
		if st := tx.prepare(ctx, query); st != nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return tx.conn.QueryRowContext(ctx, query, args...)
}

// prepare returns the writer's statement for query (writer.stmt), kept
// from one transaction to the next: a router batch looks up the same
// things for every mention, a bulk resolve for every ticket, and the next
// batch the same again. It is nil for a query to run as it is: text
// holding several statements, or one SQLite cannot prepare, whose error
// the plain call then reports.
func (tx *Tx) prepare(ctx context.Context, query string) *sql.Stmt {
	st, err := tx.w.stmt(ctx, query)
	if err != nil {
		return nil
	}
	return st
}

// Stmt returns the writer's statement for query, kept from one
// transaction to the next (PrepareContext prepares one for this
// transaction alone). It is the transaction's to use until it ends, and
// nobody's to close.
func (tx *Tx) Stmt(ctx context.Context, query string) (*Stmt, error) {
	if tx.done {
		return nil, sql.ErrTxDone
	}
	st, err := tx.w.stmt(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	return &Stmt{tx: tx, st: st}, nil
}

// Stmt is a statement of the writer's, used in one transaction: it has the
// methods of database/sql's Stmt that Vigie uses, but no Close.
type Stmt struct {
	tx *Tx
	st *sql.Stmt
}

// ExecContext runs the statement in its transaction.
func (s *Stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	if s.tx.done {
		return nil, sql.ErrTxDone
	}
	return s.st.ExecContext(ctx, args...)
}

// QueryContext runs the query in its transaction; the transaction's end
// closes its rows.
func (s *Stmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	if s.tx.done {
		return nil, sql.ErrTxDone
	}
	rows, err := s.st.QueryContext(ctx, args...)
	if err == nil {
		s.tx.rows = append(s.tx.rows, rows)
	}
	return rows, err
}

// QueryRowContext runs a query expected to return at most one row.
func (s *Stmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	if s.tx.done {
		return s.tx.conn.QueryRowContext(ctx, "SELECT 1") // sql.ErrConnDone
	}
	return s.st.QueryRowContext(ctx, args...)
}

// PrepareContext prepares a statement for use in the transaction. The
// transaction's end closes it (closing it again is harmless).
func (tx *Tx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if tx.done {
		return nil, sql.ErrTxDone
	}
	st, err := tx.conn.PrepareContext(ctx, query)
	if err == nil {
		tx.stmts = append(tx.stmts, st)
	}
	return st, err
}

// Commit commits the transaction. When it fails, nothing of the
// transaction is kept.
func (tx *Tx) Commit() error {
	if tx.done {
		return sql.ErrTxDone
	}
	tx.done = true
	ctx := context.Background()
	if _, err := tx.conn.ExecContext(ctx, "COMMIT"); err != nil {
		// SQLite keeps a transaction open when its COMMIT fails for a busy
		// lock, and rolls it back on an I/O error or a full disk: end it
		// either way. The connection is then dropped, not reused, in case
		// it is not back to a clean state.
		_, _ = tx.conn.ExecContext(ctx, "ROLLBACK")
		tx.release(false)
		return err
	}
	tx.release(true)
	return nil
}

// Rollback abandons the transaction. After Commit it does nothing and
// returns sql.ErrTxDone, so that it can be deferred.
func (tx *Tx) Rollback() error {
	if tx.done {
		return sql.ErrTxDone
	}
	tx.done = true
	_, err := tx.conn.ExecContext(context.Background(), "ROLLBACK")
	tx.release(err == nil)
	return err
}

// release gives the writer back, with the database's own durability; a
// connection in doubt is dropped instead (writer.drop). The transaction's
// rows and statements are closed first: the writer's statements must be
// free for the next transaction, and database/sql does not track a
// connection's statements, whose finalization after the connection closed
// would crash the driver.
func (tx *Tx) release(clean bool) {
	for _, rows := range tx.rows {
		_ = rows.Close()
	}
	for _, st := range tx.stmts {
		_ = st.Close()
	}
	tx.rows, tx.stmts = nil, nil
	if clean && tx.restore != "" {
		if _, err := tx.conn.ExecContext(context.Background(), "PRAGMA synchronous="+string(tx.restore)); err != nil {
			clean = false
		}
	}
	// From now on the writer is someone else's: a late query fails on a
	// closed connection instead.
	tx.conn = tx.db.closed
	tx.db.release(tx.w, clean)
	tx.w = nil
}
