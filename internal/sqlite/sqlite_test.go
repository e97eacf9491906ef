package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// openBlobs opens a new database with a table of blobs, closed when the
// test ends, and returns it with its path.
func openBlobs(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(context.Background(), path, SyncNormal, []string{"CREATE TABLE blobs(id INTEGER PRIMARY KEY, b BLOB NOT NULL)"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// TestCheckpointerKeepsTheWALSmall writes far more than SQLite's automatic
// checkpoint threshold with that threshold turned off: only the background
// checkpointer can keep the WAL from holding all of it.
func TestCheckpointerKeepsTheWALSmall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openBlobs(t)
	// 12 MiB in all, 3,000 pages, in three bursts of 4 MiB with two of the
	// checkpointer's rounds after each (the first may have begun before
	// the burst's last write).
	const bursts, blobs, size = 3, 8, 512 << 10
	blob := bytes.Repeat([]byte{'v'}, size)
	for range bursts {
		for range blobs {
			if _, err := db.Exec(ctx, "INSERT INTO blobs(b) VALUES(?)", blob); err != nil {
				t.Fatal(err)
			}
		}
		for done := db.rounds.Load(); db.rounds.Load() < done+2; {
			time.Sleep(CheckpointEvery / 10)
		}
	}
	const rounds = bursts * blobs
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if total := int64(rounds * size); st.Size() > total/2 {
		t.Errorf("WAL holds %d bytes after %d written: nothing copied it into the database", st.Size(), total)
	}
	var n int
	if err := db.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM blobs").Scan(&n); err != nil || n != rounds {
		t.Fatalf("read back %d rows (%v), want %d", n, err, rounds)
	}
}

// TestCloseKeepsEverything: a closed database opens again with every
// commit, and Close stops the checkpointer, empties the WAL into the file
// and refuses later transactions.
func TestCloseKeepsEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	migrations := []string{"CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT NOT NULL)"}
	db, err := Open(ctx, path, SyncFull, migrations)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "INSERT INTO kv VALUES('a', 'b')"); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the WAL after Close: %v, want it copied and removed", err)
	}
	if _, err := db.Begin(ctx); err == nil {
		t.Error("Begin after Close succeeded")
	}
	db, err = Open(ctx, path, SyncFull, migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.R.QueryRowContext(ctx, "SELECT v FROM kv WHERE k='a'").Scan(&v); err != nil || v != "b" {
		t.Fatalf("v = %q (%v), want b", v, err)
	}
	if got, err := Version(ctx, db.R); err != nil || got != 1 {
		t.Fatalf("version %d (%v), want 1", got, err)
	}
}

// TestCheckpointWaitsForReaders: a reader on an old snapshot keeps the WAL
// from being emptied; Checkpoint says so rather than pretend, and succeeds
// once the reader has moved on.
func TestCheckpointWaitsForReaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := Open(ctx, path, SyncFull, []string{"CREATE TABLE kv(k INTEGER PRIMARY KEY, v TEXT NOT NULL)"})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ctx, "INSERT INTO kv(v) VALUES('old')"); err != nil {
		t.Fatal(err)
	}
	reader, err := db.R.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if _, err := reader.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM kv").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, "INSERT INTO kv(v) VALUES('new')"); err != nil {
		t.Fatal(err)
	}
	// SQLite waits busy_timeout for the reader, then reports the
	// checkpoint as busy in its result row: make that wait short, so that
	// the row, not an interrupted wait, is what Checkpoint must read.
	if _, err := db.Exec(ctx, "PRAGMA busy_timeout=20"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := db.Checkpoint(short); err == nil {
		t.Fatal("Checkpoint succeeded while a reader held an old snapshot")
	}
	if _, err := reader.ExecContext(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	if err := db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() != 0 {
		t.Fatalf("after Checkpoint the WAL holds %v bytes (%v), want 0", st.Size(), err)
	}
}

// TestRestartStartsTheWALOver: restart starts the WAL over between two
// writes, so that the next commit writes from the start of the file; it
// gives up while a reader still needs the WAL, and leaves the writer with
// its usual busy timeout either way.
func TestRestartStartsTheWALOver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, path := openBlobs(t)
	blob := bytes.Repeat([]byte{'v'}, 64<<10)
	write := func() {
		t.Helper()
		if _, err := db.Exec(ctx, "INSERT INTO blobs(b) VALUES(?)", blob); err != nil {
			t.Fatal(err)
		}
	}
	walSize := func() int64 {
		st, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	timeout := func() int {
		var ms int
		if err := db.Writer(ctx, func(conn *sql.Conn) error {
			return conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms)
		}); err != nil {
			t.Fatal(err)
		}
		return ms
	}

	// A reader in a transaction on the WAL: restart gives up, and the next
	// write goes on at the WAL's end.
	write()
	reader, err := db.R.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reader.ExecContext(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM blobs").Scan(&n); err != nil {
		t.Fatal(err)
	}
	write()
	if db.restart(ctx) {
		t.Fatal("the WAL was started over under a reader")
	}
	if ms := timeout(); ms != 10000 {
		t.Fatalf("the writer's busy timeout is %d ms after a restart given up", ms)
	}
	before := walSize()
	write()
	if s := walSize(); s <= before {
		t.Fatalf("after a restart given up the WAL went from %d to %d bytes on a write, want it to grow", before, s)
	}
	if _, err := reader.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	reader.Close()

	// Nobody on the WAL: it starts over, and the next write lands at its
	// start instead of growing it.
	for range 7 {
		write()
	}
	before = walSize()
	if !db.restart(ctx) {
		t.Fatal("the WAL was not started over with no reader")
	}
	if ms := timeout(); ms != 10000 {
		t.Fatalf("the writer's busy timeout is %d ms after a restart", ms)
	}
	write()
	if s := walSize(); s != before {
		t.Fatalf("the WAL went from %d to %d bytes on the write after a restart, want it written from its start", before, s)
	}
	if err := db.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM blobs").Scan(&n); err != nil || n != 11 {
		t.Fatalf("read back %d rows (%v), want 11", n, err)
	}
}

// TestSyncWALGroupsCallers: callers arriving while an fsync runs share the
// next one, which begins after they called; none is answered by an fsync
// that began before it was called, and a failed fsync fails its own round.
func TestSyncWALGroupsCallers(t *testing.T) {
	t.Parallel()
	var w walSync
	started := make(chan struct{}, 10)
	release := make(chan error)
	w.fsync = func() error {
		started <- struct{}{}
		return <-release
	}
	answered := make(chan string, 3)
	call := func(name string) {
		if err := w.sync(); err != nil {
			answered <- name + ": " + err.Error()
			return
		}
		answered <- name
	}
	go call("a")
	<-started
	go call("b")
	go call("c")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		w.mu.Lock()
		joined := w.next != nil && w.next.callers == 2
		w.mu.Unlock()
		if joined {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b and c never joined the next round")
		}
	}
	release <- nil
	if got := <-answered; got != "a" {
		t.Fatalf("first answered: %s, want a", got)
	}
	<-started // the second round, for b and c
	select {
	case got := <-answered:
		t.Fatalf("%s answered by the fsync that began before it called", got)
	case <-time.After(20 * time.Millisecond):
	}
	release <- errors.New("disk gone")
	got := []string{<-answered, <-answered}
	slices.Sort(got)
	if want := []string{"b: disk gone", "c: disk gone"}; !slices.Equal(got, want) {
		t.Fatalf("answers %q, want %q", got, want)
	}
	if w.syncs != 2 {
		t.Fatalf("%d fsyncs for 3 callers, want 2", w.syncs)
	}
	// The next caller gets a round of its own, and its own outcome.
	go call("d")
	<-started
	release <- nil
	if got := <-answered; got != "d" {
		t.Fatalf("after a failed round: %s, want d", got)
	}
}

// TestSyncWALSyncsTheFile: on a real database, SyncWAL fsyncs the WAL
// after a commit made without one.
func TestSyncWALSyncsTheFile(t *testing.T) {
	t.Parallel()
	db, _ := openBlobs(t)
	ctx := context.Background()
	tx, err := db.BeginWith(ctx, SyncNormal)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO blobs(b) VALUES(x'00')"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := db.SyncWAL(); err != nil {
		t.Fatal(err)
	}
	if n := db.WALSyncs(); n != 1 {
		t.Fatalf("%d fsyncs, want 1", n)
	}
}
