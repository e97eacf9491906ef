package crm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
)

// recorder is a network that records every post it is asked for (every
// attempt, not only the first of a key) and refuses, for good, the posts
// answering the ids in refuse.
type recorder struct {
	mu     sync.Mutex
	calls  []desk.Reply
	refuse map[string]bool
}

func (r *recorder) Post(_ context.Context, rep desk.Reply) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, rep)
	if r.refuse[rep.InReplyTo] {
		return "", fmt.Errorf("%w: this account does not take messages", desk.ErrPermanent)
	}
	return "ext-" + rep.IdempotencyKey, nil
}

func (r *recorder) posts() []desk.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]desk.Reply(nil), r.calls...)
}

func campaignConfig() Config {
	return Config{Campaigns: CampaignConfig{Networks: map[string]NetworkLimit{
		// One message a minute, two at once: a step sends two, the next
		// minute one more.
		"mastodon": {PerHour: 60, Burst: 2},
		"bluesky":  {PerHour: 3600, Burst: 10},
	}}}
}

// campaignEnv feeds ana, bob, eve and zoe's posts on Mastodon; all but bob
// consent. It returns the env, its recorder and the segment of everyone.
func campaignEnv(t *testing.T, cfg Config) (*env, *recorder, int64) {
	t.Helper()
	e := newEnv(t, cfg)
	rec := &recorder{refuse: map[string]bool{}}
	e.crm.SetReplier(rec)
	var ps []post
	for _, who := range []string{"ana", "bob", "eve", "zoe"} {
		ps = append(ps, post{source: "mastodon", id: "m-" + who, author: who, handle: "@" + who + "@social.example", name: "Person " + who, queue: "support"})
	}
	e.feed(ps...)
	yes := true
	for _, who := range []string{"ana", "eve", "zoe"} {
		p := e.profileOf("mastodon", who)
		if _, err := e.crm.SetConsent(e.ctx, p.ID, ConsentRequest{Granted: &yes, Proof: "signup form"}, "mgr"); err != nil {
			t.Fatal(err)
		}
	}
	seg, err := e.crm.SaveSegment(e.ctx, Segment{Name: "everyone", Filter: Filter{}}, "mgr")
	if err != nil {
		t.Fatal(err)
	}
	return e, rec, seg.ID
}

func (e *env) startCampaign(seg int64, name string) Campaign {
	e.t.Helper()
	cp, err := e.crm.CreateCampaign(e.ctx, CampaignRequest{Name: name, SegmentID: seg, Networks: []string{"mastodon", "bluesky"}, Template: "Welcome {name}! 10% off with WELCOME10"}, "mgr")
	if err != nil {
		e.t.Fatal(err)
	}
	if cp, err = e.crm.ChangeCampaign(e.ctx, cp.ID, ActionStart); err != nil || cp.Status != CampaignRunning {
		e.t.Fatalf("start: %+v %v", cp, err)
	}
	return cp
}

func (e *env) step() time.Time {
	e.t.Helper()
	next, err := e.crm.CampaignStep(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return next
}

func (e *env) campaign(id int64) Campaign {
	e.t.Helper()
	cp, err := e.crm.Campaign(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return cp
}

// TestCampaignConsentCapThrottle: a campaign sends only to the people who
// consent (never a message to bob), at the network's pace (a token bucket
// on the CRM's clock), once per person; a second campaign right after is
// held back by the frequency cap.
func TestCampaignConsentCapThrottle(t *testing.T) {
	t.Parallel()
	e, rec, seg := campaignEnv(t, campaignConfig())
	cp := e.startCampaign(seg, "welcome")

	next := e.step()
	if n := len(rec.posts()); n != 2 {
		t.Fatalf("%d posts in the first step, want the bucket's 2", n)
	}
	if want := t0.Add(time.Minute); !next.Equal(want) {
		t.Errorf("next step at %v, want %v (one token a minute)", next, want)
	}
	e.step() // no token yet: nothing
	if n := len(rec.posts()); n != 2 {
		t.Fatalf("%d posts before the next token, want 2", n)
	}
	e.clock.Add(time.Minute)
	e.step()
	e.catchUp()
	got := e.campaign(cp.ID)
	if got.Status != CampaignDone || got.Stats.Sent != 3 || got.Stats.Skipped != 1 || got.Stats.SkippedBy[SkipNoConsent] != 1 || got.Stats.Queued != 0 {
		t.Fatalf("campaign after sending: %+v", got)
	}
	seen := map[string]bool{}
	for _, p := range rec.posts() {
		if p.InReplyTo == "m-bob" {
			t.Errorf("a campaign message went to bob, who does not consent: %+v", p)
		}
		if seen[p.InReplyTo] {
			t.Errorf("%s got two messages", p.InReplyTo)
		}
		seen[p.InReplyTo] = true
		if p.Source != "mastodon" || p.Text != "Welcome Person "+p.InReplyTo[2:]+"! 10% off with WELCOME10" {
			t.Errorf("post %+v", p)
		}
	}
	page, err := e.crm.Recipients(e.ctx, cp.ID, RecipientSkipped, 0, "")
	if err != nil || len(page.Recipients) != 1 || page.Recipients[0].AuthorID != "bob" || page.Recipients[0].Reason != SkipNoConsent {
		t.Fatalf("skipped recipients %+v %v", page, err)
	}

	// The frequency cap (1 a week): a second campaign sends nothing.
	second := e.startCampaign(seg, "again")
	e.clock.Add(time.Hour)
	e.step()
	got = e.campaign(second.ID)
	if got.Status != CampaignDone || got.Stats.Sent != 0 || got.Stats.SkippedBy[SkipFrequencyCap] != 3 || got.Stats.SkippedBy[SkipNoConsent] != 1 {
		t.Fatalf("second campaign: %+v", got)
	}
	if n := len(rec.posts()); n != 3 {
		t.Errorf("%d posts in all, want 3", n)
	}
	// A week later the cap has room again; a welcome campaign to the
	// newcomers of the last two days greets only kim, new today.
	e.clock.Add(7 * 24 * time.Hour)
	e.feed(post{source: "mastodon", id: "m-kim", author: "kim", name: "Kim Ode", queue: "support"})
	yes := true
	if _, err := e.crm.SetConsent(e.ctx, e.profileOf("mastodon", "kim").ID, ConsentRequest{Granted: &yes}, "mgr"); err != nil {
		t.Fatal(err)
	}
	newcomers, err := e.crm.SaveSegment(e.ctx, Segment{Name: "newcomers", Filter: Filter{NewWithinDays: 2}}, "mgr")
	if err != nil {
		t.Fatal(err)
	}
	welcome := e.startCampaign(newcomers.ID, "welcome newcomers")
	e.step()
	if got := e.campaign(welcome.ID); got.Stats.Recipients != 1 || got.Stats.Sent != 1 {
		t.Fatalf("welcome campaign %+v", got.Stats)
	}
	if last := rec.posts()[len(rec.posts())-1]; last.InReplyTo != "m-kim" || last.Text != "Welcome Kim Ode! 10% off with WELCOME10" {
		t.Errorf("welcome message %+v", last)
	}
	e.clock.Add(time.Hour)
	third := e.startCampaign(seg, "a week later")
	e.step()
	if got := e.campaign(third.ID); got.Stats.Sent != 2 || got.Stats.Queued != 2 { // ana, eve, zoe, kim: the bucket holds 2
		t.Errorf("a week later: %+v", got.Stats)
	}

	// The campaign events reached the desk's log.
	e.catchUp()
	evs, err := e.desk.ReadEvents(e.ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[desk.EventType]int{}
	for _, ev := range evs {
		kinds[ev.Type]++
	}
	if kinds[EventCampaignStarted] != 4 || kinds[EventCampaignFinished] != 3 {
		t.Errorf("campaign events %v", kinds)
	}

	// An erasure takes the person out of every campaign's record.
	e.erase("mastodon", "ana")
	for _, id := range []int64{cp.ID, second.ID, welcome.ID, third.ID} {
		page, err := e.crm.Recipients(e.ctx, id, "", 500, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Recipients {
			if r.AuthorID == "ana" {
				t.Errorf("campaign %d still holds the erased ana: %+v", id, r)
			}
		}
	}
}

// TestCampaignWithdrawnConsent: consent withdrawn after the campaign
// planned its recipients stops the message.
func TestCampaignWithdrawnConsent(t *testing.T) {
	t.Parallel()
	cfg := campaignConfig()
	cfg.Campaigns.Networks["mastodon"] = NetworkLimit{PerHour: 60, Burst: 1}
	e, rec, seg := campaignEnv(t, cfg)
	cp := e.startCampaign(seg, "welcome")
	e.step() // ana gets hers
	no := false
	for _, who := range []string{"eve", "zoe"} {
		if _, err := e.crm.SetConsent(e.ctx, e.profileOf("mastodon", who).ID, ConsentRequest{Granted: &no}, "mgr"); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Add(time.Hour)
	e.step()
	got := e.campaign(cp.ID)
	if got.Stats.Sent != 1 || got.Stats.SkippedBy[SkipNoConsent] != 3 || len(rec.posts()) != 1 || rec.posts()[0].InReplyTo != "m-ana" {
		t.Errorf("after withdrawals: %+v, posts %+v", got.Stats, rec.posts())
	}
}

// TestCampaignRestart: a CRM that stops in the middle of a campaign and
// opens again sends the rest, and nothing twice.
func TestCampaignRestart(t *testing.T) {
	t.Parallel()
	cfg := campaignConfig()
	cfg.Campaigns.Networks["mastodon"] = NetworkLimit{PerHour: 60, Burst: 1}
	e, rec, seg := campaignEnv(t, cfg)
	cp := e.startCampaign(seg, "welcome")
	e.step()
	if n := len(rec.posts()); n != 1 {
		t.Fatalf("%d posts before the restart", n)
	}
	e.crm.Close()
	cfg.Path, cfg.Now = e.crm.cfg.Path, e.clock.Now
	c, err := Open(e.ctx, cfg, e.desk, e.desk, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReplier(rec)
	e.crm = c
	for range 5 {
		e.clock.Add(time.Minute)
		e.step()
	}
	keys := map[string]int{}
	for _, p := range rec.posts() {
		keys[p.IdempotencyKey]++
	}
	if len(rec.posts()) != 3 || len(keys) != 3 {
		t.Errorf("posts after the restart %+v", rec.posts())
	}
	if got := e.campaign(cp.ID); got.Status != CampaignDone || got.Stats.Sent != 3 {
		t.Errorf("campaign %+v", got)
	}
}

// TestCampaignTracking: failures keep their reason, replies are counted
// (an answer to the message, or a post within the window), pause holds
// the sends and cancel drops them.
func TestCampaignTracking(t *testing.T) {
	t.Parallel()
	e, rec, seg := campaignEnv(t, campaignConfig())
	rec.refuse["m-zoe"] = true
	cp := e.startCampaign(seg, "welcome")
	e.step()
	e.clock.Add(time.Minute)
	e.step()
	got := e.campaign(cp.ID)
	if got.Stats.Sent != 2 || got.Stats.Failed != 1 {
		t.Fatalf("stats %+v", got.Stats)
	}
	failed, _ := e.crm.Recipients(e.ctx, cp.ID, RecipientFailed, 0, "")
	if len(failed.Recipients) != 1 || failed.Recipients[0].AuthorID != "zoe" || failed.Recipients[0].Reason == "" || failed.Recipients[0].Attempts != 1 {
		t.Errorf("failed %+v", failed)
	}
	sent, _ := e.crm.Recipients(e.ctx, cp.ID, RecipientSent, 0, "")
	var anaMsg string
	for _, r := range sent.Recipients {
		if r.AuthorID == "ana" {
			anaMsg = r.ExternalID
		}
	}
	// ana answers the message; eve posts four days later, about
	// something else: not a reply.
	e.clock.Add(time.Hour)
	e.feed(post{source: "mastodon", id: "r-ana", author: "ana", replyTo: anaMsg, text: "thanks!"})
	e.clock.Add(4 * 24 * time.Hour)
	e.feed(post{source: "mastodon", id: "r-eve", author: "eve", text: "train late"})
	got = e.campaign(cp.ID)
	if got.Stats.Replied != 1 {
		t.Errorf("replied %d, want 1", got.Stats.Replied)
	}
	sent, _ = e.crm.Recipients(e.ctx, cp.ID, RecipientSent, 0, "")
	for _, r := range sent.Recipients {
		if (r.AuthorID == "ana") != (r.RepliedAt != nil) || (r.AuthorID == "ana" && r.ReplyID != "r-ana") {
			t.Errorf("recipient %+v", r)
		}
	}

	// Pause, then cancel: nothing more goes out.
	e.clock.Add(8 * 24 * time.Hour)
	rec.refuse = map[string]bool{}
	two := e.startCampaign(seg, "two")
	if _, err := e.crm.ChangeCampaign(e.ctx, two.ID, ActionPause); err != nil {
		t.Fatal(err)
	}
	before := len(rec.posts())
	e.step()
	if got := e.campaign(two.ID); got.Status != CampaignPaused || got.Stats.Queued != 3 || len(rec.posts()) != before {
		t.Errorf("paused campaign %+v, %d posts", got, len(rec.posts())-before)
	}
	if _, err := e.crm.ChangeCampaign(e.ctx, two.ID, ActionPause); !errors.Is(err, ErrConflict) {
		t.Errorf("pausing a paused campaign: %v", err)
	}
	if _, err := e.crm.ChangeCampaign(e.ctx, two.ID, ActionCancel); err != nil {
		t.Fatal(err)
	}
	e.step()
	if got := e.campaign(two.ID); got.Status != CampaignCancelled || got.Stats.Cancelled != 3 || len(rec.posts()) != before {
		t.Errorf("cancelled campaign %+v", got)
	}
}

// TestCampaignValidation: bad requests get clear errors.
func TestCampaignValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, campaignConfig())
	seg, err := e.crm.SaveSegment(e.ctx, Segment{Name: "all"}, "mgr")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  CampaignRequest
		want error
	}{
		{"no name", CampaignRequest{SegmentID: seg.ID, Networks: []string{"mastodon"}, Template: "hi"}, ErrInvalid},
		{"no template", CampaignRequest{Name: "a", SegmentID: seg.ID, Networks: []string{"mastodon"}}, ErrInvalid},
		{"no network", CampaignRequest{Name: "a", SegmentID: seg.ID, Template: "hi"}, ErrInvalid},
		{"a network without campaigns", CampaignRequest{Name: "a", SegmentID: seg.ID, Networks: []string{"rss"}, Template: "hi"}, ErrInvalid},
		{"a network twice", CampaignRequest{Name: "a", SegmentID: seg.ID, Networks: []string{"mastodon", "mastodon"}, Template: "hi"}, ErrInvalid},
		{"no segment", CampaignRequest{Name: "a", SegmentID: 99, Networks: []string{"mastodon"}, Template: "hi"}, ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.crm.CreateCampaign(e.ctx, tc.req, "mgr"); !errors.Is(err, tc.want) {
				t.Errorf("%v, want %v", err, tc.want)
			}
		})
	}
	// A scheduled campaign starts at its time.
	at := t0.Add(time.Hour)
	cp, err := e.crm.CreateCampaign(e.ctx, CampaignRequest{Name: "later", SegmentID: seg.ID, Networks: []string{"mastodon"}, Template: "hi", StartAt: &at}, "mgr")
	if err != nil {
		t.Fatal(err)
	}
	if cp, err = e.crm.ChangeCampaign(e.ctx, cp.ID, ActionStart); err != nil || cp.Status != CampaignScheduled {
		t.Fatalf("scheduled: %+v %v", cp, err)
	}
	if next := e.step(); !next.Equal(at) {
		t.Errorf("next step %v, want the start %v", next, at)
	}
	e.clock.Set(at)
	e.step()
	if got := e.campaign(cp.ID); got.Status != CampaignDone || got.PlannedAt == nil {
		t.Errorf("at its time (an empty segment): %+v", got)
	}
}

// BenchmarkCampaign plans and sends a campaign to 1,000 consenting people
// (a network without a tight limit, a sandbox network): the CRM's own cost
// per campaign, ns/op per campaign; msgs/s is its sending throughput.
func BenchmarkCampaign(b *testing.B) {
	const people = 1000
	cfg := Config{Campaigns: CampaignConfig{Networks: map[string]NetworkLimit{"mastodon": {PerHour: 1e9, Burst: people}, "bluesky": {PerHour: 1, Burst: 1}}, FrequencyCap: 1 << 30}}
	e := newEnv(b, cfg)
	e.crm.SetReplier(desk.NewSandbox())
	ps := make([]post, people)
	for i := range ps {
		ps[i] = post{source: "mastodon", id: fmt.Sprint("m", i), author: fmt.Sprint("u", i), queue: "support"}
	}
	e.feed(ps...)
	if _, err := e.crm.db.Exec(e.ctx, "UPDATE profiles SET consent=1"); err != nil {
		b.Fatal(err)
	}
	seg, err := e.crm.SaveSegment(e.ctx, Segment{Name: "all"}, "mgr")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cp := e.startCampaign(seg.ID, fmt.Sprint("c", i))
		for e.campaign(cp.ID).Status != CampaignDone {
			e.step()
			e.clock.Add(time.Second) // the buckets refill on the CRM's clock
		}
	}
	b.ReportMetric(float64(b.N*people)/b.Elapsed().Seconds(), "msgs/s")
}
