package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"runtime"
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
