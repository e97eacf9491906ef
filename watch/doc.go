// Package watch raises e-reputation alerts: it follows the desk's event log
// (mention.received events, with their enrichment and routing) from its own
// persisted cursor and says, within a minute of event time, when the
// conversation turns.
//
// Detectors, all configured by Config:
//
//   - volume: the mentions of a scope ("all", each queue, tag, topic) in
//     the current window against the same window at the same time of day on
//     the previous days (median + K·σ, σ from the MAD with a Poisson floor),
//     or the windows just before while history is short;
//   - negative: the same for negative mentions, whose share must also rise;
//   - influencer: a negative post by an author above an influence threshold;
//   - crisis: crisis words per language (router keyword queries, matched
//     case- and accent-insensitively);
//   - terms: words whose share of posts jumps against the last hours.
//
// Time is event time (a mention's created_at, or its arrival when that is
// missing or in the future) in minute buckets. Windows are evaluated every
// Step once event time has passed their end plus Grace; while nothing
// arrives, event time runs on with the injected Clock. A replay with a
// clock that does not move is therefore deterministic.
//
// Each trigger belongs to a key (detector and scope). One ongoing alert per
// key is updated while it triggers (alert.updated, rate-limited), resolved
// after Noise.ResolveAfter quiet evaluations, and reopened rather than
// raised again within Noise.Cooldown. Every alert explains itself: metric,
// window, baseline, threshold, observed value, top terms, top authors and
// sample posts. Excerpts of posts stay in the alert record (served by the
// API, erased on mention.deleted); they never reach logs, the event log or
// webhooks.
//
// Counts, alerts, the events to publish, the webhook deliveries and the
// cursor are committed in one SQLite transaction per batch, so a crash
// neither loses nor doubles an alert. Alert events (alert.raised, updated,
// resolved, acked on desk.TopicAlerts) leave through a durable outbox to
// the Publisher, at least once and in order. Webhooks (signed JSON or Slack
// messages) leave from a durable queue with exponential back-off and a
// dead-letter state.
//
// The watch reads and writes only its own database: it never slows the
// path from a post to an agent. A Watch is safe for concurrent use; Run
// must be called once.
package watch
