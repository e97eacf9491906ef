package x_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vigie/vigie/listener/source"
	"github.com/vigie/vigie/listener/x"
	"github.com/vigie/vigie/listener/x/xtest"
)

func TestReplier(t *testing.T) {
	srv := newServer(t)
	summoned := srv.NewPost(ana, "@velora my refund?")
	srv.Keep(summoned)
	notSummoned := srv.NewPost(ana, "velora is late again")
	srv.Keep(notSummoned)
	r, err := x.NewReplier(testConfig(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id, err := r.Post(ctx, source.Reply{InReplyTo: summoned.Data["id"].(string), Text: "On it, DM us.", IdempotencyKey: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := r.Post(ctx, source.Reply{InReplyTo: summoned.Data["id"].(string), Text: "On it, DM us.", IdempotencyKey: "k1"})
	if err != nil || again != id {
		t.Errorf("retry: %s %v, want %s", again, err, id)
	}
	if got := srv.Replies(); len(got) != 1 || got[0] != (xtest.Reply{Text: "On it, DM us.", InReplyTo: summoned.Data["id"].(string), ID: id}) {
		t.Errorf("replies %+v", got)
	}

	nid := notSummoned.Data["id"].(string)
	_, err = r.Post(ctx, source.Reply{InReplyTo: nid, Text: "Sorry!", IdempotencyKey: "k2"})
	if !errors.Is(err, source.ErrPermanent) || !strings.Contains(err.Error(), "not been mentioned") || !strings.Contains(err.Error(), "https://x.com/i/web/status/"+nid) {
		t.Errorf("reply to an author who did not summon us: %v", err)
	}
	tests := []struct {
		name, to  string
		permanent bool
	}{
		{"deleted post", "1", true},
		{"not an id", "at://x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Post(ctx, source.Reply{InReplyTo: tt.to, Text: "hi " + tt.name, IdempotencyKey: tt.name})
			if err == nil || errors.Is(err, source.ErrPermanent) != tt.permanent {
				t.Errorf("error %v, permanent want %v", err, tt.permanent)
			}
		})
	}
	bad := testConfig(srv)
	bad.UserToken = "nope"
	rb, _ := x.NewReplier(bad, nil)
	if _, err := rb.Post(ctx, source.Reply{InReplyTo: summoned.Data["id"].(string), Text: "x", IdempotencyKey: "k3"}); !errors.Is(err, source.ErrPermanent) {
		t.Errorf("refused token: %v", err)
	}
	down := testConfig(srv)
	down.APIURL = "http://127.0.0.1:1"
	rd, _ := x.NewReplier(down, nil)
	if _, err := rd.Post(ctx, source.Reply{InReplyTo: "5", Text: "x", IdempotencyKey: "k4"}); err == nil || errors.Is(err, source.ErrPermanent) {
		t.Errorf("network error must be retried: %v", err)
	}
}
