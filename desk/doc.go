// Package desk is where agents work: tickets in queues, their conversations,
// replies posted back to the networks, and the websocket hub that pushes
// every change live.
//
// The desk implements router.Sink: each routed batch becomes tickets and
// events in one SQLite transaction together with the intake cursor, so a
// mention becomes a ticket exactly once, even across a crash. A follow-up from
// the same author in the same conversation joins the open ticket (and reopens
// one resolved within Config.ReopenWindow).
//
// Every change is an Event with a sequence number in the desk's event log.
// Writes are serialised by one lock, so sequence numbers follow commit order
// and events reach the Hub in that order. Downstream sinks (search, archive)
// follow the log with ReadEvents/WaitEvents from their own cursors.
//
// Replies are queued in a durable outbox in the same transaction as the
// message, then posted by a Replier with an idempotency key and retries; a
// Sandbox records them until a network's connector is configured.
package desk
