package intake

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/listener"
)

func openLog(t testing.TB, path string, cfg ...func(*Config)) *Log {
	t.Helper()
	c := Config{Path: path}
	for _, f := range cfg {
		f(&c)
	}
	l, err := Open(context.Background(), c, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func item(id, text string) listener.Item {
	return listener.MentionItem(listener.Mention{Source: "x", ID: id, CreatedAt: time.Unix(0, 0).UTC(), Author: listener.Author{ID: "a"}, Text: text})
}

func TestAppendDedupesAndVersions(t *testing.T) {
	t.Parallel()
	l := openLog(t, filepath.Join(t.TempDir(), "intake.db"))
	defer l.Close()
	ctx := context.Background()
	res, err := l.Append(ctx, []listener.Item{item("1", "a"), item("2", "b"), item("1", "a"), item("1", "a, edited")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := []Result{{1, 1, Accepted}, {2, 1, Accepted}, {0, 1, Duplicate}, {3, 2, Edited}}
	for i := range want {
		if res[i] != want[i] {
			t.Errorf("item %d: %+v, want %+v", i, res[i], want[i])
		}
	}
	res, _ = l.Append(ctx, []listener.Item{item("1", "a, edited"), item("1", "a")}, time.Now())
	if res[0].Outcome != Duplicate || res[1] != (Result{4, 3, Edited}) {
		t.Errorf("second append: %+v", res)
	}
}

func TestConcurrentAppendsAreGroupCommittedInOrder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "intake.db")
	l := openLog(t, path, func(c *Config) { c.TailRecords = 100 })
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; b < 25; b++ {
				items := make([]listener.Item, 10)
				for i := range items {
					items[i] = item(fmt.Sprintf("%d-%d-%d", w, b, i), "t")
				}
				if _, err := l.Append(ctx, items, time.Now()); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	if l.LastSeq() != 2000 {
		t.Fatalf("last seq %d, want 2000", l.LastSeq())
	}
	check := func(l *Log) {
		seen := map[string]bool{}
		var after int64
		for {
			recs, err := l.Read(ctx, after, 333)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			for _, r := range recs {
				if r.Seq != after+1 {
					t.Fatalf("seq %d after %d", r.Seq, after)
				}
				after = r.Seq
				seen[r.Item.Mention.ID] = true
			}
		}
		if len(seen) != 2000 {
			t.Fatalf("read %d distinct items, want 2000", len(seen))
		}
	}
	check(l) // the newest from memory, the rest from disk
	l.Close()
	l2 := openLog(t, path)
	defer l2.Close()
	check(l2) // all from disk
}

func TestWaitWakesOnAppend(t *testing.T) {
	t.Parallel()
	l := openLog(t, filepath.Join(t.TempDir(), "intake.db"))
	defer l.Close()
	done := make(chan error, 1)
	go func() { done <- l.Wait(context.Background(), 0) }()
	time.Sleep(10 * time.Millisecond)
	l.Append(context.Background(), []listener.Item{item("1", "a")}, time.Now())
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not wake")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx, 1); err != context.Canceled {
		t.Fatalf("Wait on a cancelled context: %v", err)
	}
}

func TestAppendAfterClose(t *testing.T) {
	t.Parallel()
	l := openLog(t, filepath.Join(t.TempDir(), "intake.db"))
	l.Close()
	if _, err := l.Append(context.Background(), []listener.Item{item("1", "a")}, time.Now()); err != ErrClosed {
		t.Fatalf("append after close: %v", err)
	}
}

// BenchmarkAppend measures durable ingest: batches of 50 mentions from 8
// concurrent writers, group-committed.
func BenchmarkAppend(b *testing.B) {
	l := openLog(b, filepath.Join(b.TempDir(), "intake.db"))
	defer l.Close()
	ctx := context.Background()
	var n sync.Mutex
	seq := 0
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			seq++
			s := seq
			n.Unlock()
			items := make([]listener.Item, 50)
			for i := range items {
				items[i] = item(fmt.Sprintf("%d-%d", s, i), "My train is late again, where is my refund?")
			}
			if _, err := l.Append(ctx, items, time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(b.N*50)/b.Elapsed().Seconds(), "mentions/s")
}

// TestTombstoneErasesFromMemoryToo: after an erasure, a follower reading
// the log gets the erased items neither from the database nor from the
// records kept in memory.
func TestTombstoneErasesFromMemoryToo(t *testing.T) {
	t.Parallel()
	l := openLog(t, filepath.Join(t.TempDir(), "intake.db"))
	defer l.Close()
	ctx := context.Background()
	if _, err := l.Append(ctx, []listener.Item{item("1", "SECRET"), item("2", "SECRET too")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	tomb := listener.TombstoneItem(listener.Tombstone{Source: "x", AuthorID: "a", At: time.Unix(0, 0).UTC()})
	if _, err := l.Append(ctx, []listener.Item{tomb}, time.Now()); err != nil {
		t.Fatal(err)
	}
	recs, err := l.Read(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Item.Tombstone == nil {
		t.Fatalf("read %d records after the erasure, want only the tombstone: %+v", len(recs), recs)
	}
}

func TestPendingCountsAppendsUntilCommitted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "intake.db")
	l := openLog(t, path)
	defer l.Close()
	ctx := context.Background()
	// Another connection holds the write lock: the writer's commit waits.
	other, err := sqlite.Open(ctx, path, sqlite.SyncFull, migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	hold, err := other.Begin(ctx) // BEGIN IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if n := l.Pending(); n != 0 {
		t.Fatalf("Pending = %d before any append", n)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Append(ctx, []listener.Item{item("1", "a")}, time.Now())
		done <- err
	}()
	deadline := time.Now().Add(time.Minute)
	for l.Pending() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("Pending = %d while an append waits, want 1", l.Pending())
		}
		time.Sleep(time.Millisecond)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := l.Pending(); n != 0 {
		t.Fatalf("Pending = %d after the commit, want 0", n)
	}
}

// TestErasureSearchesIndexes: an erasure's statements search an index or
// a primary key by the post's or the author's id, instead of walking every
// item of the network while ingest waits.
func TestErasureSearchesIndexes(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "intake.db"))
	for q, want := range map[string]string{
		erasePostHead:    "SEARCH latest USING PRIMARY KEY (kind=? AND source=? AND key=?)",
		erasePostItem:    "SEARCH items USING INTEGER PRIMARY KEY (rowid=?)",
		eraseAuthorItems: "SEARCH items USING INDEX items_author (source=? AND author_id=?)",
	} {
		args := []any{"mention", "x", "1", "1"}[:strings.Count(q, "?")]
		plan, err := sqlite.Plan(context.Background(), l.db.R, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.Contains(plan, "SCAN ") || !strings.Contains(plan, want) {
			t.Errorf("%s\n%s\nwant %s", q, plan, want)
		}
	}
}

// TestPostErasureTakesEveryVersion: erasing a post deletes every version of
// it (and a check-in of the same id), from memory and across a restart,
// and leaves the other posts alone; an edit delivered after the erasure is
// stored, and a second erasure takes it too.
func TestPostErasureTakesEveryVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "intake.db")
	l := openLog(t, path)
	ctx := context.Background()
	checkin := listener.CheckInItem(listener.CheckIn{Source: "x", ID: "1", User: listener.CheckInUser{ID: "b"}, CreatedAt: time.Unix(0, 0).UTC()})
	if _, err := l.Append(ctx, []listener.Item{item("1", "SECRET v1"), item("2", "kept"), item("1", "SECRET v2"), checkin}, time.Now()); err != nil {
		t.Fatal(err)
	}
	// A later version in another commit, and a restart in between: the
	// chain is read back from the database, not from the batch.
	l.Close()
	l = openLog(t, path)
	defer func() { l.Close() }()
	if _, err := l.Append(ctx, []listener.Item{item("1", "SECRET v3")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	erase := listener.TombstoneItem(listener.Tombstone{Source: "x", ID: "1", At: time.Unix(0, 0).UTC()})
	if _, err := l.Append(ctx, []listener.Item{erase}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := storedKinds(t, l); got != "mention:2 tombstone:1" {
		t.Fatalf("after the erasure the log holds %q", got)
	}
	res, err := l.Append(ctx, []listener.Item{item("1", "SECRET v4")}, time.Now())
	if err != nil || res[0].Outcome != Edited {
		t.Fatalf("an edit after the erasure: %+v, %v", res, err)
	}
	again := listener.TombstoneItem(listener.Tombstone{Source: "x", ID: "1", At: time.Unix(60, 0).UTC()})
	if _, err := l.Append(ctx, []listener.Item{again}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := storedKinds(t, l); got != "mention:2 tombstone:1 tombstone:1" {
		t.Fatalf("after the second erasure the log holds %q", got)
	}
}

// storedKinds lists the items of the database, "kind:id" in log order.
func storedKinds(t *testing.T, l *Log) string {
	t.Helper()
	rows, err := l.db.R.Query("SELECT kind, native_id FROM items ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var kind, id string
		if err := rows.Scan(&kind, &id); err != nil {
			t.Fatal(err)
		}
		out = append(out, kind+":"+id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, " ")
}

// TestMigrationChainsEarlierItems: items stored before the erasure chain
// existed (schema 2) are chained by the migration, so that erasing a post
// still takes all its versions.
func TestMigrationChainsEarlierItems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "intake.db")
	old, err := sqlite.Open(ctx, path, sqlite.SyncFull, migrations[:2])
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		seq, version int
		id           string
	}{{1, 1, "1"}, {2, 1, "2"}, {3, 2, "1"}, {4, 3, "1"}} {
		if _, err := old.Exec(context.Background(), "INSERT INTO items(seq, kind, source, native_id, version, author_id, received_at, body) VALUES(?,'mention','x',?,?,'a',0,'{}')", r.seq, r.id, r.version); err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(context.Background(), "INSERT INTO latest(kind, source, key, version, hash) VALUES('mention','x',?,?,x'00') ON CONFLICT DO UPDATE SET version=excluded.version", r.id, r.version); err != nil {
			t.Fatal(err)
		}
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, path)
	defer l.Close()
	erase := listener.TombstoneItem(listener.Tombstone{Source: "x", ID: "1", At: time.Unix(0, 0).UTC()})
	if _, err := l.Append(ctx, []listener.Item{erase}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := storedKinds(t, l); got != "mention:2 tombstone:1" {
		t.Fatalf("after erasing a post stored before the migration the log holds %q", got)
	}
}
