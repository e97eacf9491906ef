package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener/feed/feedtest"
	"github.com/vigie/vigie/listener/meta/metatest"
	"github.com/vigie/vigie/listener/sources"
)

// TestSourcesEndToEnd runs a sources file with a Meta webhook and a feed:
// a signed delivery becomes a ticket, the agent's reply is posted to the
// (fake) Graph API, the feed is polled, and the admin API shows it all.
func TestSourcesEndToEnd(t *testing.T) {
	graph := metatest.NewServer(t)
	press := feedtest.NewServer(t, feedtest.RSS, feedtest.Entry{ID: "urn:1", Title: "Velora strike", HTML: "<p>Trains cancelled</p>",
		Link: "https://news.example/1", Published: time.Now().Add(-time.Hour)})
	t.Setenv("T_META_SECRET", "app-secret")
	t.Setenv("T_META_VERIFY", "verify-me")
	t.Setenv("T_META_TOKEN", "page-token")
	dir := t.TempDir()
	path := filepath.Join(dir, "sources.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`
sources:
  - type: meta
    name: meta
    settings: {graph_url: %q}
    secrets: {app_secret: T_META_SECRET, verify_token: T_META_VERIFY, access_token: T_META_TOKEN}
  - type: rss
    name: press
    settings: {url: %q, interval: 50ms}
`, graph.BaseURL(), press.URL)), 0o600)
	a := startApp(t, filepath.Join(dir, "data"), func(c *serveConfig) { c.Sources = path })

	resp, err := http.Get(a.url + "/hooks/meta?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "42" {
		t.Fatalf("verification: %d %q", resp.StatusCode, body)
	}
	at := time.Now().Add(-time.Minute)
	delivery := metatest.Delivery("page", "123", at,
		metatest.FeedChange("comment", "add", "123_111", "123_987", "555", "My train was cancelled and I want a refund now", at))
	if status, err := metatest.Deliver(context.Background(), a.url+"/hooks/meta", "app-secret", delivery, 1); err != nil || status != 200 {
		t.Fatalf("delivery: %d %v", status, err)
	}
	if status, _ := metatest.DeliverSigned(context.Background(), a.url+"/hooks/meta", metatest.Sign("wrong", delivery), delivery, 1); status != 403 {
		t.Fatalf("bad signature: %d", status)
	}

	// The comment becomes a ticket; the agent's reply goes to the Graph API.
	var ticketID int64
	waitUntil(t, "a ticket for the Facebook comment", func() bool {
		var page desk.Page
		a.do("GET", "/api/v1/tickets?limit=50", "", nil, &page)
		for _, tk := range page.Tickets {
			if tk.Source == "facebook" {
				ticketID = tk.ID
				return true
			}
		}
		return false
	})
	if code := a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/reply", ticketID), "application/json", []byte(`{"text":"Sorry, refund on its way."}`), nil); code != http.StatusAccepted {
		t.Fatalf("reply: %d", code)
	}
	waitUntil(t, "the reply on the Graph API", func() bool { return len(graph.Replies()) == 1 })
	if r := graph.Replies()[0]; r.Parent != "123_987" || r.Edge != "comments" || r.Message != "Sorry, refund on its way." || r.Token != "page-token" {
		t.Fatalf("reply posted: %+v", r)
	}

	var list []sources.Status
	waitUntil(t, "the feed's entry", func() bool {
		a.do("GET", "/api/v1/sources", "", nil, &list)
		return len(list) == 2 && list[1].ItemsTotal == 1
	})
	if list[0].Name != "meta" || list[0].ItemsTotal != 1 || list[0].Kind != "webhook" || !list[1].Connected {
		t.Fatalf("sources: %+v", list)
	}
	if code := a.do("POST", "/api/v1/sources/press/disable", "", nil, nil); code != 200 {
		t.Fatalf("disable: %d", code)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
