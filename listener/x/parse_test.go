package x

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseLine(t *testing.T) {
	tests := []struct{ name, in, err string }{
		{"post", `{"data":{"id":"1","text":"hi","author_id":"2","created_at":"2026-11-22T10:00:00.000Z"},"includes":{"users":[{"id":"2","username":"a"}]},"matching_rules":[{"id":"9","tag":"brand"}]}`, ""},
		{"partial errors", `{"data":{"id":"1","text":"hi","author_id":"2","created_at":"2026-11-22T10:00:00Z"},"errors":[{"title":"Not Found Error"}]}`, ""},
		{"operational disconnect", `{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect"}]}`, "operational disconnect"},
		{"other error", `{"errors":[{"title":"ConnectionException","detail":"too many"}]}`, "ConnectionException"},
		{"empty", `{}`, "neither data nor errors"},
		{"no author", `{"data":{"id":"1","created_at":"2026-11-22T10:00:00Z"}}`, "author_id"},
		{"bad time", `{"data":{"id":"1","author_id":"2","created_at":"yesterday"}}`, "created_at"},
		{"id as number", `{"data":{"id":1,"author_id":"2"}}`, "decode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseLine([]byte(tt.in))
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
		})
	}
	_, err := parseLine([]byte(`{"errors":[{"title":"operational-disconnect"}]}`))
	if !errors.Is(err, errOperationalDisconnect) {
		t.Errorf("operational disconnect not recognised: %v", err)
	}
}

func TestGeoFromPlace(t *testing.T) {
	l, err := parseLine([]byte(`{"data":{"id":"1","text":"hi","author_id":"2","created_at":"2026-11-22T10:00:00Z","geo":{"place_id":"p"}},"includes":{"places":[{"id":"p","full_name":"Manhattan, NY","geo":{"bbox":[-74.0,40.6,-73.8,40.8]}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	g := l.mention("x").Geo
	if g == nil || g.Lat < 40.69 || g.Lat > 40.71 || g.Lon < -73.91 || g.Lon > -73.89 {
		t.Errorf("geo %+v, want the bbox centre", g)
	}
	l.Data.Geo.PlaceID = "other"
	if g := l.mention("x").Geo; g != nil {
		t.Errorf("geo %+v for an unknown place", g)
	}
}

func TestPolicy(t *testing.T) {
	cfg := Config{}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p := newPolicy(&cfg)
	netErr := errors.New("connection reset")
	// Before any connection: linear network back-off from 250 ms.
	for i, want := range []time.Duration{250, 500, 750} {
		if d := p.delay(netErr); d != want*time.Millisecond {
			t.Errorf("network delay %d = %v, want %v ms", i, d, want)
		}
	}
	p.connected()
	if d := p.delay(netErr); d != 0 {
		t.Errorf("first retry after a working stream: %v, want at once", d)
	}
	if d := p.delay(netErr); d != 250*time.Millisecond {
		t.Errorf("second retry: %v", d)
	}
	for i, want := range []time.Duration{5, 10, 20} {
		if d := p.delay(&HTTPError{Status: 503}); d != want*time.Second {
			t.Errorf("http delay %d = %v, want %v s", i, d, want)
		}
	}
	for i, want := range []time.Duration{1, 2, 4} {
		if d := p.delay(&HTTPError{Status: 429}); d != want*time.Minute {
			t.Errorf("429 delay %d = %v, want %v min", i, d, want)
		}
	}
	for range 100 {
		p.delay(netErr)
		p.delay(&HTTPError{Status: 500})
	}
	if d, h := p.delay(netErr), p.delay(&HTTPError{Status: 500}); d != 16*time.Second || h != 320*time.Second {
		t.Errorf("caps: network %v, http %v; want 16 s and 320 s", d, h)
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte(`{"data":{"id":"1234","text":"hi","author_id":"987","created_at":"2026-11-22T10:00:00.000Z","lang":"en","conversation_id":"1200","geo":{"place_id":"01a9","coordinates":{"type":"Point","coordinates":[-73.9,40.7]}},"public_metrics":{"retweet_count":0},"edit_history_tweet_ids":["1234"]},"includes":{"users":[{"id":"987","username":"cust","public_metrics":{"followers_count":10}}],"places":[{"id":"01a9","geo":{"bbox":[1,2,3,4]}}]},"matching_rules":[{"id":"1","tag":"brand"}]}`))
	f.Add([]byte(`{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := parseLine(data)
		if err != nil {
			return
		}
		m := l.mention("x")
		if m.ID == "" || m.Author.ID == "" || m.CreatedAt.IsZero() {
			t.Fatalf("accepted a post without id, author or time: %+v", m)
		}
		if g := m.Geo; g != nil && (g.Lat < -90 || g.Lat > 90 || g.Lon < -180 || g.Lon > 180) {
			t.Fatalf("geo out of range: %+v", g)
		}
	})
}

func BenchmarkParseLine(b *testing.B) {
	data := []byte(`{"data":{"id":"1850000000000000002","text":"@velora where is my bike? the 8:15 to Lyon left without it","author_id":"987","created_at":"2026-11-22T10:00:00.000Z","lang":"fr","conversation_id":"1850000000000000002","public_metrics":{"retweet_count":0,"reply_count":0,"like_count":3,"quote_count":0},"edit_history_tweet_ids":["1850000000000000002"]},"includes":{"users":[{"id":"987","username":"ana","name":"Ana","public_metrics":{"followers_count":1200,"following_count":80,"tweet_count":3400}}]},"matching_rules":[{"id":"1","tag":"brand"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		l, err := parseLine(data)
		if err != nil {
			b.Fatal(err)
		}
		_ = l.mention("x")
	}
}
