package replay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie/vigie/listener"
)

// fakeVigie is an ingest endpoint that validates each line with the real
// decoder and deduplicates by (source, id), as Vigie does. fail lists the
// statuses to answer, in order, before behaving.
type fakeVigie struct {
	t     testing.TB
	mu    sync.Mutex
	seen  map[string]string // key → text
	fail  []int
	calls int
	bad   []string // what went wrong in requests, checked at the end
}

func newFakeVigie(t testing.TB, fail ...int) (*fakeVigie, *httptest.Server) {
	f := &fakeVigie{t: t, seen: map[string]string{}, fail: fail}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeVigie) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if r.URL.Path != "/api/v1/mentions" || r.Method != http.MethodPost {
		f.bad = append(f.bad, "request to "+r.Method+" "+r.URL.Path)
	}
	if r.Header.Get("Authorization") != "Bearer s3cret" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		f.bad = append(f.bad, "content type "+ct)
	}
	body, _ := io.ReadAll(r.Body)
	if len(f.fail) > 0 {
		code := f.fail[0]
		f.fail = f.fail[1:]
		if code == 0 { // drop the connection: a network error
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"error":"try later"}`))
		return
	}
	var res ingestResponse
	res.Rejected = []listener.Rejection{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 4<<20)
	i := 0
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		ok, rej, err := listener.DecodeMentions(line, true)
		switch {
		case err != nil:
			res.Rejected = append(res.Rejected, listener.Rejection{Index: i, Error: err.Error()})
		case len(rej) > 0:
			res.Rejected = append(res.Rejected, listener.Rejection{Index: i, Error: rej[0].Error})
		default:
			m := ok[0].Item.Mention
			switch text, dup := f.seen[m.Key()]; {
			case !dup:
				res.Accepted++
			case text != m.Text:
				res.Accepted++
				res.Edited++
			default:
				res.Duplicates++
			}
			f.seen[m.Key()] = m.Text
		}
		i++
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(res)
}

func (f *fakeVigie) check() {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range f.bad {
		f.t.Error(b)
	}
}

func postCfg(path, url string) PostConfig {
	return PostConfig{File: path, URL: url, Token: "s3cret", Batch: 3, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

func TestPostRetriesA503ThenCounts(t *testing.T) {
	t.Parallel()
	f, srv := newFakeVigie(t, http.StatusServiceUnavailable)
	good := goodLines(t, 7)
	// Line 3 is bad, line 6 is blank, line 9 repeats line 1 (a duplicate).
	lines := []string{good[0], good[1], `{"source":"x"}`, good[2], good[3], "", good[4], good[5], good[0], good[6]}
	path := writeFile(t, strings.Join(lines, "\r\n")+"\r\n")
	st, err := Post(context.Background(), postCfg(path, srv.URL))
	if err != nil {
		t.Fatalf("Post: %v", err)
	}
	f.check()
	want := PostStats{Lines: 9, Sent: 9, Accepted: 7, Duplicates: 1, Rejected: 1, Batches: 3, Retries: 1}
	got := st
	got.Rejections, got.Elapsed = nil, 0
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stats\n got %+v\nwant %+v", got, want)
	}
	if len(st.Rejections) != 1 || st.Rejections[0].Line != 3 || !strings.Contains(st.Rejections[0].Error, "id: required") {
		t.Fatalf("rejections %+v, want line 3 with its reason", st.Rejections)
	}
	if f.calls != 4 {
		t.Fatalf("%d requests, want 3 batches + 1 retry", f.calls)
	}
	// Posting again: everything is a duplicate, nothing is stored twice.
	st2, err := Post(context.Background(), postCfg(path, srv.URL+"/api/v1/mentions"))
	if err != nil {
		t.Fatal(err)
	}
	if st2.Accepted != 0 || st2.Duplicates != 8 || st2.Rejected != 1 {
		t.Fatalf("second post: %+v", st2)
	}
}

func TestPostRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fail        []int
		maxAttempts int
		wantRetries int
		wantErr     string
		wantStatus  int
	}{
		{"429 with Retry-After", []int{429, 429}, 0, 2, "", 0},
		{"network error", []int{0}, 0, 1, "", 0},
		{"502 and 504", []int{502, 504}, 0, 2, "", 0},
		{"401 is not retried", nil, 0, 0, "check the token", http.StatusUnauthorized},
		{"400 is not retried", []int{400}, 0, 0, "try later", http.StatusBadRequest},
		{"gives up", []int{503, 503, 503}, 3, 2, "giving up after 3 attempts", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, srv := newFakeVigie(t, tt.fail...)
			path := writeFile(t, strings.Join(goodLines(t, 2), "\n"))
			cfg := postCfg(path, srv.URL)
			cfg.MaxAttempts = tt.maxAttempts
			if tt.wantStatus == http.StatusUnauthorized {
				cfg.Token = "wrong"
			}
			st, err := Post(context.Background(), cfg)
			f.check()
			if st.Retries != tt.wantRetries {
				t.Errorf("retries %d, want %d", st.Retries, tt.wantRetries)
			}
			if tt.wantErr == "" {
				if err != nil || st.Accepted != 2 {
					t.Fatalf("Post = %+v, %v", st, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Post error %v, want %q", err, tt.wantErr)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Status != tt.wantStatus {
				t.Fatalf("error %v is not a StatusError %d", err, tt.wantStatus)
			}
		})
	}
}

func TestPostRate(t *testing.T) {
	t.Parallel()
	_, srv := newFakeVigie(t)
	path := writeFile(t, strings.Join(goodLines(t, 30), "\n"))
	cfg := postCfg(path, srv.URL)
	cfg.Rate, cfg.Batch = 100, 500
	st, err := Post(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 30 mentions at 100/s: the last is due after 290 ms; batches of 20
	// (a fifth of a second each).
	if st.Elapsed < 250*time.Millisecond || st.Elapsed > 5*time.Second || st.Batches != 2 || st.Accepted != 30 {
		t.Fatalf("stats %+v, want 2 batches over about 0.3 s", st)
	}
}

func TestPostCancel(t *testing.T) {
	t.Parallel()
	_, srv := newFakeVigie(t, 503, 503, 503, 503, 503, 503, 503)
	path := writeFile(t, strings.Join(goodLines(t, 2), "\n"))
	cfg := postCfg(path, srv.URL)
	cfg.Backoff, cfg.MaxBackoff = time.Hour, time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := Post(ctx, cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Post = %v, want context.DeadlineExceeded", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Post did not stop on cancel")
	}
}

func TestPostConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     PostConfig
		wantURL string
		wantErr string
	}{
		{"defaults", PostConfig{File: "f"}, "http://127.0.0.1:8080/api/v1/mentions", ""},
		{"base with slash", PostConfig{File: "f", URL: "https://vigie.example/"}, "https://vigie.example/api/v1/mentions", ""},
		{"under a prefix", PostConfig{File: "f", URL: "http://h:1/vigie"}, "http://h:1/vigie/api/v1/mentions", ""},
		{"full endpoint", PostConfig{File: "f", URL: "http://h:1/api/v1/mentions"}, "http://h:1/api/v1/mentions", ""},
		{"no file", PostConfig{}, "", "file required"},
		{"bad scheme", PostConfig{File: "f", URL: "ftp://h"}, "", "want http(s)"},
		{"no host", PostConfig{File: "f", URL: "127.0.0.1:8080"}, "", "want http(s)"},
		{"negative rate", PostConfig{File: "f", Rate: -2}, "", "rate"},
		{"huge batch", PostConfig{File: "f", Batch: listener.MaxItems + 1}, "", "batch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			err := cfg.Validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || cfg.URL != tt.wantURL || cfg.Batch != DefaultBatch || cfg.Client == nil {
				t.Fatalf("Validate = %v, cfg %+v", err, cfg)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	if got := retryAfter("3"); got != 3*time.Second {
		t.Errorf("retryAfter(3) = %v", got)
	}
	if got := retryAfter(time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)); got < 8*time.Second || got > 10*time.Second {
		t.Errorf("retryAfter(date) = %v", got)
	}
	if got := retryAfter("soon"); got != 0 {
		t.Errorf("retryAfter(soon) = %v", got)
	}
}
