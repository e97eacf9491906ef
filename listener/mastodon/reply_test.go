package mastodon_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/vigie/vigie/listener/mastodon"
	"github.com/vigie/vigie/listener/mastodon/mastodontest"
	"github.com/vigie/vigie/listener/source"
)

func TestReplier(t *testing.T) {
	srv := mastodontest.NewServer(t, mastodontest.Options{})
	st := srv.NewStatus("<p>Where is my refund? #velora</p>", "velora")
	srv.Add(st)
	cfg := testConfig(srv, mastodon.TransportSSE)
	cfg.ReplyVisibility = "unlisted"
	r, err := mastodon.NewReplier(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rep := source.Reply{Source: "mastodon", TicketID: 7, InReplyTo: st.ID, Text: "We are on it.", IdempotencyKey: "vigie-7-1"}
	id, err := r.Post(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.Post(ctx, rep) // a retry of the same reply
	if err != nil {
		t.Fatal(err)
	}
	if again != id {
		t.Errorf("retry returned %s, want the same id %s", again, id)
	}
	posted := srv.Posted()
	if len(posted) != 1 {
		t.Fatalf("%d statuses posted, want 1", len(posted))
	}
	want := mastodontest.Posted{Status: "@ana We are on it.", InReplyToID: st.ID, Visibility: "unlisted", IdempotencyKey: "vigie-7-1", ID: id}
	if posted[0] != want {
		t.Errorf("posted %+v, want %+v", posted[0], want)
	}
	// A text that already names the author is left alone.
	if _, err := r.Post(ctx, source.Reply{InReplyTo: st.ID, Text: "Hi @ana, done.", IdempotencyKey: "vigie-7-2"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Posted()[1].Status; got != "Hi @ana, done." {
		t.Errorf("posted %q", got)
	}
}

func TestReplierErrors(t *testing.T) {
	tests := []struct {
		name      string
		code      int
		inReplyTo string
		permanent bool
	}{
		{"post gone", 0, "999", true},
		{"no target", 0, "", true},
		{"rate limited", http.StatusTooManyRequests, "", false},
		{"server error", http.StatusBadGateway, "", false},
		{"refused", http.StatusUnprocessableEntity, "", true},
		{"token refused", http.StatusForbidden, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mastodontest.NewServer(t, mastodontest.Options{})
			st := srv.NewStatus("<p>hello</p>", "")
			srv.Add(st)
			srv.FailReplies(tt.code)
			r, err := mastodon.NewReplier(testConfig(srv, mastodon.TransportSSE), nil)
			if err != nil {
				t.Fatal(err)
			}
			target := st.ID
			if tt.code == 0 {
				target = tt.inReplyTo
			}
			_, err = r.Post(context.Background(), source.Reply{InReplyTo: target, Text: "hi", IdempotencyKey: "k"})
			if err == nil {
				t.Fatal("no error")
			}
			if got := errors.Is(err, source.ErrPermanent); got != tt.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tt.permanent, err)
			}
		})
	}
}
