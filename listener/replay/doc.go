// Package replay plays an NDJSON file of mentions (one JSON object a line,
// the shape POST /api/v1/mentions accepts) into Vigie, two ways:
//
//   - Source is a listener.Source that reads the file at a given rate and
//     emits each valid mention; it validates every line with the same strict
//     decoder as the ingest endpoint, logs and counts bad lines with their
//     line number, and returns nil at the end of the file.
//   - Post sends the file to a running Vigie over HTTP, in NDJSON batches at a
//     given rate, retrying a batch whole on 429, 502, 503, 504 and network
//     errors with exponential back-off (safe: the server deduplicates by
//     source and id), and reports what the server accepted, found duplicate
//     or rejected, with reasons, by line number.
//
// Both read lines the same way: a UTF-8 byte order mark at the start of the
// file is skipped, CRLF line ends are accepted, blank lines are ignored (but
// counted in line numbers), and a line longer than MaxLineBytes is reported
// as bad without being held in memory.
package replay
