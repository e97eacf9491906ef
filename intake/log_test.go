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
	conn, err := other.W.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
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
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := l.Pending(); n != 0 {
		t.Fatalf("Pending = %d after the commit, want 0", n)
	}
}

// TestErasureSearchesIndexes: an erasure's deletes search an index by the
// post's or the author's id, instead of walking every item of the network
// while ingest waits.
func TestErasureSearchesIndexes(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "intake.db"))
	for q, index := range map[string]string{erasePostItems: "items_native", eraseAuthorItems: "items_author"} {
		all, err := sqlite.Plan(context.Background(), l.db.R, q, "x", "1")
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.Contains(all, "SCAN ") || !strings.Contains(all, "INDEX "+index+" (source=? AND ") {
			t.Errorf("%s\n%s", q, all)
		}
	}
}
