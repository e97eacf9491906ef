package jsonx

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

type inner struct {
	N   int             `json:"n"`
	Raw json.RawMessage `json:"raw,omitempty"`
}

type sample struct {
	Name  string            `json:"name"`
	At    time.Time         `json:"at"`
	Tags  []string          `json:"tags,omitempty"`
	Score float64           `json:"score"`
	Ptr   *inner            `json:"ptr,omitempty"`
	Map   map[string]int64  `json:"map"`
	Any   any               `json:"any"`
	Flag  bool              `json:"flag,omitempty"`
	Extra map[string]string `json:"-"`
}

// The same bytes decode to the same value as with encoding/json, including
// the cases where the two engines could differ: field names in another
// case, unknown fields, raw messages, null, numbers into any.
func TestSameAsEncodingJSON(t *testing.T) {
	inputs := []string{
		`{"name":"Léa","at":"2026-11-22T10:00:00.123456789+01:00","tags":["a","b"],"score":-0.5,"ptr":{"n":3,"raw":{"x":[1,2]}},"map":{"a":1},"any":{"k":1.5},"flag":true}`,
		`{"NAME":"case","Score":2,"unknown":{"deep":[1,{"a":null}]}}`,
		`{"name":null,"tags":null,"ptr":null,"any":[1,"two",null,true]}`,
		`{"name":"dup","name":"last"}`,
		`{"name":"\u00e9\ud83d\ude00 esc\"aped\n"}`,
	}
	for _, in := range inputs {
		var want, got sample
		errW := json.Unmarshal([]byte(in), &want)
		errG := Unmarshal([]byte(in), &got)
		if (errW == nil) != (errG == nil) {
			t.Fatalf("%s: encoding/json error %v, jsonx error %v", in, errW, errG)
		}
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s:\nencoding/json %+v\njsonx         %+v", in, want, got)
		}
	}
}

// Bad input is an error, as with encoding/json.
func TestRejectsWhatEncodingJSONRejects(t *testing.T) {
	for _, in := range []string{``, `{`, `{"name":1}`, `{"score":"x"}`, `[1,2]`, `{"name":"a"} trailing`, `{"tags":[1]}`} {
		var s sample
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Fatalf("%q: encoding/json accepts it; the case is wrong", in)
		}
		if err := Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

type step struct {
	Rule string `json:"rule"`
	Why  string `json:"why"`
}

type withTrace struct {
	Name  string   `json:"name"`
	Trace []step   `json:"trace"`
	Tags  []string `json:"tags"`
	Inner struct {
		Trace []step `json:"trace"`
		N     int    `json:"n"`
	} `json:"inner"`
}

// TestSkip: values of a skipped type stay zero, wherever they are; the rest
// decodes as Unmarshal decodes it; bad JSON inside a skipped value is still
// an error.
func TestSkip(t *testing.T) {
	in := `{"name":"a","trace":[{"rule":"r1","why":"w"},{"rule":"r2"}],"tags":["x"],"inner":{"trace":[{"rule":"r3"}],"n":4}}`
	var full, skipped withTrace
	if err := Unmarshal([]byte(in), &full); err != nil {
		t.Fatal(err)
	}
	if err := NewDecoder(Skip[[]step]()).Unmarshal([]byte(in), &skipped); err != nil {
		t.Fatal(err)
	}
	if skipped.Trace != nil || skipped.Inner.Trace != nil {
		t.Fatalf("traces decoded: %+v", skipped)
	}
	full.Trace, full.Inner.Trace = nil, nil
	if !reflect.DeepEqual(full, skipped) {
		t.Fatalf("skipping changed the rest:\n%+v\n%+v", skipped, full)
	}
	if err := NewDecoder(Skip[[]step]()).Unmarshal([]byte(`{"trace":[{"rule":}]}`), &skipped); err == nil {
		t.Fatal("bad JSON in a skipped value: no error")
	}
}
