package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener/feed/feedtest"
	"github.com/vigie/vigie/offer"
)

// The browser tests of the parts that landed after the first UI: offers,
// sources, the author's consent and the desk's SLA clocks.

const browserGatewaySecret = "browser-gateway-secret-0123456789"

// grantConsent records, through the API, that a person consents to offers.
func (a *app) grantConsent(source, user string) {
	a.t.Helper()
	body := []byte(`{"granted":true,"channel":"sms","proof":"signed form 2026-001","tags":["loyalty"]}`)
	if code := a.do("PUT", "/api/v1/consents/"+source+"/"+user, "application/json", body, nil); code != http.StatusOK {
		a.t.Fatalf("grant consent to %s/%s: %d", source, user, code)
	}
}

// offerDecisions lists the engine's decisions through the API.
func (a *app) offerDecisions() []offer.Decision {
	a.t.Helper()
	var page offer.Page
	if code := a.do("GET", "/api/v1/offers?limit=500", "", nil, &page); code != http.StatusOK {
		a.t.Fatalf("list offers: %d", code)
	}
	return page.Offers
}

func TestBrowserOffers(t *testing.T) {
	// The SMS gateway: it takes every offer but bob's, which it refuses.
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"u-bob"`)) {
			http.Error(w, "unknown phone number", http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(gateway.Close)
	a := startApp(t, t.TempDir(), func(c *serveConfig) {
		c.OfferGatewayURL = gateway.URL
		c.OfferGatewaySecret = browserGatewaySecret
	})
	for _, u := range []string{"u-ana", "u-bob", "u-eva"} {
		a.grantConsent("foursquare", u)
	}
	b := newBrowser(t, a)
	b.login("manager")
	b.do("open the offers page", chromedp.Navigate(a.url+"/#/offers"), chromedp.WaitVisible(chromedp.CSS("#fence-new")))

	// A circle: the sketch follows the form.
	b.do("fill a circle geofence",
		chromedp.Click(chromedp.CSS("#fence-new")),
		chromedp.WaitVisible(chromedp.CSS("#fence-name")),
		chromedp.SendKeys(chromedp.CSS("#fence-name"), "Gare de Lyon"),
		chromedp.SendKeys(chromedp.CSS("#fence-tags"), "paris, station"),
		chromedp.SendKeys(chromedp.CSS("#fence-lat"), "48.8443"),
		chromedp.SendKeys(chromedp.CSS("#fence-lon"), "2.3743"),
	)
	b.waitJS("the circle in the sketch", `document.querySelector('#fence-sketch circle.fence-shape') !== null`)
	b.do("save it", chromedp.Click(chromedp.CSS("#fence-save")))
	b.waitJS("the new geofence", `[...document.querySelectorAll('#fences .fence-row')].some(e => e.textContent.includes('Gare de Lyon'))`)

	// A polygon, with opening hours and an exception.
	b.do("fill a polygon geofence",
		chromedp.Click(chromedp.CSS("#fence-new")),
		chromedp.WaitVisible(chromedp.CSS("#fence-name")),
		chromedp.SendKeys(chromedp.CSS("#fence-name"), "Part-Dieu"),
		chromedp.SendKeys(chromedp.CSS("#fence-tags"), "lyon, station"),
		chromedp.Click(chromedp.CSS("#fence-polygon-mode")),
		chromedp.WaitVisible(chromedp.CSS("#fence-geojson")),
		chromedp.SendKeys(chromedp.CSS("#fence-geojson"), `{"type":"Polygon","coordinates":[[[4.8580,45.7595],[4.8620,45.7595],[4.8625,45.7612],[4.8600,45.7622],[4.8578,45.7610],[4.8580,45.7595]]]}`),
		chromedp.Click(chromedp.CSS("#fence-always")),
		chromedp.WaitVisible(chromedp.CSS("#fence-hours-mon")),
		chromedp.SendKeys(chromedp.CSS("#fence-hours-mon"), "06:00-22:00"),
		chromedp.SendKeys(chromedp.CSS("#fence-hours-sat"), "08:00-12:00, 14:00-20:00"),
		chromedp.SendKeys(chromedp.CSS("#fence-exceptions"), "2026-12-25 closed # Christmas"),
	)
	b.waitJS("the polygon in the sketch", `document.querySelector('#fence-sketch path.fence-shape') !== null`)
	b.do("save it", chromedp.Click(chromedp.CSS("#fence-save")))
	b.waitJS("the polygon listed", `[...document.querySelectorAll('#fences .fence-row')].some(e => e.textContent.includes('Part-Dieu') && e.querySelector('path.fence-shape'))`)

	var fences struct {
		Fences []offer.Fence `json:"fences"`
	}
	a.do("GET", "/api/v1/geofences", "", nil, &fences)
	if len(fences.Fences) != 2 {
		t.Fatalf("%d geofences, want 2: %+v", len(fences.Fences), fences.Fences)
	}
	gare, dieu := fences.Fences[0], fences.Fences[1]
	if gare.Name != "Gare de Lyon" || gare.Geometry.Type != "Point" || gare.RadiusM != 150 || gare.Hours != nil || len(gare.Tags) != 2 {
		t.Errorf("circle saved as %+v", gare)
	}
	if dieu.Geometry.Type != "Polygon" || len(dieu.Hours["sat"]) != 2 || fmt.Sprint(dieu.Hours["mon"]) != "[06:00-22:00]" || len(dieu.Exceptions) != 1 || !dieu.Exceptions[0].Closed || dieu.Exceptions[0].Note != "Christmas" {
		t.Errorf("polygon saved as %+v", dieu)
	}

	// Edit the circle: a wider radius.
	b.do("edit the circle",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-fence="%d"] [data-edit]`, gare.ID))),
		chromedp.WaitVisible(chromedp.CSS("#fence-radius")),
	)
	b.waitJS("its values in the form", `document.querySelector('#fence-name').value === 'Gare de Lyon' && document.querySelector('#fence-lat').value === '48.8443'`)
	b.do("widen it",
		chromedp.SetValue(chromedp.CSS("#fence-radius"), ""),
		chromedp.SendKeys(chromedp.CSS("#fence-radius"), "300"),
		chromedp.Click(chromedp.CSS("#fence-save")),
	)
	b.waitJS("the wider circle", fmt.Sprintf(`document.querySelector('[data-fence="%d"]')?.textContent.includes('300 m')`, gare.ID))
	a.do("GET", "/api/v1/geofences", "", nil, &fences)
	if len(fences.Fences) != 2 || fences.Fences[0].RadiusM != 300 || len(fences.Fences[0].Tags) != 2 {
		t.Fatalf("after the edit: %+v", fences.Fences)
	}

	// A campaign on the first geofence.
	b.do("fill a campaign",
		chromedp.Click(chromedp.CSS("#campaign-new")),
		chromedp.WaitVisible(chromedp.CSS("#campaign-name")),
		chromedp.SendKeys(chromedp.CSS("#campaign-name"), "Welcome coffee"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-fence-pick="%d"]`, gare.ID))),
		chromedp.SendKeys(chromedp.CSS("#campaign-template"), "Hi {{name}}, welcome to {{store}}: a free coffee with {{code}}"),
		chromedp.SendKeys(chromedp.CSS("#campaign-code"), "COFFEE"),
		chromedp.Click(chromedp.CSS("#campaign-save")),
	)
	b.waitJS("the campaign listed", `[...document.querySelectorAll('#campaigns tbody tr')].some(e => e.textContent.includes('Welcome coffee') && e.textContent.includes('Gare de Lyon'))`)
	var campaigns struct {
		Campaigns []offer.Campaign `json:"campaigns"`
	}
	a.do("GET", "/api/v1/campaigns", "", nil, &campaigns)
	if len(campaigns.Campaigns) != 1 || len(campaigns.Campaigns[0].Fences) != 1 || campaigns.Campaigns[0].Fences[0] != gare.ID || campaigns.Campaigns[0].Offer.Code != "COFFEE" {
		t.Fatalf("campaigns saved: %+v", campaigns.Campaigns)
	}

	// People check in at the station: three with consent, one without.
	var checkins []map[string]any
	for i, u := range []string{"u-ana", "u-bob", "u-eva", "u-max"} {
		checkins = append(checkins, map[string]any{
			"source": "foursquare", "id": "c" + strconv.Itoa(i), "created_at": time.Now().UTC().Format(time.RFC3339),
			"user": map[string]any{"id": u, "handle": "@" + u[2:]}, "lat": 48.8443, "lon": 2.3744,
		})
	}
	body, _ := json.Marshal(checkins)
	if code := a.do("POST", "/api/v1/checkins", "application/json", body, nil); code != http.StatusAccepted {
		t.Fatalf("check-ins: %d", code)
	}
	var sent offer.Decision
	waitUntil(t, "four decisions, ana's delivered and bob's given up", func() bool {
		ds := a.offerDecisions()
		n := 0
		for _, d := range ds {
			if d.UserID == "u-ana" && d.Delivery == offer.DeliveryDelivered {
				sent = d
				n++
			}
			if d.UserID == "u-bob" && d.Delivery == offer.DeliveryDead {
				n++
			}
		}
		return len(ds) == 4 && n == 2
	})
	// Ana uses her coffee: the gateway calls back.
	redeem := []byte(fmt.Sprintf(`{"offer_id":%d,"reference":"till-7"}`, sent.ID))
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/offers/%d/redeemed", a.url, sent.ID), bytes.NewReader(redeem))
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(offer.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(offer.HeaderSignature, offer.Sign([]byte(browserGatewaySecret), now, redeem))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("redemption callback: %d", resp.StatusCode)
	}

	// The page again: the tiles count them, the filters narrow the list.
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#offer-tiles")))
	b.waitJS("the tiles", `document.querySelector('[data-kpi=sent]').textContent === '3' && document.querySelector('[data-kpi=redeemed]').textContent.startsWith('1')`)
	b.waitJS("the skipped reason", `document.querySelector('#offer-tiles .reason-bars')?.textContent.includes('No consent')`)
	b.waitJS("four decisions", `document.querySelectorAll('#decision-table tbody tr').length === 4`)
	b.waitJS("only the skipped", jsSelect("#offers-status", "skipped"))
	b.waitJS("max's decision alone", `(() => { const r = document.querySelectorAll('#decision-table tbody tr'); return r.length === 1 && r[0].textContent.includes('No consent') && r[0].textContent.includes('@max'); })()`)
	b.waitJS("all of them", jsSelect("#offers-status", ""))
	b.waitJS("only the failed deliveries", jsSelect("#offers-delivery", "dead"))
	b.waitJS("bob's decision alone", `(() => { const r = document.querySelectorAll('#decision-table tbody tr'); return r.length === 1 && r[0].textContent.includes('@bob') && r[0].querySelector('button') !== null; })()`)
	b.waitJS("every delivery", jsSelect("#offers-delivery", ""))
	b.waitJS("four decisions again", `document.querySelectorAll('#decision-table tbody tr').length === 4`)
	b.do("top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.screenshot("offers.png")

	// Delete the polygon (confirming the question).
	browserEval[bool](b, `(window.confirm = () => true, true)`)
	b.do("delete the polygon", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-fence="%d"] [data-delete]`, dieu.ID))))
	b.waitJS("the polygon gone", `document.querySelectorAll('#fences .fence-row').length === 1`)
	a.do("GET", "/api/v1/geofences", "", nil, &fences)
	if len(fences.Fences) != 1 || fences.Fences[0].ID != gare.ID {
		t.Fatalf("after deleting the polygon: %+v", fences.Fences)
	}
}

func TestBrowserSources(t *testing.T) {
	press := feedtest.NewServer(t, feedtest.RSS,
		feedtest.Entry{ID: "urn:1", Title: "Rail strike on Thursday", HTML: "<p>Trains cancelled</p>", Link: "https://news.example/1", Published: time.Now().Add(-time.Hour)},
		feedtest.Entry{ID: "urn:2", Title: "New night train to Berlin", HTML: "<p>From December</p>", Link: "https://news.example/2", Published: time.Now().Add(-30 * time.Minute)})
	// A blog whose server is down.
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream down", http.StatusBadGateway)
	}))
	t.Cleanup(broken.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "sources.yaml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf(`
sources:
  - type: rss
    name: press
    settings: {url: %q, interval: 1s}
  - type: rss
    name: blog
    settings: {url: %q, interval: 1s}
`, press.URL, broken.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, filepath.Join(dir, "data"), func(c *serveConfig) { c.Sources = path })
	b := newBrowser(t, a)
	b.login("admin")
	b.do("open the admin page", chromedp.Navigate(a.url+"/#/admin"), chromedp.WaitVisible(chromedp.CSS("#sources-table")))
	b.waitJS("press connected with its items", `(() => { const r = document.querySelector('#admin-sources [data-source=press]'); return r && r.dataset.connected === 'true' && r.textContent.includes('Connected'); })()`)
	// The status refreshes by itself: the broken feed's error shows up.
	b.waitJS("the blog's error", `(() => { const r = document.querySelector('#admin-sources [data-source=blog]'); return r?.dataset.connected === 'false' && r.querySelector('.error-text')?.textContent.includes('502'); })()`)

	b.do("disable press", chromedp.Click(chromedp.CSS(`[data-toggle=press]`)))
	b.waitJS("press disabled", `document.querySelector('#admin-sources [data-source=press]').dataset.enabled === 'false'`)
	var statuses []struct {
		Name    string `json:"name"`
		Enabled bool   `json:"enabled"`
	}
	a.do("GET", "/api/v1/sources", "", nil, &statuses)
	if len(statuses) != 2 || statuses[0].Name != "press" || statuses[0].Enabled {
		t.Fatalf("sources after disabling press: %+v", statuses)
	}
	b.do("enable press", chromedp.Click(chromedp.CSS(`[data-toggle=press]`)))
	b.waitJS("press enabled", `document.querySelector('#admin-sources [data-source=press]').dataset.enabled === 'true'`)
	b.waitJS("press connected again", `document.querySelector('#admin-sources [data-source=press]').dataset.connected === 'true'`)
	b.do("show the sources", chromedp.Evaluate[chromedp.Void](`document.querySelector('#admin-sources').scrollIntoView({block: 'start'})`))
	b.screenshot("sources.png")
}

// TestBrowserAuthorAndSLA: the console shows the author's consent recorded
// through the API and their other tickets, and the desk's SLA clocks, with
// a chip that lists the missed ones.
func TestBrowserAuthorAndSLA(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "desk.yaml")
	// Short targets, so that a clock is missed within the test.
	if err := os.WriteFile(cfg, []byte(`
sla:
  default:
    warning: 0.5
    targets: {low: {first_response: 3s, resolution: 1h}, normal: {first_response: 3s, resolution: 1h}, high: {first_response: 3s, resolution: 1h}, urgent: {first_response: 3s, resolution: 1h}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, filepath.Join(dir, "data"), func(c *serveConfig) { c.DeskConfig = cfg })
	seedDesk(a)
	a.waitTickets(6)
	// Léa writes again in another conversation: a second ticket of hers.
	lea := browserMention("s7", "lea", "Léa Martin", "Et toujours aucune réponse pour mon remboursement.", "fr", 0)
	lea["conversation"] = "other-thread"
	a.ingest(lea)
	a.grantConsent("mastodon", "lea")

	b := newBrowser(t, a)
	b.login("agent")
	b.do("see the console", chromedp.WaitVisible(chromedp.CSS("#ticket-list li")))
	b.waitJS("Léa's ticket", jsClickText("#ticket-list li a", "Léa Martin"))
	b.waitJS("Léa's consent", `document.querySelector('#author-offers [data-consent=granted]')?.textContent === 'Consents to offers'`)
	b.waitJS("her other ticket", `document.querySelectorAll('.ticket-side .history li').length >= 1`)
	b.do("the SLA clock", chromedp.WaitVisible(chromedp.CSS("#sla[data-sla]")))

	// Every first response is due within seconds: the clocks go missed, live.
	waitUntil(t, "every ticket's SLA missed", func() bool {
		var page desk.Page
		a.do("GET", "/api/v1/tickets?sla=missed&limit=50", "", nil, &page)
		return len(page.Tickets) >= 7
	})
	b.waitJS("the open ticket's clock missed", `document.querySelector('#sla')?.dataset.sla === 'missed' && document.querySelector('#sla').textContent.includes('late')`)
	b.do("list the missed ones", chromedp.Click(chromedp.CSS(`[data-sla-chip=missed]`)))
	b.waitJS("the missed tickets, marked", `(() => { const r = document.querySelectorAll('#ticket-list li'); return r.length >= 7 && [...r].every(e => e.querySelector('.badge.sla-missed')); })()`)
	b.do("none at risk", chromedp.Click(chromedp.CSS(`[data-sla-chip=at_risk]`)))
	b.waitJS("an empty list", `document.querySelectorAll('#ticket-list li').length === 0`)
	b.do("back to missed", chromedp.Click(chromedp.CSS(`[data-sla-chip=missed]`)))
	b.waitJS("the missed tickets again", `document.querySelectorAll('#ticket-list li').length >= 7`)
	b.waitJS("Léa's ticket still open", `document.querySelector('#author-offers [data-consent=granted]') !== null`)
	b.screenshot("console-sla.png")
}
