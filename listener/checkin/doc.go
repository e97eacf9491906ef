// Package checkin receives check-ins and geofence events by webhook and turns
// them into listener.CheckIn items:
//
//   - Foursquare (Swarm) User and Venue Push: a form-encoded POST
//     (checkin=<JSON>&user=<JSON>&secret=<push secret>), or the same fields
//     as a JSON object; the secret is compared in constant time before the
//     check-in is read.
//   - Radar webhooks: a single event ({"event","user"}) or a batch
//     ({"events","user"}); X-Radar-Signature must be the hex HMAC-SHA1 of the
//     X-Radar-Signing-Id header keyed with the webhook token. Radar signs the
//     signing id, not the body: the check is as strong as Radar makes it.
//     Entering or dwelling in a geofence or place becomes a check-in (the
//     event types are configurable); coordinates arrive as [lng, lat].
//   - A generic signed location webhook for apps and points of sale, signed
//     per Standard Webhooks: webhook-id, webhook-timestamp (Unix seconds, at
//     most 5 minutes off, against replays) and webhook-signature ("v1,<base64
//     HMAC-SHA256 of id.timestamp.body>", several space-separated values
//     during a key rotation). webhook-id is the check-in's id, so that a
//     redelivery is a duplicate. A subject without location consent is
//     refused.
//
// Each Handler authenticates before it parses, appends what it got, and
// answers 200 only after the append returned: a 2xx means durable. A
// payload it cannot read is a 400; an event it does not keep (an exit, a
// check-in without coordinates) is counted and skipped with a 200, so that
// the sender does not retry it forever.
//
// Precise location is personal data: keep these sources behind the
// subject's opt-in, as the location webhook does.
//
// Handlers are safe for concurrent use.
package checkin
