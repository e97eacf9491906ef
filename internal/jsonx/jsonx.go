// Package jsonx decodes the events the sinks follow, faster than
// encoding/json.
//
// Every sink (search, archive, watch, crm, the desk's assignment and SLA
// loop) decodes every event of the desk's log, so decoding is a large share
// of Vigie's CPU (about a quarter in a saturated `vigie bench` profile).
// Unmarshal has encoding/json's exact semantics (case-insensitive names,
// Unmarshaler methods, the same errors for the same bad input) but runs on
// the engine of github.com/go-json-experiment/json, the Go team's prototype
// of encoding/json/v2: one pass over the input instead of a validation scan
// then a decoding scan, and a third of the allocations.
//
// When encoding/json/v2 leaves GOEXPERIMENT, encoding/json itself runs on
// that engine and this package becomes encoding/json.Unmarshal.
package jsonx

import jsonv1 "github.com/go-json-experiment/json/v1"

// Unmarshal parses data into v with encoding/json's semantics.
func Unmarshal(data []byte, v any) error { return jsonv1.Unmarshal(data, v) }
