package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
)

// TestRulesLifecycle: validate with positioned errors, dry-run a draft over
// past mentions, save it (a new version in force at once), roll back.
func TestRulesLifecycle(t *testing.T) {
	a := startApp(t, t.TempDir())
	a.ingest(
		mention("r1", "u1", "Where is my refund for the cancelled train?", nil),
		mention("r2", "u2", "The wifi on board is broken again", nil),
	)
	waitTickets(t, a, 2)

	var v1 desk.RuleVersion
	if code := a.do("GET", "/api/v1/rules", "", nil, &v1); code != 200 || v1.Version != 1 || !strings.Contains(v1.YAML, "refunds") {
		t.Fatalf("initial rules: %d %+v", code, v1)
	}

	var bad map[string]any
	body, _ := json.Marshal(map[string]string{"yaml": "rules:\n  - name: x\n    match: 'wifi OR'\n    then: {queue: tech}\n"})
	if code := a.do("POST", "/api/v1/rules/validate", "application/json", body, &bad); code != 400 || bad["line"] != 3.0 || bad["column"] == nil {
		t.Fatalf("invalid rules: %d %v", code, bad)
	}

	draft := "default_queue: general\nrules:\n  - name: wifi\n    match: wifi\n    then: {queue: tech, priority: high}\n"
	body, _ = json.Marshal(map[string]any{"yaml": draft, "last": 100})
	var dry desk.DryRun
	if code := a.do("POST", "/api/v1/rules/dry-run", "application/json", body, &dry); code != 200 {
		t.Fatalf("dry run: %d", code)
	}
	if dry.Evaluated != 2 || dry.Changed != 2 || dry.Queues["tech"].After != 1 || dry.Queues["refunds"].Before != 1 || dry.Queues["refunds"].After != 0 {
		t.Fatalf("dry run: %+v (tech %+v)", dry, dry.Queues["tech"])
	}

	body, _ = json.Marshal(map[string]string{"yaml": draft, "comment": "wifi to tech"})
	var v2 desk.RuleVersion
	if code := a.do("PUT", "/api/v1/rules", "application/json", body, &v2); code != 200 || v2.Version != 2 || v2.Author != "admin-token" {
		t.Fatalf("save: %d %+v", code, v2)
	}
	a.ingest(mention("r3", "u3", "No wifi, again", nil))
	tk := waitTicketFor(t, a, "r3")
	if tk.Queue != "tech" || tk.Routing.Rule != "wifi" {
		t.Fatalf("after save, routed to %s by %q", tk.Queue, tk.Routing.Rule)
	}

	body, _ = json.Marshal(map[string]int{"version": 1})
	var v3 desk.RuleVersion
	if code := a.do("POST", "/api/v1/rules/rollback", "application/json", body, &v3); code != 200 || v3.Version != 3 {
		t.Fatalf("rollback: %d %+v", code, v3)
	}
	a.ingest(mention("r4", "u4", "Wifi broken and I want a refund", nil))
	if tk := waitTicketFor(t, a, "r4"); tk.Queue != "refunds" {
		t.Fatalf("after rollback, routed to %s", tk.Queue)
	}
	var hist struct {
		Versions []desk.RuleVersion `json:"versions"`
	}
	a.do("GET", "/api/v1/rules/versions", "", nil, &hist)
	if len(hist.Versions) != 3 || hist.Versions[0].Comment != "rollback to version 1" {
		t.Fatalf("history: %+v", hist.Versions)
	}
	// The rules in force survive a restart.
	data := a.srv.cfg.Data
	a.stop()
	b := startApp(t, data)
	var cur desk.RuleVersion
	b.do("GET", "/api/v1/rules", "", nil, &cur)
	if cur.Version != 3 {
		t.Fatalf("after restart: version %d", cur.Version)
	}
}

func waitTickets(t *testing.T, a *app, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var page desk.Page
		a.do("GET", "/api/v1/tickets?limit=500", "", nil, &page)
		if len(page.Tickets) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d tickets after 10s", n)
}

// waitTicketFor returns the ticket whose first message is the mention id.
func waitTicketFor(t *testing.T, a *app, id string) desk.Ticket {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var page desk.Page
		a.do("GET", "/api/v1/tickets?limit=50", "", nil, &page)
		for _, tk := range page.Tickets {
			if tk.Conversation == id {
				return tk
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no ticket for %s after 10s", id)
	return desk.Ticket{}
}
