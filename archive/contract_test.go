package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
)

// kpiCase is one contract case: events in, buckets out. Every store must
// give exactly want.
type kpiCase struct {
	name   string
	events func(tb testing.TB, e *events)
	query  Query
	want   []Bucket
}

func kpiCases() []kpiCase {
	hour := time.Hour
	day := Query{From: t0, To: t0.Add(24 * hour), Interval: hour, Now: at(3 * hour)}
	with := func(q Query, f func(*Query)) Query { f(&q); return q }

	tickets := func(tb testing.TB, e *events) {
		// t1: a human reply after 30 min, resolved after 2 h.
		e.created(tb, 1, "care", "mastodon", at(0))
		e.update(tb, 1, desk.ChangeAssigned, "alice", at(time.Minute))
		e.update(tb, 1, desk.ChangeReplied, "alice", at(30*time.Minute))
		e.update(tb, 1, desk.ChangeResolved, "alice", at(2*hour))
		// t2: an automatic reply (no actor) does not count; a human one
		// comes 2 h later.
		e.created(tb, 2, "care", "bluesky", at(5*time.Minute))
		e.update(tb, 2, desk.ChangeReplied, "", at(6*time.Minute))
		e.update(tb, 2, desk.ChangeReplied, "bob", at(2*hour+5*time.Minute))
		e.update(tb, 2, desk.ChangeReplied, "alice", at(2*hour+6*time.Minute))
		// t3: never answered, past its target at Now: a miss.
		e.created(tb, 3, "vip", "mastodon", at(10*time.Minute))
		e.update(tb, 3, desk.ChangeNote, "bob", at(11*time.Minute))
		// t5: resolved without a reply within the target: not an SLA case.
		e.created(tb, 5, "care", "mastodon", at(15*time.Minute))
		e.update(tb, 5, desk.ChangeResolved, "bob", at(20*time.Minute))
		// t6: resolved, reopened, then answered: answered, not resolved.
		e.created(tb, 6, "care", "mastodon", at(20*time.Minute))
		e.update(tb, 6, desk.ChangeResolved, "bob", at(40*time.Minute))
		e.update(tb, 6, desk.ChangeReopened, "", at(50*time.Minute))
		e.update(tb, 6, desk.ChangeReplied, "bob", at(55*time.Minute))
		// t4: unanswered but still within target at Now: pending.
		e.created(tb, 4, "care", "mastodon", at(2*hour+30*time.Minute))
		// t7: created before the range: ignored.
		e.created(tb, 7, "care", "mastodon", at(-time.Minute))
		e.update(tb, 7, desk.ChangeReplied, "alice", at(time.Minute))
	}
	mentions := func(tb testing.TB, e *events) {
		e.mention(tb, mention{id: "m1", author: "ana", queue: "care", label: "positive", received: at(10 * time.Minute)})
		e.mention(tb, mention{id: "m2", author: "ben", queue: "care", label: "negative", received: at(20 * time.Minute), source: "bluesky"})
		e.mention(tb, mention{id: "m3", author: "cid", queue: "", label: "neutral", received: at(70 * time.Minute)})
		e.mention(tb, mention{id: "m4", author: "dee", queue: "care", label: "positive", received: at(30 * time.Minute),
			tags: []string{"competitor:zephyr", "promo"}})
		// An edit of m1 is a new version, not a new mention.
		e.mention(tb, mention{id: "m1", author: "ana", queue: "care", label: "negative", received: at(80 * time.Minute), version: 2})
		// Outside the range.
		e.mention(tb, mention{id: "m0", author: "ana", queue: "care", label: "negative", received: at(-time.Second)})
		e.mention(tb, mention{id: "m9", author: "ana", queue: "care", label: "negative", received: at(24 * hour)})
	}

	csat := func(tb testing.TB, e *events) {
		rate := func(ticket int64, queue, agent string, rating int, when time.Time) {
			e.add(tb, EventCSATRated, when, map[string]any{"survey_id": ticket + 100, "ticket_id": ticket, "queue": queue, "agent": agent,
				"source": "mastodon", "author_id": "someone", "rating": rating, "comment": "not archived", "rated_at": when})
		}
		rate(1, "care", "alice", 5, at(10*time.Minute))
		rate(2, "care", "bob", 2, at(20*time.Minute))
		rate(3, "vip", "alice", 4, at(70*time.Minute))
		rate(1, "care", "alice", 5, at(10*time.Minute)) // the same answer published again
		rate(4, "care", "alice", 1, at(-time.Minute))   // before the range
		// An answer wiped by an erasure before the archive read it.
		e.add(tb, EventCSATRated, at(30*time.Minute), map[string]any{})
	}

	return []kpiCase{
		{
			name:   "mentions, net sentiment and share of voice",
			events: mentions,
			query:  day,
			want: []Bucket{
				{Start: t0, Mentions: 3, Positive: 2, Negative: 1, NetSentiment: f64(1.0 / 3), CompetitorMentions: 1, ShareOfVoice: f64(2.0 / 3)},
				{Start: at(hour), Mentions: 1, ShareOfVoice: f64(1)},
			},
		},
		{
			name:   "mentions by source",
			events: mentions,
			query:  with(day, func(q *Query) { q.By = BySource }),
			want: []Bucket{
				{Start: t0, Key: "bluesky", Mentions: 1, Negative: 1, NetSentiment: f64(-1), ShareOfVoice: f64(1)},
				{Start: t0, Key: "mastodon", Mentions: 2, Positive: 2, NetSentiment: f64(1), CompetitorMentions: 1, ShareOfVoice: f64(0.5)},
				{Start: at(hour), Key: "mastodon", Mentions: 1, ShareOfVoice: f64(1)},
			},
		},
		{
			name:   "first response, resolution and SLA",
			events: tickets,
			query:  day,
			want: []Bucket{
				{Start: t0, Tickets: 5, Responded: 3,
					// 1800, 2100, 7200 s: p50 is index floor(1.5)=1, p90 floor(2.7)=2.
					FirstResponseP50Seconds: f64(2100), FirstResponseP90Seconds: f64(7200),
					// 300 and 7200 s.
					Resolved: 2, ResolutionP50Seconds: f64(7200), ResolutionP90Seconds: f64(7200),
					SLAHits: 2, SLAMisses: 2, SLAHitRate: f64(0.5)},
				{Start: at(2 * hour), Tickets: 1},
			},
		},
		{
			name:   "tickets by agent: the first human responder",
			events: tickets,
			query:  with(day, func(q *Query) { q.By = ByAgent }),
			want: []Bucket{
				{Start: t0, Key: "", Tickets: 2, Resolved: 1, ResolutionP50Seconds: f64(300), ResolutionP90Seconds: f64(300), SLAMisses: 1, SLAHitRate: f64(0)},
				{Start: t0, Key: "alice", Tickets: 1, Responded: 1, FirstResponseP50Seconds: f64(1800), FirstResponseP90Seconds: f64(1800),
					Resolved: 1, ResolutionP50Seconds: f64(7200), ResolutionP90Seconds: f64(7200), SLAHits: 1, SLAHitRate: f64(1)},
				{Start: t0, Key: "bob", Tickets: 2, Responded: 2, FirstResponseP50Seconds: f64(7200), FirstResponseP90Seconds: f64(7200),
					SLAHits: 1, SLAMisses: 1, SLAHitRate: f64(0.5)},
				{Start: at(2 * hour), Key: "", Tickets: 1},
			},
		},
		{
			name:   "SLA targets per queue",
			events: tickets,
			query: with(day, func(q *Query) {
				q.By = ByQueue
				q.SLA = SLAPolicy{Default: 3 * hour, Targets: map[string]time.Duration{"vip": 5 * time.Minute}}
			}),
			want: []Bucket{
				{Start: t0, Key: "care", Tickets: 4, Responded: 3,
					FirstResponseP50Seconds: f64(2100), FirstResponseP90Seconds: f64(7200),
					Resolved: 2, ResolutionP50Seconds: f64(7200), ResolutionP90Seconds: f64(7200),
					SLAHits: 3, SLAHitRate: f64(1)},
				{Start: t0, Key: "vip", Tickets: 1, SLAMisses: 1, SLAHitRate: f64(0)},
				{Start: at(2 * hour), Key: "care", Tickets: 1},
			},
		},
		{
			name: "a ticket counts in its latest queue",
			events: func(tb testing.TB, e *events) {
				e.created(tb, 1, "triage", "mastodon", at(0))
				e.move(tb, 1, "billing", at(time.Minute))
			},
			query: with(day, func(q *Query) { q.By = ByQueue }),
			want:  []Bucket{{Start: t0, Key: "billing", Tickets: 1, SLAMisses: 1, SLAHitRate: f64(0)}},
		},
		{
			name: "buckets start at from, whatever its alignment",
			events: func(tb testing.TB, e *events) {
				e.mention(tb, mention{id: "a", label: "positive", received: at(7 * time.Minute)})
				e.mention(tb, mention{id: "b", label: "positive", received: at(22 * time.Minute)})
				e.mention(tb, mention{id: "c", label: "negative", received: at(37*time.Minute - time.Millisecond)})
				e.mention(tb, mention{id: "d", label: "negative", received: at(37 * time.Minute)})
			},
			query: Query{From: at(7 * time.Minute), To: at(37 * time.Minute), Interval: 15 * time.Minute},
			want: []Bucket{
				{Start: at(7 * time.Minute), Mentions: 1, Positive: 1, NetSentiment: f64(1), ShareOfVoice: f64(1)},
				{Start: at(22 * time.Minute), Mentions: 2, Positive: 1, Negative: 1, NetSentiment: f64(0), ShareOfVoice: f64(1)},
			},
		},
		{
			name: "an erased author's mentions still count, pseudonymously",
			events: func(tb testing.TB, e *events) {
				e.mention(tb, mention{id: "x1", author: "eve", label: "negative", received: at(time.Minute)})
				e.mention(tb, mention{id: "x2", author: "eve", label: "negative", received: at(2 * time.Minute)})
				e.deleted(tb, "mastodon", "", "eve", at(3*time.Minute))
				e.mention(tb, mention{id: "x3", author: "fay", label: "positive", received: at(4 * time.Minute)})
				e.deleted(tb, "mastodon", "x3", "", at(5*time.Minute))
			},
			query: day,
			want:  []Bucket{{Start: t0, Mentions: 3, Positive: 1, Negative: 2, NetSentiment: f64(-1.0 / 3), ShareOfVoice: f64(1)}},
		},
		{
			name:   "CSAT by queue over time",
			events: csat,
			query:  with(day, func(q *Query) { q.By = ByQueue }),
			want: []Bucket{
				{Start: t0, Key: "care", CSATResponses: 2, CSATPositive: 1, CSATScore: f64(0.5)},
				{Start: at(hour), Key: "vip", CSATResponses: 1, CSATPositive: 1, CSATScore: f64(1)},
			},
		},
		{
			name:   "CSAT by agent",
			events: csat,
			query:  with(day, func(q *Query) { q.By = ByAgent; q.Interval = 24 * hour }),
			want: []Bucket{
				{Start: t0, Key: "alice", CSATResponses: 2, CSATPositive: 2, CSATScore: f64(1)},
				{Start: t0, Key: "bob", CSATResponses: 1, CSATScore: f64(0)},
			},
		},
		{
			name:   "nothing in range",
			events: tickets,
			query:  Query{From: at(30 * 24 * hour), To: at(31 * 24 * hour), Interval: hour},
			want:   []Bucket{},
		},
	}
}

// TestKPIContract runs every case against every store: each must give the
// expected buckets, whether the events were written once, in small batches,
// or written again after a simulated failure.
func TestKPIContract(t *testing.T) {
	for _, tc := range kpiCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEvents()
			tc.events(t, e)
			for name, s := range stores(t) {
				t.Run(name, func(t *testing.T) {
					ctx := context.Background()
					writeReplaying(t, s, e.list, 3)
					got, err := s.KPIs(ctx, tc.query)
					if err != nil {
						t.Fatal(err)
					}
					assertBuckets(t, got, tc.want)
				})
			}
		})
	}
}

// writeReplaying writes events in batches of n, and writes every batch
// twice, the first time without advancing the cursor (as after a crash
// between the insert and the cursor).
func writeReplaying(tb testing.TB, s Store, list []desk.Event, n int) {
	tb.Helper()
	ctx := context.Background()
	before, err := s.Cursor(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < len(list); i += n {
		batch := list[i:min(i+n, len(list))]
		if err := s.Write(ctx, batch, before); err != nil {
			tb.Fatal(err)
		}
		if err := s.Write(ctx, batch, batch[len(batch)-1].Seq); err != nil {
			tb.Fatal(err)
		}
		before = batch[len(batch)-1].Seq
	}
	got, err := s.Cursor(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if len(list) > 0 && got != list[len(list)-1].Seq {
		tb.Fatalf("cursor = %d after writing up to %d", got, list[len(list)-1].Seq)
	}
}

func assertBuckets(tb testing.TB, got, want []Bucket) {
	tb.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if string(g) != string(w) {
		tb.Errorf("buckets differ\n got: %s\nwant: %s", g, w)
	}
}

// TestStoresAgree feeds both stores the same random history, with
// duplicates and erasures, and requires identical answers to a spread of
// queries.
func TestStoresAgree(t *testing.T) {
	t.Parallel()
	ss := stores(t)
	if len(ss) < 2 {
		t.Skip("needs both stores: set VIGIE_TEST_CLICKHOUSE")
	}
	e := randomHistory(t, rand.New(rand.NewPCG(1, 2)), 400)
	for _, s := range ss {
		writeReplaying(t, s, e.list, 97)
	}
	queries := []Query{}
	for _, by := range []Dimension{ByNone, ByQueue, BySource, ByAgent} {
		for _, iv := range []time.Duration{time.Hour, 24 * time.Hour, 17 * time.Minute} {
			queries = append(queries, Query{From: t0, To: at(48 * time.Hour), Interval: iv, By: by, Now: at(30 * time.Hour),
				SLA: SLAPolicy{Default: 45 * time.Minute, Targets: map[string]time.Duration{"vip": 10 * time.Minute}}})
		}
	}
	for _, q := range queries {
		t.Run(fmt.Sprintf("by=%s,interval=%s", q.By, q.Interval), func(t *testing.T) {
			emb, err := ss["embedded"].KPIs(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			ch, err := ss["clickhouse"].KPIs(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(emb) == 0 {
				t.Fatal("no buckets: the history generator is broken")
			}
			assertBuckets(t, ch, emb)
		})
	}
}

// randomHistory returns a day of mentions and tickets with replies
// (human and automatic), resolutions, reopenings, queue moves and erasures.
func randomHistory(tb testing.TB, r *rand.Rand, tickets int) *events {
	tb.Helper()
	return historyFrom(tb, r, 0, 1, tickets, t0)
}

// historyFrom is randomHistory continuing a log: event sequence numbers
// after seq, ticket and mention ids from firstID, times from start.
func historyFrom(tb testing.TB, r *rand.Rand, seq int64, firstID, tickets int, start time.Time) *events {
	tb.Helper()
	e := newEvents()
	e.seq = seq
	queues := []string{"care", "vip", "billing", ""}
	sources := []string{"mastodon", "bluesky", "x"}
	agents := []string{"alice", "bob", "chloe"}
	labels := []string{"positive", "negative", "neutral", ""}
	type pending struct {
		id   int64
		when time.Time
		kind int
	}
	var later []pending
	clock := start
	for i := firstID; i < firstID+tickets; i++ {
		clock = clock.Add(time.Duration(r.IntN(240)) * time.Second)
		src := sources[r.IntN(len(sources))]
		q := queues[r.IntN(len(queues))]
		var tags []string
		if r.IntN(5) == 0 {
			tags = []string{"competitor:zephyr"}
		}
		e.mention(tb, mention{source: src, id: fmt.Sprint("m", i), author: fmt.Sprint("u", r.IntN(50)), queue: q,
			label: labels[r.IntN(len(labels))], received: clock, tags: tags, ticket: int64(i)})
		if r.IntN(4) == 0 {
			continue // dropped: no ticket
		}
		e.created(tb, int64(i), q, src, clock)
		if i%3 == 0 {
			// A survey answer (without drawing from r, so that the rest of
			// the history stays what it was).
			when := clock.Add(time.Duration(i%90) * time.Minute)
			e.add(tb, EventCSATRated, when, map[string]any{"survey_id": i, "ticket_id": i, "queue": q, "agent": agents[i%len(agents)],
				"source": src, "author_id": "someone", "rating": i%5 + 1, "rated_at": when})
		}
		for k := 0; k < r.IntN(5); k++ {
			later = append(later, pending{int64(i), clock.Add(time.Duration(r.IntN(6*3600)) * time.Second), r.IntN(6)})
		}
		// Flush the actions due by now, in time order of arrival.
		var keep []pending
		for _, p := range later {
			if p.when.After(clock) {
				keep = append(keep, p)
				continue
			}
			switch p.kind {
			case 0, 1:
				e.update(tb, p.id, desk.ChangeReplied, agents[r.IntN(len(agents))], p.when)
			case 2:
				e.update(tb, p.id, desk.ChangeReplied, "", p.when)
			case 3:
				e.update(tb, p.id, desk.ChangeResolved, agents[r.IntN(len(agents))], p.when)
			case 4:
				e.update(tb, p.id, desk.ChangeReopened, "", p.when)
			case 5:
				e.move(tb, p.id, queues[r.IntN(len(queues))], p.when)
			}
		}
		later = keep
		if r.IntN(40) == 0 {
			e.deleted(tb, src, "", fmt.Sprint("u", r.IntN(50)), clock)
		}
		if r.IntN(10) == 0 {
			e.mention(tb, mention{source: src, id: fmt.Sprint("m", i), author: "x", queue: q, label: "negative",
				received: clock.Add(time.Minute), version: 2})
		}
	}
	return e
}

// TestDecodeSegments checks that deletions split a batch only where a later
// mention is one they name.
func TestDecodeSegments(t *testing.T) {
	t.Parallel()
	e := newEvents()
	e.mention(t, mention{id: "a", author: "eve", received: at(0)})
	e.deleted(t, "mastodon", "", "eve", at(time.Second))
	e.mention(t, mention{id: "b", author: "sam", received: at(2 * time.Second)})
	e.created(t, 1, "care", "mastodon", at(2*time.Second))
	e.deleted(t, "mastodon", "b", "", at(3*time.Second))
	e.mention(t, mention{id: "c", author: "sam", received: at(4 * time.Second)})
	e.mention(t, mention{id: "d", author: "eve", received: at(5 * time.Second)}) // after eve's erasure: kept
	rs := decode(e.list)
	var shape []string
	for _, s := range rs.segments {
		shape = append(shape, fmt.Sprintf("%dm%dd%dx", len(s.mentions), len(s.desk), len(s.deletes)))
	}
	if got, want := fmt.Sprint(shape), "[3m1d2x 1m0d0x]"; got != want {
		t.Errorf("segments %s, want %s", got, want)
	}
}
