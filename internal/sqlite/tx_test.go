package sqlite

import (
	"context"
	"database/sql"
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
	if n := len(tx.prepared); n != 3 {
		t.Fatalf("%d statements kept, want 3 (the insert, the count, the select)", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if tx.prepared != nil {
		t.Fatal("statements kept after the commit")
	}
	if n := count(t, db); n != 5 {
		t.Fatalf("%d rows, want 5 (3, then both of the two-statement text)", n)
	}
}

// BenchmarkTxLookups runs a transaction of 100 lookups and 100 updates by
// primary key of a row of 20 columns (a ticket has 21), as a router batch
// or a bulk resolve does, with each query prepared again (the connection's
// own path) and with the transaction's statements, in one run.
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
		if _, err := db.W.ExecContext(ctx, "INSERT INTO t(id) VALUES(?)", i); err != nil {
			b.Fatal(err)
		}
	}
	lookup := "SELECT id, " + strings.Join(cols, ", ") + " FROM t WHERE id=?"
	update := "UPDATE t SET " + strings.Join(sets, ", ") + " WHERE id=?"
	for _, c := range []struct {
		name    string
		execute func(tx *Tx, q string, args ...any) error
		query   func(tx *Tx, q string, args ...any) *sql.Row
	}{
		{"each query prepared again",
			func(tx *Tx, q string, args ...any) error { _, err := tx.conn.ExecContext(ctx, q, args...); return err },
			func(tx *Tx, q string, args ...any) *sql.Row { return tx.conn.QueryRowContext(ctx, q, args...) }},
		{"statements of the transaction",
			func(tx *Tx, q string, args ...any) error { _, err := tx.ExecContext(ctx, q, args...); return err },
			func(tx *Tx, q string, args ...any) *sql.Row { return tx.QueryRowContext(ctx, q, args...) }},
	} {
		b.Run(c.name, func(b *testing.B) {
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
				for i := range 100 {
					if err := c.query(tx, lookup, i).Scan(ptrs...); err != nil {
						b.Fatal(err)
					}
					args := append(append([]any{}, vals[1:]...), i)
					if err := c.execute(tx, update, args...); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
