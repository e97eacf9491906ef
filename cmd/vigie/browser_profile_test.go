package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie/vigie/crm"
	"github.com/vigie/vigie/desk"
)

// TestBrowserProfile: in the console, beside a Mastodon ticket, an agent
// sees the customer's profile (CRM id, consented city), Vigie's suggestion
// that a Bluesky account is the same person, links it, sees one timeline
// holding both networks' posts, then unlinks it and the timeline goes back
// to Mastodon alone.
func TestBrowserProfile(t *testing.T) {
	a := startApp(t, t.TempDir())
	now := time.Now().UTC()
	res := a.ingest(
		map[string]any{"source": "mastodon", "id": "p1", "created_at": now.Add(-30 * time.Minute).Format(time.RFC3339),
			"url":    "https://social.example/@analima/p1",
			"author": map[string]any{"id": "analima", "handle": "@analima@social.example", "name": "Ana Lima", "followers": 320},
			"text":   "My train to Lyon was cancelled twice, I want a refund", "lang": "en"},
		map[string]any{"source": "bluesky", "id": "p2", "created_at": now.Add(-10 * time.Minute).Format(time.RFC3339),
			"author": map[string]any{"id": "did:plc:analima", "handle": "analima.bsky.social", "name": "Ana Lima", "followers": 80},
			"text":   "Still waiting for that refund from the rail company", "lang": "en"},
	)
	if res.Accepted != 2 {
		t.Fatalf("ingest: %+v", res)
	}
	var m, b crm.Profile
	eventually(t, "both profiles", func() bool {
		return a.do("GET", "/api/v1/profiles/by-identity/mastodon/analima", "", nil, &m) == http.StatusOK &&
			a.do("GET", "/api/v1/profiles/by-identity/bluesky/did:plc:analima", "", nil, &b) == http.StatusOK
	})
	if code := a.do("PUT", fmt.Sprintf("/api/v1/profiles/%d/crm", m.ID), "application/json", []byte(`{"crm_id":"CUST-0042"}`), nil); code != http.StatusOK {
		t.Fatalf("set the CRM id: %d", code)
	}
	if code := a.do("PUT", fmt.Sprintf("/api/v1/profiles/%d/consent", m.ID), "application/json", []byte(`{"granted":true,"city":"Lyon","interests":["rail"],"proof":"form 7"}`), nil); code != http.StatusOK {
		t.Fatalf("record consent: %d", code)
	}
	var page desk.Page
	eventually(t, "the Mastodon ticket", func() bool {
		a.do("GET", "/api/v1/tickets?author=mastodon/analima", "", nil, &page)
		return len(page.Tickets) == 1
	})
	ticket := page.Tickets[0].ID

	br := newBrowser(t, a)
	br.login("agent")
	br.do("open the ticket", chromedp.Navigate(fmt.Sprintf("%s/#/console/%d", a.url, ticket)), chromedp.WaitVisible(chromedp.CSS("#ticket")))
	const ready = `document.querySelector('#customer-profile[data-state="ready"]')`
	// timeline lists the sources of the timeline's items, in order.
	const timeline = `[...document.querySelectorAll('#profile-timeline li')].filter(e => e.dataset.source).map(e => e.dataset.kind + ':' + e.dataset.source).sort()`
	br.waitJS("the profile with its suggestion", ready+` && document.querySelector('#customer-profile').dataset.identities === '1'
		&& document.querySelector('[data-link="bluesky/did:plc:analima"]') !== null`)
	if got := br.text("#profile-crm-id"); got != "CUST-0042" {
		t.Errorf("CRM id shown %q", got)
	}
	if got := br.text("#profile-fields"); !strings.Contains(got, "Lyon") || !strings.Contains(got, "rail") {
		t.Errorf("consented fields shown %q", got)
	}
	if got := browserEval[[]string](br, timeline); fmt.Sprint(got) != "[mention:mastodon ticket:mastodon]" {
		t.Errorf("timeline before the link %v", got)
	}

	// A click from script: the side panel scrolls under the composer, and
	// a click at the button's coordinates could land on the composer.
	br.click(`[data-link="bluesky/did:plc:analima"]`)
	br.waitJS("the merged profile", ready+` && document.querySelector('#customer-profile').dataset.identities === '2'
		&& document.querySelector('[data-identity="bluesky/did:plc:analima"]') !== null`)
	got := browserEval[[]string](br, timeline)
	if fmt.Sprint(got) != "[mention:bluesky mention:mastodon ticket:bluesky ticket:mastodon]" {
		t.Errorf("merged timeline %v", got)
	}
	if n := browserEval[int](br, `document.querySelectorAll('#profile-suggestions li').length`); n != 0 {
		t.Errorf("%d suggestions left after the link", n)
	}
	var merged crm.Profile
	a.do("GET", "/api/v1/profiles/by-identity/bluesky/did:plc:analima", "", nil, &merged)
	if merged.ID != m.ID || len(merged.Identities) != 2 || merged.Identities[1].LinkedBy != "agent-ui" {
		t.Errorf("after the link: %+v", merged)
	}
	browserEval[any](br, `document.querySelector('#profile-identities').scrollIntoView({block: 'start'})`)
	br.screenshot("console-profile.png")

	br.click(`[data-unlink="bluesky/did:plc:analima"]`)
	br.waitJS("the profile back to one identity", ready+` && document.querySelector('#customer-profile').dataset.identities === '1'
		&& document.querySelector('[data-link="bluesky/did:plc:analima"]') !== null`)
	if got := browserEval[[]string](br, timeline); fmt.Sprint(got) != "[mention:mastodon ticket:mastodon]" {
		t.Errorf("timeline after the unlink %v", got)
	}
	var back crm.Profile
	a.do("GET", "/api/v1/profiles/by-identity/bluesky/did:plc:analima", "", nil, &back)
	if back.ID == m.ID || len(back.Identities) != 1 {
		t.Errorf("after the unlink the Bluesky account is in %+v", back)
	}
}

// click clicks the element sel names, from script, once it is enabled.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.waitJS("an enabled "+sel, fmt.Sprintf("document.querySelector(%q) && !document.querySelector(%q).disabled", sel, sel))
	browserEval[any](b, fmt.Sprintf("document.querySelector(%q).click()", sel))
}
