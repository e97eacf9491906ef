package mastodon

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestHTMLText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "hello", "hello"},
		{"paragraphs", "<p>a</p><p>b</p>", "a\n\nb"},
		{"br", "<p>a<br>b<br/>c</p>", "a\nb\nc"},
		{"entities", "<p>&lt;3 &amp; &quot;x&quot; &#39;y&#39;</p>", `<3 & "x" 'y'`},
		{"link spans", `<p><a href="https://x.example/a/b"><span class="invisible">https://</span><span class="ellipsis">x.example/a</span><span class="invisible">/b</span></a></p>`, "https://x.example/a/b"},
		{"mention", `<p><span class="h-card"><a href="https://m.example/@velora" class="u-url mention">@<span>velora</span></a></span> help</p>`, "@velora help"},
		{"broken html", "<p>a <b>b", "a b"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlText(tt.in); got != tt.want {
				t.Errorf("htmlText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSSEReader(t *testing.T) {
	in := ":)\n:thump\nevent: update\ndata: {\"id\":\"1\"}\n\n" +
		"event: delete\r\ndata: 42\r\n\r\n" +
		"data: a\ndata: b\nid: 7\nretry: 10\n\n" +
		"event: ignored-without-data\n\n" +
		"event: filters_changed\ndata: undefined\n\n"
	r := newSSEReader(strings.NewReader(in))
	want := []event{{}, {}, {"update", []byte(`{"id":"1"}`)}, {"delete", []byte("42")}, {"message", []byte("a\nb")}, {"filters_changed", []byte("undefined")}}
	for i, w := range want {
		got, err := r.next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got.name != w.name || string(got.data) != string(w.data) {
			t.Errorf("event %d = %q %q, want %q %q", i, got.name, got.data, w.name, w.data)
		}
	}
	if _, err := r.next(); !errors.Is(err, io.EOF) {
		t.Errorf("end: %v, want EOF", err)
	}
}

func TestSSEReaderLineTooLong(t *testing.T) {
	r := newSSEReader(strings.NewReader("data: " + strings.Repeat("x", maxEventBytes+1) + "\n\n"))
	if _, err := r.next(); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want a too-long error", err)
	}
}

func TestParseWSFrame(t *testing.T) {
	tests := []struct {
		name, in, event, data, err string
	}{
		{"update", `{"stream":["hashtag","velora"],"event":"update","payload":"{\"id\":\"1\"}"}`, "update", `{"id":"1"}`, ""},
		{"delete", `{"stream":["public"],"event":"delete","payload":"108914430312582020"}`, "delete", "108914430312582020", ""},
		{"filters_changed", `{"stream":["user"],"event":"filters_changed"}`, "filters_changed", "", ""},
		{"error", `{"error":"Unknown stream type","status":400}`, "", "", "Unknown stream type"},
		{"not json", `nope`, "", "", "decode websocket frame"},
		{"no event", `{"stream":[]}`, "", "", "no event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := parseWSFrame([]byte(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || ev.name != tt.event || string(ev.data) != tt.data {
				t.Fatalf("got %q %q %v, want %q %q", ev.name, ev.data, err, tt.event, tt.data)
			}
		})
	}
}

func TestLinks(t *testing.T) {
	h := `<https://m.example/api/v1/timelines/tag/v?max_id=1>; rel="next", <https://m.example/api/v1/timelines/tag/v?min_id=9>; rel="prev"`
	l := links(h)
	if l["next"] != "https://m.example/api/v1/timelines/tag/v?max_id=1" || l["prev"] != "https://m.example/api/v1/timelines/tag/v?min_id=9" {
		t.Errorf("links = %v", l)
	}
	if len(links("garbage, <x>; foo=bar")) != 0 {
		t.Error("garbage parsed as links")
	}
	if sameOrigin("https://m.example", "https://evil.example/x") || !sameOrigin("https://m.example", "https://m.example/x") {
		t.Error("sameOrigin is wrong")
	}
}

func TestStatusVersionAndIDOrder(t *testing.T) {
	edited := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	a := status{ID: "1"}
	b := status{ID: "1", EditedAt: &edited}
	if a.version() == b.version() {
		t.Error("an edit has the same version key")
	}
	if !idLess("99", "100") || idLess("100", "99") || !idLess("", "1") || idLess("5", "5") {
		t.Error("idLess is wrong")
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte(`{"id":"1","created_at":"2026-11-22T10:00:00.000Z","content":"<p>hi</p>","account":{"id":"2","acct":"a"}}`))
	f.Add([]byte(`{"id":"1","created_at":"2026-11-22T10:00:00Z","edited_at":null,"reblog":{"id":"0"},"account":{"id":"2"},"language":null}`))
	f.Add([]byte(`{"id":"1"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseStatus(data)
		if err != nil {
			return
		}
		m := st.mention("mastodon", "m.example")
		if m.ID == "" || m.Author.ID == "" || m.CreatedAt.IsZero() {
			t.Fatalf("accepted status without id, author or time: %+v", m)
		}
	})
}

func FuzzSSE(f *testing.F) {
	f.Add([]byte(":)\n:thump\nevent: update\ndata: {}\n\n"))
	f.Add([]byte("data: a\r\ndata: b\r\n\r\nevent: delete\ndata: 1\n\n"))
	f.Add([]byte("\n\n\n:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := newSSEReader(strings.NewReader(string(data)))
		for range len(data) + 1 {
			ev, err := r.next()
			if err != nil {
				return
			}
			if ev.name != "" && strings.ContainsAny(ev.name, "\r\n") {
				t.Fatalf("event name %q holds a line break", ev.name)
			}
		}
		t.Fatal("more events than input bytes")
	})
}

func FuzzWSFrame(f *testing.F) {
	f.Add([]byte(`{"stream":["hashtag","velora"],"event":"update","payload":"{\"id\":\"1\"}"}`))
	f.Add([]byte(`{"error":"x","status":400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := parseWSFrame(data)
		if err == nil && ev.name == "" {
			t.Fatal("accepted a frame without an event")
		}
	})
}

func BenchmarkStatusToMention(b *testing.B) {
	data := []byte(`{"id":"109000000000000001","uri":"https://m.example/users/ana/statuses/1","url":"https://m.example/@ana/1","created_at":"2026-11-22T10:00:00.000Z","edited_at":null,"content":"<p>Où est mon <a href=\"https://velora.example/\"><span class=\"invisible\">https://</span><span>velora.example/</span></a> train ? <a href=\"https://m.example/tags/velora\" class=\"mention hashtag\">#<span>velora</span></a></p>","spoiler_text":"","language":"fr","visibility":"public","in_reply_to_id":null,"account":{"id":"42","username":"ana","acct":"ana","display_name":"Ana","followers_count":1200,"following_count":80,"statuses_count":3400},"replies_count":0,"reblogs_count":1,"favourites_count":2}`)
	b.ReportAllocs()
	for b.Loop() {
		st, err := parseStatus(data)
		if err != nil {
			b.Fatal(err)
		}
		_ = st.mention("mastodon", "m.example")
	}
}

func TestConfigFromYAML(t *testing.T) {
	var cfg Config
	dec := yaml.NewDecoder(strings.NewReader("server: https://m.example\ntag: velora\ntransport: websocket\nheartbeat_timeout: 30s\nbackoff_max: 2m\n"))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Token = "t"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.HeartbeatTimeout != 30*time.Second || cfg.BackoffMax != 2*time.Minute || cfg.Transport != TransportWebSocket || cfg.Stream != StreamHashtag {
		t.Errorf("decoded %+v", cfg)
	}
}
