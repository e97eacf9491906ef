// Package intake is Vigie's durable, deduplicated log of everything accepted
// from the networks: mentions, check-ins and tombstones.
//
// An item is acknowledged (HTTP 202, a stream cursor advanced) only after the
// log has committed it to disk. Concurrent appends are group-committed: one
// writer goroutine takes every request waiting and commits them in a single
// transaction and fsync, which keeps durable ingest fast.
//
// The key of an item is (kind, source, native id). The same key with the same
// content is a duplicate and is not stored again; with a different text it is
// an edit, stored as the next version. Readers (the router) follow the log by
// sequence number; the newest records are served from memory.
//
// This is the intake seam of the design: a cluster would replace Log with a
// NATS JetStream or Kafka stream offering the same Append/Read/Wait contract.
package intake
