package bluesky

import (
	"strings"
	"testing"
)

func TestParseEvent(t *testing.T) {
	tests := []struct{ name, in, err string }{
		{"create", `{"did":"did:plc:a","time_us":1725911162329308,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3q","cid":"bafy","record":{"$type":"app.bsky.feed.post","text":"hi","createdAt":"2024-09-09T19:46:02.102Z"}}}`, ""},
		{"delete", `{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"delete","collection":"app.bsky.feed.post","rkey":"3l3q"}}`, ""},
		{"identity", `{"did":"did:plc:a","time_us":1,"kind":"identity","identity":{"did":"did:plc:a","handle":"a.b","seq":1,"time":"x"}}`, ""},
		{"account", `{"did":"did:plc:a","time_us":1,"kind":"account","account":{"active":false,"did":"did:plc:a","status":"deleted"}}`, ""},
		{"future kind", `{"did":"did:plc:a","time_us":1,"kind":"sync","cursor":9}`, ""},
		{"no did", `{"time_us":1,"kind":"commit"}`, "did"},
		{"no time", `{"did":"did:plc:a","kind":"commit"}`, "time_us"},
		{"create without record", `{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"c","rkey":"k","cid":"x"}}`, "without cid or record"},
		{"bad rkey", `{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"delete","collection":"c","rkey":"a/b"}}`, "rkey"},
		{"bad op", `{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"merge","collection":"c","rkey":"k"}}`, "operation"},
		{"not json", `{`, "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseEvent([]byte(tt.in))
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
		})
	}
}

func TestPostRecord(t *testing.T) {
	p, err := parsePost([]byte(`{"text":"hi @brand","createdAt":"not a time","reply":{"root":{"uri":"at://did:plc:r/app.bsky.feed.post/1","cid":"c"},"parent":{"uri":"at://did:plc:brand/app.bsky.feed.post/2","cid":"d"}},
		"facets":[{"index":{"byteStart":3,"byteEnd":9},"features":[{"$type":"app.bsky.richtext.facet#mention","did":"did:plc:brand"}]},{"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"velora"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !p.mentions("did:plc:brand") || p.mentions("did:plc:other") || !p.answers("did:plc:brand") || p.answers("did:plc:r") {
		t.Error("mentions/answers are wrong")
	}
	if got := p.createdAt(1725911162329308); got.UnixMicro() != 1725911162329308 {
		t.Errorf("createdAt fallback = %v", got)
	}
}

func TestTID(t *testing.T) {
	a, b := tid(1725911162329308, 1), tid(1725911162329309, 1)
	if len(a) != 13 || a >= b {
		t.Errorf("tid %q %q: want 13 characters, sortable", a, b)
	}
	if strings.Trim(a, "234567abcdefghijklmnopqrstuvwxyz") != "" {
		t.Errorf("tid %q outside base32-sortable", a)
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte(`{"did":"did:plc:a","time_us":1725911162329308,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3q","cid":"bafy","record":{"$type":"app.bsky.feed.post","text":"hi","createdAt":"2024-09-09T19:46:02.102Z","langs":["en"],"facets":[{"features":[{"$type":"app.bsky.richtext.facet#mention","did":"did:plc:b"}]}]}}}`))
	f.Add([]byte(`{"did":"did:plc:a","time_us":1,"kind":"account","account":{"active":false,"did":"did:plc:a","status":"deleted"}}`))
	f.Add([]byte(`{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"delete","collection":"app.bsky.feed.post","rkey":"3l3q"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := parseEvent(data)
		if err != nil {
			return
		}
		if ev.Kind == "commit" {
			if ev.Commit == nil || ev.Commit.RKey == "" {
				t.Fatal("accepted a commit without rkey")
			}
			if ev.Commit.Operation != "delete" {
				if p, err := parsePost(ev.Commit.Record); err == nil {
					_ = p.mentions("did:plc:b")
					_ = p.createdAt(ev.TimeUS)
				}
			}
			if _, _, _, err := splitURI(postURI(ev.DID, ev.Commit.RKey)); err != nil {
				t.Fatalf("accepted an event whose URI does not parse: %v", err)
			}
		}
	})
}

func BenchmarkParseEvent(b *testing.B) {
	data := []byte(`{"did":"did:plc:abcdefghijklmnopqrstuvwx","time_us":1725911162329308,"kind":"commit","commit":{"rev":"3l3qo2vutsw2b","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3qo2vuowo2b","cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi","record":{"$type":"app.bsky.feed.post","text":"@velora where is my bike? the 8:15 to Lyon left without it","createdAt":"2024-09-09T19:46:02.102Z","langs":["fr"],"facets":[{"index":{"byteStart":0,"byteEnd":7},"features":[{"$type":"app.bsky.richtext.facet#mention","did":"did:plc:brand"}]}]}}}`)
	b.ReportAllocs()
	for b.Loop() {
		ev, err := parseEvent(data)
		if err != nil {
			b.Fatal(err)
		}
		p, err := parsePost(ev.Commit.Record)
		if err != nil || !p.mentions("did:plc:brand") {
			b.Fatal("no mention")
		}
	}
}

func TestSyntax(t *testing.T) {
	for s, want := range map[string]bool{"did:plc:abc": true, "did:web:x.example": true, "did:plc:": false, "did::x": false, "did:PLC:x": false, "did:plc:a/b": false, "x": false} {
		if validDID(s) != want {
			t.Errorf("validDID(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"3l3qo2vuowo2b": true, "self": true, ".": false, "": false, "a/b": false, "a?": false} {
		if validRKey(s) != want {
			t.Errorf("validRKey(%q) = %v", s, !want)
		}
	}
}
