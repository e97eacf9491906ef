package archive

import (
	"context"
	"time"

	"github.com/vigie/vigie/desk"
)

// EventLog is the desk's event log as the archive follows it. *desk.Desk
// implements it. Implementations are safe for concurrent use.
type EventLog interface {
	// ReadEvents returns up to max events with Seq > after, in Seq order. An
	// empty slice means there is nothing after `after` yet.
	ReadEvents(ctx context.Context, after int64, max int) ([]desk.Event, error)
	// WaitEvents blocks until an event with Seq > after exists, and returns
	// nil; or until ctx ends, and returns ctx.Err().
	WaitEvents(ctx context.Context, after int64) error
}

// KPIReader answers KPI queries. The HTTP handler needs nothing more.
type KPIReader interface {
	// KPIs returns the non-empty buckets of q, ordered by Start then Key.
	// q must be valid (see Query.Validate).
	KPIs(ctx context.Context, q Query) ([]Bucket, error)
}

// Store is an archive: where the Feeder writes the event stream, and what
// KPIs are computed from. Both implementations (ClickHouse and Embedded) give
// identical answers to the same query over the same events; one contract test
// suite checks it. Implementations are safe for concurrent use.
type Store interface {
	KPIReader
	// Write archives a batch of events, in order, and records cursor (the Seq
	// of the batch's last event) as the position to resume from. Writing an
	// event again (a retry after a failure or a crash) never counts it twice
	// in a KPI. After an error nothing can be assumed written: retry the
	// same batch.
	Write(ctx context.Context, batch []desk.Event, cursor int64) error
	// Cursor returns the last cursor Write recorded, 0 for an empty archive.
	Cursor(ctx context.Context) (int64, error)
	// Close releases the store's connections.
	Close() error
}

// Dimension is what a KPI query breaks buckets down by.
type Dimension string

// The dimensions of a KPI query.
const (
	// ByNone gives one row per time bucket, with key "".
	ByNone Dimension = ""
	// ByQueue keys tickets by their queue (the latest one) and mentions by
	// the queue the router chose ("" when dropped without one).
	ByQueue Dimension = "queue"
	// BySource keys tickets and mentions by network.
	BySource Dimension = "source"
	// ByAgent keys tickets by the agent who sent the first human reply (""
	// when none yet), and survey answers by the ticket's assignee when it
	// was resolved. Mentions have no agent: mention measures are zero.
	ByAgent Dimension = "agent"
)

// Valid reports whether d is one of the dimensions.
func (d Dimension) Valid() bool {
	switch d {
	case ByNone, ByQueue, BySource, ByAgent:
		return true
	}
	return false
}

// Query asks for KPIs over [From, To), cut into buckets of Interval starting
// at From, broken down by By.
type Query struct {
	From, To time.Time
	Interval time.Duration
	By       Dimension
	// SLA gives the first-response target of each queue.
	SLA SLAPolicy
	// Now is the moment unanswered tickets are judged against their SLA
	// target. The zero value means time.Now() when the query runs.
	Now time.Time
}

// SLAPolicy is the first-response target of each queue.
type SLAPolicy struct {
	// Default applies to queues not in Targets. Zero means one hour.
	Default time.Duration
	// Targets maps a queue name to its target.
	Targets map[string]time.Duration
}

// DefaultSLA is the first-response target of a queue without one: one hour,
// a common public commitment for social customer care.
const DefaultSLA = time.Hour

// Target returns the first-response target for queue.
func (p SLAPolicy) Target(queue string) time.Duration {
	if t, ok := p.Targets[queue]; ok {
		return t
	}
	return p.fallback()
}

// fallback is the target of queues without one of their own.
func (p SLAPolicy) fallback() time.Duration {
	if p.Default > 0 {
		return p.Default
	}
	return DefaultSLA
}

// Bucket is the KPIs of one time bucket and key. Counts are exact; a rate or
// duration is nil when there is nothing to compute it from. Definitions are
// in the package documentation.
type Bucket struct {
	Start time.Time `json:"start"`
	Key   string    `json:"key"`

	Mentions           int64    `json:"mentions"`
	Positive           int64    `json:"positive"`
	Negative           int64    `json:"negative"`
	NetSentiment       *float64 `json:"net_sentiment"`
	CompetitorMentions int64    `json:"competitor_mentions"`
	ShareOfVoice       *float64 `json:"share_of_voice"`

	Tickets                 int64    `json:"tickets"`
	Responded               int64    `json:"responded"`
	FirstResponseP50Seconds *float64 `json:"first_response_p50_seconds"`
	FirstResponseP90Seconds *float64 `json:"first_response_p90_seconds"`
	Resolved                int64    `json:"resolved"`
	ResolutionP50Seconds    *float64 `json:"resolution_p50_seconds"`
	ResolutionP90Seconds    *float64 `json:"resolution_p90_seconds"`
	SLAHits                 int64    `json:"sla_hits"`
	SLAMisses               int64    `json:"sla_misses"`
	SLAHitRate              *float64 `json:"sla_hit_rate"`

	CSATResponses int64    `json:"csat_responses"`
	CSATPositive  int64    `json:"csat_positive"`
	CSATScore     *float64 `json:"csat_score"`
}
