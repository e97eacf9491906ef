// Package source holds what the network connectors (listener/mastodon,
// listener/bluesky, listener/x, and the webhook and feed sources) share: the
// CursorStore port they persist their resume positions through, the Reply
// type and ErrPermanent their repliers use, a reconnect Backoff, a bounded
// Seen set for de-duplicating replayed items, and a Tracker that keeps a
// source's live Status and its Prometheus metrics.
//
// It imports nothing of Vigie but listener, so that the connectors stay
// upstream of intake and desk: cmd/vigie adapts Reply to desk.Reply and
// ErrPermanent to desk.ErrPermanent.
//
// Tracker and Seen are safe for concurrent use; Backoff is not (each
// reconnect loop owns one).
package source
