package archive

import (
	"errors"
	"fmt"
	"github.com/vigie/vigie/desk"

	"slices"
	"sort"
	"time"
)

// MaxBuckets bounds how many time buckets one query may span: a year of
// hourly buckets fits; anything finer over a longer range is a mistake that
// would return millions of rows.
const MaxBuckets = 10_000

// ErrInvalidQuery is wrapped by every error Query.Validate returns.
var ErrInvalidQuery = errors.New("invalid KPI query")

// Validate checks q: a range with From before To, a positive Interval of at
// least a second, at most MaxBuckets buckets, a known dimension.
func (q *Query) Validate() error {
	switch {
	case q.From.IsZero() || q.To.IsZero():
		return fmt.Errorf("%w: from and to are required", ErrInvalidQuery)
	case !q.From.Before(q.To):
		return fmt.Errorf("%w: from (%s) must be before to (%s)", ErrInvalidQuery,
			q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339))
	case q.Interval < time.Second:
		return fmt.Errorf("%w: interval %s: must be at least 1s", ErrInvalidQuery, q.Interval)
	case !q.By.Valid():
		return fmt.Errorf("%w: by %q: must be queue, source or agent", ErrInvalidQuery, q.By)
	}
	if n := q.buckets(); n > MaxBuckets {
		return fmt.Errorf("%w: %d buckets of %s from %s to %s: at most %d", ErrInvalidQuery, n, q.Interval,
			q.From.UTC().Format(time.RFC3339), q.To.UTC().Format(time.RFC3339), MaxBuckets)
	}
	for queue, t := range q.SLA.Targets {
		if t <= 0 {
			return fmt.Errorf("%w: SLA target of queue %q must be positive", ErrInvalidQuery, queue)
		}
	}
	return nil
}

// buckets returns how many buckets q spans.
func (q *Query) buckets() int64 {
	span, step := q.To.Sub(q.From), q.Interval
	return int64((span + step - 1) / step)
}

// Times inside the archive are Unix milliseconds: ClickHouse 18.16 has no
// DateTime64, and integer arithmetic gives both stores the same buckets.
func ms(t time.Time) int64 { return t.UnixMilli() }

// window is a query in milliseconds, as both stores compute it.
type window struct {
	from, to, step, now int64
}

func (q *Query) window() window {
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	return window{from: ms(q.From), to: ms(q.To), step: q.Interval.Milliseconds(), now: ms(now)}
}

// bucket returns the index of the bucket holding t (From <= t < To).
func (w window) bucket(t int64) int64 { return (t - w.from) / w.step }

// start returns when bucket i starts.
func (w window) start(i int64) time.Time { return time.UnixMilli(w.from + i*w.step).UTC() }

// quantileExact returns the q-quantile of sorted (ascending, non-empty) the
// way ClickHouse's quantileExact does, in 18.16 as in current releases: the
// element at index floor(q·n), the last one for q >= 1. No interpolation, so
// the answer is always an observed value.
func quantileExact(sorted []int64, q float64) int64 {
	n := len(sorted)
	i := n - 1
	if q < 1 {
		i = int(q * float64(n))
	}
	if i > n-1 {
		i = n - 1
	}
	return sorted[i]
}

// Quantile levels reported.
const (
	p50 = 0.5
	p90 = 0.9
)

// seconds turns milliseconds into a JSON-ready number of seconds.
func seconds(msec int64) *float64 {
	s := float64(msec) / 1000
	return &s
}

// ratio returns num/den, nil when den is zero.
func ratio(num, den int64) *float64 {
	if den == 0 {
		return nil
	}
	r := float64(num) / float64(den)
	return &r
}

// finish derives the rates of b from its counts. Both stores call it, so
// rates are computed from identical integers with identical arithmetic.
func (b *Bucket) finish() {
	if b.Positive+b.Negative > 0 {
		r := float64(b.Positive-b.Negative) / float64(b.Positive+b.Negative)
		b.NetSentiment = &r
	}
	b.ShareOfVoice = ratio(b.Mentions-b.CompetitorMentions, b.Mentions)
	b.SLAHitRate = ratio(b.SLAHits, b.SLAHits+b.SLAMisses)
	b.CSATScore = ratio(b.CSATPositive, b.CSATResponses)
}

// ticketFact is what the KPIs need of one ticket, folded from its events.
// Sequence numbers order events; a zero seq means "never happened".
type ticketFact struct {
	TicketID  int64
	CreatedMS int64
	// LastSeq is the newest event folded in; Queue and Source are its.
	LastSeq       int64
	Queue, Source string
	// The first human reply: its event, time and agent.
	ReplySeq  int64
	ReplyMS   int64
	Responder string
	// The first resolution, the last one, and the last reopening.
	FirstResolvedSeq int64
	FirstResolvedMS  int64
	LastResolvedSeq  int64
	LastResolvedMS   int64
	ReopenedSeq      int64
}

// fold merges one desk event into f. Folding is idempotent and
// order-independent, like the ClickHouse aggregates it mirrors (argMax by
// seq, argMin by seq, max of seq), so a replayed event changes nothing.
func (f *ticketFact) fold(r *deskRow) {
	if f.TicketID == 0 {
		f.TicketID, f.CreatedMS = r.TicketID, r.CreatedMS
	}
	if r.CreatedMS < f.CreatedMS {
		f.CreatedMS = r.CreatedMS
	}
	if r.EventID > f.LastSeq {
		f.LastSeq, f.Queue, f.Source = r.EventID, r.Queue, r.Source
	}
	switch {
	case r.humanReply():
		if f.ReplySeq == 0 || r.EventID < f.ReplySeq {
			f.ReplySeq, f.ReplyMS, f.Responder = r.EventID, r.AtMS, r.Agent
		}
	case r.Change == desk.ChangeResolved:
		if f.FirstResolvedSeq == 0 || r.EventID < f.FirstResolvedSeq {
			f.FirstResolvedSeq, f.FirstResolvedMS = r.EventID, r.AtMS
		}
		if r.EventID > f.LastResolvedSeq {
			f.LastResolvedSeq, f.LastResolvedMS = r.EventID, r.AtMS
		}
	case r.Change == desk.ChangeReopened:
		f.ReopenedSeq = max(f.ReopenedSeq, r.EventID)
	}
}

// slaState is where a ticket stands against its first-response target.
type slaState int

const (
	slaPending  slaState = iota // unanswered, target not yet passed
	slaHit                      // first human reply within target
	slaMiss                     // reply after target, or none and target passed
	slaExcluded                 // resolved without a reply before the target
)

func (f *ticketFact) sla(target time.Duration, now int64) slaState {
	t := target.Milliseconds()
	switch {
	case f.ReplySeq > 0 && f.ReplyMS-f.CreatedMS <= t:
		return slaHit
	case f.ReplySeq > 0:
		return slaMiss
	case f.FirstResolvedSeq > 0 && f.FirstResolvedMS-f.CreatedMS <= t:
		return slaExcluded
	case now-f.CreatedMS > t:
		return slaMiss
	}
	return slaPending
}

// resolved reports whether the ticket's last resolution was not undone.
func (f *ticketFact) resolved() bool { return f.LastResolvedSeq > f.ReopenedSeq }

func (f *ticketFact) key(by Dimension) string {
	switch by {
	case ByQueue:
		return f.Queue
	case BySource:
		return f.Source
	case ByAgent:
		return f.Responder
	}
	return ""
}

// bucketKey identifies one output row.
type bucketKey struct {
	index int64
	key   string
}

// aggregator computes buckets from facts in Go. The embedded store uses it;
// the ClickHouse store computes the same in SQL, and the contract suite
// checks that they agree.
type aggregator struct {
	q       *Query
	w       window
	buckets map[bucketKey]*Bucket
	first   map[bucketKey][]int64
	resol   map[bucketKey][]int64
}

func newAggregator(q *Query) *aggregator {
	return &aggregator{q: q, w: q.window(), buckets: map[bucketKey]*Bucket{},
		first: map[bucketKey][]int64{}, resol: map[bucketKey][]int64{}}
}

func (a *aggregator) bucket(k bucketKey) *Bucket {
	b := a.buckets[k]
	if b == nil {
		b = &Bucket{Start: a.w.start(k.index), Key: k.key}
		a.buckets[k] = b
	}
	return b
}

// addMentions adds the mention counts of one bucket and key.
func (a *aggregator) addMentions(index int64, key string, mentions, positive, negative, competitor int64) {
	b := a.bucket(bucketKey{index, key})
	b.Mentions += mentions
	b.Positive += positive
	b.Negative += negative
	b.CompetitorMentions += competitor
}

// addCSAT adds the survey answers of one bucket and key.
func (a *aggregator) addCSAT(index int64, key string, responses, positive int64) {
	b := a.bucket(bucketKey{index, key})
	b.CSATResponses += responses
	b.CSATPositive += positive
}

// csatKey is the column survey answers are keyed by, per dimension.
var csatKey = map[Dimension]string{ByNone: `''`, ByQueue: `queue`, BySource: `source`, ByAgent: `agent`}

func (a *aggregator) addTicket(f *ticketFact) {
	if f.CreatedMS < a.w.from || f.CreatedMS >= a.w.to {
		return
	}
	k := bucketKey{a.w.bucket(f.CreatedMS), f.key(a.q.By)}
	b := a.bucket(k)
	b.Tickets++
	if f.ReplySeq > 0 {
		b.Responded++
		a.first[k] = append(a.first[k], max(0, f.ReplyMS-f.CreatedMS))
	}
	if f.resolved() {
		b.Resolved++
		a.resol[k] = append(a.resol[k], max(0, f.LastResolvedMS-f.CreatedMS))
	}
	switch f.sla(a.q.SLA.Target(f.Queue), a.w.now) {
	case slaHit:
		b.SLAHits++
	case slaMiss:
		b.SLAMisses++
	}
}

func (a *aggregator) result() []Bucket {
	out := make([]Bucket, 0, len(a.buckets))
	for k, b := range a.buckets {
		if d := a.first[k]; len(d) > 0 {
			slices64(d)
			b.FirstResponseP50Seconds = seconds(quantileExact(d, p50))
			b.FirstResponseP90Seconds = seconds(quantileExact(d, p90))
		}
		if d := a.resol[k]; len(d) > 0 {
			slices64(d)
			b.ResolutionP50Seconds = seconds(quantileExact(d, p50))
			b.ResolutionP90Seconds = seconds(quantileExact(d, p90))
		}
		b.finish()
		out = append(out, *b)
	}
	sortBuckets(out)
	return out
}

func slices64(d []int64) { slices.Sort(d) }

func sortBuckets(bs []Bucket) {
	sort.Slice(bs, func(i, j int) bool {
		if !bs[i].Start.Equal(bs[j].Start) {
			return bs[i].Start.Before(bs[j].Start)
		}
		return bs[i].Key < bs[j].Key
	})
}
