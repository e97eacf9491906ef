// Package archive keeps every desk event for the long run and answers the
// KPIs managers read: volumes, response times, SLA hit rate, sentiment and
// share of voice, per time bucket and per queue, network or agent.
//
// # Stores
//
// A Store is either ClickHouse (OpenClickHouse, when --clickhouse is set) or
// an embedded SQLite file in the data directory (OpenEmbedded, the default,
// so that a newcomer's `make run` shows KPIs with no server). Both give the
// same answers to the same query: one contract test suite runs against each.
// The ClickHouse schema (deploy/clickhouse/schema.sql) works on Debian's
// ClickHouse 18.16 and on current releases.
//
// # Feeding
//
// A Feeder follows the desk's event log (EventLog) from the cursor the store
// persisted, in batches (Config.BatchSize, at most Config.MaxDelay late). It
// only reads the log, so a slow or dead store never slows the desk; when the
// store fails it retries the same batch with back-off, and the backlog
// drains when the store returns. No event is ever counted twice in a KPI:
// the embedded store writes rows and cursor in one transaction; ClickHouse
// writes the cursor after the rows, and a batch written again after a
// failure leaves duplicate rows that every KPI query ignores (exact distinct
// counts, and per-ticket min/max/argMin/argMax by event sequence) and that
// ReplacingMergeTree folds in the background.
//
// Deletions (mention.deleted: one post, or everything of an author) remove
// the person's identity from the archived mentions (author id, handle,
// follower count); the pseudonymous facts (network, time, queue, sentiment,
// tags) stay, so past KPIs do not change. The archive never stores post text.
// A retention sweep (retention.applied) does the same by age: the authors of
// the posts created before its cutoff go, every count stays.
//
// The audit log is archived too: an AuditFeeder follows auth's audit log
// into the audit table of either store (AuditStore), hashes included, so
// that the copy can vouch for the log (vigie check compares them).
//
// # KPI definitions
//
// A query covers [from, to) in buckets of one interval starting at from
// (bucket i starts at from + i·interval); only non-empty buckets are
// returned, ordered by start then key. Times are compared in milliseconds.
//
//   - mentions: distinct mentions whose first version (v1) was received in
//     the bucket. Edits (later versions) are not new mentions and do not
//     re-score the mention.
//   - positive, negative, net_sentiment: among those mentions, the ones the
//     classifier labelled positive or negative (from the score, ±0.05, when it
//     gave no label); net_sentiment = (positive − negative) / (positive +
//     negative), neutral excluded; null when both are zero.
//   - competitor_mentions, share_of_voice: mentions a routing rule tagged
//     "competitor:<name>" talk about a competitor; share_of_voice = (mentions −
//     competitor_mentions) / mentions, the brand's share of the conversation
//     Vigie listens to; null without mentions. It is only meaningful where
//     rules tag competitor mentions (otherwise it is 1).
//   - tickets: tickets created in the bucket (Ticket.CreatedAt: when the
//     desk opened the ticket on its first inbound message). Every ticket
//     measure below is bucketed by the ticket's creation time.
//   - responded, first_response_p50/p90_seconds: the time from creation to
//     the first reply by a person (a "replied" change with an actor);
//     automatic replies (no actor) do not count.
//   - resolved, resolution_p50/p90_seconds: tickets whose last resolution was
//     not followed by a reopening; time from creation to that last
//     resolution.
//   - sla_hits, sla_misses, sla_hit_rate: a ticket hits when its first human
//     reply came within its queue's target (SLAPolicy, one hour by default);
//     it misses when the reply came later, or when it is still unanswered
//     past its target (judged at Query.Now). A ticket unanswered and within
//     target is not yet counted; one resolved without a reply before its
//     target is not an SLA case. sla_hit_rate = hits / (hits + misses), null
//     when both are zero. Business hours and pauses are not modelled yet.
//   - csat_responses, csat_positive, csat_score: answers to satisfaction
//     surveys (the CRM's csat.rated events) given in the bucket, one per
//     ticket; positive are ratings of 4 or 5; csat_score = positive /
//     responses, null without answers. Keyed by the queue, network and agent
//     (the assignee at resolution) the answer names. The archive keeps no
//     customer content of them (no author, no comment).
//   - by=queue keys tickets by their latest queue and mentions by the queue
//     the router chose; by=source by network; by=agent keys tickets by the
//     agent of the first human reply ("" when none) and has no mention
//     measures (mentions have no agent).
//
// Quantiles are exact and never interpolated, as ClickHouse's quantileExact
// computes them: the element at index floor(q·n) of the n sorted durations.
// The embedded store computes them the same way in Go. Durations are
// clamped at zero.
//
// # Concurrency
//
// Stores are safe for concurrent use. A Feeder's Run must be called once;
// it returns when its context ends.
package archive
