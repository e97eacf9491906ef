package sources_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/sources"
	"github.com/vigie/vigie/listener/sources/sourcestest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ticker emits one mention every 5 ms, numbered from where it stopped, and
// counts its runs and commits.
type ticker struct {
	name    string
	n       atomic.Int64
	runs    atomic.Int64
	commits atomic.Int64
	fail    atomic.Int64 // runs left that fail at once
}

func (s *ticker) Name() string { return s.name }

func (s *ticker) Run(ctx context.Context, out chan<- listener.Item) error {
	s.runs.Add(1)
	if s.fail.Add(-1) >= 0 {
		return errors.New("connection refused")
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		i := s.n.Add(1)
		m := listener.Mention{Source: "tick", ID: s.name + "-" + itoa(i), CreatedAt: time.Now().Add(-2 * time.Second), Author: listener.Author{ID: "a"}, Text: "hello"}
		select {
		case out <- listener.MentionItem(m):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *ticker) Commit(_ context.Context, items []listener.Item) error {
	s.commits.Add(int64(len(items)))
	return nil
}

func itoa(i int64) string { b, _ := json.Marshal(i); return string(b) }

type replier struct{ name string }

func (r replier) Post(_ context.Context, rep sources.Reply) (string, error) {
	return r.name + ":" + rep.InReplyTo, nil
}

type fixture struct {
	reg     *sources.Registry
	log     *sourcestest.Log
	prom    *prometheus.Registry
	tickers map[string]*ticker
	e       *echo.Echo
}

const file = `
sources:
  - {type: mastodon, name: social}
  - {type: x, name: flaky, settings: {fail: 2}}
  - {type: meta, name: meta}
  - {type: rss, name: off, enabled: false}
`

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{log: sourcestest.NewLog(), prom: prometheus.NewRegistry(), tickers: map[string]*ticker{}}
	reg, err := sources.New(sources.Config{RestartMin: 10 * time.Millisecond, RestartMax: 40 * time.Millisecond}, nil, f.prom)
	if err != nil {
		t.Fatal(err)
	}
	f.reg = reg
	poll := func(sc sources.SourceConfig, d sources.Deps) (sources.Instance, error) {
		var cfg struct {
			Fail int64 `yaml:"fail"`
		}
		if err := sc.Decode(&cfg); err != nil {
			return sources.Instance{}, err
		}
		tk := &ticker{name: sc.Name}
		tk.fail.Store(cfg.Fail)
		f.tickers[sc.Name] = tk
		return sources.Instance{Source: tk, Replier: replier{sc.Name}, Networks: []string{sc.Name + "-net"}}, nil
	}
	reg.Register("mastodon", poll)
	reg.Register("x", poll)
	reg.Register("rss", poll)
	reg.Register("meta", func(sc sources.SourceConfig, d sources.Deps) (sources.Instance, error) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			it := listener.MentionItem(listener.Mention{Source: "facebook", ID: r.URL.Query().Get("id"), CreatedAt: time.Now(), Author: listener.Author{ID: "a"}, Text: "hook"})
			if err := d.Append.Append(r.Context(), []listener.Item{it}, time.Now()); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
			d.Health.Received([]listener.Item{it})
			w.WriteHeader(200)
		})
		return sources.Instance{Hook: h, Replier: replier{"meta"}, Networks: []string{"facebook", "instagram"}}, nil
	})
	parsed, err := sources.Parse("sources.yaml", []byte(file), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Build(parsed, sources.Deps{Append: f.log, Cursors: f.log}); err != nil {
		t.Fatal(err)
	}
	f.e = echo.New()
	reg.MountHooks(f.e)
	reg.MountAPI(f.e.Group("/api/v1"))
	return f
}

func (f *fixture) do(t *testing.T, method, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Code, rec.Body.String()
}

func (f *fixture) status(t *testing.T, name string) sources.Status {
	t.Helper()
	st, err := f.reg.Status(name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRegistryRunsTogglesAndReports(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.reg.Run(ctx, f.log.Pump) }()

	eventually(t, "items from social", func() bool { return f.status(t, "social").ItemsTotal >= 5 })
	st := f.status(t, "social")
	if !st.Running || !st.Connected || !st.Enabled || st.Kind != "poll" || st.ItemsPerMinute < 5 || st.LagSeconds < 1.5 {
		t.Errorf("social: %+v", st)
	}
	// The registry counts a batch just before it hands it to the wrapped
	// source's Commit, so that call may still be on its way.
	eventually(t, "the wrapped source's Commit to see the items", func() bool { return f.tickers["social"].commits.Load() >= 5 })
	// flaky fails twice, is restarted with back-off, then runs.
	eventually(t, "flaky to recover", func() bool { return f.status(t, "flaky").ItemsTotal > 0 })
	if st := f.status(t, "flaky"); st.Restarts != 2 || !strings.Contains(st.LastError, "connection refused") || st.LastErrorAt == nil {
		t.Errorf("flaky: %+v", st)
	}
	if st := f.status(t, "off"); st.Running || st.Enabled || f.tickers["off"].runs.Load() != 0 {
		t.Errorf("a disabled source runs: %+v", st)
	}

	// Disable social over the API: its goroutine stops.
	code, body := f.do(t, "POST", "/api/v1/sources/social/disable")
	if code != 200 || !strings.Contains(body, `"enabled":false`) || !strings.Contains(body, `"running":false`) {
		t.Fatalf("disable: %d %s", code, body)
	}
	n := f.tickers["social"].n.Load()
	time.Sleep(30 * time.Millisecond)
	if f.tickers["social"].n.Load() != n {
		t.Error("social still emits after disable")
	}
	if code, _ := f.do(t, "POST", "/api/v1/sources/off/enable"); code != 200 {
		t.Fatalf("enable: %d", code)
	}
	eventually(t, "off to run once enabled", func() bool { return f.status(t, "off").ItemsTotal > 0 })
	if code, _ := f.do(t, "POST", "/api/v1/sources/nope/enable"); code != 404 {
		t.Errorf("unknown source: %d", code)
	}

	// The webhook route: delegated while enabled, 503 while disabled.
	if code, _ := f.do(t, "POST", "/hooks/meta?id=1"); code != 200 {
		t.Fatalf("hook: %d", code)
	}
	if st := f.status(t, "meta"); st.ItemsTotal != 1 || st.Kind != "webhook" || st.Hook != "/hooks/meta" || !st.Connected {
		t.Errorf("meta: %+v", st)
	}
	f.reg.SetEnabled("meta", false)
	if code, _ := f.do(t, "POST", "/hooks/meta?id=2"); code != 503 {
		t.Errorf("disabled hook: %d", code)
	}
	if code, _ := f.do(t, "POST", "/hooks/social"); code != 404 {
		t.Errorf("a source without a hook: %d", code)
	}

	code, body = f.do(t, "GET", "/api/v1/sources")
	var list []sources.Status
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 4 || list[0].Name != "social" || list[3].Name != "off" {
		t.Fatalf("list: %d %s", code, body)
	}

	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	for name, st := range map[string]sources.Status{"social": f.status(t, "social"), "flaky": f.status(t, "flaky"), "off": f.status(t, "off")} {
		if st.Running || st.Connected {
			t.Errorf("%s still running after Run returned: %+v", name, st)
		}
	}
	if got := counterValue(t, f.prom, "vigie_source_errors_total", "flaky"); got != 2 {
		t.Errorf("errors_total{flaky} = %v", got)
	}
	if got := counterValue(t, f.prom, "vigie_source_items_total", "meta"); got != 1 {
		t.Errorf("items_total{meta} = %v", got)
	}
}

// counterValue returns a counter's value for one source.
func counterValue(t *testing.T, reg *prometheus.Registry, name, source string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" && l.GetValue() == source {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no %s{source=%q}", name, source)
	return 0
}

func TestReplierDispatch(t *testing.T) {
	f := newFixture(t)
	r := f.reg.Replier()
	ctx := context.Background()
	for network, want := range map[string]string{"facebook": "meta:p1", "instagram": "meta:p1", "social-net": "social:p1"} {
		id, err := r.Post(ctx, sources.Reply{Source: network, InReplyTo: "p1"})
		if err != nil || id != want {
			t.Errorf("%s: %q %v, want %q", network, id, err, want)
		}
	}
	if _, err := r.Post(ctx, sources.Reply{Source: "myspace"}); !errors.Is(err, sources.ErrNoReplier) {
		t.Errorf("unknown network: %v", err)
	}
}

func TestBuildErrors(t *testing.T) {
	reg, _ := sources.New(sources.Config{}, nil, nil)
	reg.Register("meta", func(sc sources.SourceConfig, d sources.Deps) (sources.Instance, error) {
		return sources.Instance{Hook: http.NotFoundHandler(), Replier: replier{}, Networks: []string{"facebook"}}, nil
	})
	reg.Register("rss", func(sc sources.SourceConfig, d sources.Deps) (sources.Instance, error) {
		return sources.Instance{}, sc.Errorf("url: required")
	})
	doc := "sources:\n  - {type: meta, name: a}\n  - {type: meta, name: b}\n  - {type: rss, name: c}\n  - {type: bluesky, name: d}\n"
	parsed, err := sources.Parse("s.yaml", []byte(doc), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = reg.Build(parsed, sources.Deps{})
	for _, want := range []string{`s.yaml:3:5: source "b": replies on "facebook" are already sent by source "a"`, `s.yaml:4:5: source "c": url: required`, `s.yaml:5:5: source "d": type "bluesky": no connector`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	if len(reg.Statuses()) != 0 {
		t.Error("a failed Build kept sources")
	}
}
