package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium; deploy/ci/install-chromium.sh installs
// it. VIGIE_CHROMIUM overrides it.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds each wait in the browser tests: long enough for a
// loaded 2-core machine, short enough to fail a stuck test quickly.
const browserTimeout = 20 * time.Second

// browser is one headless Chromium with one tab, on a fresh profile.
type browser struct {
	t   testing.TB
	app *app
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

// newBrowser starts Chromium for a. Without Chromium the test is skipped,
// except in CI (CI=true), where it fails: CI must run the browser tests.
func newBrowser(t testing.TB, a *app) *browser {
	t.Helper()
	path := chromiumPath
	if p := os.Getenv("VIGIE_CHROMIUM"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		msg := fmt.Sprintf("browser tests need Chromium at %s (run deploy/ci/install-chromium.sh, or set VIGIE_CHROMIUM): %v", path, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, app: a, ctx: ctx}
	// The first action starts the browser; it must not run under a timeout.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			// Failed requests are the API's business (a 401 before login is
			// expected); exceptions and console.error are bugs of the page.
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source == "") {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errors {
			t.Errorf("page error: %s", e)
		}
	})
	return b
}

// do runs steps, each wait bounded by browserTimeout, and fails the test
// with what was being done.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %s: %v", what, err)
	}
}

// waitJS waits until the JavaScript expression is truthy.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[any](expr, chromedp.WithPollingTimeout(browserTimeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.t.Fatalf("browser: waiting for %s (%s): %v", what, expr, err)
	}
}

// eval evaluates a JavaScript expression into T.
func browserEval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("browser: eval %s: %v", expr, err)
	}
	return v
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return s
}

// accessibilityCheck lists what a screen reader or a keyboard user would
// miss on the page: form fields without a label, buttons and links without
// a name, duplicate ids, a document without a language.
const accessibilityCheck = `(() => {
  const bad = [];
  const named = (el) => (el.getAttribute('aria-label') || '').trim()
    || (el.getAttribute('aria-labelledby') || '').split(' ').map((id) => document.getElementById(id)?.textContent.trim() || '').join('').trim()
    || (el.labels ? [...el.labels].map((l) => l.textContent.trim()).join('') : '')
    || (el.getAttribute('title') || '').trim();
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) if (!named(el)) bad.push('unlabelled ' + el.outerHTML.slice(0, 100));
  for (const el of document.querySelectorAll('button, a[href]')) if (!el.textContent.trim() && !named(el)) bad.push('unnamed ' + el.outerHTML.slice(0, 100));
  const ids = new Map();
  for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) || 0) + 1);
  for (const [id, n] of ids) if (n > 1) bad.push('duplicate id ' + id);
  if (!document.documentElement.lang) bad.push('the document has no lang');
  return bad;
})()`

// checkAccessible fails the test on what accessibilityCheck finds.
func (b *browser) checkAccessible(page string) {
	b.t.Helper()
	for _, p := range browserEval[[]string](b, accessibilityCheck) {
		b.t.Errorf("%s: %s", page, p)
	}
}

// screenshot checks the page's accessibility basics, then saves the
// viewport as docs/screenshots/name (the repository's, two levels up from
// cmd/vigie).
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.checkAccessible(name)
	// Let transitions and charts settle.
	b.do("settle", chromedp.Sleep(300*time.Millisecond))
	ctx, cancel := context.WithTimeout(b.ctx, browserTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// browserPassword is the password of the users the browser tests create.
const browserPassword = "browser-test-password"

// login opens the application and logs in, with a password, as a user of
// role created through the users API.
func (b *browser) login(role string) {
	b.t.Helper()
	user := b.app.createUser(role)
	b.do("open the login page",
		chromedp.Navigate(b.app.url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#login-submit")),
	)
	b.do("log in as "+user,
		chromedp.SendKeys(chromedp.CSS("#user"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), browserPassword),
		chromedp.Click(chromedp.CSS("#login-submit")),
	)
	b.do("see the application", chromedp.WaitVisible(chromedp.CSS("header.top nav")))
	b.waitJS("the live connection", `document.querySelector('.live-dot.live') !== null`)
}

// createUser creates the user role+"-ui" with browserPassword (or finds it).
func (a *app) createUser(role string) string {
	a.t.Helper()
	name := role + "-ui"
	body, _ := json.Marshal(map[string]string{"name": name, "role": role, "password": browserPassword})
	var res json.RawMessage
	switch code := a.do("POST", "/api/v1/users", "application/json", body, &res); code {
	case http.StatusCreated, http.StatusConflict:
		return name
	default:
		a.t.Fatalf("create user %s: %d %s", name, code, res)
	}
	return ""
}

// hasEndpoint reports whether GET path answers something other than 404.
func (a *app) hasEndpoint(path string) bool {
	a.t.Helper()
	var sink json.RawMessage
	code := a.do("GET", path, "", nil, &sink)
	return code != http.StatusNotFound
}

// browserMention is a mention posted minutes ago, so that wait times and
// charts look like a live desk.
func browserMention(id, author, name, text, lang string, ago time.Duration) map[string]any {
	return map[string]any{
		"source": "mastodon", "id": id, "created_at": time.Now().Add(-ago).UTC().Format(time.RFC3339),
		"url":    "https://social.example/@" + author + "/" + id,
		"author": map[string]any{"id": author, "handle": "@" + author + "@social.example", "name": name, "followers": 40 + len(text)*7},
		"text":   text, "lang": lang,
	}
}

// seedDesk posts a small, varied desk: complaints, questions and praise in
// English and French.
func seedDesk(a *app) {
	a.t.Helper()
	res := a.ingest(
		browserMention("s1", "lea", "Léa Martin", "Mon train pour Lyon est annulé pour la deuxième fois, je veux un remboursement !", "fr", 42*time.Minute),
		browserMention("s2", "tom", "Tom Baker", "Is the 8:15 to Marseille running today? The app says nothing.", "en", 35*time.Minute),
		browserMention("s3", "ines", "Inès Roy", "Merci à l'équipe de bord, voyage parfait et au calme 👏", "fr", 28*time.Minute),
		browserMention("s4", "raj", "Raj Patel", "Worst service ever, two hours stuck with no information. I want my money back.", "en", 20*time.Minute),
		browserMention("s5", "zoe", "Zoé Petit", "Comment modifier ma réservation sans frais ?", "fr", 12*time.Minute),
		browserMention("s6", "sam", "Sam Lee", "The wifi on board was great today, thanks!", "en", 6*time.Minute),
	)
	if res.Accepted != 6 {
		a.t.Fatalf("seed: %+v", res)
	}
}

// waitTickets waits until the desk lists n tickets.
func (a *app) waitTickets(n int) {
	a.t.Helper()
	deadline := time.Now().Add(browserTimeout)
	for {
		var page struct {
			Tickets []json.RawMessage `json:"tickets"`
		}
		a.do("GET", "/api/v1/tickets?limit=500", "", nil, &page)
		if len(page.Tickets) >= n {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("the desk lists %d tickets, want %d", len(page.Tickets), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var errNoEndpoint = errors.New("endpoint missing")

// requireEndpoint skips (outside CI) or fails (in CI) when the server does
// not serve path yet.
func requireEndpoint(t testing.TB, a *app, path, what string) {
	t.Helper()
	if a.hasEndpoint(path) {
		return
	}
	msg := fmt.Sprintf("%s: %v: GET %s answers 404", what, errNoEndpoint, strings.SplitN(path, "?", 2)[0])
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
