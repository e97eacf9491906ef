// Package search keeps every mention searchable: a Bleve index under the
// data directory, fed from the desk's event log, and the search API over it.
//
// The index is a sink. Index.Run follows the event log (EventLog) from its
// own cursor, which is stored inside the index and written in the same Bleve
// batch as the documents of the events before it: a crash loses no event and
// applies none twice, and a restarted index catches up by itself. Run only
// reads the log, in batches (Config.BatchEvents, Config.MaxDelay), so it can
// fall behind, catch up, or be rebuilt (Rebuild) without ever slowing the
// path from a post to an agent's screen.
//
// One document per mention, with id "source/id": an edit (a new version)
// replaces it, a deletion removes it, an erasure removes every document of
// the author. Ticket events copy the ticket's queue, status, assignee,
// priority and tags onto the documents of the ticket; the feeder remembers
// recent tickets and their documents so that this costs no index read in
// the common case.
//
// The text goes to a field per language (text_fr, text_en, text), each with
// its own analyser; the query-string terms that name no field search them
// all. Search answers a Request with hits, highlights and facets; Register
// mounts it as GET /api/v1/search.
//
// Search is safe for concurrent use, also while Run writes. Run must run at
// most once at a time; stop it before Close.
package search
