package bluesky_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vigie/vigie/listener/bluesky"
	"github.com/vigie/vigie/listener/bluesky/blueskytest"
	"github.com/vigie/vigie/listener/source"
)

func TestReplier(t *testing.T) {
	srv := newServer(t)
	root := srv.Post(ana, "@brand my bike was not loaded")
	brand := srv.Post(srv.BrandDID(), "sorry, which train?", blueskytest.ReplyTo(root, root))
	follow := srv.Post(ana, "the 8:15 to Lyon", blueskytest.ReplyTo(root, brand))
	r, err := bluesky.NewReplier(testConfig(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	uri, err := r.Post(ctx, source.Reply{Source: "bluesky", TicketID: 3, InReplyTo: follow.URI, Text: "We found it.", IdempotencyKey: "vigie-3-9"})
	if err != nil {
		t.Fatal(err)
	}
	created := srv.Created()
	if len(created) != 1 || created[0].URI != uri {
		t.Fatalf("created %+v, want one record %s", created, uri)
	}
	reply := created[0].Record["reply"].(map[string]any)
	if reply["parent"].(map[string]any)["uri"] != follow.URI || reply["root"].(map[string]any)["uri"] != root.URI {
		t.Errorf("reply refs %v, want parent %s and root %s", reply, follow.URI, root.URI)
	}
	if created[0].Record["text"] != "We found it." {
		t.Errorf("text %v", created[0].Record["text"])
	}
	// A retry of the same reply (the answer was lost) finds the post.
	again, err := r.Post(ctx, source.Reply{InReplyTo: follow.URI, Text: "We found it.", IdempotencyKey: "vigie-3-9"})
	if err != nil || again != uri || len(srv.Created()) != 1 {
		t.Errorf("retry: %s %v, %d records; want %s and 1 record", again, err, len(srv.Created()), uri)
	}
	// Answering a root post: root = parent.
	if _, err := r.Post(ctx, source.Reply{InReplyTo: root.URI, Text: "ok", IdempotencyKey: "k2"}); err != nil {
		t.Fatal(err)
	}
	reply = srv.Created()[1].Record["reply"].(map[string]any)
	if reply["root"].(map[string]any)["cid"] != root.CID || reply["parent"].(map[string]any)["cid"] != root.CID {
		t.Errorf("reply to a root: %v", reply)
	}
	// An expired access token is refreshed, without a new login.
	srv.ExpireTokens()
	if _, err := r.Post(ctx, source.Reply{InReplyTo: root.URI, Text: "still ok", IdempotencyKey: "k3"}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Sessions(); n != 1 {
		t.Errorf("%d logins, want 1 (the session is refreshed, not re-created)", n)
	}
}

func TestReplierErrors(t *testing.T) {
	srv := newServer(t)
	post := srv.Post(ana, "hello")
	tests := []struct {
		name      string
		cfg       func(*bluesky.Config)
		inReplyTo string
		text      string
		permanent bool
		want      string
	}{
		{"gone", nil, "at://" + ana + "/app.bsky.feed.post/3lgone", "hi", true, "gone"},
		{"not a uri", nil, "12345", "hi", true, "AT-URI"},
		{"too long", nil, post.URI, strings.Repeat("é", 301), true, "at most 300"},
		{"bad password", func(c *bluesky.Config) { c.AppPassword = "nope" }, post.URI, "hi", true, "app password"},
		{"pds down", func(c *bluesky.Config) { c.PDSURL = "http://127.0.0.1:1" }, post.URI, "hi", false, "createSession"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(srv)
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			r, err := bluesky.NewReplier(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = r.Post(context.Background(), source.Reply{InReplyTo: tt.inReplyTo, Text: tt.text, IdempotencyKey: "k-" + tt.name})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if errors.Is(err, source.ErrPermanent) != tt.permanent {
				t.Errorf("permanent = %v, want %v", !tt.permanent, tt.permanent)
			}
		})
	}
	if _, err := bluesky.NewReplier(bluesky.Config{}, nil); err == nil || !strings.Contains(err.Error(), "app password") {
		t.Errorf("NewReplier without credentials: %v", err)
	}
}
