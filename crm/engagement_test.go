package crm

import (
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
)

// TestEngagement: interactions are the mentions answering the brand's
// posts (a delivered reply, a campaign message), per follower of the
// brand's account where known; new prospects are the profiles unknown to
// the CRM first seen in the bucket.
func TestEngagement(t *testing.T) {
	t.Parallel()
	cfg := campaignConfig()
	cfg.BrandFollowers = map[string]int64{"mastodon": 1000}
	e := newEnv(t, cfg)
	hour := time.Hour
	e.feed(
		post{source: "mastodon", id: "m1", author: "ana", at: t0},
		post{source: "bluesky", id: "b1", author: "did:bob", at: t0.Add(10 * time.Minute)},
		post{source: "mastodon", id: "m2", author: "eve", at: t0.Add(2 * hour)},
	)
	// eve is known to the CRM: not a prospect.
	if _, err := e.crm.SetCRMID(e.ctx, e.profileOf("mastodon", "eve").ID, "C-1"); err != nil {
		t.Fatal(err)
	}
	// The desk delivered a reply to ana (brand post "r1") and one to bob
	// ("r2"), as its outbox publishes it.
	for _, d := range []struct {
		author, source, native string
	}{{"ana", "mastodon", "r1"}, {"did:bob", "bluesky", "r2"}} {
		page, err := e.desk.Tickets(e.ctx, desk.Filter{Author: d.source + "/" + d.author, Limit: 1})
		if err != nil || len(page.Tickets) != 1 {
			t.Fatalf("ticket of %s: %v", d.author, err)
		}
		msg := desk.Message{TicketID: page.Tickets[0].ID, Direction: desk.Outbound, Source: d.source, NativeID: d.native, Agent: "alice", Text: "sorry", Delivery: desk.DeliverySent}
		if _, err := e.desk.Publish(e.ctx, desk.EventTicketUpdated, desk.TopicTickets, desk.TicketData{Ticket: page.Tickets[0], Change: desk.ChangeDelivery, Actor: "alice", Message: &msg}); err != nil {
			t.Fatal(err)
		}
	}
	e.catchUp()
	e.feed(
		post{source: "mastodon", id: "m3", author: "ana", replyTo: "r1", at: t0.Add(30 * time.Minute)},       // an interaction
		post{source: "mastodon", id: "m4", author: "zoe", replyTo: "r1", at: t0.Add(40 * time.Minute)},       // another one, from a new prospect
		post{source: "bluesky", id: "b2", author: "did:bob", replyTo: "r2", at: t0.Add(50 * time.Minute)},    // on a network without follower count
		post{source: "mastodon", id: "m5", author: "ana", replyTo: "m1", at: t0.Add(time.Hour)},              // a reply to herself: none
		post{source: "mastodon", id: "m6", author: "ana", replyTo: "r1", at: t0.Add(-time.Minute - 24*hour)}, // before the range
	)
	got, err := e.crm.Engagement(e.ctx, t0, t0.Add(24*hour), hour, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Interactions != 3 || *got[0].BrandFollowers != 1000 || *got[0].InteractionRate != 0.002 || got[0].NewProspects != 3 {
		t.Fatalf("engagement %+v", got)
	}
	bySrc, err := e.crm.Engagement(e.ctx, t0, t0.Add(24*hour), hour, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(bySrc) != 2 || bySrc[0].Key != "bluesky" || bySrc[0].Interactions != 1 || bySrc[0].BrandFollowers != nil || bySrc[0].InteractionRate != nil || bySrc[0].NewProspects != 1 ||
		bySrc[1].Key != "mastodon" || bySrc[1].Interactions != 2 || *bySrc[1].InteractionRate != 0.002 || bySrc[1].NewProspects != 2 {
		t.Fatalf("engagement by source %+v", bySrc)
	}
	// A campaign message answered is an interaction too.
	seg, err := e.crm.SaveSegment(e.ctx, Segment{Name: "all"}, "mgr")
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := e.crm.SetConsent(e.ctx, e.profileOf("mastodon", "eve").ID, ConsentRequest{Granted: &yes}, "mgr"); err != nil {
		t.Fatal(err)
	}
	e.crm.SetReplier(&recorder{})
	e.clock.Set(t0.Add(3 * hour))
	e.startCampaign(seg.ID, "hello")
	e.step()
	sent := 0
	page, _ := e.crm.Recipients(e.ctx, 1, RecipientSent, 0, "")
	for _, r := range page.Recipients {
		e.feed(post{source: r.Source, id: "re-" + r.AuthorID, author: r.AuthorID, replyTo: r.ExternalID, at: t0.Add(4 * hour)})
		sent++
	}
	if sent != 1 {
		t.Fatalf("%d campaign messages sent, want 1 (eve)", sent)
	}
	got, err = e.crm.Engagement(e.ctx, t0.Add(4*hour), t0.Add(5*hour), hour, false)
	if err != nil || len(got) != 1 || got[0].Interactions != 1 || got[0].NewProspects != 0 {
		t.Fatalf("after the campaign: %+v %v", got, err)
	}
}
