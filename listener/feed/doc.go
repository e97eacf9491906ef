// Package feed polls RSS 2.0, Atom and JSON Feed 1.1 documents and turns
// their entries into mentions.
//
// A Source polls one feed URL every Interval (with jitter, so that many
// feeds do not poll in step) with a conditional GET: the ETag it got last
// goes out as If-None-Match and the Last-Modified as If-Modified-Since, and
// a 304 costs nothing more. A 429 or 503 with Retry-After waits that long;
// other failures wait longer each time, up to an hour. Failures are reported
// to the source registry and logged: Run itself only returns when its
// context ends.
//
// Documents are parsed with github.com/mmcdole/gofeed, which detects and
// reads the three formats into one model. An entry becomes a Mention: its id
// is the RSS guid, the Atom id or the JSON Feed id (or, when the feed gives
// none, a hash of link, title and date); its text is the title and the
// summary (or content) with HTML stripped; its time is the published date,
// else the updated date. An entry is emitted when it is new or its text
// changed (an edit: the intake log stores it as a new version of the same
// id). An optional keyword list keeps only entries that contain one of the
// keywords (case-insensitive); richer filtering belongs to the router's rules.
//
// The cursor (ETag, Last-Modified and a hash of each entry in the current
// document) is persisted through a sources.CursorStore only once every entry
// emitted from that document is committed (Commit), so that a crash never
// skips an entry.
//
// Name and Run are safe to call from one goroutine; Commit may be called
// concurrently with Run.
package feed
