package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func count(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.R.QueryRowContext(context.Background(), "SELECT count(*) FROM blobs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTxCommitsOrRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openBlobs(t)

	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO blobs(b) VALUES(x'01')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM blobs").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the transaction sees %d rows (%v), want its own 1", n, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); !errors.Is(err, sql.ErrTxDone) {
		t.Fatalf("Rollback after Commit: %v, want sql.ErrTxDone", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO blobs(b) VALUES(x'02')"); !errors.Is(err, sql.ErrTxDone) {
		t.Fatalf("Exec after Commit: %v, want sql.ErrTxDone", err)
	}

	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO blobs(b) VALUES(?)")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := st.ExecContext(ctx, []byte{3}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db); n != 1 {
		t.Fatalf("%d rows after a commit and a rollback, want 1", n)
	}
}

// TestTxStartsNoGoroutinePerQuery holds queries' rows open in a transaction:
// database/sql's Tx keeps a goroutine waiting for each, to close them should
// the transaction end first.
func TestTxStartsNoGoroutinePerQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openBlobs(t)
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const queries = 50
	before := runtime.NumGoroutine()
	var open []*sql.Rows
	for range queries {
		rows, err := tx.QueryContext(ctx, "SELECT 1")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, rows)
	}
	// Other tests run in parallel: a margin for their goroutines.
	if grown := runtime.NumGoroutine() - before; grown >= queries/2 {
		t.Fatalf("%d goroutines more with %d queries' rows open", grown, queries)
	}
	for _, rows := range open {
		rows.Close()
	}
}

func synchronous(t *testing.T, tx *Tx) int {
	t.Helper()
	var v int
	if err := tx.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBeginWithRestoresTheDurability(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openBlobs(t) // SyncNormal: 1; SyncFull is 2
	for _, end := range []string{"commit", "rollback"} {
		tx, err := db.BeginWith(ctx, SyncFull)
		if err != nil {
			t.Fatal(err)
		}
		if v := synchronous(t, tx); v != 2 {
			t.Fatalf("synchronous=%d in a SyncFull transaction, want 2", v)
		}
		if end == "commit" {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		tx, err = db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v := synchronous(t, tx); v != 1 {
			t.Fatalf("synchronous=%d after a SyncFull transaction's %s, want the database's 1", v, end)
		}
		tx.Rollback()
	}
}

// TestFailedCommitFreesTheWriter makes COMMIT fail while SQLite keeps the
// transaction open (a deferred foreign key violated): the writer must come
// back clean, not inside the failed transaction.
func TestFailedCommitFreesTheWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "fk.db"), SyncNormal, []string{`
		CREATE TABLE parents(id INTEGER PRIMARY KEY);
		CREATE TABLE children(id INTEGER PRIMARY KEY,
			parent INTEGER NOT NULL REFERENCES parents(id) DEFERRABLE INITIALLY DEFERRED);`})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.PrepareContext(ctx, "INSERT INTO children(parent) VALUES(?)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ExecContext(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("COMMIT with a dangling foreign key succeeded")
	}
	// The writer's connection was dropped: a statement closed after it,
	// as deferred closes do, must not reach the closed connection.
	if err := st.Close(); err != nil {
		t.Fatalf("closing a statement after its transaction failed: %v", err)
	}
	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatalf("the writer after a failed commit: %v", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO parents(id) VALUES(1)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("the writer after a failed commit: %v", err)
	}
	var parents, children int
	if err := db.R.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM parents), (SELECT count(*) FROM children)").Scan(&parents, &children); err != nil {
		t.Fatal(err)
	}
	if parents != 1 || children != 0 {
		t.Fatalf("%d parents and %d children, want 1 and 0: the failed transaction must leave nothing", parents, children)
	}
}

// TestTxEndClosesItsRows ends transactions with a query's rows still open,
// as a deferred rows.Close does: the connection must come back all the same.
func TestTxEndClosesItsRows(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openBlobs(t)
	for _, end := range []string{"commit", "rollback"} {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := tx.QueryContext(ctx, "SELECT 1 UNION ALL SELECT 2")
		if err != nil {
			t.Fatal(err)
		}
		if !rows.Next() {
			t.Fatal("no row")
		}
		done := make(chan error, 1)
		go func() {
			if end == "commit" {
				done <- tx.Commit()
			} else {
				done <- tx.Rollback()
			}
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s waits for the rows left open", end)
		}
		rows.Close()
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
}

// TestTxPreparesEachQueryOnce: a transaction keeps a statement for each
// query it runs, runs text with several statements as it is (all of them),
// reports SQLite's error for a query it cannot prepare, and closes its
// statements when it ends.
func TestTxPreparesEachQueryOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openBlobs(t)
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := tx.ExecContext(ctx, "INSERT INTO blobs(b) VALUES(?)", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM blobs WHERE b <= ?", []byte{byte(i)}).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("round %d: %d rows (%v), want %d", i, n, err, i+1)
		}
	}
	rows, err := tx.QueryContext(ctx, "SELECT b FROM blobs WHERE b >= ? ORDER BY b", []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	var got [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	rows.Close()
	if len(got) != 2 || got[0][0] != 1 || got[1][0] != 2 {
		t.Fatalf("rows %v, want [1] [2]", got)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO blobs(b) VALUES(x'10'); INSERT INTO blobs(b) VALUES(x'11')"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO nowhere(b) VALUES(1)"); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("a query on a missing table: %v, want SQLite's error", err)
	}
	if n := len(tx.w.stmts); n != 3 {
		t.Fatalf("%d statements kept, want 3 (the insert, the count, the select)", n)
	}
	insert := tx.w.stmts["INSERT INTO blobs(b) VALUES(?)"].st
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db); n != 5 {
		t.Fatalf("%d rows, want 5 (3, then both of the two-statement text)", n)
	}
	// The next transaction, and Exec, run the same statement again.
	tx, err = db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO blobs(b) VALUES(?)", []byte{7}); err != nil {
		t.Fatal(err)
	}
	if st := tx.w.stmts["INSERT INTO blobs(b) VALUES(?)"].st; st != insert || len(tx.w.stmts) != 3 {
		t.Fatalf("the next transaction prepared again (%d statements kept)", len(tx.w.stmts))
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "INSERT INTO blobs(b) VALUES(?)", []byte{8}); err != nil {
		t.Fatal(err)
	}
	w := <-db.writer
	n := len(w.stmts)
	db.writer <- w
	if n != 3 {
		t.Fatalf("%d statements kept after Exec, want the same 3", n)
	}
	if n := count(t, db); n != 7 {
		t.Fatalf("%d rows, want 7", n)
	}
}

// TestWriterKeepsItsStatementsBounded: past maxStatements distinct
// queries, the least recently used statements are closed, and the ones in
// use stay; a connection dropped takes its statements with it.
func TestWriterKeepsItsStatementsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openBlobs(t)
	hot := "SELECT count(*) FROM blobs"
	for i := range 2 * maxStatements {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, hot).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM blobs WHERE id IN (?%s)", strings.Repeat(",?", i)), make([]any, i+1)...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	w := <-db.writer
	n, kept := len(w.stmts), w.stmts[hot] != nil
	db.writer <- w
	if n > maxStatements || !kept {
		t.Fatalf("%d statements kept (at most %d), the one used in every transaction kept: %v", n, maxStatements, kept)
	}
	// A failed commit drops the connection and its statements.
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.release(false)
	w = <-db.writer
	n, conn := len(w.stmts), w.conn
	db.writer <- w
	if n != 0 || conn != nil {
		t.Fatalf("a dropped connection left %d statements (connection %v)", n, conn)
	}
	if _, err := db.Exec(ctx, "INSERT INTO blobs(b) VALUES(x'01')"); err != nil {
		t.Fatalf("the writer after a dropped connection: %v", err)
	}
}

// TestTxStmt: a transaction's Stmt is the writer's, the same from one
// transaction to the next; it refuses text with several statements, and
// after the transaction's end it runs nothing.
func TestTxStmt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openBlobs(t)
	var first *sql.Stmt
	for i := range 2 {
		tx, err := db.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st, err := tx.Stmt(ctx, "INSERT INTO blobs(b) VALUES(?)")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.ExecContext(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = st.st
		} else if st.st != first {
			t.Error("the second transaction prepared its statement again")
		}
		if _, err := tx.Stmt(ctx, "SELECT 1; SELECT 2"); !errors.Is(err, errSeveral) {
			t.Errorf("Stmt of two statements: %v, want errSeveral", err)
		}
		q, err := tx.Stmt(ctx, "SELECT b FROM blobs")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := q.QueryContext(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rows.Next() // left open: the commit closes it
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ExecContext(ctx, []byte{9}); !errors.Is(err, sql.ErrTxDone) {
			t.Errorf("a statement after its transaction: %v, want sql.ErrTxDone", err)
		}
		var n int
		if err := q.QueryRowContext(ctx).Scan(&n); err == nil {
			t.Error("a query after its transaction ran")
		}
	}
	if n := count(t, db); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
}

// TestWriterOutlivesItsConnection: when database/sql closes the writer's
// connection (its driver said it was bad), the next use opens another.
func TestWriterOutlivesItsConnection(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openBlobs(t)
	if _, err := db.Exec(ctx, "INSERT INTO blobs(b) VALUES(x'01')"); err != nil {
		t.Fatal(err)
	}
	if err := db.Writer(ctx, func(conn *sql.Conn) error {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "INSERT INTO blobs(b) VALUES(x'02')"); err != nil {
		t.Fatalf("the writer after its connection was closed: %v", err)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO blobs(b) VALUES(x'03')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db); n != 3 {
		t.Fatalf("%d rows, want 3", n)
	}
}

// TestTxAfterItsEnd: a transaction's queries after its end fail, and never
// run in the transaction that holds the writer next.
func TestTxAfterItsEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _ := openBlobs(t)
	old, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := old.QueryRowContext(ctx, "SELECT count(*) FROM blobs").Scan(&n); !errors.Is(err, sql.ErrConnDone) {
		t.Fatalf("a query after the transaction's end: %v, want sql.ErrConnDone", err)
	}
	if _, err := old.ExecContext(ctx, "INSERT INTO blobs(b) VALUES(x'01')"); !errors.Is(err, sql.ErrTxDone) {
		t.Fatalf("a statement after the transaction's end: %v, want sql.ErrTxDone", err)
	}
}

// BenchmarkTxLookups runs transactions of lookups and updates by primary
// key of a row of 20 columns (a ticket has 21), as a router batch or a bulk
// resolve does: 100 of each a transaction (a chunk of a bulk action), and 6
// (a router batch at half the sustained rate). In one run: each query
// prepared again (the connection's own path), each prepared once a
// transaction (as before the writer kept its statements), and the writer's
// statements kept from one transaction to the next.
func BenchmarkTxLookups(b *testing.B) {
	ctx := context.Background()
	var cols, sets []string
	for i := range 19 {
		cols = append(cols, fmt.Sprintf("c%d", i))
		sets = append(sets, fmt.Sprintf("c%d=?", i))
	}
	db, err := Open(ctx, filepath.Join(b.TempDir(), "t.db"), SyncNormal, []string{"CREATE TABLE t(id INTEGER PRIMARY KEY, " + strings.Join(cols, " TEXT NOT NULL DEFAULT '', ") + " TEXT NOT NULL DEFAULT '')"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for i := range 100 {
		if _, err := db.Exec(ctx, "INSERT INTO t(id) VALUES(?)", i); err != nil {
			b.Fatal(err)
		}
	}
	lookup := "SELECT id, " + strings.Join(cols, ", ") + " FROM t WHERE id=?"
	update := "UPDATE t SET " + strings.Join(sets, ", ") + " WHERE id=?"
	again := func(tx *Tx, q string, args ...any) *sql.Stmt { return nil }
	kept := func(tx *Tx, q string, args ...any) *sql.Stmt { return tx.prepare(ctx, q) }
	for _, rows := range []int{100, 6} {
		for _, c := range []struct {
			name   string
			stmt   func(tx *Tx, q string, args ...any) *sql.Stmt
			forget bool // close the statements at each commit
		}{
			{"prepared again", again, false},
			{"once a transaction", kept, true},
			{"kept by the writer", kept, false},
		} {
			b.Run(fmt.Sprintf("%d a transaction/%s", rows, c.name), func(b *testing.B) {
				vals := make([]any, 20)
				ptrs := make([]any, 20)
				for i := range ptrs {
					ptrs[i] = &vals[i]
				}
				for b.Loop() {
					tx, err := db.Begin(ctx)
					if err != nil {
						b.Fatal(err)
					}
					for i := range rows {
						var row *sql.Row
						if st := c.stmt(tx, lookup); st != nil {
							row = st.QueryRowContext(ctx, i)
						} else {
							row = tx.conn.QueryRowContext(ctx, lookup, i)
						}
						if err := row.Scan(ptrs...); err != nil {
							b.Fatal(err)
						}
						args := append(append([]any{}, vals[1:]...), i)
						if st := c.stmt(tx, update); st != nil {
							_, err = st.ExecContext(ctx, args...)
						} else {
							_, err = tx.conn.ExecContext(ctx, update, args...)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					if c.forget {
						for q, st := range tx.w.stmts {
							st.st.Close()
							delete(tx.w.stmts, q)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
