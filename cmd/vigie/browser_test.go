package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie/vigie/desk"
)

// The browser tests drive the embedded UI in a real headless Chromium
// against the whole app running in this process, and save a screenshot of
// each page under docs/screenshots.

// jsClickText clicks the first element matching sel whose text contains s.
func jsClickText(sel, s string) string {
	return fmt.Sprintf(`(() => { const el = [...document.querySelectorAll(%q)].find(e => e.textContent.includes(%q)); if (!el) return false; el.click(); return true; })()`, sel, s)
}

// jsSelect chooses value in the select sel as a person would.
func jsSelect(sel, value string) string {
	return fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value)
}

func TestBrowserConsole(t *testing.T) {
	a := startApp(t, t.TempDir())
	seedDesk(a)
	a.waitTickets(6)
	macro := []byte(`{"title":"Bag found","lang":"en","text":"Hi {{author.name}}, good news: your bag was found and is on its way to you.","tags":["bag-found"]}`)
	if code := a.do("PUT", "/api/v1/macros/bag-found", "application/json", macro, nil); code != 200 {
		t.Fatalf("save macro: %d", code)
	}
	b := newBrowser(t, a)
	b.login("agent")

	b.do("see the console", chromedp.WaitVisible(chromedp.CSS("#ticket-list")))
	b.waitJS("the seeded tickets", `document.querySelectorAll('#ticket-list li').length >= 6`)
	b.waitJS("the queues with their counts", `document.querySelectorAll('.queues [data-queue]').length > 0`)

	// A ticket posted through the API appears without a reload.
	browserEval[bool](b, `window.__sameDocument = true`)
	a.ingest(browserMention("live-1", "nora", "Nora Blanc", "My luggage was lost at Paris Gare de Lyon and nobody answers the phone!", "en", 0))
	b.waitJS("the new ticket in the list", `[...document.querySelectorAll('#ticket-list .author')].some(e => e.textContent.includes('Nora Blanc'))`)
	if !browserEval[bool](b, `window.__sameDocument === true`) {
		t.Fatal("the page reloaded to show the new ticket")
	}
	b.screenshot("console.png")

	// Open it: the conversation, the routing trace and the SLA clock show.
	if !browserEval[bool](b, jsClickText("#ticket-list li a", "Nora Blanc")) {
		t.Fatal("no row for the new ticket")
	}
	b.waitJS("the conversation", `document.querySelector('#conversation .msg.in')?.textContent.includes('luggage')`)
	b.do("see the routing trace and SLA", chromedp.WaitVisible(chromedp.CSS("#routing .trace li")), chromedp.WaitVisible(chromedp.CSS("#sla")))
	id := browserEval[float64](b, `Number(document.querySelector('#ticket').dataset.ticket)`)

	// Someone else starts typing on it: the agent sees who.
	other := a.dial("")
	if err := other.WriteJSON(map[string]any{"presence": map[string]any{"ticket_id": int64(id), "state": "typing"}}); err != nil {
		t.Fatal(err)
	}
	b.waitJS("the other viewer", `document.querySelector('#presence .viewer.typing')?.textContent.includes('admin-token')`)
	other.Close()
	b.waitJS("the other viewer gone", `document.querySelector('#presence .viewer') === null`)

	// Claim it with the keyboard.
	b.do("press c", chromedp.KeyEvent("c"))
	b.waitJS("the ticket claimed", `document.querySelector('#ticket[data-status=assigned]') !== null`)

	// An internal note.
	b.do("write a note",
		chromedp.Click(chromedp.CSS("#mode-note")),
		chromedp.SendKeys(chromedp.CSS("#composer-text"), "Lost property office called, bag found in Dijon."),
		chromedp.Click(chromedp.CSS("#send")),
	)
	b.waitJS("the note", `document.querySelector('#conversation .msg.note')?.textContent.includes('Dijon')`)

	// A supervisor hands the ticket to bob meanwhile: the page follows.
	if code := a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/assign", int64(id)), "application/json", []byte(`{"agent":"bob"}`), nil); code != 200 {
		t.Fatalf("assign to bob: %d", code)
	}
	b.waitJS("bob's ticket", `document.querySelector('#claim')?.textContent.includes('bob')`)

	// Reply with a macro: its text is filled in for Nora; bob owns the
	// ticket, so the reply asks for confirmation.
	b.do("pick the macro", chromedp.Click(chromedp.CSS("#mode-reply")))
	b.waitJS("the macros", `[...document.querySelectorAll('#canned option')].some(o => o.value === 'm:bag-found')`)
	b.waitJS("choose it", jsSelect("#canned", "m:bag-found"))
	b.waitJS("the macro's text", `document.querySelector('#composer-text').value.includes('Hi Nora Blanc')`)
	b.do("send", chromedp.Click(chromedp.CSS("#send")))
	b.do("confirm", chromedp.WaitVisible(chromedp.CSS("#confirm-reply")), chromedp.Click(chromedp.CSS("#confirm-send")))
	b.waitJS("the reply delivered", `document.querySelector('#conversation .msg.out .delivery.d-sent') !== null`)
	b.waitJS("the ticket pending", `document.querySelector('#ticket[data-status=pending]') !== null`)
	b.screenshot("ticket.png")

	b.do("resolve", chromedp.Click(chromedp.CSS("#resolve")))
	b.waitJS("the ticket resolved", `document.querySelector('#ticket[data-status=resolved]') !== null`)

	var tk desk.Ticket
	a.do("GET", fmt.Sprintf("/api/v1/tickets/%d", int64(id)), "", nil, &tk)
	if tk.Status != desk.StatusResolved || tk.FirstResponseAt == nil {
		t.Fatalf("ticket %d: status %s, first response %v; want resolved and answered", tk.ID, tk.Status, tk.FirstResponseAt)
	}
	var dirs []string
	for _, m := range tk.Messages {
		dirs = append(dirs, string(m.Direction))
	}
	if got := strings.Join(dirs, ","); got != "in,note,out" {
		t.Errorf("messages %s, want in,note,out", got)
	}
	if !slices.Contains(tk.Tags, "bag-found") || !strings.HasPrefix(tk.Messages[2].Text, "Hi Nora Blanc, good news") || tk.Messages[2].Agent != "agent-ui" {
		t.Errorf("the macro's reply: tags %v, message %+v", tk.Tags, tk.Messages[2])
	}
}

// An agent ticks tickets in the list (and one with x from the open
// ticket), resolves them in one action, and sees what it did; the
// resolved tickets leave the open list, the others stay.
func TestBrowserBulkResolve(t *testing.T) {
	a := startApp(t, t.TempDir())
	seedDesk(a)
	a.waitTickets(6)
	var page struct {
		Tickets []desk.Ticket `json:"tickets"`
	}
	a.do("GET", "/api/v1/tickets?limit=500", "", nil, &page)
	byAuthor := map[string]int64{}
	for _, tk := range page.Tickets {
		byAuthor[tk.Author.Name] = tk.ID
	}
	picks := []int64{byAuthor["Raj Patel"], byAuthor["Sam Lee"]}
	viaKey, kept := byAuthor["Tom Baker"], byAuthor["Léa Martin"]
	if picks[0] == 0 || picks[1] == 0 || viaKey == 0 || kept == 0 {
		t.Fatalf("seeded tickets by author: %v", byAuthor)
	}

	b := newBrowser(t, a)
	b.login("agent")
	b.waitJS("the seeded tickets", `document.querySelectorAll('#ticket-list li').length >= 6`)
	for _, id := range picks {
		b.do(fmt.Sprintf("tick ticket %d", id), chromedp.Click(chromedp.CSS(fmt.Sprintf(`#ticket-list input[data-pick="%d"]`, id))))
	}
	b.waitJS("two selected", `document.querySelector('#picked-count')?.textContent.includes('2')`)
	// Open a third and pick it with the keyboard.
	b.do("open Tom's ticket", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#tk-%d a`, viaKey))))
	b.waitJS("Tom's ticket open", fmt.Sprintf(`document.querySelector('#ticket')?.dataset.ticket === '%d'`, viaKey))
	b.do("press x", chromedp.KeyEvent("x"))
	b.waitJS("three selected", fmt.Sprintf(`document.querySelector('#picked-count')?.textContent.includes('3') && document.querySelector('#ticket-list input[data-pick="%d"]').checked`, viaKey))
	b.screenshot("console-bulk.png")

	b.do("resolve the selection", chromedp.Click(chromedp.CSS("#resolve-picked")))
	b.waitJS("the outcome", `document.querySelector('#bulk-outcome')?.textContent.includes('3 tickets resolved')`)
	for _, id := range append(picks, viaKey) {
		b.waitJS(fmt.Sprintf("ticket %d gone from the open list", id), fmt.Sprintf(`document.querySelector('#tk-%d') === null`, id))
	}
	b.waitJS("the selection empty", `document.querySelector('#picked-count') === null`)
	if !browserEval[bool](b, fmt.Sprintf(`document.querySelector('#tk-%d') !== null`, kept)) {
		t.Error("a ticket nobody ticked left the open list")
	}
	for _, id := range append(picks, viaKey, kept) {
		var tk desk.Ticket
		a.do("GET", fmt.Sprintf("/api/v1/tickets/%d", id), "", nil, &tk)
		if want := id != kept; (tk.Status == desk.StatusResolved) != want {
			t.Errorf("ticket %d (%s): %s, resolved %v expected", id, tk.Author.Name, tk.Status, want)
		}
	}
}

func TestBrowserWatchAndSearch(t *testing.T) {
	a := startApp(t, t.TempDir())
	seedDesk(a)
	a.waitTickets(6)
	b := newBrowser(t, a)
	b.login("monitor")

	b.do("open the watch room", chromedp.Navigate(a.url+"/#/watch"), chromedp.WaitVisible(chromedp.CSS("#sparkline")))
	a.ingest(
		browserMention("w-1", "max", "Max Durand", "Encore une panne de climatisation dans le TGV, c'est insupportable", "fr", 0),
		browserMention("w-2", "amy", "Amy Chen", "Lovely staff at the Nice station today, thank you", "en", 0),
	)
	b.waitJS("the live mentions", `['climatisation', 'Lovely staff'].every(s => [...document.querySelectorAll('#mentions li')].some(e => e.textContent.includes(s)))`)
	b.waitJS("select negative", jsSelect("#watch-sentiment", "negative"))
	b.waitJS("only negative mentions",
		`(() => { const li = [...document.querySelectorAll('#mentions li')]; return li.length > 0 && li.every(e => e.classList.contains('s-negative')); })()`)
	b.waitJS("all mentions again", jsSelect("#watch-sentiment", ""))
	// The alerts panel when the server has alerts, one honest line otherwise.
	if a.hasEndpoint("/api/v1/alerts?status=open") {
		b.do("the alerts panel", chromedp.WaitVisible(chromedp.CSS("#alerts")))
	} else {
		b.do("no alerts yet", chromedp.WaitVisible(chromedp.CSS("#alerts-missing")))
	}
	b.screenshot("watch.png")

	requireEndpoint(t, a, "/api/v1/search?q=train", "the search page")
	// The index follows the desk's events: wait for it to catch up.
	deadline := time.Now().Add(browserTimeout)
	for {
		var res struct {
			Total int `json:"total"`
		}
		a.do("GET", "/api/v1/search?q=train", "", nil, &res)
		if res.Total > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the search index never found the seeded mentions")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.do("search", chromedp.Navigate(a.url+"/#/search?q="+url.QueryEscape("train")), chromedp.WaitVisible(chromedp.CSS("#hits li")))
	before := b.text("#search-total")
	b.waitJS("the language facet", `document.querySelector('[data-facet=lang] .facet-value[data-value=fr]') !== null`)
	b.do("keep French", chromedp.Click(chromedp.CSS(`[data-facet=lang] .facet-value[data-value=fr]`)))
	b.waitJS("the facet in the query", `document.querySelector('#search-q').value.includes('+lang:fr')`)
	b.waitJS("the filtered results", fmt.Sprintf(`document.querySelector('#search-total')?.textContent !== %q && document.querySelectorAll('#hits li').length > 0`, before))
	b.waitJS("results link to tickets", `document.querySelector('#hits .ticket-link') !== null`)
	b.screenshot("search.png")
}

func TestBrowserDashboard(t *testing.T) {
	a := startApp(t, t.TempDir())
	now := time.Now().UTC()
	kpis := fmt.Sprintf("/api/v1/kpis?from=%s&to=%s&interval=1h", now.Add(-24*time.Hour).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	requireEndpoint(t, a, kpis, "the dashboard")
	seedDesk(a)
	a.waitTickets(6)
	// Answer some tickets so that response times exist.
	var page desk.Page
	a.do("GET", "/api/v1/tickets?limit=10", "", nil, &page)
	for i, tk := range page.Tickets {
		if i%2 == 0 {
			a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/reply", tk.ID), "application/json", []byte(`{"text":"Thanks, we are on it."}`), nil)
		}
	}
	// bob, an agent with skills and a capacity, holds one ticket.
	if a.hasEndpoint("/api/v1/agents") {
		if code := a.do("PUT", "/api/v1/agents/bob", "application/json", []byte(`{"skills":{"refunds":2,"complaints":1},"capacity":5}`), nil); code != http.StatusOK {
			t.Fatalf("put agent bob: %d", code)
		}
		if code := a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/assign", page.Tickets[1].ID), "application/json", []byte(`{"agent":"bob"}`), nil); code != http.StatusOK {
			t.Fatalf("assign to bob: %d", code)
		}
	}
	b := newBrowser(t, a)
	b.login("manager")
	b.do("open the dashboard", chromedp.Navigate(a.url+"/#/dashboard"), chromedp.WaitVisible(chromedp.CSS("#chart-volume canvas")))
	b.waitJS("charts with data", `Number(document.querySelector('#chart-volume').dataset.series) > 0`)
	b.waitJS("the mentions tile", `[...document.querySelectorAll('#kpi-tiles .tile-value')][0].textContent !== '0'`)
	// The CRM's engagement KPIs: the six authors are new prospects.
	b.waitJS("the new prospects tile", `[...document.querySelectorAll('#kpi-tiles .tile')].some(e => e.querySelector('.tile-label').textContent === 'New prospects' && e.querySelector('.tile-value').textContent === '6')`)
	b.do("the CSAT and engagement charts", chromedp.WaitVisible(chromedp.CSS("#chart-csat canvas")), chromedp.WaitVisible(chromedp.CSS("#chart-engagement canvas")))
	b.screenshot("dashboard.png")
	// The agents' workload, from the assignment engine when the server has it.
	if a.hasEndpoint("/api/v1/agents") {
		b.waitJS("bob's load and skills", `(() => { const r = document.querySelector('#workload[data-source=agents] [data-agent=bob]'); return r && r.textContent.includes('1 / 5') && r.textContent.includes('refunds 2'); })()`)
	} else {
		b.do("the workload from the tickets", chromedp.WaitVisible(chromedp.CSS("#workload")))
	}
	// Click the last hour of the volume chart: its tickets are listed.
	rect := browserEval[[]float64](b, `(() => { const r = document.querySelector('#chart-volume .u-over').getBoundingClientRect(); return [r.right - 3, r.top + r.height / 2]; })()`)
	b.do("pick the last hour",
		chromedp.MouseEvent(chromedp.MouseMoved, rect[0], rect[1]),
		chromedp.MouseClickXY(rect[0], rect[1]),
	)
	b.waitJS("the tickets behind the point", `document.querySelectorAll('#drill .drill-table a').length === 6`)
}

func TestBrowserAdmin(t *testing.T) {
	a := startApp(t, t.TempDir())
	seedDesk(a)
	a.waitTickets(6)
	// Save the default rules as version 1, so that there is a version to edit.
	yaml, err := os.ReadFile(filepath.Join("..", "..", "router", "default_rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"yaml": string(yaml), "comment": "the defaults"})
	if code := a.do("PUT", "/api/v1/rules", "application/json", body, nil); code != 200 {
		t.Fatalf("save rules: %d", code)
	}
	b := newBrowser(t, a)
	b.login("admin")
	b.do("open the admin page", chromedp.Navigate(a.url+"/#/admin"), chromedp.WaitVisible(chromedp.CSS("#admin-queues table")))
	b.waitJS("the queues", `document.querySelectorAll('#admin-queues tbody tr').length > 0`)

	// Create a user, then disable it.
	b.do("create a user",
		chromedp.WaitVisible(chromedp.CSS("#users table")),
		chromedp.SendKeys(chromedp.CSS("#new-user"), "nadia"),
		chromedp.SendKeys(chromedp.CSS("#new-password"), "a-long-enough-password"),
	)
	b.waitJS("pick the role", jsSelect("#new-role", "monitor"))
	b.do("submit", chromedp.Click(chromedp.CSS(`#users form button[type=submit]`)))
	b.waitJS("the new user", `document.querySelector('#users [data-user=nadia]') !== null`)
	b.do("disable nadia", chromedp.Click(chromedp.CSS(`#users [data-user=nadia] button`)))
	b.waitJS("nadia disabled", `document.querySelector('#users [data-user=nadia] .badge.off') !== null`)
	var users struct {
		Users []struct {
			Name     string `json:"name"`
			Role     string `json:"role"`
			Disabled bool   `json:"disabled"`
		} `json:"users"`
	}
	a.do("GET", "/api/v1/users", "", nil, &users)
	found := false
	for _, u := range users.Users {
		if u.Name == "nadia" {
			found = true
			if u.Role != "monitor" || !u.Disabled {
				t.Errorf("nadia: %+v, want a disabled monitor", u)
			}
		}
	}
	if !found {
		t.Error("nadia was not created")
	}
	// The audit log shows what was just done, filtered by action.
	b.do("filter the audit log", chromedp.SendKeys(chromedp.CSS("#audit-action"), "user."), chromedp.Click(chromedp.CSS(`#admin-audit form button[type=submit]`)))
	b.waitJS("nadia's changes in the audit log", `[...document.querySelectorAll('#audit-table tbody tr')].some((r) => r.dataset.action === 'user.updated' && r.textContent.includes('user:nadia'))
		&& [...document.querySelectorAll('#audit-table tbody tr')].every((r) => r.dataset.action.startsWith('user.'))`)

	// The rules in force: validate and dry-run them.
	b.waitJS("the rules", `document.querySelector('#rules-yaml').value.includes('rules')`)
	b.do("validate", chromedp.Click(chromedp.CSS("#rules-validate")))
	b.waitJS("valid", `document.querySelector('#admin-rules .ok')?.textContent.length > 0`)
	b.do("dry run", chromedp.Click(chromedp.CSS("#rules-dry")))
	b.waitJS("the dry run", `document.querySelector('#dry-run table') !== null`)
	b.do("top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.screenshot("admin.png")
}

func TestBrowserFrench(t *testing.T) {
	a := startApp(t, t.TempDir())
	seedDesk(a)
	a.waitTickets(6)
	b := newBrowser(t, a)
	b.login("agent")
	b.do("see the console", chromedp.WaitVisible(chromedp.CSS("#ticket-list li")))
	if got := b.text(`.tabs [data-view=open]`); got != "Open" {
		t.Fatalf("open tab says %q in English", got)
	}
	b.waitJS("switch to French", jsSelect("#lang", "fr"))
	b.waitJS("the French interface", `document.querySelector('.tabs [data-view=open]').textContent === 'Ouverts' && document.documentElement.lang === 'fr'`)
	// The choice is remembered.
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#ticket-list li")))
	b.waitJS("still French", `document.querySelector('.tabs [data-view=open]').textContent === 'Ouverts'`)
	if !browserEval[bool](b, jsClickText("#ticket-list li a", "Léa Martin")) {
		t.Fatal("no row for Léa's ticket")
	}
	b.waitJS("the ticket in French", `document.querySelector('#routing h3')?.textContent === 'Pourquoi ici ?'`)
	// k moves up the list (newest first): from Léa's ticket to Tom's.
	b.do("press k", chromedp.KeyEvent("k"))
	b.waitJS("the previous ticket", `document.querySelector('#ticket h2')?.textContent.includes('Tom Baker')`)
	b.do("press j", chromedp.KeyEvent("j"))
	b.waitJS("back to Léa", `document.querySelector('#ticket h2')?.textContent.includes('Léa Martin')`)
	b.screenshot("console-fr.png")

	// Log out: the login form again, and the session is gone.
	b.do("log out", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login-submit")))
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#login-submit")))
	if got := b.text("#login-submit"); got != "Se connecter" {
		t.Errorf("login button says %q after logout, want it in French", got)
	}
}

// firstPaintBudget is the console's promise: the first page of tickets on
// screen within a second of navigation, on localhost, whatever the backlog.
const firstPaintBudget = time.Second

func TestBrowserConsoleFirstPaint10k(t *testing.T) {
	// A speed measurement (first paint under 1 s with 10,000 open tickets),
	// not a correctness test: on a shared machine under make test it says
	// more about the neighbours than about Vigie. Run it on its own.
	if os.Getenv("VIGIE_BROWSER_10K") == "" {
		t.Skip("a measurement: run with VIGIE_BROWSER_10K=1 go test -run TestBrowserConsoleFirstPaint10k -v ./cmd/vigie/")
	}
	a := startApp(t, t.TempDir())
	const total, batch = 10_000, 1000
	start := time.Now()
	for i := 0; i < total; i += batch {
		ms := make([]map[string]any, batch)
		for j := range ms {
			n := i + j
			ms[j] = browserMention(fmt.Sprintf("bulk-%d", n), fmt.Sprintf("user%d", n), fmt.Sprintf("User %d", n),
				fmt.Sprintf("My train %d was late again, I want a refund", n), "en", time.Duration(total-n)*time.Second)
		}
		if res := a.ingest(ms...); res.Accepted != batch {
			t.Fatalf("ingest: %+v", res)
		}
	}
	a.waitTickets(500) // the listing is capped at 500; wait for the rest by queue counts
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var qs []desk.QueueStat
		a.do("GET", "/api/v1/queues", "", nil, &qs)
		open := 0
		for _, q := range qs {
			open += q.Open
		}
		if open >= total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d open tickets after 2 minutes, want %d", open, total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d open tickets ready in %s", total, time.Since(start).Round(time.Millisecond))

	b := newBrowser(t, a)
	b.login("agent")
	b.do("see the console", chromedp.WaitVisible(chromedp.CSS("#ticket-list li")))
	// Measure a cold navigation: reload, and read when the first page of
	// tickets was painted, from the navigation's start.
	var best float64
	for i := 0; i < 3; i++ {
		b.do("reload", chromedp.Reload())
		b.waitJS("the painted mark", `performance.getEntriesByName('vigie:tickets').length > 0`)
		ms := browserEval[float64](b, `performance.getEntriesByName('vigie:tickets')[0].startTime`)
		rows := browserEval[float64](b, `document.querySelectorAll('#ticket-list li').length`)
		t.Logf("first paint of %v tickets (of %d open): %.0f ms", rows, total, ms)
		if rows < 50 {
			t.Fatalf("%v rows painted, want a page of 50", rows)
		}
		if i == 0 || ms < best {
			best = ms
		}
	}
	if best > float64(firstPaintBudget.Milliseconds()) {
		t.Errorf("first paint took %.0f ms, budget %s", best, firstPaintBudget)
	}
}

// The UI's catch-all routes never shadow the API or the operations
// endpoints.
func TestUIRoutes(t *testing.T) {
	a := startApp(t, t.TempDir())
	tests := []struct {
		path        string
		code        int
		contentType string
	}{
		{"/", 200, "text/html; charset=utf-8"},
		{"/assets/js/main.js", 200, "text/javascript; charset=utf-8"},
		{"/healthz", 200, "text/plain; charset=UTF-8"},
		{"/nowhere", 404, ""},
		{"/api/v1/nowhere", 401, "application/json"},
		{"/api/v1/tickets", 401, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, err := http.Get(a.url + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Errorf("GET %s: %d, want %d", tt.path, resp.StatusCode, tt.code)
			}
			if ct := resp.Header.Get("Content-Type"); tt.contentType != "" && !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("GET %s: Content-Type %q, want %q", tt.path, ct, tt.contentType)
			}
		})
	}
}
