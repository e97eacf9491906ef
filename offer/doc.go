// Package offer sends geolocated offers: the right offer to a customer who
// opted in, at the store's door, and never to anyone else.
//
// The Engine follows the intake log from its own cursor, in batches, off the
// path from a post to an agent. Every check-in, and every mention with
// coordinates, is matched against the stores' geofences (circles or
// polygons, GeoJSON) through an R-tree (github.com/tidwall/rtree) and then
// an exact test (haversine distance, even-odd point in polygon). Presence is
// kept per (source, user, fence): a point inside a fence is an entry (the
// first of a visit) or a repeat inside it (dwell time grows); a point
// outside, or silence longer than Config.VisitTimeout, ends the visit.
//
// For every point inside a fence the engine takes one Decision and records
// it, sent or skipped with its Reason. The guards run in this order: a
// campaign due for this moment of the visit (enter, or dwell), the point's
// age, consent (the registry per source and user, with proof and history),
// the global cap per person (Config.UserCap per Config.UserCapWindow), then
// for each due campaign in priority order its dates and weekdays, the
// store's opening hours, quiet hours in the person's time zone (else the
// store's), its audience and its caps. The first campaign that passes every
// guard sends. Decisions, presence and the cursor commit in one SQLite
// transaction: a crash neither sends twice nor skips a check-in.
//
// Sent offers wait in a durable queue (the decisions table) for a signed
// webhook to the SMS/CRM gateway (HMAC-SHA256, Idempotency-Key stable
// across attempts), retried with exponential back-off and jitter, dead-
// lettered after Config.MaxAttempts. Consent is checked again just before
// each call. Decisions and redemptions go to an outbox in the same
// transaction and are published as desk events (offer.sent, offer.skipped,
// offer.redeemed) on desk.TopicOffers, at least once.
//
// Concurrency: the Engine's methods are safe for concurrent use. Run starts
// three goroutines (matching, delivery, publication) and returns when its
// context ends; only the matching loop touches presence. Fences and
// campaigns are an immutable snapshot swapped atomically on every change,
// so matching never waits for the API.
package offer
