package mastodon_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/listenertest"
	"github.com/vigie/vigie/listener/mastodon"
	"github.com/vigie/vigie/listener/mastodon/mastodontest"
	"github.com/vigie/vigie/listener/source"
)

func testConfig(srv *mastodontest.Server, transport mastodon.Transport) mastodon.Config {
	return mastodon.Config{
		Server: srv.URL, Token: srv.Token(), Tag: "velora", Transport: transport,
		HeartbeatTimeout: 300 * time.Millisecond, BackoffMin: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
	}
}

// feed emits a status on srv every 5 ms while a client is connected, until
// the test ends.
func feed(tb testing.TB, srv *mastodontest.Server) {
	stop := make(chan struct{})
	done := make(chan struct{})
	tb.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			case <-t.C:
				if srv.Connections() > 0 {
					srv.Emit(srv.NewStatus(fmt.Sprintf("<p>Train %d late again <a href=\"#\">#velora</a></p>", n), "velora"))
				}
			}
		}
	}()
}

func TestConformance(t *testing.T) {
	for _, tr := range []mastodon.Transport{mastodon.TransportSSE, mastodon.TransportWebSocket} {
		t.Run(string(tr), func(t *testing.T) {
			listenertest.Conformance(t, func(tb testing.TB) listener.Source {
				srv := mastodontest.NewServer(tb, mastodontest.Options{Heartbeat: 50 * time.Millisecond})
				feed(tb, srv)
				src, err := mastodon.New(testConfig(srv, tr), nil, nil, nil)
				if err != nil {
					tb.Fatal(err)
				}
				return src
			}, listenertest.Options{MinItems: 3})
		})
	}
}

// run starts src and returns its output channel; the source is stopped and
// checked at the end of the test.
// The sources' test loop: run a source, read what it emits.
var (
	run  = listenertest.Start
	next = listenertest.Next
	none = listenertest.None
)

func TestStreamEvents(t *testing.T) {
	for _, tr := range []mastodon.Transport{mastodon.TransportSSE, mastodon.TransportWebSocket} {
		t.Run(string(tr), func(t *testing.T) {
			srv := mastodontest.NewServer(t, mastodontest.Options{Heartbeat: 50 * time.Millisecond})
			reg := prometheus.NewRegistry()
			src, err := mastodon.New(testConfig(srv, tr), nil, nil, reg)
			if err != nil {
				t.Fatal(err)
			}
			out := run(t, src)
			srv.WaitConnections(t, 1)

			st := srv.NewStatus(`<p>Où est mon <a href="https://velora.example/"><span class="invisible">https://</span><span class="">velora.example/</span></a> train&nbsp;?<br>Merci &amp; bonne journée</p><p>#velora</p>`, "velora")
			reply := "108"
			st.InReplyToID = &reply
			st.SpoilerText = "retard"
			srv.Emit(st)
			it := next(t, out)
			if it.Kind != listener.KindMention {
				t.Fatalf("kind %s, want mention", it.Kind)
			}
			m := it.Mention
			host := strings.TrimPrefix(srv.URL, "http://")
			host = host[:strings.IndexByte(host, ':')]
			want := listener.Mention{
				Source: "mastodon", ID: st.ID, URL: st.URL, CreatedAt: st.CreatedAt,
				Author: listener.Author{ID: "42", Handle: "@ana@" + host, Name: "Ana", Followers: 1200, Following: 80, Posts: 3400},
				Text:   "retard\n\nOù est mon https://velora.example/ train\u00a0?\nMerci & bonne journée\n\n#velora",
				Lang:   "en", ReplyTo: "108",
			}
			if fmt.Sprint(*m) != fmt.Sprint(want) {
				t.Errorf("mention\n got %+v\nwant %+v", *m, want)
			}
			if err := listenertest.Valid(it); err != nil {
				t.Error(err)
			}

			srv.EmitEdit(st.ID, "<p>Found it, thanks #velora</p>")
			it = next(t, out)
			if it.Mention == nil || it.Mention.ID != st.ID || it.Mention.Text != "retard\n\nFound it, thanks #velora" {
				t.Fatalf("edit: got %+v", it.Mention)
			}

			srv.EmitRaw("update", `{"id":`)        // truncated JSON
			srv.EmitRaw("update", `{"id":"1"}`)    // no account
			srv.EmitRaw("delete", `{"bad": true}`) // not an id
			srv.EmitRaw("filters_changed", "undefined")
			srv.EmitDelete(st.ID)
			it = next(t, out)
			if it.Kind != listener.KindTombstone || it.Tombstone.ID != st.ID || it.Tombstone.Source != "mastodon" {
				t.Fatalf("delete: got %+v", it)
			}
			none(t, out, 50*time.Millisecond)
			if n := testutil.CollectAndCount(reg, "vigie_mastodon_items_total"); n != 2 {
				t.Errorf("items_total has %d series, want 2 (mention, tombstone)", n)
			}
			if got := invalidCount(t, reg); got != 3 {
				t.Errorf("invalid payloads counted %v, want 3", got)
			}
			if st := src.Status(); !st.Connected || st.ItemsPerMinute != 3 {
				t.Errorf("status %+v, want connected with 3 items a minute", st)
			}
		})
	}
}

func invalidCount(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() == "vigie_mastodon_invalid_total" {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}

func TestReconnectCatchesUpWithoutGapOrDuplicate(t *testing.T) {
	for _, tr := range []mastodon.Transport{mastodon.TransportSSE, mastodon.TransportWebSocket} {
		t.Run(string(tr), func(t *testing.T) {
			srv := mastodontest.NewServer(t, mastodontest.Options{Heartbeat: 50 * time.Millisecond})
			src, err := mastodon.New(testConfig(srv, tr), nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			out := run(t, src)
			srv.WaitConnections(t, 1)
			first := srv.NewStatus("<p>one #velora</p>", "velora")
			srv.Emit(first)
			if it := next(t, out); it.Mention.ID != first.ID {
				t.Fatalf("got %s, want %s", it.Mention.ID, first.ID)
			}
			srv.FailStreams(http.StatusBadGateway) // one failed attempt first
			srv.DropConnections()
			// 95 posts while disconnected: three REST pages of 40.
			var missed []string
			for i := range 95 {
				st := srv.NewStatus(fmt.Sprintf("<p>missed %d #velora</p>", i), "velora")
				srv.Add(st)
				missed = append(missed, st.ID)
			}
			srv.Add(srv.NewStatus("<p>not about the brand</p>", "other"))
			for i, id := range missed {
				it := next(t, out)
				if it.Mention == nil || it.Mention.ID != id {
					t.Fatalf("item %d: got %+v, want mention %s", i, it.Mention, id)
				}
			}
			srv.WaitConnections(t, 1)
			live := srv.NewStatus("<p>live again #velora</p>", "velora")
			srv.Emit(live)
			if it := next(t, out); it.Mention.ID != live.ID {
				t.Fatalf("got %s, want %s", it.Mention.ID, live.ID)
			}
			none(t, out, 50*time.Millisecond)
			reqs := srv.TimelineRequests()
			if len(reqs) < 3 || reqs[0].Get("min_id") != first.ID || reqs[0].Get("limit") != "40" {
				t.Errorf("timeline requests %v, want paging from min_id=%s by 40", reqs, first.ID)
			}
			if st := src.Status(); st.Reconnects < 2 || st.LastError == "" {
				t.Errorf("status %+v, want 2 reconnects and an error", st)
			}
		})
	}
}

func TestDeadConnectionIsReconnected(t *testing.T) {
	srv := mastodontest.NewServer(t, mastodontest.Options{Heartbeat: 50 * time.Millisecond})
	src, err := mastodon.New(testConfig(srv, mastodon.TransportSSE), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, src)
	srv.WaitConnections(t, 1)
	srv.Silence(true)
	deadline := time.Now().Add(5 * time.Second)
	for srv.Connects() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("a silent stream was not reconnected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if st := src.Status(); !strings.Contains(st.LastError, "heartbeat") {
		t.Errorf("last error %q, want the heartbeat timeout", st.LastError)
	}
}

func TestRateLimitedConnectWaitsForReset(t *testing.T) {
	srv := mastodontest.NewServer(t, mastodontest.Options{Heartbeat: 50 * time.Millisecond})
	cfg := testConfig(srv, mastodon.TransportSSE)
	cfg.BackoffMin, cfg.BackoffMax = time.Millisecond, time.Millisecond
	srv.FailStreams(http.StatusTooManyRequests)
	src, err := mastodon.New(cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, src)
	srv.WaitConnections(t, 1)
	// The 429 says the window resets in 50 ms: the source must not come
	// back before, whatever its back-off says.
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("reconnected after %v, before the rate-limit reset", d)
	}
	if !strings.Contains(src.Status().LastError, "429") {
		t.Errorf("last error %q, want the 429", src.Status().LastError)
	}
}

func TestResumeFromCommittedCursor(t *testing.T) {
	srv := mastodontest.NewServer(t, mastodontest.Options{Heartbeat: 50 * time.Millisecond})
	store := &source.MemCursors{}
	ctx := context.Background()

	src, err := mastodon.New(testConfig(srv, mastodon.TransportSSE), store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan listener.Item, 16)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Run(rctx, out) }()
	srv.WaitConnections(t, 1)
	a, b := srv.NewStatus("<p>a #velora</p>", "velora"), srv.NewStatus("<p>b #velora</p>", "velora")
	srv.Emit(a)
	srv.Emit(b)
	ia, ib := next(t, out), next(t, out)
	// Only a is committed: b was received but not made durable.
	if err := src.Commit(ctx, []listener.Item{ia}); err != nil {
		t.Fatal(err)
	}
	if cur, _ := store.Cursor(ctx, "mastodon:mastodon"); cur != a.ID {
		t.Fatalf("cursor %q, want %q", cur, a.ID)
	}
	_ = ib
	cancel()
	<-done
	srv.WaitConnections(t, 0)
	c := srv.NewStatus("<p>c while down #velora</p>", "velora")
	srv.Add(c)

	// A new process: resumes after a, so b and c come back over REST.
	src2, err := mastodon.New(testConfig(srv, mastodon.TransportSSE), store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out2 := run(t, src2)
	for _, want := range []string{b.ID, c.ID} {
		if it := next(t, out2); it.Mention.ID != want {
			t.Fatalf("got %s, want %s", it.Mention.ID, want)
		}
	}
	none(t, out2, 50*time.Millisecond)
}

func TestCatchUpHonoursRateLimit(t *testing.T) {
	srv := mastodontest.NewServer(t, mastodontest.Options{Heartbeat: 50 * time.Millisecond})
	store := &source.MemCursors{}
	first := srv.NewStatus("<p>first #velora</p>", "velora")
	srv.Add(first)
	if err := store.SetCursor(context.Background(), "mastodon:mastodon", first.ID); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 50 {
		st := srv.NewStatus(fmt.Sprintf("<p>%d #velora</p>", i), "velora")
		srv.Add(st)
		ids = append(ids, st.ID)
	}
	srv.RateLimit(1) // the second page answers 429
	src, err := mastodon.New(testConfig(srv, mastodon.TransportSSE), store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, src)
	seen := map[string]int{}
	for range ids {
		it := next(t, out)
		seen[it.Mention.ID]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("status %s seen %d times, want 1", id, seen[id])
		}
	}
	none(t, out, 50*time.Millisecond)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  mastodon.Config
		want string
	}{
		{"ok", mastodon.Config{Server: "https://m.example", Token: "t", Tag: "#velora"}, ""},
		{"no server", mastodon.Config{Token: "t"}, "server"},
		{"no token", mastodon.Config{Server: "https://m.example"}, "token"},
		{"hashtag without tag", mastodon.Config{Server: "https://m.example", Token: "t", Stream: mastodon.StreamHashtag}, "needs a tag"},
		{"bad stream", mastodon.Config{Server: "https://m.example", Token: "t", Stream: "list"}, "unknown stream"},
		{"bad transport", mastodon.Config{Server: "https://m.example", Token: "t", Transport: "grpc"}, "unknown transport"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.cfg.Tag != "velora" || tt.cfg.Stream != mastodon.StreamHashtag || tt.cfg.HeartbeatTimeout != 45*time.Second {
					t.Errorf("defaults not applied: %+v", tt.cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
