// Package listener defines what Vigie hears from the networks: mentions,
// check-ins and tombstones (deletions a network told us about), the Source
// interface every network connector implements, and the strict decoder used by
// the HTTP ingest endpoints.
//
// Subpackages implement sources: listener/replay (an NDJSON file),
// listener/demo (a generator for the demo brand), and one package per network.
//
// Everything here is upstream of the rest of Vigie: listener imports no other
// Vigie package.
package listener
