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

import (
	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Unmarshal parses data into v with encoding/json's semantics.
func Unmarshal(data []byte, v any) error { return jsonv1.Unmarshal(data, v) }

// An Option changes how UnmarshalWith decodes.
type Option struct{ u *jsonv2.Unmarshalers }

// Skip leaves every value of type T at its zero value: its JSON is checked
// and stepped over, never decoded. For a payload's parts that a reader has
// no use for and that cost more than the rest (a routing trace: a slice of
// structs of strings).
func Skip[T any]() Option {
	return Option{jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, _ *T) error {
		return dec.SkipValue()
	})}
}

// A Decoder is Unmarshal with options, built once.
type Decoder struct{ opts jsonv2.Options }

// NewDecoder returns a Decoder with opts.
func NewDecoder(opts ...Option) *Decoder {
	us := make([]*jsonv2.Unmarshalers, len(opts))
	for i, o := range opts {
		us[i] = o.u
	}
	return &Decoder{jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv2.WithUnmarshalers(jsonv2.JoinUnmarshalers(us...)))}
}

// Unmarshal parses data into v with encoding/json's semantics and d's
// options.
func (d *Decoder) Unmarshal(data []byte, v any) error { return jsonv2.Unmarshal(data, v, d.opts) }
