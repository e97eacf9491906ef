package archive

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

func TestKPIHandler(t *testing.T) {
	t.Parallel()
	store := newEmbedded(t)
	e := newEvents()
	e.mention(t, mention{id: "m1", queue: "care", label: "positive", received: at(10 * time.Minute)})
	e.mention(t, mention{id: "m2", queue: "vip", label: "negative", received: at(70 * time.Minute)})
	e.created(t, 1, "care", "mastodon", at(5*time.Minute))
	e.update(t, 1, "replied", "alice", at(15*time.Minute))
	writeReplaying(t, store, e.list, 100)

	h, err := NewHandler(store, HandlerConfig{
		SLA: SLAPolicy{Targets: map[string]time.Duration{"care": 5 * time.Minute}},
		Now: func() time.Time { return at(3 * time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	ec := echo.New()
	h.Register(ec.Group("/api/v1"))

	tests := []struct {
		name     string
		query    string
		status   int
		wantErr  string
		wantKeys []string // key of each bucket, in order
	}{
		{name: "defaults: the last 24h by hour", query: "", status: 200, wantKeys: []string{"", ""}},
		{name: "by queue", query: "?from=2026-01-05T00:00:00Z&to=2026-01-05T03:00:00Z&interval=1h&by=queue", status: 200,
			wantKeys: []string{"care", "vip"}},
		{name: "unix seconds and days", query: "?from=1767571200&to=1767657600&interval=1d", status: 200, wantKeys: []string{""}},
		{name: "bad from", query: "?from=yesterday", status: 400, wantErr: "from: \"yesterday\" is neither an RFC 3339 time"},
		{name: "bad to", query: "?to=2026-13-01", status: 400, wantErr: "to: "},
		{name: "from after to", query: "?from=2026-01-06T00:00:00Z&to=2026-01-05T00:00:00Z", status: 400, wantErr: "must be before"},
		{name: "zero interval", query: "?interval=0s", status: 400, wantErr: "interval: \"0s\" must be positive"},
		{name: "negative interval", query: "?interval=-1h", status: 400, wantErr: "must be positive"},
		{name: "unparsable interval", query: "?interval=hourly", status: 400, wantErr: "is not a duration"},
		{name: "sub-second interval", query: "?interval=10ms", status: 400, wantErr: "at least 1s"},
		{name: "too many buckets", query: "?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=1m", status: 400, wantErr: "at most 10000"},
		{name: "unknown by", query: "?by=colour", status: 400, wantErr: `by "colour": must be queue, source or agent`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			ec.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/kpis"+tc.query, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status != 200 {
				var body struct{ Error string }
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || !strings.Contains(body.Error, tc.wantErr) {
					t.Errorf("error %q, want it to contain %q", body.Error, tc.wantErr)
				}
				return
			}
			var resp KPIResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, b := range resp.Buckets {
				keys = append(keys, b.Key)
			}
			if strings.Join(keys, ",") != strings.Join(tc.wantKeys, ",") || len(keys) != len(tc.wantKeys) {
				t.Errorf("bucket keys %q, want %q (body %s)", keys, tc.wantKeys, rec.Body)
			}
		})
	}

	t.Run("response shape", func(t *testing.T) {
		rec := httptest.NewRecorder()
		ec.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/kpis?from=2026-01-05T00:00:00Z&to=2026-01-05T01:00:00Z&by=queue", nil))
		var raw struct {
			Buckets []map[string]any `json:"buckets"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &raw); err != nil || len(raw.Buckets) != 1 {
			t.Fatalf("body %s: %v", rec.Body, err)
		}
		b := raw.Buckets[0]
		for k, want := range map[string]any{
			"start": "2026-01-05T00:00:00Z", "key": "care", "mentions": 1.0, "tickets": 1.0,
			"first_response_p50_seconds": 600.0, "first_response_p90_seconds": 600.0,
			"resolution_p50_seconds": nil, "sla_hit_rate": 0.0, "net_sentiment": 1.0, "share_of_voice": 1.0,
		} {
			if got, ok := b[k]; !ok || got != want {
				t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
			}
		}
	})
}

// FuzzKPIParams feeds arbitrary query parameters to the parser: it must
// never panic, and whatever it accepts must be a valid query.
func FuzzKPIParams(f *testing.F) {
	f.Add("2026-01-05T00:00:00Z", "2026-01-06T00:00:00Z", "1h", "queue")
	f.Add("1767571200", "", "7d", "agent")
	f.Add("", "", "-5m", "colour")
	f.Add("2026-01-05T00:00:00.123+02:00", "99999999999", "1ns", "")
	h, err := NewHandler(nil, HandlerConfig{Now: func() time.Time { return t0 }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, from, to, interval, by string) {
		params := map[string]string{"from": from, "to": to, "interval": interval, "by": by}
		q, err := h.parse(func(k string) string { return params[k] })
		if err != nil {
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("parse accepted an invalid query: %v", err)
		}
		if q.buckets() < 1 || q.buckets() > MaxBuckets {
			t.Fatalf("accepted %d buckets", q.buckets())
		}
	})
}
