package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigie/vigie/crm"
	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener"
)

// postPublic sends an unauthenticated JSON request, as a customer's
// browser would.
func postPublic(t *testing.T, url string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCSATEndToEnd: a customer's post becomes a ticket, an agent answers
// and resolves it, the CRM offers the queue's survey, the customer answers
// through the public endpoint with the signed token (once), the rating
// reaches the ticket's record, the KPIs, the profile's timeline and the
// websocket as csat.rated; an erasure takes the profile away.
func TestCSATEndToEnd(t *testing.T) {
	data := t.TempDir()
	cfgPath := filepath.Join(data, "crm.yaml")
	if err := os.WriteFile(cfgPath, []byte(`surveys:
  "*": {text: "How did we do? {link}", url: "https://brand.example/csat?t={token}"}
survey_ttl: 24h
`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, data, func(c *serveConfig) { c.CRMConfig = cfgPath })
	ws := a.dial("")
	if err := ws.WriteJSON(map[string]any{"subscribe": []string{"tickets"}}); err != nil {
		t.Fatal(err)
	}
	a.ingest(mention("c1", "ana", "My train was cancelled and I want a refund now", nil))
	var page desk.Page
	eventually(t, "the ticket", func() bool {
		a.do("GET", "/api/v1/tickets?author=mastodon/ana", "", nil, &page)
		return len(page.Tickets) == 1
	})
	id := page.Tickets[0].ID
	if code := a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/reply", id), "application/json", []byte(`{"text":"Refund on its way."}`), nil); code != http.StatusAccepted {
		t.Fatalf("reply: %d", code)
	}
	if code := a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/resolve", id), "", nil, nil); code != http.StatusOK {
		t.Fatalf("resolve: %d", code)
	}

	ctx := context.Background()
	var msg crm.SurveyMessage
	eventually(t, "the survey", func() bool {
		var err error
		msg, err = a.srv.crm.SurveyMessage(ctx, id)
		if err != nil && !errors.Is(err, crm.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	})
	// The survey really went out, through the desk's outbox, once.
	eventually(t, "the survey message posted", func() bool {
		for _, p := range a.srv.sandbox.Posts() {
			if p.Text == msg.Text {
				return true
			}
		}
		return false
	})
	surveys := 0
	for _, p := range a.srv.sandbox.Posts() {
		if p.TicketID == id && p.Text == msg.Text && p.IdempotencyKey == fmt.Sprintf("vigie-csat-%d", id) && p.InReplyTo == "c1" {
			surveys++
		}
	}
	if surveys != 1 {
		t.Errorf("%d survey posts, want 1: %+v", surveys, a.srv.sandbox.Posts())
	}
	rate := a.url + "/api/v1/csat/"
	if code := postPublic(t, rate+"forged-token", map[string]any{"rating": 5}); code != http.StatusUnauthorized {
		t.Errorf("a forged token: %d, want 401", code)
	}
	if code := postPublic(t, rate+msg.Token, map[string]any{"rating": 9}); code != http.StatusBadRequest {
		t.Errorf("rating 9: %d, want 400", code)
	}
	if code := postPublic(t, rate+msg.Token, map[string]any{"rating": 5, "comment": "fast and kind"}); code != http.StatusOK {
		t.Fatalf("rate: %d", code)
	}
	if code := postPublic(t, rate+msg.Token, map[string]any{"rating": 1}); code != http.StatusGone {
		t.Errorf("a second answer: %d, want 410", code)
	}

	frames := readUntil(t, ws, 10*time.Second, func(f frameMsg) bool { return f.Type == string(crm.EventCSATRated) })
	var r crm.Rating
	if err := json.Unmarshal(frames[len(frames)-1].Data, &r); err != nil || r.TicketID != id || r.Rating != 5 {
		t.Errorf("csat.rated %s (%v)", frames[len(frames)-1].Data, err)
	}

	var rep crm.CSATReport
	if code := a.do("GET", "/api/v1/csat?by=agent", "", nil, &rep); code != http.StatusOK {
		t.Fatalf("csat: %d", code)
	}
	if len(rep.Buckets) != 1 || rep.Buckets[0].Responses != 1 || *rep.Buckets[0].Score != 1 || *rep.Buckets[0].ResponseRate != 1 {
		t.Errorf("csat report %+v", rep)
	}
	// The answer reaches the archive: CSAT over time in GET /kpis.
	eventually(t, "CSAT in the KPIs", func() bool {
		var k struct {
			Buckets []struct {
				Key           string   `json:"key"`
				CSATResponses int64    `json:"csat_responses"`
				CSATScore     *float64 `json:"csat_score"`
			} `json:"buckets"`
		}
		a.do("GET", "/api/v1/kpis?by=agent&interval=1d", "", nil, &k)
		for _, b := range k.Buckets {
			if b.CSATResponses == 1 && b.CSATScore != nil && *b.CSATScore == 1 && b.Key != "" {
				return true
			}
		}
		return false
	})
	var p crm.Profile
	if code := a.do("GET", "/api/v1/profiles/by-identity/mastodon/ana", "", nil, &p); code != http.StatusOK {
		t.Fatalf("profile: %d", code)
	}
	if p.Satisfaction.Responses != 1 || p.Tickets != 1 || p.Mentions != 1 || p.Identities[0].Handle != "@ana@social.example" {
		t.Errorf("profile %+v", p)
	}
	var tl struct {
		Items []crm.TimelineItem `json:"items"`
	}
	a.do("GET", fmt.Sprintf("/api/v1/profiles/%d/timeline", p.ID), "", nil, &tl)
	kinds := map[crm.ItemKind]int{}
	for _, it := range tl.Items {
		kinds[it.Kind]++
	}
	if kinds[crm.KindCSAT] != 1 || kinds[crm.KindTicket] != 1 || kinds[crm.KindMention] != 1 {
		t.Errorf("timeline kinds %v", kinds)
	}

	// Erasure: the CRM follows the desk's mention.deleted. The account
	// tombstone goes into the intake log as DELETE /authors/... puts it
	// (that handler's own checks are TestErasure's).
	now := time.Now().UTC()
	if _, err := a.srv.intake.Append(ctx, []listener.Item{listener.TombstoneItem(listener.Tombstone{Source: "mastodon", AuthorID: "ana", Reason: "erasure", At: now})}, now); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the profile's erasure", func() bool {
		return a.do("GET", "/api/v1/profiles/by-identity/mastodon/ana", "", nil, nil) == http.StatusNotFound
	})
	if code := a.do("GET", fmt.Sprintf("/api/v1/profiles/%d", p.ID), "", nil, nil); code != http.StatusNotFound {
		t.Errorf("erased profile: %d, want 404", code)
	}
}

// TestCRMLinkThroughAPI: an agent sees a suggestion, links two identities,
// sees one timeline, and unlinks them.
func TestCRMLinkThroughAPI(t *testing.T) {
	a := startApp(t, t.TempDir())
	a.ingest(
		mention("l1", "ana", "Train late again", nil),
		map[string]any{"source": "bluesky", "id": "l2", "created_at": "2026-11-22T10:05:00Z", "text": "Thanks for the refund!",
			"author": map[string]any{"id": "did:plc:ana", "handle": "ana.bsky.social"}},
	)
	var m, b crm.Profile
	eventually(t, "both profiles", func() bool {
		return a.do("GET", "/api/v1/profiles/by-identity/mastodon/ana", "", nil, &m) == 200 &&
			a.do("GET", "/api/v1/profiles/by-identity/bluesky/did:plc:ana", "", nil, &b) == 200
	})
	var sugg struct {
		Suggestions []crm.Suggestion `json:"suggestions"`
	}
	a.do("GET", fmt.Sprintf("/api/v1/profiles/%d/suggestions", m.ID), "", nil, &sugg)
	if len(sugg.Suggestions) != 1 || sugg.Suggestions[0].ProfileID != b.ID {
		t.Fatalf("suggestions %+v", sugg)
	}
	var linked crm.Profile
	if code := a.do("POST", fmt.Sprintf("/api/v1/profiles/%d/identities", m.ID), "application/json", []byte(`{"source":"bluesky","author_id":"did:plc:ana"}`), &linked); code != 200 {
		t.Fatalf("link: %d", code)
	}
	if len(linked.Identities) != 2 || linked.Mentions != 2 {
		t.Fatalf("linked %+v", linked)
	}
	var un struct {
		Profile      crm.Profile `json:"profile"`
		NewProfileID int64       `json:"new_profile_id"`
	}
	if code := a.do("DELETE", fmt.Sprintf("/api/v1/profiles/%d/identities/bluesky/did%%3Aplc%%3Aana", m.ID), "", nil, &un); code != 200 {
		t.Fatalf("unlink: %d", code)
	}
	if len(un.Profile.Identities) != 1 || un.NewProfileID == 0 {
		t.Fatalf("unlinked %+v", un)
	}
	if code := a.do("DELETE", fmt.Sprintf("/api/v1/profiles/%d/identities/mastodon/ana", m.ID), "", nil, nil); code != http.StatusConflict {
		t.Errorf("unlinking the last identity: %d, want 409", code)
	}
}

// TestCampaignThroughAPI: a manager sends a campaign to a segment; it goes
// out through the connectors' reply path (the sandbox here) to the person
// who consents and to no one else; her answer counts as a reply.
func TestCampaignThroughAPI(t *testing.T) {
	a := startApp(t, t.TempDir())
	a.ingest(mention("w1", "ana", "Just followed you, love the new trains", nil), mention("w2", "bob", "Following for the deals", nil))
	var ana, bob crm.Profile
	eventually(t, "both profiles", func() bool {
		return a.do("GET", "/api/v1/profiles/by-identity/mastodon/ana", "", nil, &ana) == http.StatusOK &&
			a.do("GET", "/api/v1/profiles/by-identity/mastodon/bob", "", nil, &bob) == http.StatusOK
	})
	if code := a.do("PUT", fmt.Sprintf("/api/v1/profiles/%d/consent", ana.ID), "application/json", []byte(`{"granted":true,"proof":"newsletter form"}`), nil); code != http.StatusOK {
		t.Fatalf("consent: %d", code)
	}
	var seg crm.Segment
	if code := a.do("POST", "/api/v1/segments", "application/json", []byte(`{"name":"new followers","filter":{}}`), &seg); code != http.StatusCreated {
		t.Fatalf("segment: %d", code)
	}
	var cp crm.Campaign
	body := fmt.Sprintf(`{"name":"welcome","segment_id":%d,"networks":["mastodon"],"template":"Welcome {name}! Here is 10%% off: WELCOME10"}`, seg.ID)
	if code := a.do("POST", "/api/v1/crm/campaigns", "application/json", []byte(body), &cp); code != http.StatusCreated || cp.Status != crm.CampaignDraft {
		t.Fatalf("create: %d %+v", code, cp)
	}
	bad := fmt.Sprintf(`{"name":"rss","segment_id":%d,"networks":["rss"],"template":"hi"}`, seg.ID)
	if code := a.do("POST", "/api/v1/crm/campaigns", "application/json", []byte(bad), nil); code != http.StatusBadRequest {
		t.Errorf("a campaign on RSS: %d, want 400", code)
	}
	if code := a.do("POST", fmt.Sprintf("/api/v1/crm/campaigns/%d/start", cp.ID), "", nil, &cp); code != http.StatusOK {
		t.Fatalf("start: %d", code)
	}
	eventually(t, "the campaign done", func() bool {
		a.do("GET", fmt.Sprintf("/api/v1/crm/campaigns/%d", cp.ID), "", nil, &cp)
		return cp.Status == crm.CampaignDone
	})
	if cp.Stats.Sent != 1 || cp.Stats.SkippedBy[crm.SkipNoConsent] != 1 {
		t.Fatalf("stats %+v", cp.Stats)
	}
	var posted []desk.Reply
	for _, p := range a.srv.sandbox.Posts() {
		if p.InReplyTo == "w2" {
			t.Errorf("bob, without consent, got %+v", p)
		}
		if p.InReplyTo == "w1" && p.Text == "Welcome @ana@social.example! Here is 10% off: WELCOME10" {
			posted = append(posted, p)
		}
	}
	if len(posted) != 1 {
		t.Fatalf("campaign posts to ana: %+v", a.srv.sandbox.Posts())
	}
	var sent crm.RecipientPage
	a.do("GET", fmt.Sprintf("/api/v1/crm/campaigns/%d/recipients?status=sent", cp.ID), "", nil, &sent)
	if len(sent.Recipients) != 1 || sent.Recipients[0].AuthorID != "ana" || sent.Recipients[0].ExternalID == "" {
		t.Fatalf("sent %+v", sent)
	}
	a.ingest(mention("w3", "ana", "Thanks, booked!", map[string]any{"reply_to": sent.Recipients[0].ExternalID, "created_at": time.Now().UTC().Format(time.RFC3339)}))
	eventually(t, "the reply counted", func() bool {
		a.do("GET", fmt.Sprintf("/api/v1/crm/campaigns/%d", cp.ID), "", nil, &cp)
		return cp.Stats.Replied == 1
	})
	var list struct {
		Campaigns []crm.Campaign `json:"campaigns"`
	}
	if code := a.do("GET", "/api/v1/crm/campaigns", "", nil, &list); code != http.StatusOK || len(list.Campaigns) != 1 {
		t.Errorf("list: %d %+v", code, list)
	}
}

// TestKPIEngagement: GET /kpis carries the engagement KPIs beside the
// archive's buckets: the customer's answer to the brand's delivered reply
// is an interaction, per follower of the brand's account; the customer,
// unknown to the CRM, is a new prospect.
func TestKPIEngagement(t *testing.T) {
	data := t.TempDir()
	cfgPath := filepath.Join(data, "crm.yaml")
	if err := os.WriteFile(cfgPath, []byte("brand_followers: {mastodon: 500}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, data, func(c *serveConfig) { c.CRMConfig = cfgPath })
	now := time.Now().UTC()
	a.ingest(mention("e1", "ana", "Is the night train running?", map[string]any{"created_at": now.Add(-time.Minute).Format(time.RFC3339)}))
	var page desk.Page
	eventually(t, "the ticket", func() bool {
		a.do("GET", "/api/v1/tickets?author=mastodon/ana", "", nil, &page)
		return len(page.Tickets) == 1
	})
	id := page.Tickets[0].ID
	if code := a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/reply", id), "application/json", []byte(`{"text":"Yes, at 22:10."}`), nil); code != http.StatusAccepted {
		t.Fatalf("reply: %d", code)
	}
	var brandPost string
	eventually(t, "the reply delivered", func() bool {
		var tk desk.Ticket
		a.do("GET", fmt.Sprintf("/api/v1/tickets/%d", id), "", nil, &tk)
		for _, m := range tk.Messages {
			if m.Direction == desk.Outbound && m.Delivery == desk.DeliverySent {
				brandPost = m.NativeID
			}
		}
		return brandPost != ""
	})
	a.ingest(mention("e2", "ana", "Great, thanks!", map[string]any{"reply_to": brandPost, "created_at": now.Format(time.RFC3339)}))
	type kpis struct {
		Buckets    []json.RawMessage `json:"buckets"`
		Engagement struct {
			Buckets []crm.EngagementBucket `json:"buckets"`
		} `json:"engagement"`
	}
	var got kpis
	q := fmt.Sprintf("/api/v1/kpis?from=%d&to=%d&interval=1d", now.Add(-time.Hour).Unix(), now.Add(time.Hour).Unix())
	eventually(t, "one interaction", func() bool {
		if code := a.do("GET", q, "", nil, &got); code != http.StatusOK {
			t.Fatalf("kpis: %d", code)
		}
		return len(got.Engagement.Buckets) == 1 && got.Engagement.Buckets[0].Interactions == 1 && len(got.Buckets) > 0
	})
	b := got.Engagement.Buckets[0]
	if b.BrandFollowers == nil || *b.BrandFollowers != 500 || b.InteractionRate == nil || *b.InteractionRate != 1.0/500 || b.NewProspects != 1 {
		t.Errorf("engagement %+v", b)
	}
}
