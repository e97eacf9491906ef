// Package meta receives Meta Graph API webhooks for a Facebook Page and an
// Instagram professional account, and posts replies through the Graph API.
//
// The Handler answers Meta's verification handshake (GET with hub.mode,
// hub.verify_token, hub.challenge) and receives deliveries (POST). A
// delivery is authenticated before anything else reads it: its
// X-Hub-Signature-256 header must be the HMAC-SHA256 of the raw body keyed
// with the app secret, compared in constant time; a missing signature is a
// 401, a wrong one a 403. It is then parsed (Parse), Instagram mentions are
// fetched from the Graph API, and the items are appended to the intake log:
// the handler answers 200 only after the append returned, so that a 200
// means durable and anything else makes Meta deliver again (duplicates are
// harmless: the intake log deduplicates on source and id).
//
// What becomes what:
//   - Page "feed" changes for posts and comments (item post, status, photo,
//     video, share, comment): verb "add" is a Mention, "edited" a new version
//     of it (same id, new text), "remove" a Tombstone;
//   - Instagram "comments" and "live_comments" are Mentions; "mentions"
//     (the account was @mentioned in a comment or a caption) are fetched
//     with the access token and become Mentions.
//
// Anything else (reactions, hides, Messenger) is counted and skipped.
//
// Graph posts replies: POST /{id}/comments for Facebook, POST /{id}/replies
// for Instagram. Graph API error codes map to retry-later (throttling: 4,
// 17, 32, 613, 80001-80009; transient: 1, 2) or permanent failures
// (sources.ErrPermanent: permissions 10 and 200-299, invalid parameter 100,
// expired token 190, policy block 368).
//
// Handler and Graph are safe for concurrent use.
package meta
