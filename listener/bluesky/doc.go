// Package bluesky listens to Bluesky through Jetstream and answers through
// XRPC.
//
// A Source reads Jetstream's v1 websocket (`/subscribe`, JSON events, no
// auth) filtered to app.bsky.feed.post. A post is a mention when its facets
// mention the brand's DID, when it answers one of the brand's posts, or when
// its text holds a configured keyword (or, with no brand DID and no keywords,
// every post of the wanted DIDs). Create and update commits become mentions
// (an update is a new version of the same AT-URI), delete commits become
// tombstones, and an account event with active:false and status deleted,
// takendown or suspended becomes a tombstone for the whole author. Follower
// counts come from app.bsky.actor.getProfile, cached with a TTL.
//
// The cursor is Jetstream's time_us. It is persisted only when everything
// the source emitted up to that point has been committed (Commit, and a
// periodic checkpoint while nothing is pending), and a reconnection resumes 5
// seconds earlier, the overlap dropped by a bounded de-duplication set.
// Jetstream has no application heartbeat: the Source pings every 30 s and
// treats 60 s without a frame or pong as a dead connection.
//
// A Replier logs in with an app password (com.atproto.server.createSession,
// refreshed with refreshSession when the access token expires) and answers
// with com.atproto.repo.createRecord, reply.root and reply.parent resolved
// through app.bsky.feed.getPosts.
//
// Source and Replier are safe for concurrent use; Run may be called again
// after it returned, not twice at once.
package bluesky
