// Package sources runs Vigie's network sources from a sources file.
//
// A sources file (YAML) lists each source: its type (mastodon, bluesky, x,
// meta, rss, foursquare, radar, location-webhook, replay, demo), its name,
// whether it is enabled, its settings, and its secrets, given by the name of
// an environment variable (or VAR_FILE, a file holding the secret), never in
// the file itself. Load reports mistakes with their line and column.
//
// A Registry builds each source with the Factory registered for its type
// (network packages export one; cmd/vigie registers them), runs the enabled
// ones, and keeps each one's runtime status: connected, lag, last error,
// items per minute over the last minute. Sources can be enabled and disabled
// while Vigie runs; disabling one stops its goroutine, enabling starts it
// again. A source that fails is restarted with back-off.
//
// Three shapes of source plug in, through Instance:
//   - a polling or streaming listener.Source, run through the Pump the caller
//     gives (the intake log's); its items are counted when they are durable,
//     through the Committer the registry wraps around it;
//   - a webhook receiver (an http.Handler) mounted under /hooks/{name}. Those
//     routes are public: each receiver authenticates deliveries by the
//     network's own signature, and answers 2xx only once the items are
//     durable (through Deps.Append). A disabled webhook source answers 503 so
//     that the network delivers again later;
//   - a Replier, that posts agents' replies back to the network. The
//     registry's Replier dispatches a Reply by its Source (the network name
//     on the mention) to the instance that declared that network.
//
// The reply port (Reply, Replier, ErrPermanent) mirrors the desk's: listener
// packages must not import desk (imports follow the data flow), so cmd/vigie
// adapts one to the other with a struct conversion.
//
// The Registry is safe for concurrent use.
package sources
