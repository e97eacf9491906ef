// Package x listens to X (Twitter) through the API v2 filtered stream and
// answers with POST /2/tweets.
//
// A Source first syncs the configured stream rules by tag (adds the missing,
// deletes the stale), then reads GET /2/tweets/search/stream: one JSON object
// per "\r\n"-terminated line, with a bare "\r\n" keep-alive every 20 s. Each
// post becomes a mention with its author's metrics from the user expansion
// (tweet-era and post-era field names both read); an edited post keeps the
// first id of its edit history as its id, so an edit is a new version of
// the same mention. Silence beyond the keep-alive timeout, an
// operational-disconnect message or a dropped connection reconnect with X's
// documented back-offs: once at once, then linear from 250 ms to 16 s for
// network errors, exponential from 5 s to 320 s for HTTP errors, and from 1
// minute for 429. With BackfillMinutes set, a reconnection asks for the
// missed minutes and the overlap is dropped by a de-duplication set.
//
// The stream never carries deletions (they need X's Enterprise compliance
// streams), and has no cursor: Source does not implement listener.Committer.
//
// A Replier posts with a user-context OAuth 2 token. When X refuses the
// reply (403: since February 2026 self-serve apps may only answer authors
// who mentioned or quoted the account), the error wraps
// source.ErrPermanent and names the reason and the post's URL.
//
// Source and Replier are safe for concurrent use; Run may be called again
// after it returned, not twice at once.
package x
