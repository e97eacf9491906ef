package archive

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/desk"
)

// TestAuditArchived: the AuditFeeder copies a real audit log into each
// store, entry for entry with its hashes, catches up after more entries,
// and a batch written twice leaves one copy.
func TestAuditArchived(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			a, err := auth.New(ctx, auth.Config{Path: filepath.Join(t.TempDir(), "auth.db"), Hash: auth.Params{Time: 1, MemoryKiB: 64, Threads: 1}}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			actx := auth.WithRequest(auth.NewContext(ctx, auth.Principal{User: "root", Role: auth.RoleAdmin, Via: auth.ViaSession}), "192.0.2.1", "rid")
			for i := range 5 {
				if _, err := a.CreateUser(actx, fmt.Sprintf("u%d", i), auth.RoleAgent, "correct horse battery"); err != nil {
					t.Fatal(err)
				}
			}
			as := s.(AuditStore)
			f, err := NewAuditFeeder(a, as, Config{RetryMin: 10 * time.Millisecond}, testLogger(t), prometheus.NewRegistry())
			if err != nil {
				t.Fatal(err)
			}
			fctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- f.Run(fctx) }()
			waitAudit := func(want int64) {
				t.Helper()
				for deadline := time.Now().Add(10 * time.Second); ; {
					c, err := as.AuditCursor(ctx)
					if err == nil && c == want {
						return
					}
					if time.Now().After(deadline) {
						t.Fatalf("audit cursor %d (%v), want %d", c, err, want)
					}
					time.Sleep(10 * time.Millisecond)
				}
			}
			waitAudit(5)
			if err := a.Audit(actx, "rules.changed", "rules", map[string]int{"version": 2}); err != nil {
				t.Fatal(err)
			}
			waitAudit(6)
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			orig, err := a.ReadAudit(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			// A retry writes the same entries again.
			if err := as.WriteAudit(ctx, orig[2:4]); err != nil {
				t.Fatal(err)
			}
			got, err := as.AuditEntries(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(orig) {
				t.Fatalf("%d archived entries, want %d", len(got), len(orig))
			}
			for i := range orig {
				if !reflect.DeepEqual(got[i], orig[i]) {
					t.Fatalf("archived entry %d:\n got %+v\nwant %+v", i, got[i], orig[i])
				}
				if i > 0 && got[i].PrevHash != got[i-1].Hash {
					t.Fatalf("archived chain broken at %d", got[i].Seq)
				}
			}
		})
	}
}

// TestRetentionKeepsKPIs: a retention sweep in the event stream removes
// the authors of the posts created before its cutoff from every store, and
// every KPI, by every dimension, is the same after it as before.
func TestRetentionKeepsKPIs(t *testing.T) {
	t.Parallel()
	e := randomHistory(t, randFor(11), 300)
	last := e.list[len(e.list)-1].At
	cutoff := t0.Add(last.Sub(t0) / 2)
	queries := []Query{}
	for _, by := range []Dimension{ByNone, ByQueue, BySource, ByAgent} {
		queries = append(queries, Query{From: t0.Add(-time.Hour), To: last.Add(time.Hour), Interval: time.Hour, By: by, Now: last})
	}
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			writeReplaying(t, s, e.list, 50)
			var before [][]Bucket
			for _, q := range queries {
				b, err := s.KPIs(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				before = append(before, b)
			}
			held := authors(t, s)
			sweep := newEvents()
			sweep.seq = e.seq
			sweep.add(t, desk.EventRetentionApplied, last, desk.RetentionData{Before: cutoff})
			writeReplaying(t, s, sweep.list, 1)
			// Mutations are asynchronous on ClickHouse: wait until the old
			// authors are gone, then compare.
			old, young := idsByAge(e, cutoff)
			for deadline := time.Now().Add(10 * time.Second); ; {
				got := authors(t, s)
				ok := true
				for id := range old {
					ok = ok && got[id] == ""
				}
				if ok {
					for id := range young {
						if got[id] != held[id] {
							t.Fatalf("young mention %s: author %q, was %q", id, got[id], held[id])
						}
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("old authors still archived: %v", got)
				}
				time.Sleep(50 * time.Millisecond)
			}
			for i, q := range queries {
				after, err := s.KPIs(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				assertBuckets(t, after, before[i])
			}
		})
	}
}

// idsByAge splits the mentions of e by their creation against cutoff.
func idsByAge(e *events, cutoff time.Time) (old, young map[string]bool) {
	old, young = map[string]bool{}, map[string]bool{}
	for _, ev := range e.list {
		if ev.Type != desk.EventMentionReceived {
			continue
		}
		row := decode([]desk.Event{ev}).segments[0].mentions[0]
		if row.AuthorID == "" {
			continue
		}
		if row.CreatedMS < cutoff.UnixMilli() {
			old[row.ID] = true
		} else {
			young[row.ID] = true
		}
	}
	for id := range old {
		delete(young, id) // an old post edited later is old
	}
	return old, young
}
