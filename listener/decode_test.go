package listener

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeMentions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		body    string
		ndjson  bool
		ok      int
		errs    map[int]string
		bodyErr string
	}{
		{name: "empty array", body: `[]`},
		{name: "one good", body: `[{"source":"mastodon","id":"1","created_at":"2026-11-22T10:00:00+01:00","author":{"id":"a"},"text":"hi","geo":{"lat":48.8,"lon":2.3}}]`, ok: 1},
		{name: "lang must be ISO 639-1", body: `[{"source":"x","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"hi","lang":"french"}]`, errs: map[int]string{0: "lang"}},
		{name: "geo out of range", body: `[{"source":"x","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"hi","geo":{"lat":91,"lon":0}}]`, errs: map[int]string{0: "geo.lat"}},
		{name: "source charset", body: `[{"source":"Mastodon!","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"hi"}]`, errs: map[int]string{0: "source"}},
		{name: "blank text", body: `[{"source":"x","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"  "}]`, errs: map[int]string{0: "text: empty"}},
		{name: "negative followers", body: `[{"source":"x","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a","followers":-1},"text":"t"}]`, errs: map[int]string{0: "negative"}},
		{name: "two values in one ndjson line", ndjson: true, body: `{"source":"x","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"t"} {}`, errs: map[int]string{0: "more than one JSON value"}},
		{name: "crlf and blank lines", ndjson: true, body: "\r\n" + `{"source":"x","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"t"}` + "\r\n\r\n", ok: 1},
		{name: "bom", body: "\ufeff" + `[]`},
		{name: "object instead of array", body: `{"source":"x"}`, bodyErr: "expected '['"},
		{name: "trailing garbage", body: `[] []`, bodyErr: "after the closing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ok, bad, err := DecodeMentions([]byte(tc.body), tc.ndjson)
			if tc.bodyErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bodyErr) {
					t.Fatalf("error %v, want %q", err, tc.bodyErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ok) != tc.ok {
				t.Errorf("%d accepted, want %d (rejections %v)", len(ok), tc.ok, bad)
			}
			if len(bad) != len(tc.errs) {
				t.Fatalf("rejections %v, want %v", bad, tc.errs)
			}
			for _, r := range bad {
				if !strings.Contains(r.Error, tc.errs[r.Index]) {
					t.Errorf("item %d: %q, want %q", r.Index, r.Error, tc.errs[r.Index])
				}
			}
		})
	}
}

func TestDecodeCheckIns(t *testing.T) {
	t.Parallel()
	ok, bad, err := DecodeCheckIns([]byte(`[{"source":"foursquare","id":"c-1","created_at":"2026-11-22T10:00:00Z","user":{"id":"u-9"},"lat":40.7411,"lon":-73.9897,"venue":{"id":"v-3","name":"Flatiron"}},{"source":"foursquare","id":"c-2","created_at":"2026-11-22T10:00:00Z","user":{"id":"u-9"},"lat":40.7}]`), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ok) != 1 || len(bad) != 1 || !strings.Contains(bad[0].Error, "lat, lon: required") {
		t.Fatalf("ok %d, bad %v", len(ok), bad)
	}
	if c := ok[0].Item.CheckIn; c.Venue.Name != "Flatiron" || c.Lon != -73.9897 {
		t.Errorf("decoded %+v", c)
	}
}

// FuzzDecodeMentions: whatever the body, the decoder never panics, accounts
// for every item once, and what it accepts is valid.
func FuzzDecodeMentions(f *testing.F) {
	f.Add([]byte(`[{"source":"x","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"t"}]`), false)
	f.Add([]byte(`{"source":"x","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"t"}`+"\n{}"), true)
	f.Add([]byte(`[1,{"a":`), false)
	f.Fuzz(func(t *testing.T, body []byte, ndjson bool) {
		ok, bad, err := DecodeMentions(body, ndjson)
		if err != nil {
			if ok != nil || bad != nil {
				t.Fatal("results beside a body error")
			}
			return
		}
		seen := map[int]bool{}
		for _, d := range ok {
			m := d.Item.Mention
			if m == nil || m.Source == "" || m.ID == "" || m.Author.ID == "" || strings.TrimSpace(m.Text) == "" || m.CreatedAt.IsZero() {
				t.Fatalf("accepted an invalid mention: %+v", m)
			}
			if !utf8.ValidString(m.Text) || len(m.Text) > MaxTextBytes {
				t.Fatalf("accepted a bad text")
			}
			seen[d.Index] = true
		}
		for _, r := range bad {
			if seen[r.Index] || r.Error == "" {
				t.Fatalf("item %d both accepted and rejected, or rejected without a reason", r.Index)
			}
			seen[r.Index] = true
		}
	})
}
