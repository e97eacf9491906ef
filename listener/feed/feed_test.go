package feed_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/feed"
	"github.com/vigie/vigie/listener/feed/feedtest"
	"github.com/vigie/vigie/listener/listenertest"
	"github.com/vigie/vigie/listener/sources"
	"github.com/vigie/vigie/listener/sources/sourcestest"
)

var t0 = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

func entries() []feedtest.Entry {
	return []feedtest.Entry{
		{ID: "urn:post:1", Title: "Velora strike on Friday", HTML: `<p>Trains <b>cancelled</b> &amp; refunds.</p><script>x()</script>`, Link: "https://news.example/1", Author: "Ana Reporter", Published: t0},
		{ID: "urn:post:2", Title: "Weather", HTML: "Sunny all week", Link: "https://news.example/2", Published: t0.Add(time.Hour)},
	}
}

func TestParseFormats(t *testing.T) {
	t.Parallel()
	for _, format := range []feedtest.Format{feedtest.RSS, feedtest.Atom, feedtest.JSON} {
		t.Run(string(format), func(t *testing.T) {
			t.Parallel()
			srv := feedtest.NewServer(t, format, entries()...)
			src := newSource(t, srv.URL, nil, sourcestest.NewLog())
			items := listenertest.Collect(t, src, 2, 5*time.Second)
			m := items[0].Mention
			if m.Source != "rss" || m.ID != "urn:post:1" || m.URL != "https://news.example/1" || !m.CreatedAt.Equal(t0) {
				t.Errorf("mention: %+v", m)
			}
			if m.Text != "Velora strike on Friday\n\nTrains cancelled & refunds." {
				t.Errorf("text %q", m.Text)
			}
			if m.Author.Name != "Ana Reporter" && m.Author.ID != "Ana Reporter" {
				t.Errorf("author %+v", m.Author)
			}
			if a := items[1].Mention.Author; a.ID == "" {
				t.Errorf("entry without an author got no author id: %+v", a)
			}
			for i, it := range items {
				if err := listenertest.Valid(it); err != nil {
					t.Errorf("item %d: %v", i, err)
				}
			}
		})
	}
}

func newSource(tb testing.TB, url string, match []string, store sources.CursorStore) *feed.Source {
	tb.Helper()
	return newSourceHealth(tb, url, match, store, nil)
}

func newSourceHealth(tb testing.TB, url string, match []string, store sources.CursorStore, h sources.Health) *feed.Source {
	tb.Helper()
	src, err := feed.New(feed.Config{Name: "news", URL: url, Interval: 20 * time.Millisecond, Jitter: -1, Match: match},
		feed.Deps{Cursors: store, Health: h, Metrics: prometheus.NewRegistry()})
	if err != nil {
		tb.Fatal(err)
	}
	return src
}

// run pumps src into log until the test ends.
func run(t *testing.T, src listener.Source, log *sourcestest.Log) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- log.Pump(ctx, src) }()
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("pump: %v", err)
		}
	}
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConditionalGetEditsAndResume(t *testing.T) {
	t.Parallel()
	srv := feedtest.NewServer(t, feedtest.Atom, entries()...)
	log := sourcestest.NewLog()
	stop := run(t, newSource(t, srv.URL, nil, log), log)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := log.WaitItems(ctx, 2); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a 304", func() bool {
		for _, r := range srv.Requests() {
			if r.Status == 304 && r.IfNoneMatch != "" {
				return true
			}
		}
		return false
	})

	// Edit entry 1, drop entry 2, add entry 3.
	e := entries()
	e[0].HTML = "<p>Trains cancelled; refunds open Monday.</p>"
	e[0].Updated = t0.Add(2 * time.Hour)
	srv.SetEntries(e[0], feedtest.Entry{ID: "urn:post:3", Title: "Velora answers", HTML: "FAQ", Link: "https://news.example/3", Published: t0.Add(3 * time.Hour)})
	items, err := log.WaitItems(ctx, 4)
	if err != nil {
		t.Fatalf("%v: %d items", err, len(items))
	}
	stop()
	if items[2].Mention.ID != "urn:post:1" || !strings.Contains(items[2].Mention.Text, "refunds open Monday") {
		t.Errorf("edit: %+v", items[2].Mention)
	}
	if items[3].Mention.ID != "urn:post:3" {
		t.Errorf("new entry: %+v", items[3].Mention)
	}

	// A restart resumes from the persisted cursor: a conditional GET, a
	// 304, and nothing emitted again.
	before := len(srv.Requests())
	fresh := sourcestest.NewLog()
	cur, _ := log.Cursor(ctx, "feed/news")
	fresh.SetCursor(ctx, "feed/news", cur)
	stop = run(t, newSource(t, srv.URL, nil, fresh), fresh)
	waitFor(t, "polls after restart", func() bool { return len(srv.Requests()) >= before+2 })
	stop()
	first := srv.Requests()[before]
	if first.IfNoneMatch == "" || first.IfModifiedSince == "" || first.Status != 304 {
		t.Errorf("first request after restart: %+v, want a conditional GET answered 304", first)
	}
	if n := len(fresh.Items()); n != 0 {
		t.Errorf("restart emitted %d items again", n)
	}
}

func TestFailuresAreReportedAndRetried(t *testing.T) {
	t.Parallel()
	srv := feedtest.NewServer(t, feedtest.RSS, entries()...)
	srv.RespondBody("application/rss+xml", `<rss version="2.0"><channel><item><title>broken`)
	srv.RespondBody("text/html", `<html><body>Not a feed</body></html>`)
	srv.RespondStatus(429, "1")
	log := sourcestest.NewLog()
	health := &sourcestest.Health{}
	stop := run(t, newSourceHealth(t, srv.URL, nil, log, health), log)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := log.WaitItems(ctx, 2); err != nil {
		t.Fatal(err)
	}
	stop()
	_, errs, _ := health.Snapshot()
	if len(errs) != 3 {
		t.Fatalf("reported %d errors, want 3: %v", len(errs), errs)
	}
	if !errors.Is(errs[0], feed.ErrFeed) || !errors.Is(errs[1], feed.ErrFeed) {
		t.Errorf("malformed documents: %v, %v", errs[0], errs[1])
	}
	var se *feed.StatusError
	if !errors.As(errs[2], &se) || se.Status != 429 || se.RetryAfter != time.Second {
		t.Errorf("429: %v", errs[2])
	}
	// The poll after the 429 waited for Retry-After, not the 20 ms interval.
	// (Requests: broken, html, 429, then the good one.)
	reqs := srv.Requests()
	if len(reqs) < 4 || reqs[3].Status != 200 {
		t.Fatalf("requests: %+v", reqs)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	srv := feedtest.NewServer(t, feedtest.JSON, entries()...)
	srv.RespondStatus(429, "1")
	log := sourcestest.NewLog()
	start := time.Now()
	stop := run(t, newSource(t, srv.URL, nil, log), log)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := log.WaitItems(ctx, 2); err != nil {
		t.Fatal(err)
	}
	stop()
	if took := time.Since(start); took < 900*time.Millisecond {
		t.Fatalf("got the items %v after a 429 with Retry-After: 1", took)
	}
}

func TestKeywordFilter(t *testing.T) {
	t.Parallel()
	srv := feedtest.NewServer(t, feedtest.RSS, entries()...)
	items := listenertest.Collect(t, newSource(t, srv.URL, []string{"VELORA"}, nil), 1, 5*time.Second)
	if items[0].Mention.ID != "urn:post:1" {
		t.Fatalf("got %+v", items[0].Mention)
	}
	src := newSource(t, srv.URL, []string{"velora"}, nil)
	out := make(chan listener.Item, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	src.Run(ctx, out)
	if len(out) != 1 {
		t.Fatalf("%d items through the filter over several polls, want 1", len(out))
	}
}

func TestCancelledSendIsEmittedAgain(t *testing.T) {
	t.Parallel()
	srv := feedtest.NewServer(t, feedtest.RSS, entries()...)
	src := newSource(t, srv.URL, nil, nil)
	out := make(chan listener.Item) // nobody reads: the first send blocks
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, out) }()
	waitFor(t, "a fetch", func() bool { return len(srv.Requests()) > 0 })
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	items := listenertest.Collect(t, src, 2, 5*time.Second)
	if items[0].Mention.ID != "urn:post:1" || items[1].Mention.ID != "urn:post:2" {
		t.Fatalf("after a cancelled send, got %v, %v", items[0].Mention.ID, items[1].Mention.ID)
	}
}

func TestConformance(t *testing.T) {
	listenertest.Conformance(t, func(tb testing.TB) listener.Source {
		srv := feedtest.NewServer(tb, feedtest.RSS, entries()...)
		return newSource(tb, srv.URL, nil, sourcestest.NewLog())
	}, listenertest.Options{MinItems: 2})
}

func TestFactory(t *testing.T) {
	t.Parallel()
	sc, err := sources.NewSourceConfig("rss", "press", "url: https://example.com/feed.xml\ninterval: 15m\nmatch: [velora]\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := feed.Factory(sc, sources.Deps{})
	if err != nil || inst.Source == nil || inst.Source.Name() != "press" {
		t.Fatalf("%+v %v", inst, err)
	}
	for _, bad := range []string{"url: ftp://x\n", "interval: soon\n", "url: https://x\nkeywords: [a]\n", "url: https://x\njitter: 2\n"} {
		sc, _ := sources.NewSourceConfig("rss", "press", bad, nil)
		if _, err := feed.Factory(sc, sources.Deps{}); err == nil {
			t.Errorf("settings %q: no error", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`<rss version="2.0"><channel><item><title>a</title><guid>1</guid><description>&lt;b&gt;x</description></item></channel></rss>`))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id><title>t</title><updated>2026-01-01T00:00:00Z</updated></entry></feed>`))
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","content_text":"x"}]}`))
	f.Add([]byte(`<rss><channel><item><title>broken`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ms, err := feed.Parse(body, "rss", t0)
		if err != nil {
			if !errors.Is(err, feed.ErrFeed) {
				t.Fatalf("error %v does not wrap ErrFeed", err)
			}
			return
		}
		for _, m := range ms {
			if m.ID == "" || m.Author.ID == "" || strings.TrimSpace(m.Text) == "" || len(m.Text) > listener.MaxTextBytes {
				t.Fatalf("bad mention %+v", m)
			}
		}
	})
}

func FuzzStripHTML(f *testing.F) {
	f.Add("<p>a<br>b</p><script>x</script>&amp;")
	f.Add("<<<>>>&&;")
	f.Fuzz(func(t *testing.T, s string) {
		out := feed.StripHTML(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if strings.TrimSpace(out) != out {
			t.Fatalf("untrimmed %q", out)
		}
	})
}

// BenchmarkParse measures a 100-entry RSS document with HTML summaries.
func BenchmarkParse(b *testing.B) {
	var es []feedtest.Entry
	for i := range 100 {
		es = append(es, feedtest.Entry{ID: fmt.Sprintf("urn:%d", i), Title: "Velora strike on Friday", HTML: strings.Repeat("<p>Trains <b>cancelled</b> &amp; refunds.</p>", 10), Link: "https://news.example/", Published: t0})
	}
	srv := feedtest.NewServer(b, feedtest.RSS, es...)
	resp, err := http.Get(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		if ms, err := feed.Parse(body, "rss", t0); err != nil || len(ms) != 100 {
			b.Fatal(err, len(ms))
		}
	}
}
