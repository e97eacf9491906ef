package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/desk"
)

// TestDeskAssignmentAndSLA runs the whole app with a --desk-config file:
// an agent online on the websocket gets a new ticket automatically once
// its skills are set, the workload view shows it, tickets carry their SLA,
// and the sla and author filters answer.
func TestDeskAssignmentAndSLA(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "desk.yaml")
	if err := os.WriteFile(cfgPath, []byte(`
sla:
  calendars: {always: {always_open: true, time_zone: Europe/Paris}}
  default:
    calendar: always
    targets: {normal: {first_response: 2h, resolution: 24h}, high: {first_response: 1h, resolution: 8h}, urgent: {first_response: 15m, resolution: 4h}, low: {first_response: 4h, resolution: 48h}}
assignment:
  default: {mode: least_loaded}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, filepath.Join(dir, "data"), func(c *serveConfig) { c.DeskConfig = cfgPath })
	ws := a.dial("")
	if err := ws.WriteJSON(map[string]any{"subscribe": []string{"tickets"}}); err != nil {
		t.Fatal(err)
	}
	a.ingest(mention("s1", "ana", "My train was cancelled and I want a refund now", nil))
	var created desk.TicketData
	readUntil(t, ws, 10*time.Second, func(f frameMsg) bool {
		return f.Type == string(desk.EventTicketCreated) && json.Unmarshal(f.Data, &created) == nil
	})
	tk := created.Ticket
	if tk.SLAStatus != "active" || tk.FirstResponseDue == nil || tk.ResolutionDue == nil {
		t.Fatalf("new ticket's SLA: %q %v %v", tk.SLAStatus, tk.FirstResponseDue, tk.ResolutionDue)
	}

	// The admin is online (its websocket): give it the ticket's queue.
	body, _ := json.Marshal(map[string]any{"skills": map[string]int{tk.Queue: 1}, "capacity": 5})
	if code := a.do("PUT", "/api/v1/agents/"+auth.AdminTokenUser, "application/json", body, nil); code != http.StatusOK {
		t.Fatalf("put agent: %d", code)
	}
	readUntil(t, ws, 10*time.Second, func(f frameMsg) bool {
		var td desk.TicketData
		return f.Type == string(desk.EventTicketUpdated) && json.Unmarshal(f.Data, &td) == nil &&
			td.Change == desk.ChangeAssigned && td.Ticket.ID == tk.ID && td.Ticket.Assignee == auth.AdminTokenUser && td.Actor == desk.SystemActor
	})
	var agents struct {
		Agents []desk.AgentView `json:"agents"`
	}
	if code := a.do("GET", "/api/v1/agents", "", nil, &agents); code != http.StatusOK || len(agents.Agents) != 1 {
		t.Fatalf("agents: %d %+v", code, agents)
	}
	if ag := agents.Agents[0]; ag.Presence != "online" || ag.Load != 1 || ag.Capacity != 5 || !ag.Configured {
		t.Fatalf("workload view: %+v", ag)
	}
	if code := a.do("PUT", "/api/v1/agents/x", "application/json", []byte(`{"capacity": -1}`), nil); code != http.StatusBadRequest {
		t.Fatalf("negative capacity: %d", code)
	}
	if code := a.do("PUT", "/api/v1/agents/x", "application/json", []byte(`{"skill": {}}`), nil); code != http.StatusBadRequest {
		t.Fatalf("unknown field: %d", code)
	}

	var page desk.Page
	if code := a.do("GET", "/api/v1/tickets?author=mastodon/ana", "", nil, &page); code != http.StatusOK || len(page.Tickets) != 1 {
		t.Fatalf("ana's tickets: %d %d", code, len(page.Tickets))
	}
	if code := a.do("GET", "/api/v1/tickets?sla=missed", "", nil, &page); code != http.StatusOK || len(page.Tickets) != 0 {
		t.Fatalf("missed tickets: %d %d", code, len(page.Tickets))
	}
	if code := a.do("GET", "/api/v1/tickets?sla=late", "", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("bad sla filter: %d", code)
	}
	if code := a.do("DELETE", "/api/v1/agents/"+auth.AdminTokenUser, "", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete agent: %d", code)
	}
	if code := a.do("DELETE", "/api/v1/agents/"+auth.AdminTokenUser, "", nil, nil); code != http.StatusNotFound {
		t.Fatalf("delete agent again: %d", code)
	}
}

func TestDeskConfigFlagErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("assignment: {default: {mode: lottery}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{bad, "is not a mode"},
		{filepath.Join(dir, "missing.yaml"), "read desk config"},
	} {
		cfg, err := parseServe([]string{"--data", filepath.Join(dir, "data"), "--addr", "127.0.0.1:0", "--desk-config", tc.path}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		_, err = newServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("--desk-config %s: %v, want %q", tc.path, err, tc.want)
		}
	}
}
