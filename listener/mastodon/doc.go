// Package mastodon listens to a Mastodon instance's streaming API and answers
// on it.
//
// A Source follows one stream (a hashtag, the public timeline or the user's
// home stream) over Server-Sent Events or the streaming websocket, and turns
// `update` and `status.update` events into listener mentions (HTML stripped
// to text; an edit is a new version of the same id) and `delete` events into
// tombstones. A stream that stays silent for longer than three missed
// `:thump` heartbeats is considered dead and reconnected with back-off; after
// every (re)connection the matching REST timeline is paged forward from the
// newest status seen (`min_id`, following `Link` headers), so a disconnection
// leaves no gap. The resume position is persisted through a
// source.CursorStore only when the intake pump commits (Commit).
//
// A Replier posts answers with POST /api/v1/statuses, `in_reply_to_id` and an
// `Idempotency-Key`, so the desk's retries never post twice.
//
// Source and Replier are safe for concurrent use; Run may be called again
// after it returned, not twice at once.
package mastodon
