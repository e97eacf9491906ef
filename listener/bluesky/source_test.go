package bluesky_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/bluesky"
	"github.com/vigie/vigie/listener/bluesky/blueskytest"
	"github.com/vigie/vigie/listener/listenertest"
	"github.com/vigie/vigie/listener/source"
)

const ana = "did:plc:ana"

func testConfig(srv *blueskytest.Server) bluesky.Config {
	return bluesky.Config{
		JetstreamURL: srv.JetstreamURL(), AppViewURL: srv.URL, PDSURL: srv.URL,
		BrandDID: srv.BrandDID(), Keywords: []string{"Velora"},
		PingInterval: 50 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		CheckpointInterval: 20 * time.Millisecond,
		BackoffMin:         10 * time.Millisecond, BackoffMax: 50 * time.Millisecond,
		Identifier: srv.Identifier(), AppPassword: srv.Password(),
	}
}

func newServer(t testing.TB) *blueskytest.Server {
	srv := blueskytest.NewServer(t, blueskytest.Options{})
	srv.SetProfile(blueskytest.Profile{DID: ana, Handle: "ana.bsky.social", DisplayName: "Ana", FollowersCount: 1200, FollowsCount: 80, PostsCount: 3400})
	return srv
}

// The sources' test loop: run a source, read what it emits.
var (
	run  = listenertest.Start
	next = listenertest.Next
	none = listenertest.None
)

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
						srv.Post(ana, fmt.Sprintf("velora train %d is late", n))
					}
				}
			}
		}()
		src, err := bluesky.New(testConfig(srv), nil, nil, nil)
		if err != nil {
			tb.Fatal(err)
		}
		return src
	}, listenertest.Options{MinItems: 3})
}

func TestEvents(t *testing.T) {
	srv := newServer(t)
	src, err := bluesky.New(testConfig(srv), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, src)
	srv.WaitConnections(t, 1)

	srv.Post(ana, "nothing to see here")                               // no mention, no keyword
	srv.Post(srv.BrandDID(), "Velora here: the line is back")          // the brand itself
	srv.Like(ana, blueskytest.Ref{URI: "at://x/app.bsky.feed.post/1"}) // not a post
	srv.EmitRaw(`{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"a"}}`)
	srv.EmitRaw(`not json`)

	root := srv.Post(ana, "@brand where is my refund?", blueskytest.MentionOf(srv.BrandDID()), blueskytest.Langs("fr", "en"))
	it := next(t, out)
	m := it.Mention
	if it.Kind != listener.KindMention || m.ID != root.URI {
		t.Fatalf("got %+v, want the mention %s", it, root.URI)
	}
	rkey := root.URI[strings.LastIndexByte(root.URI, '/')+1:]
	want := listener.Mention{Source: "bluesky", ID: root.URI, URL: "https://bsky.app/profile/" + ana + "/post/" + rkey, CreatedAt: m.CreatedAt,
		Author: listener.Author{ID: ana, Handle: "@ana.bsky.social", Name: "Ana", Followers: 1200, Following: 80, Posts: 3400},
		Text:   "@brand where is my refund?", Lang: "fr"}
	if fmt.Sprint(*m) != fmt.Sprint(want) || time.Since(m.CreatedAt) > time.Minute {
		t.Errorf("mention\n got %+v\nwant %+v", *m, want)
	}
	if err := listenertest.Valid(it); err != nil {
		t.Error(err)
	}

	brandReply := blueskytest.Ref{URI: "at://" + srv.BrandDID() + "/app.bsky.feed.post/3lbrand", CID: "bafyx"}
	follow := srv.Post(ana, "thanks, still waiting", blueskytest.ReplyTo(root, brandReply))
	it = next(t, out)
	if it.Mention.ID != follow.URI || it.Mention.ReplyTo != brandReply.URI || it.Mention.Conversation != root.URI {
		t.Errorf("reply to the brand: got %+v", it.Mention)
	}

	kw := srv.Post("did:plc:bob", "Took the VELORA night train")
	if it = next(t, out); it.Mention.ID != kw.URI || it.Mention.Author.Handle != "" {
		t.Errorf("keyword post: got %+v (no profile: no handle)", it.Mention)
	}

	srv.Edit(root, "@brand refund received, thanks", blueskytest.MentionOf(srv.BrandDID()))
	if it = next(t, out); it.Mention.ID != root.URI || it.Mention.Text != "@brand refund received, thanks" {
		t.Errorf("edit: got %+v", it.Mention)
	}
	srv.Delete(root)
	if it = next(t, out); it.Kind != listener.KindTombstone || it.Tombstone.ID != root.URI {
		t.Errorf("delete: got %+v", it)
	}
	other := blueskytest.Ref{URI: "at://did:plc:zed/app.bsky.feed.post/3lzzz"}
	srv.Delete(other) // never emitted: not forwarded
	srv.Account("did:plc:zed", false, "deleted")
	srv.Account(ana, false, "deactivated") // may come back: not a deletion
	srv.Identity(ana, "ana.example")
	srv.Account(ana, false, "deleted")
	it = next(t, out)
	if it.Kind != listener.KindTombstone || it.Tombstone.AuthorID != ana || it.Tombstone.ID != "" || it.Tombstone.Reason != "account_deleted" {
		t.Errorf("account deletion: got %+v", it.Tombstone)
	}
	if err := listenertest.Valid(it); err != nil {
		t.Error(err)
	}
	none(t, out, 50*time.Millisecond)
	q := srv.Subscribes()[0]
	if !strings.Contains(q, "wantedCollections=app.bsky.feed.post") || strings.Contains(q, "cursor") {
		t.Errorf("first subscribe %q, want the post collection and no cursor", q)
	}
}

func TestReconnectResumesWithWindowAndDedupes(t *testing.T) {
	srv := newServer(t)
	src, err := bluesky.New(testConfig(srv), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, src)
	srv.WaitConnections(t, 1)
	a := srv.Post(ana, "velora one")
	if it := next(t, out); it.Mention.ID != a.URI {
		t.Fatal("first post missing")
	}
	srv.FailConnects(http.StatusServiceUnavailable)
	srv.Drop()
	b := srv.Post(ana, "velora two, while disconnected")
	if it := next(t, out); it.Mention.ID != b.URI {
		t.Fatalf("got %s, want %s (from the resume cursor)", it.Mention.ID, b.URI)
	}
	none(t, out, 50*time.Millisecond) // a is in the 5 s window, but not repeated
	subs := srv.Subscribes()
	last := subs[len(subs)-1]
	if !strings.Contains(last, "cursor=") {
		t.Fatalf("resubscribe %q has no cursor", last)
	}
	if st := src.Status(); st.Reconnects < 2 || !st.Connected {
		t.Errorf("status %+v", st)
	}
}

func TestDeadConnectionIsReconnected(t *testing.T) {
	srv := newServer(t)
	src, err := bluesky.New(testConfig(srv), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, src)
	srv.WaitConnections(t, 1)
	srv.Silence(true)
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Subscribes()) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("a silent connection was not reconnected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(src.Status().LastError, "read timeout") {
		t.Errorf("last error %q", src.Status().LastError)
	}
}

func TestCursorPersistedAfterCommitAndResumed(t *testing.T) {
	srv := newServer(t)
	store := &source.MemCursors{}
	ctx := context.Background()
	cfg := testConfig(srv)
	cfg.CheckpointInterval = time.Hour // only Commit moves the cursor here
	src, err := bluesky.New(cfg, store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan listener.Item, 16)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- src.Run(rctx, out) }()
	srv.WaitConnections(t, 1)
	a := srv.Post(ana, "velora a")
	ia := next(t, out)
	if cur, _ := store.Cursor(ctx, "bluesky:bluesky"); cur != "" {
		t.Fatalf("cursor %q persisted before the commit", cur)
	}
	if err := src.Commit(ctx, []listener.Item{ia}); err != nil {
		t.Fatal(err)
	}
	cur, _ := store.Cursor(ctx, "bluesky:bluesky")
	if v, err := strconv.ParseInt(cur, 10, 64); err != nil || v <= 0 {
		t.Fatalf("cursor %q after commit", cur)
	}
	cancel()
	<-done
	srv.WaitConnections(t, 0)
	b := srv.Post(ana, "velora b while down")

	src2, err := bluesky.New(cfg, store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out2 := run(t, src2)
	// A new process replays the 5 s window: a again (the intake log
	// de-duplicates it), then b.
	got := []string{next(t, out2).Mention.ID, next(t, out2).Mention.ID}
	if got[0] != a.URI || got[1] != b.URI {
		t.Fatalf("resumed with %v, want [%s %s]", got, a.URI, b.URI)
	}
	subs := srv.Subscribes()
	last := subs[len(subs)-1]
	want := "cursor=" + strconv.FormatInt(mustInt(t, cur)-5_000_000, 10)
	if !strings.Contains(last, want) {
		t.Errorf("resubscribe %q, want %s (5 s before the committed time_us)", last, want)
	}
}

func TestCheckpointWhileIdle(t *testing.T) {
	srv := newServer(t)
	store := &source.MemCursors{}
	src, err := bluesky.New(testConfig(srv), store, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	run(t, src)
	srv.WaitConnections(t, 1)
	srv.Post(ana, "not a mention")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if cur, _ := store.Cursor(context.Background(), "bluesky:bluesky"); cur != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the cursor never moved past events that made no item")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  bluesky.Config
		want string
	}{
		{"ok", bluesky.Config{Keywords: []string{" Velora "}}, ""},
		{"no filter", bluesky.Config{}, "not a mention stream"},
		{"bad did", bluesky.Config{BrandDID: "brand"}, "not a DID"},
		{"bad jetstream", bluesky.Config{Keywords: []string{"v"}, JetstreamURL: "http://x"}, "ws(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.cfg.Keywords[0] != "velora" || tt.cfg.ResumeWindow != 5*time.Second || tt.cfg.Name != "bluesky" {
					t.Errorf("defaults: %+v", tt.cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}
