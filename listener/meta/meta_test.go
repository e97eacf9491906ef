package meta_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/meta"
	"github.com/vigie/vigie/listener/meta/metatest"
	"github.com/vigie/vigie/listener/sources"
	"github.com/vigie/vigie/listener/sources/sourcestest"
)

const (
	secret = "app-secret"
	verify = "verify-me"
	token  = "page-token"
)

type fixture struct {
	hook  *httptest.Server
	graph *metatest.Server
	log   *sourcestest.Log
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{graph: metatest.NewServer(t), log: sourcestest.NewLog()}
	cfg := meta.Config{AppSecret: secret, VerifyToken: verify, AccessToken: token, GraphURL: f.graph.BaseURL(), MaxBodyBytes: 64 << 10}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := meta.NewGraph(cfg.GraphURL, token, secret, meta.Networks{}, nil)
	h, err := meta.NewHandler(cfg, f.log, g, nil, nil, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	f.hook = httptest.NewServer(h)
	t.Cleanup(f.hook.Close)
	return f
}

func TestVerificationHandshake(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, mode, token string
		want              int
		body              string
	}{
		{"good token", "subscribe", verify, 200, "1158201444"},
		{"bad token", "subscribe", "nope", 403, ""},
		{"bad mode", "unsubscribe", verify, 403, ""},
		{"no token", "subscribe", "", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"hub.mode": {tt.mode}, "hub.challenge": {"1158201444"}, "hub.verify_token": {tt.token}}
			resp, err := http.Get(f.hook.URL + "?" + q.Encode())
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want == 200 && string(body) != tt.body {
				t.Fatalf("body %q, want the raw challenge %q", body, tt.body)
			}
		})
	}
}

func TestSignedDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	body := metatest.Delivery("page", "123", at,
		metatest.FeedChange("comment", "add", "123_111", "123_987", "555", "Where is my order?", at),
		metatest.FeedChange("post", "add", "123_222", "", "", "Anyone else stuck at Lyon?", at),
		metatest.FeedChange("reaction", "add", "123_111", "", "556", "", at),
		metatest.FeedChange("photo", "add", "123_333", "", "557", "", at), // no caption: nothing to read
	)
	status, err := metatest.Deliver(ctx, f.hook.URL, secret, body, 1)
	if err != nil || status != 200 {
		t.Fatalf("delivery: status %d, %v", status, err)
	}
	items := f.log.Items()
	if len(items) != 2 {
		t.Fatalf("got %d items, want 2: %+v", len(items), items)
	}
	c := items[0].Mention
	if c.Source != "facebook" || c.ID != "123_987" || c.Author.ID != "555" || c.Text != "Where is my order?" ||
		c.ReplyTo != "123_111" || c.Conversation != "123_111" || !c.CreatedAt.Equal(at) {
		t.Errorf("comment: %+v", c)
	}
	p := items[1].Mention
	if p.ID != "123_222" || p.Author.ID != "anonymous:123_222" || p.ReplyTo != "" || p.URL != "https://www.facebook.com/123_222" {
		t.Errorf("post without from: %+v", p)
	}
	for i, it := range items {
		if err := sources.CheckItem(it); err != nil {
			t.Errorf("item %d: %v", i, err)
		}
	}

	// Meta retries: the same delivery again adds nothing.
	if status, _ := metatest.Deliver(ctx, f.hook.URL, secret, body, 1); status != 200 {
		t.Fatalf("redelivery: status %d", status)
	}
	if n := len(f.log.Items()); n != 2 {
		t.Fatalf("redelivery stored %d items, want still 2", n)
	}

	// An edit is a new version; a remove is a tombstone.
	edit := metatest.Delivery("page", "123", at.Add(time.Minute),
		metatest.FeedChange("comment", "edited", "123_111", "123_987", "555", "Where is my order #42?", at),
		metatest.FeedChange("comment", "remove", "123_111", "123_987", "555", "", at))
	if status, _ := metatest.Deliver(ctx, f.hook.URL, secret, edit, 1); status != 200 {
		t.Fatalf("edit: status %d", status)
	}
	items = f.log.Items()
	if len(items) != 4 {
		t.Fatalf("got %d items, want 4", len(items))
	}
	if e := items[2].Mention; e == nil || e.ID != "123_987" || e.Text != "Where is my order #42?" {
		t.Errorf("edit: %+v", items[2])
	}
	if ts := items[3].Tombstone; items[3].Kind != listener.KindTombstone || ts.Source != "facebook" || ts.ID != "123_987" {
		t.Errorf("remove: %+v", items[3])
	}
}

func TestRejectedDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	at := time.Now()
	body := metatest.Delivery("page", "123", at, metatest.FeedChange("post", "add", "123_1", "", "5", "hello", at))
	tests := []struct {
		name string
		sig  string
		body []byte
		want int
	}{
		{"no signature", "", body, 401},
		{"wrong secret", metatest.Sign("other", body), body, 403},
		{"signed other bytes", metatest.Sign(secret, append([]byte(" "), body...)), body, 403},
		{"sha1 only", "sha1=0123", body, 403},
		{"not hex", "sha256=zz", body, 403},
		{"too large", metatest.Sign(secret, make([]byte, 65<<10)), make([]byte, 65<<10), 413},
		{"signed garbage", metatest.Sign(secret, []byte("{not json")), []byte("{not json"), 400},
		{"signed other object", metatest.Sign(secret, []byte(`{"object":"user","entry":[]}`)), []byte(`{"object":"user","entry":[]}`), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, err := metatest.DeliverSigned(ctx, f.hook.URL, tt.sig, tt.body, 1)
			if err != nil {
				t.Fatal(err)
			}
			if status != tt.want {
				t.Fatalf("status %d, want %d", status, tt.want)
			}
		})
	}
	if n := len(f.log.Items()); n != 0 {
		t.Fatalf("rejected deliveries stored %d items", n)
	}
}

func TestAppendFailureIsRetriedByMeta(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.log.FailNext(2)
	at := time.Now()
	body := metatest.Delivery("page", "123", at, metatest.FeedChange("post", "add", "123_1", "", "5", "hello", at))
	status, err := metatest.Deliver(context.Background(), f.hook.URL, secret, body, 5)
	if err != nil || status != 200 {
		t.Fatalf("status %d, %v", status, err)
	}
	if n := len(f.log.Items()); n != 1 {
		t.Fatalf("stored %d items, want 1", n)
	}
}

func TestInstagram(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.graph.AddMentioned(metatest.Comment{ID: "1790001", Text: "@velora lost my bag", Username: "ana", Timestamp: "2026-11-22T10:00:00+0000", MediaID: "1780002"})
	at := time.Date(2026, 11, 22, 10, 5, 0, 0, time.UTC)
	body := metatest.Delivery("instagram", "17841400000000000", at,
		metatest.Change{Field: "comments", Value: map[string]any{"id": "1800001", "text": "Refund please",
			"from": map[string]string{"id": "IGSID1", "username": "bob"}, "media": map[string]string{"id": "1780009", "media_product_type": "FEED"}}},
		metatest.Change{Field: "mentions", Value: map[string]string{"media_id": "1780002", "comment_id": "1790001"}},
		metatest.Change{Field: "mentions", Value: map[string]string{"media_id": "1780003", "comment_id": "1790404"}}, // gone
	)
	status, err := metatest.Deliver(context.Background(), f.hook.URL, secret, body, 1)
	if err != nil || status != 200 {
		t.Fatalf("status %d, %v", status, err)
	}
	items := f.log.Items()
	if len(items) != 2 {
		t.Fatalf("got %d items, want 2: %+v", len(items), items)
	}
	c := items[0].Mention
	if c.Source != "instagram" || c.ID != "1800001" || c.Author.ID != "IGSID1" || c.Author.Handle != "bob" || c.Conversation != "1780009" || !c.CreatedAt.Equal(at) {
		t.Errorf("comment: %+v", c)
	}
	m := items[1].Mention
	if m.ID != "1790001" || m.Text != "@velora lost my bag" || m.Author.Handle != "ana" || m.Conversation != "1780002" ||
		!m.CreatedAt.Equal(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("fetched mention: %+v", m)
	}

	// A Graph outage fails the delivery, so that Meta sends it again.
	f.graph.FailNext(metatest.Failure{Status: 500, Code: 2, Message: "Service temporarily unavailable"})
	status, _ = metatest.Deliver(context.Background(), f.hook.URL, secret, body, 1)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("status %d during a Graph outage, want 503", status)
	}
}

func TestReplies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	g := meta.NewGraph(f.graph.BaseURL(), token, secret, meta.Networks{}, nil)
	ctx := context.Background()
	id, err := g.Post(ctx, sources.Reply{Source: "facebook", InReplyTo: "123_987", Text: "We are on it", IdempotencyKey: "k1"})
	if err != nil || id == "" {
		t.Fatalf("facebook reply: %q, %v", id, err)
	}
	if _, err := g.Post(ctx, sources.Reply{Source: "instagram", InReplyTo: "1800001", Text: "DM us"}); err != nil {
		t.Fatalf("instagram reply: %v", err)
	}
	r := f.graph.Replies()
	if len(r) != 2 || r[0].Edge != "comments" || r[0].Parent != "123_987" || r[0].Message != "We are on it" || r[0].Token != token || r[0].Proof == "" ||
		r[1].Edge != "replies" || r[1].Parent != "1800001" {
		t.Fatalf("replies: %+v", r)
	}

	tests := []struct {
		name      string
		fail      metatest.Failure
		permanent bool
	}{
		{"app rate limit", metatest.Failure{Status: 400, Code: 4, Message: "Application request limit reached"}, false},
		{"user rate limit", metatest.Failure{Status: 400, Code: 17, Message: "User request limit reached"}, false},
		{"page rate limit", metatest.Failure{Status: 400, Code: 32, Message: "Page request limit reached"}, false},
		{"call limit", metatest.Failure{Status: 400, Code: 613, Message: "Calls within one hour exceeded"}, false},
		{"business use case", metatest.Failure{Status: 400, Code: 80001, Message: "too many calls"}, false},
		{"temporary", metatest.Failure{Status: 500, Code: 2, Message: "Service temporarily unavailable"}, false},
		{"bare 502", metatest.Failure{Status: 502, Message: "bad gateway"}, false},
		{"permission", metatest.Failure{Status: 403, Code: 10, Message: "Permission denied"}, true},
		{"permission 200", metatest.Failure{Status: 403, Code: 200, Message: "Requires pages_manage_engagement"}, true},
		{"object gone", metatest.Failure{Status: 400, Code: 100, Message: "Object does not exist"}, true},
		{"token expired", metatest.Failure{Status: 400, Code: 190, Message: "Error validating access token"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs := metatest.NewServer(t)
			gs.FailNext(tt.fail)
			g := meta.NewGraph(gs.BaseURL(), token, secret, meta.Networks{}, nil)
			_, err := g.Post(ctx, sources.Reply{Source: "facebook", InReplyTo: "123_1", Text: "hi"})
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, sources.ErrPermanent); got != tt.permanent {
				t.Fatalf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("the error leaks the token: %v", err)
			}
		})
	}
	if _, err := g.Post(ctx, sources.Reply{Source: "mastodon", InReplyTo: "1", Text: "x"}); !errors.Is(err, sources.ErrNoReplier) {
		t.Fatalf("other network: %v, want ErrNoReplier", err)
	}
	if _, err := g.Post(ctx, sources.Reply{Source: "facebook", InReplyTo: "../me", Text: "x"}); !errors.Is(err, sources.ErrPermanent) {
		t.Fatalf("path in id: %v, want permanent", err)
	}
}

func TestFactory(t *testing.T) {
	t.Parallel()
	sc, err := sources.NewSourceConfig("meta", "meta", "graph_url: http://127.0.0.1:1/v21.0\n", map[string]string{"app_secret": "s", "verify_token": "v", "access_token": "t"})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := meta.Factory(sc, sources.Deps{Append: sourcestest.NewLog()})
	if err != nil {
		t.Fatal(err)
	}
	if inst.Hook == nil || inst.Replier == nil || len(inst.Networks) != 2 || inst.Source != nil {
		t.Fatalf("instance: %+v", inst)
	}
	bad, _ := sources.NewSourceConfig("meta", "meta", "graph_ur: x\n", map[string]string{"app_secret": "s", "verify_token": "v"})
	if _, err := meta.Factory(bad, sources.Deps{Append: sourcestest.NewLog()}); err == nil || !strings.Contains(err.Error(), `unknown setting "graph_ur"`) {
		t.Fatalf("unknown setting: %v", err)
	}
	noSecret, _ := sources.NewSourceConfig("meta", "meta", "", map[string]string{"verify_token": "v"})
	if _, err := meta.Factory(noSecret, sources.Deps{Append: sourcestest.NewLog()}); err == nil || !strings.Contains(err.Error(), "app_secret") {
		t.Fatalf("missing secret: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	at := time.Unix(1703332800, 0)
	f.Add(metatest.Delivery("page", "123", at, metatest.FeedChange("comment", "add", "1_2", "1_3", "5", "hi", at)))
	f.Add(metatest.Delivery("page", "123", at, metatest.FeedChange("comment", "remove", "1_2", "1_3", "", "", at)))
	f.Add(metatest.Delivery("instagram", "9", at, metatest.Change{Field: "mentions", Value: map[string]string{"media_id": "1"}}))
	f.Add([]byte(`{"object":"page","entry":[{"id":"1","time":"2023-01-01T00:00:00+0000","changes":[{"field":"feed","value":{"item":"post","verb":"add","post_id":"1_1","message":"x","created_time":"1e10"}}]}]}`))
	f.Add([]byte(`{"object":"instagram","entry":[{"messaging":[{}],"changes":[{"field":"comments","value":null}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := meta.Parse(body, meta.Networks{}, at)
		if err != nil {
			if !errors.Is(err, meta.ErrPayload) {
				t.Fatalf("error %v does not wrap ErrPayload", err)
			}
			return
		}
		for i, it := range p.Items {
			if err := sources.CheckItem(it); err != nil {
				t.Fatalf("item %d is invalid: %v", i, err)
			}
		}
	})
}

// BenchmarkParse measures a full batch: 1,000 comment changes, Meta's
// largest.
func BenchmarkParse(b *testing.B) {
	at := time.Unix(1703332800, 0)
	changes := make([]metatest.Change, 1000)
	for i := range changes {
		changes[i] = metatest.FeedChange("comment", "add", "123_111", fmt.Sprintf("123_%d", i), "555", "Where is my order? It has been two weeks now.", at)
	}
	body := metatest.Delivery("page", "123", at, changes...)
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		p, err := meta.Parse(body, meta.Networks{}, at)
		if err != nil || len(p.Items) != 1000 {
			b.Fatal(err, len(p.Items))
		}
	}
}
