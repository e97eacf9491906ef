package x_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/listenertest"
	"github.com/vigie/vigie/listener/x"
	"github.com/vigie/vigie/listener/x/xtest"
)

var ana = xtest.User{ID: "987", Username: "ana", Name: "Ana", PublicMetrics: map[string]int{"followers_count": 1200, "following_count": 80, "tweet_count": 3400}}

func testConfig(srv *xtest.Server) x.Config {
	return x.Config{
		APIURL: srv.URL, BearerToken: srv.AppToken(), UserToken: srv.UserToken(),
		Rules:            []x.Rule{{Value: "(velora OR @velora) -is:retweet", Tag: "brand"}},
		KeepAliveTimeout: 300 * time.Millisecond,
		NetworkBackoff:   5 * time.Millisecond, HTTPBackoff: 10 * time.Millisecond, RateLimitBackoff: 20 * time.Millisecond,
	}
}

func newServer(t testing.TB) *xtest.Server {
	return xtest.NewServer(t, xtest.Options{KeepAlive: 50 * time.Millisecond})
}

// The sources' test loop: run a source, read what it emits.
var (
	run  = listenertest.Start
	next = listenertest.Next
	none = listenertest.None
)

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

func TestConformance(t *testing.T) {
	listenertest.Conformance(t, func(tb testing.TB) listener.Source {
		srv := newServer(tb)
		stop, done := make(chan struct{}), make(chan struct{})
		tb.Cleanup(func() { close(stop); <-done })
		go func() {
			defer close(done)
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-tick.C:
					if srv.Connections() > 0 {
						srv.Emit(srv.NewPost(ana, fmt.Sprintf("@velora train %d is late", n)))
					}
				}
			}
		}()
		src, err := x.New(testConfig(srv), nil, nil)
		if err != nil {
			tb.Fatal(err)
		}
		return src
	}, listenertest.Options{MinItems: 3})
}

func TestRulesSync(t *testing.T) {
	srv := newServer(t)
	srv.SetRules(
		xtest.Rule{Value: "(velora OR @velora) -is:retweet", Tag: "brand"}, // kept
		xtest.Rule{Value: "old wording", Tag: "competitor"},                // stale value
		xtest.Rule{Value: "someone else's", Tag: "unknown"},                // stale tag
	)
	cfg := testConfig(srv)
	cfg.Rules = append(cfg.Rules, x.Rule{Value: "zephyr rail", Tag: "competitor"}, x.Rule{Value: "BAD", Tag: "bad"})
	srv.RefuseRule("BAD")
	src, err := x.New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, src)
	srv.WaitConnections(t, 1) // streams despite the refused rule
	got := map[string]string{}
	for _, r := range srv.Rules() {
		got[r.Tag] = r.Value
	}
	want := map[string]string{"brand": "(velora OR @velora) -is:retweet", "competitor": "zephyr rail"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rules %v, want %v", got, want)
	}
	if !strings.Contains(src.Status().LastError, "1 of 2 rules refused") {
		t.Errorf("last error %q, want the refused rule", src.Status().LastError)
	}
	q := srv.Queries()[0]
	for _, p := range []string{"expansions=author_id", "user.fields=username%2Cname%2Cpublic_metrics", "tweet.fields=created_at"} {
		if !strings.Contains(q, p) {
			t.Errorf("stream query %q lacks %q", q, p)
		}
	}
}

func TestRulesAlreadyInSync(t *testing.T) {
	srv := newServer(t)
	srv.SetRules(xtest.Rule{Value: "(velora OR @velora) -is:retweet", Tag: "brand"})
	src, err := x.New(testConfig(srv), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, src)
	srv.WaitConnections(t, 1)
	if n := srv.RuleChanges(); n != 0 {
		t.Errorf("%d rule changes, want none", n)
	}
}

func TestStreamMessages(t *testing.T) {
	srv := newServer(t)
	src, err := x.New(testConfig(srv), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, src)
	srv.WaitConnections(t, 1)

	srv.EmitRaw(`{"data":{"id":"1"}}`) // no author, no created_at
	srv.EmitRaw(`{"data":`)
	srv.EmitRaw(`{"errors":[{"title":"Not Found Error","detail":"Could not find tweet"}]}`)
	srv.KeepAlive()

	p := srv.NewPost(ana, "@velora where is my bike? 🚲")
	p.Data["lang"] = "und"
	p.Data["conversation_id"] = "1700"
	p.Data["referenced_tweets"] = []map[string]string{{"type": "quoted", "id": "1600"}, {"type": "replied_to", "id": "1650"}}
	p.Data["public_metrics"] = map[string]int{"repost_count": 2, "reply_count": 1, "like_count": 5}
	p.Data["geo"] = map[string]any{"place_id": "01a9", "coordinates": map[string]any{"type": "Point", "coordinates": []float64{-73.9, 40.7}}}
	srv.Emit(p)
	it := next(t, out)
	id := p.Data["id"].(string)
	want := listener.Mention{Source: "x", ID: id, URL: "https://x.com/ana/status/" + id, CreatedAt: it.Mention.CreatedAt,
		Author: listener.Author{ID: "987", Handle: "@ana", Name: "Ana", Followers: 1200, Following: 80, Posts: 3400},
		Text:   "@velora where is my bike? 🚲", ReplyTo: "1650", Conversation: "1700",
		Geo: &listener.Geo{Lat: 40.7, Lon: -73.9}, Engagement: &listener.Engagement{Likes: 5, Reposts: 2, Replies: 1}}
	if got := *it.Mention; got.Geo == nil || *got.Geo != *want.Geo || got.Engagement == nil || *got.Engagement != *want.Engagement {
		t.Errorf("geo %+v engagement %+v, want %+v %+v", got.Geo, got.Engagement, *want.Geo, *want.Engagement)
	}
	got := *it.Mention
	got.Geo, got.Engagement, want.Geo, want.Engagement = nil, nil, nil, nil
	if got != want || time.Since(got.CreatedAt) > time.Minute {
		t.Errorf("mention\n got %+v\nwant %+v", got, want)
	}
	if err := listenertest.Valid(it); err != nil {
		t.Error(err)
	}

	// An edit is a new post whose history starts with the original id.
	edit := srv.NewPost(ana, "@velora where is my bike? found it")
	edit.Data["edit_history_tweet_ids"] = []string{id, edit.Data["id"].(string)}
	srv.Emit(edit)
	if it = next(t, out); it.Mention.ID != id || !strings.HasSuffix(it.Mention.URL, edit.Data["id"].(string)) {
		t.Errorf("edit: id %s url %s, want id %s and the new post's URL", it.Mention.ID, it.Mention.URL, id)
	}

	// Post-era field names.
	bob := xtest.User{ID: "55", Username: "bob", PublicMetrics: map[string]int{"followers_count": 3, "post_count": 9}}
	pe := srv.NewPost(bob, "velora again")
	delete(pe.Data, "edit_history_tweet_ids")
	pe.Data["edit_history_post_ids"] = []string{pe.Data["id"].(string)}
	pe.Data["public_metrics"] = map[string]int{"repost_count": 4}
	srv.Emit(pe)
	if it = next(t, out); it.Mention.Author.Posts != 9 || it.Mention.Engagement == nil || it.Mention.Engagement.Reposts != 4 {
		t.Errorf("post-era names: %+v", it.Mention)
	}
	none(t, out, 50*time.Millisecond)
}

func TestOperationalDisconnectReconnectsAtOnce(t *testing.T) {
	srv := newServer(t)
	cfg := testConfig(srv)
	cfg.NetworkBackoff = time.Hour // only the immediate retry can reconnect
	src, err := x.New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, src)
	srv.WaitConnections(t, 1)
	srv.OperationalDisconnect()
	waitFor(t, "the reconnection", func() bool { return len(srv.Queries()) == 2 && srv.Connections() == 1 })
	if !strings.Contains(src.Status().LastError, "operational disconnect") {
		t.Errorf("last error %q", src.Status().LastError)
	}
	p := srv.NewPost(ana, "@velora back")
	srv.Emit(p)
	if it := next(t, out); it.Mention.ID != p.Data["id"] {
		t.Fatalf("got %+v", it.Mention)
	}
}

func TestReconnectBackoffs(t *testing.T) {
	tests := []struct {
		name    string
		fail    []int
		cfg     func(*x.Config)
		minWait time.Duration
	}{
		// 429: exponential from RateLimitBackoff (20 ms, 40 ms).
		{"rate limited", []int{http.StatusTooManyRequests, http.StatusTooManyRequests}, nil, 60 * time.Millisecond},
		// HTTP errors: exponential from HTTPBackoff (10, 20, 40 ms).
		{"http errors", []int{503, 503, 503}, nil, 70 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			srv.FailConnects(tt.fail...)
			src, err := x.New(testConfig(srv), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			run(t, src)
			srv.WaitConnections(t, 1)
			if d := time.Since(start); d < tt.minWait {
				t.Errorf("connected after %v, want at least %v of back-off", d, tt.minWait)
			}
			if n := len(srv.Queries()); n != len(tt.fail)+1 {
				t.Errorf("%d attempts, want %d", n, len(tt.fail)+1)
			}
		})
	}
}

func TestDeadStreamAndBackfillDedupe(t *testing.T) {
	srv := newServer(t)
	cfg := testConfig(srv)
	cfg.BackfillMinutes = 2
	src, err := x.New(cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, src)
	srv.WaitConnections(t, 1)
	a := srv.NewPost(ana, "@velora one")
	srv.Emit(a)
	if it := next(t, out); it.Mention.ID != a.Data["id"] {
		t.Fatal("first post missing")
	}
	srv.Silence()
	b := srv.NewPost(ana, "@velora two, while the stream was dead")
	srv.Keep(b)
	waitFor(t, "a reconnection", func() bool { return len(srv.Queries()) >= 2 })
	// The backfill replays a and b: only b is new.
	if it := next(t, out); it.Mention.ID != b.Data["id"] {
		t.Fatalf("got %s, want %s", it.Mention.ID, b.Data["id"])
	}
	none(t, out, 50*time.Millisecond)
	q := srv.Queries()
	if strings.Contains(q[0], "backfill") || !strings.Contains(q[len(q)-1], "backfill_minutes=2") {
		t.Errorf("queries %v: want backfill on reconnection only", q)
	}
	if !strings.Contains(src.Status().LastError, "keep-alive") {
		t.Errorf("last error %q", src.Status().LastError)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  x.Config
		want string
	}{
		{"ok", x.Config{Rules: []x.Rule{{Value: "velora", Tag: "b"}}}, ""},
		{"untagged rule", x.Config{Rules: []x.Rule{{Value: "velora"}}}, "tag"},
		{"duplicate tag", x.Config{Rules: []x.Rule{{Value: "a", Tag: "t"}, {Value: "b", Tag: "t"}}}, "tag"},
		{"empty rule", x.Config{Rules: []x.Rule{{Tag: "t"}}}, "no value"},
		{"long rule", x.Config{Rules: []x.Rule{{Value: strings.Repeat("a", 1025), Tag: "t"}}}, "1,024"},
		{"backfill", x.Config{BackfillMinutes: 6}, "backfill"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.cfg.KeepAliveTimeout != 25*time.Second || tt.cfg.APIURL != "https://api.x.com" {
					t.Errorf("defaults: %+v", tt.cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := x.New(x.Config{}, nil, nil); err == nil || !strings.Contains(err.Error(), "bearer token") {
		t.Errorf("New without a token: %v", err)
	}
}
