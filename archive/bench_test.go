package archive

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
)

// benchEvents returns a realistic event log of about n events.
func benchEvents(tb testing.TB, n int) []desk.Event {
	tb.Helper()
	e := historyFrom(tb, randFor(99), 0, 1, n*10/28, t0) // ~2.8 events a ticket
	return e.list
}

// reseq returns list with sequence numbers shifted by off.
func reseq(list []desk.Event, off int64) []desk.Event {
	out := make([]desk.Event, len(list))
	for i, ev := range list {
		ev.Seq += off
		out[i] = ev
	}
	return out
}

// BenchmarkArchiveThroughput measures events archived per second through the
// Feeder (read the log, decode JSON, insert, write the cursor) into each
// store, and, in the same run, raw clickhouse-go batch inserts of the same
// rows: the Feeder's overhead is the difference.
//
//	VIGIE_TEST_CLICKHOUSE=$(deploy/clickhouse/test-server.sh dsn) \
//	  go test ./archive -run '^$' -bench ArchiveThroughput -benchtime 3x
func BenchmarkArchiveThroughput(b *testing.B) {
	const perRun = 20_000
	list := benchEvents(b, perRun)
	cfg := Config{BatchSize: 5_000, MaxDelay: 10 * time.Millisecond}
	// The random history erases an author every ~110 events, among authors
	// who post again: a worst case, where each erasure that a later mention
	// of the same author follows costs a ClickHouse mutation. The
	// "no-erasures" runs show the common case.
	var calm []desk.Event
	for _, ev := range list {
		if ev.Type != desk.EventMentionDeleted {
			calm = append(calm, ev)
		}
	}
	for _, name := range []string{"embedded", "clickhouse"} {
		b.Run("feeder/"+name+"/no-erasures", func(b *testing.B) {
			s := benchStore(b, name)
			log := newMemLog()
			stop := runFeeder(b, log, s, cfg, nil)
			defer stop()
			b.ResetTimer()
			for i := range b.N {
				run := reseq(calm, int64(i*len(list)))
				log.append(run...)
				waitCursor(b, s, run[len(run)-1].Seq, 5*time.Minute)
			}
			b.ReportMetric(float64(b.N*len(calm))/b.Elapsed().Seconds(), "events/s")
		})
	}
	for _, name := range []string{"embedded", "clickhouse"} {
		b.Run("feeder/"+name+"/erasures", func(b *testing.B) {
			s := benchStore(b, name)
			log := newMemLog()
			stop := runFeeder(b, log, s, cfg, nil)
			defer stop()
			b.ResetTimer()
			for i := range b.N {
				run := reseq(list, int64(i*len(list)))
				log.append(run...)
				waitCursor(b, s, run[len(run)-1].Seq, 5*time.Minute)
			}
			b.ReportMetric(float64(b.N*len(list))/b.Elapsed().Seconds(), "events/s")
		})
	}
	if os.Getenv("VIGIE_TEST_CLICKHOUSE") == "" {
		return
	}
	b.Run("raw/clickhouse-go", func(b *testing.B) {
		c := newClickHouse(b)
		ctx := context.Background()
		// The same rows, one insert per table per batch, as the Feeder.
		var segs []segment
		for i := 0; i < len(list); i += cfg.BatchSize {
			var all segment
			for _, s := range decode(list[i:min(i+cfg.BatchSize, len(list))]).segments {
				all.mentions = append(all.mentions, s.mentions...)
				all.desk = append(all.desk, s.desk...)
			}
			segs = append(segs, all)
		}
		b.ResetTimer()
		for range b.N {
			for i := range segs {
				if err := c.insertMentions(ctx, segs[i].mentions); err != nil {
					b.Fatal(err)
				}
				if err := c.insertDesk(ctx, segs[i].desk); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(list))/b.Elapsed().Seconds(), "events/s")
	})
}

// benchStore returns a fresh store of the named kind.
func benchStore(b *testing.B, name string) Store {
	if name == "embedded" {
		return newEmbedded(b)
	}
	return newClickHouse(b)
}

// BenchmarkKPIQuery measures KPI query latency over an archive of 50,000
// events, or of 1,000,000 with VIGIE_BENCH_1M=1 (loading takes minutes):
//
//	VIGIE_BENCH_1M=1 VIGIE_TEST_CLICKHOUSE=$(deploy/clickhouse/test-server.sh dsn) \
//	  go test ./archive -run '^$' -bench KPIQuery -benchtime 20x -timeout 30m
func BenchmarkKPIQuery(b *testing.B) {
	total := 50_000
	if os.Getenv("VIGIE_BENCH_1M") != "" {
		total = 1_000_000
	}
	ss := stores(b)
	// Load in chunks, so a million events never sit in memory at once.
	const chunkTickets = 10_000
	var seq int64
	id, clock := 1, t0
	var loaded int
	for loaded < total {
		e := historyFrom(b, randFor(uint64(id)), seq, id, chunkTickets, clock)
		// No erasures: on 18.16 each is a mutation rewriting the growing
		// mentions table, which would make loading quadratic; this
		// benchmark measures queries.
		kept := e.list[:0]
		for _, ev := range e.list {
			if ev.Type != desk.EventMentionDeleted {
				kept = append(kept, ev)
			}
		}
		e.list = kept
		for _, s := range ss {
			for i := 0; i < len(e.list); i += 20_000 {
				batch := e.list[i:min(i+20_000, len(e.list))]
				if err := s.Write(context.Background(), batch, batch[len(batch)-1].Seq); err != nil {
					b.Fatal(err)
				}
			}
		}
		seq, id, loaded = e.seq, id+chunkTickets, loaded+len(e.list)
		clock = e.list[len(e.list)-1].At
	}
	b.Logf("loaded %d events, %d tickets, from %s to %s", loaded, id-1, t0.Format(time.DateOnly), clock.Format(time.DateOnly))
	end := clock.Add(time.Hour)
	queries := map[string]Query{
		"7d-by-hour-by-queue": {From: end.Add(-7 * 24 * time.Hour), To: end, Interval: time.Hour, By: ByQueue},
		"all-by-day":          {From: t0, To: end, Interval: 24 * time.Hour},
		"all-by-day-by-agent": {From: t0, To: end, Interval: 24 * time.Hour, By: ByAgent},
	}
	for qname, q := range queries {
		q.Now = end
		q.SLA = SLAPolicy{Targets: map[string]time.Duration{"vip": 15 * time.Minute}}
		for sname, s := range ss {
			b.Run(fmt.Sprintf("%s/%s", qname, sname), func(b *testing.B) {
				for range b.N {
					if _, err := s.KPIs(context.Background(), q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
