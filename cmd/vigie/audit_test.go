package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/archive"
	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/desk"
)

// call sends a request with a bearer token (and a JSON body when given) and
// returns the status and body.
func (a *app) call(method, path, token, body string) (int, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// auditEntries reads the whole audit log through the API, newest first.
func auditEntries(t *testing.T, a *app, query string) []auth.AuditEntry {
	t.Helper()
	var page auth.AuditPage
	if code := a.do("GET", "/api/v1/audit?"+query, "", nil, &page); code != http.StatusOK {
		t.Fatalf("GET /api/v1/audit?%s: %d", query, code)
	}
	return page.Entries
}

// TestAuditOutlivesTheClient: a client that goes away once its action is
// done (its request's context canceled, as a load generator stopping, or
// a closed tab) does not take the action's audit record with it.
func TestAuditOutlivesTheClient(t *testing.T) {
	a := startApp(t, t.TempDir())
	ctx, cancel := context.WithCancel(auth.SystemContext(context.Background(), "vigie-test"))
	defer cancel()
	e := echo.New()
	e.POST("/api/v1/tickets/resolve", func(c echo.Context) error {
		cancel() // the client leaves as the desk answers
		return c.JSON(http.StatusOK, map[string]any{})
	}, a.srv.auditTrail)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/tickets/resolve", nil).WithContext(ctx)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("the call: %d %s", rec.Code, rec.Body)
	}
	for _, en := range auditEntries(t, a, "limit=500") {
		if en.Action == "tickets.resolved" && en.Actor == "vigie-test" {
			return
		}
	}
	t.Fatal("no audit record of an action whose client left")
}

// TestAuditTrail: agents' and admins' actions through the API — logins,
// user and token changes, a reply, a rule change, an export, an erasure, a
// source toggled — are in the audit log with who, what, on what and from
// where; the log's chain verifies, it reaches the archive, and `vigie
// check` vouches for it.
func TestAuditTrail(t *testing.T) {
	data := t.TempDir()
	a := startApp(t, data)
	ctx := context.Background()
	sctx := auth.SystemContext(ctx, "vigie-test")
	if _, err := a.srv.auth.CreateUser(sctx, "alice", auth.RoleAgent, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	_, alice, err := a.srv.auth.CreateToken(sctx, "alice", "console", auth.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	a.ingest(mention("au1", "ana", "Audit-secret-text: my train is late", nil))
	tk := waitTicketFor(t, a, "au1")

	steps := []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/api/v1/login", "", `{"user":"alice","password":"a long enough password"}`, 200},
		{"POST", "/api/v1/login", "", `{"user":"alice","password":"not her password"}`, 401},
		{"POST", fmt.Sprintf("/api/v1/tickets/%d/reply", tk.ID), alice, `{"text":"Audit-secret-reply: sorry"}`, 202},
		{"POST", "/api/v1/tickets/resolve", alice, fmt.Sprintf(`{"ids":[999999,%d]}`, tk.ID), 200},
		{"POST", "/api/v1/tickets/resolve", alice, `{"ids":[]}`, 400},
		{"POST", "/api/v1/users", testToken, `{"name":"bob","role":"monitor","password":"a long enough password"}`, 201},
		{"PATCH", "/api/v1/users/bob", testToken, `{"role":"manager"}`, 200},
		{"POST", "/api/v1/tokens", testToken, `{"user":"bob","name":"kpis","role":"manager"}`, 201},
		{"PUT", "/api/v1/rules", testToken, `{"yaml":"default_queue: general\nrules: []\n","comment":"audit test"}`, 200},
		{"GET", "/api/v1/authors/mastodon/ana/export", testToken, "", 200},
		{"DELETE", "/api/v1/authors/mastodon/ana", testToken, "", 200},
		{"POST", "/api/v1/rules/validate", testToken, `{"yaml":"rules: []\n"}`, 200},
		{"POST", "/api/v1/tickets/999999/resolve", testToken, "", 404},
	}
	for _, s := range steps {
		if code, body := a.call(s.method, s.path, s.token, s.body); code != s.want {
			t.Fatalf("%s %s: %d %s, want %d", s.method, s.path, code, body, s.want)
		}
	}
	entries := auditEntries(t, a, "limit=500")
	var got []string
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		got = append(got, e.Action+" "+e.Target+" by "+e.Actor)
	}
	want := []string{
		"user.created user:alice by vigie-test",
		"token.created token:" + strings.Split(alice, "_")[1] + " by vigie-test",
		"login.succeeded user:alice by alice",
		"login.failed user:alice by anonymous",
		fmt.Sprintf("ticket.replied ticket:%d by alice", tk.ID),
		"tickets.resolved tickets by alice",
		"user.created user:bob by admin-token",
		"user.updated user:bob by admin-token",
	}
	joined := strings.Join(got, "\n")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("audit log lacks %q:\n%s", w, joined)
		}
	}
	for _, w := range []string{"token.created", "rules.changed rules by admin-token", "author.exported author:mastodon/ana by admin-token", "author.erased author:mastodon/ana by admin-token"} {
		if !strings.Contains(joined, w) {
			t.Errorf("audit log lacks %q:\n%s", w, joined)
		}
	}
	for _, no := range []string{"rules/validate", "999999"} {
		if strings.Contains(joined, no) {
			t.Errorf("audit log records %q (read-only or failed):\n%s", no, joined)
		}
	}
	raw, _ := json.Marshal(entries)
	for _, secret := range []string{"Audit-secret", "a long enough password", "not her password", alice, testToken} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the audit log holds %q", secret)
		}
	}
	bulk := 0
	for _, e := range entries {
		if e.Action == "tickets.resolved" {
			bulk++
			if want := fmt.Sprintf(`"resolved":[%d]`, tk.ID); !strings.Contains(string(e.Detail), want) {
				t.Errorf("bulk resolve entry's detail %s lacks %s", e.Detail, want)
			}
		}
		if e.Action == "ticket.replied" && (e.RemoteIP != "127.0.0.1" || e.RequestID == "" || e.ActorRole != auth.RoleAgent) {
			t.Errorf("reply entry: %+v", e)
		}
	}
	if bulk != 1 {
		t.Errorf("%d bulk resolve entries, want 1 (the refused one is not recorded)", bulk)
	}
	// Filters.
	for _, e := range auditEntries(t, a, "actor=alice") {
		if e.Actor != "alice" {
			t.Errorf("actor filter let through %+v", e)
		}
	}
	if es := auditEntries(t, a, "action=user.&actor=admin-token"); len(es) != 2 {
		t.Errorf("user.* by admin-token: %d entries", len(es))
	}
	// Agents cannot read the audit log.
	if code, _ := a.call("GET", "/api/v1/audit", alice, ""); code != http.StatusForbidden {
		t.Errorf("an agent reads the audit log: %d", code)
	}
	// The archive (embedded here) gets a copy.
	head := a.srv.auth.AuditHead()
	store := a.srv.archive.(archive.AuditStore)
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := store.AuditCursor(ctx)
		if err == nil && c >= head {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("archived audit cursor %d, head %d", c, head)
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.stop()
	var out bytes.Buffer
	if err := runCheck(ctx, []string{"--data", data}, &out, io.Discard); err != nil {
		t.Fatalf("vigie check: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "hash chain intact") {
		t.Fatalf("vigie check said: %s", out.String())
	}
}

// TestAuditCheckDetectsTampering: `vigie check` fails on an audit log
// edited behind Vigie's back, or cut short of its archived copy.
func TestAuditCheckDetectsTampering(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"edited", `DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'nobody' WHERE seq = 1`, "tampered with at entry 1"},
		{"truncated", `DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = (SELECT max(seq) FROM audit)`, "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			a := startApp(t, data)
			for _, n := range []string{"u1", "u2"} {
				if _, err := a.srv.auth.CreateUser(ctx, n, auth.RoleAgent, "a long enough password"); err != nil {
					t.Fatal(err)
				}
			}
			store := a.srv.archive.(archive.AuditStore)
			for c, _ := store.AuditCursor(ctx); c < 2; c, _ = store.AuditCursor(ctx) {
				time.Sleep(10 * time.Millisecond)
			}
			a.stop()
			db := openRaw(t, filepath.Join(data, "auth.db"))
			if _, err := db.ExecContext(ctx, tc.sql); err != nil {
				t.Fatal(err)
			}
			db.Close()
			err := runCheck(ctx, []string{"--data", data}, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("vigie check = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestAuditCoversEveryUnsafeRoute: every route that changes something is
// either recorded by auditTrail or exempt for a stated reason; the tables
// name no route that does not exist.
func TestAuditCoversEveryUnsafeRoute(t *testing.T) {
	a := startApp(t, t.TempDir())
	routes := map[string]bool{}
	for _, rt := range a.srv.echo.Routes() {
		key := rt.Method + " " + rt.Path
		routes[key] = true
		if !strings.HasPrefix(rt.Path, "/api/v1/") || rt.Method == "echo_route_not_found" {
			continue
		}
		switch rt.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			continue
		}
		_, audited := auditedRoutes[key]
		_, exempt := auditExempt[key]
		if audited == exempt {
			t.Errorf("route %s: audited %v, exempt %v; want exactly one", key, audited, exempt)
		}
	}
	for key := range auditedRoutes {
		if !routes[key] {
			t.Errorf("auditedRoutes names %s, which does not exist", key)
		}
	}
	for key := range auditExempt {
		if !routes[key] {
			t.Errorf("auditExempt names %s, which does not exist", key)
		}
	}
}

// TestIngestSourceScopedToken: a token scoped to a source stores that
// source's items and rejects the others one by one, with their index and
// code; it can do nothing else.
func TestIngestSourceScopedToken(t *testing.T) {
	a := startApp(t, t.TempDir())
	ctx := context.Background()
	if _, err := a.srv.auth.CreateUser(ctx, "feeder", auth.RoleAdmin, "a long enough password"); err != nil {
		t.Fatal(err)
	}
	_, tok, err := a.srv.auth.IssueToken(ctx, auth.TokenSpec{User: "feeder", Name: "mastodon feed", Source: "mastodon"})
	if err != nil {
		t.Fatal(err)
	}
	items := []map[string]any{
		mention("s1", "ana", "from the right source", nil),
		mention("s2", "ana", "from another source", map[string]any{"source": "bluesky"}),
		mention("s3", "ana", "", nil), // invalid: no text
		mention("s4", "bob", "also the right source", nil),
	}
	body, _ := json.Marshal(items)
	code, raw := a.call("POST", "/api/v1/mentions", tok, string(body))
	if code != http.StatusAccepted {
		t.Fatalf("scoped ingest: %d %s", code, raw)
	}
	var res struct {
		Accepted int `json:"accepted"`
		Rejected []struct {
			Index int    `json:"index"`
			Code  string `json:"code"`
			Error string `json:"error"`
		} `json:"rejected"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 2 || len(res.Rejected) != 2 || res.Rejected[0].Index != 1 || res.Rejected[0].Code != "source_not_allowed" ||
		res.Rejected[1].Index != 2 || res.Rejected[1].Code != "invalid" {
		t.Fatalf("scoped ingest answer: %s", raw)
	}
	// NDJSON too.
	req, _ := http.NewRequest("POST", a.url+"/api/v1/mentions", strings.NewReader(`{"source":"x","id":"n1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"t"}`+"\n"))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(raw), `"source_not_allowed"`) {
		t.Fatalf("scoped NDJSON ingest: %d %s", resp.StatusCode, raw)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/tickets", ""},
		{"GET", "/api/v1/users", ""},
		{"GET", "/api/v1/audit", ""},
		{"POST", "/api/v1/tokens", `{"name":"escalate"}`},
		{"DELETE", "/api/v1/authors/mastodon/ana", ""},
	} {
		if code, _ := a.call(c.method, c.path, tok, c.body); code != http.StatusForbidden {
			t.Errorf("%s %s with a source-scoped token: %d, want 403", c.method, c.path, code)
		}
	}
	if got := topicsFor(auth.Principal{Role: auth.RoleAdmin, Source: "mastodon"}); len(got) != 0 {
		t.Errorf("a source-scoped token receives websocket topics %v", got)
	}
}

// TestRetentionSweep: a sweep expires raw content older than the cutoff
// everywhere (intake, desk, search, the bytes of the SQLite files), leaves
// younger content alone, keeps every KPI, and is audited and measured.
func TestRetentionSweep(t *testing.T) {
	data := t.TempDir()
	a := startApp(t, data, func(c *serveConfig) { c.RetentionDays = 30 })
	ctx := context.Background()
	now := time.Now().UTC()
	oldText, youngText := "Retention-ancient-words my luggage vanished", "Retention-recent-words seat reservation"
	a.ingest(
		mention("r1", "olga", oldText, map[string]any{"created_at": now.Add(-time.Hour).Format(time.RFC3339)}),
		mention("r2", "oscar", oldText+" (me too)", map[string]any{"created_at": now.Add(-time.Hour).Format(time.RFC3339)}),
	)
	oldTicket := waitTicketFor(t, a, "r1")
	if code, body := a.call("POST", fmt.Sprintf("/api/v1/tickets/%d/reply", oldTicket.ID), testToken, `{"text":"Retention-reply-words we are sorry"}`); code != 202 {
		t.Fatalf("reply: %d %s", code, body)
	}
	// The reply is delivered (a ticket change) before the cutoff.
	for deadline := time.Now().Add(10 * time.Second); ; {
		tk := ticket(t, a, oldTicket.ID)
		if n := len(tk.Messages); n == 2 && tk.Messages[n-1].Delivery == desk.DeliverySent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply was never delivered: %+v", tk.Messages)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	cutoff := time.Now()
	time.Sleep(20 * time.Millisecond)
	a.ingest(mention("r3", "yann", youngText, map[string]any{"created_at": time.Now().UTC().Add(time.Minute).Format(time.RFC3339)}))
	youngTicket := waitTicketFor(t, a, "r3")
	waitSinks(t, a)

	kpis := func() string {
		var all []string
		for _, by := range []string{"", "queue", "source", "agent"} {
			from, to := now.Add(-48*time.Hour).Format(time.RFC3339), now.Add(48*time.Hour).Format(time.RFC3339)
			code, body := a.call("GET", "/api/v1/kpis?interval=1h&from="+from+"&to="+to+"&by="+by, testToken, "")
			if code != 200 {
				t.Fatalf("kpis: %d %s", code, body)
			}
			all = append(all, string(body))
		}
		return strings.Join(all, "\n")
	}
	before := kpis()
	if !strings.Contains(before, `"mentions":3`) {
		t.Fatalf("KPIs before the sweep do not count the 3 mentions: %s", before)
	}

	res, err := a.srv.sweepRetention(ctx, cutoff.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.IntakeItems != 2 || res.DeskMessages != 3 || res.DeskTickets != 2 {
		t.Fatalf("sweep: %+v", res)
	}
	waitSinks(t, a)
	if after := kpis(); after != before {
		t.Fatalf("KPIs changed by the sweep:\nbefore %s\nafter  %s", before, after)
	}
	// The desk keeps the tickets and their facts, not the words.
	full := ticket(t, a, oldTicket.ID)
	if full.Queue != oldTicket.Queue || full.Sentiment != oldTicket.Sentiment || !full.CreatedAt.Equal(oldTicket.CreatedAt) || full.FirstResponseAt == nil || full.Author.ID != "olga" {
		t.Errorf("old ticket facts changed: %+v", full)
	}
	for _, m := range full.Messages {
		if m.Text != "[expired]" || (m.Author != nil && m.Author.Handle != "") {
			t.Errorf("old message kept: %+v", m)
		}
	}
	if young := ticket(t, a, youngTicket.ID); len(young.Messages) != 1 || young.Messages[0].Text != youngText {
		t.Errorf("young ticket changed: %+v", young.Messages)
	}
	// Search and the access request no longer find the old words.
	var sr struct {
		Total int `json:"total"`
	}
	a.do("GET", "/api/v1/search?q=ancient", "", nil, &sr)
	if sr.Total != 0 {
		t.Errorf("search still finds the expired posts: %d", sr.Total)
	}
	a.do("GET", "/api/v1/search?q=recent", "", nil, &sr)
	if sr.Total != 1 {
		t.Errorf("search lost the young post: %d", sr.Total)
	}
	code, body := a.call("GET", "/api/v1/authors/mastodon/olga/export", testToken, "")
	if code != 200 || bytes.Contains(body, []byte("ancient")) || bytes.Contains(body, []byte("Retention-reply")) {
		t.Errorf("export after the sweep: %d %s", code, body)
	}
	// Audited and measured.
	// (The sweep at start found nothing to expire.)
	es := auditEntries(t, a, "action=retention.ran")
	if len(es) == 0 || es[0].Actor != "retention" || es[0].Via != auth.ViaSystem || !bytes.Contains(es[0].Detail, []byte(`"intake_items":2,"desk_messages":3`)) {
		t.Errorf("retention audit entries: %+v", es)
	}
	_, metrics := a.call("GET", "/metrics", "", "")
	for _, m := range []string{`vigie_retention_runs_total{outcome="failed"} 0`, `vigie_retention_expired_total{what="intake_items"} 2`, `vigie_retention_expired_total{what="desk_messages"} 3`} {
		if !bytes.Contains(metrics, []byte(m)) {
			t.Errorf("metrics lack %s", m)
		}
	}
	// Nothing of the old words in the SQLite files.
	a.stop()
	for _, f := range []string{"intake.db", "intake.db-wal", "desk.db", "desk.db-wal", "archive.db", "archive.db-wal", "crm.db", "crm.db-wal"} {
		b, err := os.ReadFile(filepath.Join(data, f))
		if err != nil {
			continue
		}
		for _, w := range []string{"ancient-words", "Retention-reply-words"} {
			if bytes.Contains(b, []byte(w)) {
				t.Errorf("%s still holds %q", f, w)
			}
		}
	}
}

// ticket reads one ticket with its messages.
func ticket(t *testing.T, a *app, id int64) desk.Ticket {
	t.Helper()
	var tk desk.Ticket
	if code := a.do("GET", fmt.Sprintf("/api/v1/tickets/%d", id), "", nil, &tk); code != 200 {
		t.Fatalf("ticket %d: %d", id, code)
	}
	return tk
}

// waitSinks waits until search, the archive and the CRM have followed the desk's log
// to its head.
func waitSinks(t *testing.T, a *app) {
	t.Helper()
	head := a.srv.desk.LastSeq()
	for deadline := time.Now().Add(20 * time.Second); ; {
		sc, err1 := a.srv.search.Cursor()
		ac, err2 := a.srv.archive.Cursor(context.Background())
		if err1 == nil && err2 == nil && sc >= head && ac >= head && a.srv.crm.Cursor() >= head {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("sinks behind: search %d, archive %d, head %d", sc, ac, head)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOpsLogsHoldNoPostTextOrSecrets: at info level, a server that ingests
// posts, logs people in, issues tokens, replies and erases logs no post
// text, no password and no token.
func TestOpsLogsHoldNoPostTextOrSecrets(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := serveConfig{Addr: "127.0.0.1:0", Data: t.TempDir(), AdminToken: testToken, ShutdownWait: 10 * time.Second, IngestRate: 10_000, RetentionDays: 1}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := newServer(ctx, cfg, logger)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a := &app{t: t, srv: srv, url: srv.URL(), cancel: cancel, done: make(chan error, 1), client: http.DefaultClient}
	go func() { a.done <- srv.Run(ctx) }()
	t.Cleanup(a.stop)
	a.waitReady()

	secrets := []string{"Quetzal-words-of-a-customer", "Quetzal-reply-of-an-agent", "pa55word-of-carol-Quetzal", "wrong-pa55word-Quetzal", testToken}
	a.ingest(mention("q1", "quinn", secrets[0]+" my train", nil), mention("q2", "quinn", "bad", map[string]any{"created_at": "yesterday"}))
	tk := waitTicketFor(t, a, "q1")
	if _, err := srv.auth.CreateUser(ctx, "carol", auth.RoleAdmin, secrets[2]); err != nil {
		t.Fatal(err)
	}
	_, tok, err := srv.auth.CreateToken(ctx, "carol", "ci", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, tok)
	a.call("POST", "/api/v1/login", "", `{"user":"carol","password":"`+secrets[2]+`"}`)
	a.call("POST", "/api/v1/login", "", `{"user":"carol","password":"`+secrets[3]+`"}`)
	a.call("POST", "/api/v1/login", "", `{"user":"`+secrets[3]+`","password":"x"}`)
	a.call("POST", fmt.Sprintf("/api/v1/tickets/%d/reply", tk.ID), tok, `{"text":"`+secrets[1]+`"}`)
	a.call("GET", "/api/v1/tickets", "vgt_0000000000000000_"+strings.Repeat("0", 64), "")
	a.call("DELETE", "/api/v1/authors/mastodon/quinn", tok, "")
	if _, err := srv.sweepRetention(ctx, time.Now().Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	a.stop()
	out := logs.String()
	if !strings.Contains(out, `"msg":"login"`) || !strings.Contains(out, "retention_ran") {
		t.Fatalf("the logs are not what this test thinks (no login, no retention line):\n%s", out)
	}
	for _, s := range secrets {
		if strings.Contains(out, s) || strings.Contains(out, "Quetzal") {
			t.Errorf("the info-level logs hold %q", s)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// openRaw opens a SQLite file directly, bypassing its owner.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestAuditRecordsAnActionNotOnDisk: an action committed whose fsync then
// failed has happened (everyone sees it): it is answered with an error that
// says so, not a bare "internal error" a client would send again, and it is
// in the audit log with the error; an action that failed is not.
func TestAuditRecordsAnActionNotOnDisk(t *testing.T) {
	a := startApp(t, t.TempDir())
	ctx := auth.SystemContext(context.Background(), "vigie-test")
	e := echo.New()
	e.HTTPErrorHandler = a.srv.errorHandler
	e.POST("/api/v1/tickets/:id/resolve", func(c echo.Context) error {
		if c.Param("id") == "7" {
			return fmt.Errorf("%w: sync the WAL: input/output error", desk.ErrNotDurable)
		}
		return fmt.Errorf("begin: database is locked")
	}, a.srv.auditTrail)
	call := func(id string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/tickets/"+id+"/resolve", nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("answer %q: %v", rec.Body, err)
		}
		return rec.Code, body
	}
	code, body := call("7")
	if code != http.StatusInternalServerError || body["committed"] != true || !strings.Contains(fmt.Sprint(body["error"]), "committed, but not known to be on disk") {
		t.Errorf("an action not known on disk answered %d %v, want 500 saying it is committed", code, body)
	}
	code, body = call("8")
	if code != http.StatusInternalServerError || body["committed"] != nil || body["error"] != "internal error" {
		t.Errorf("a failed action answered %d %v", code, body)
	}
	var found bool
	for _, en := range auditEntries(t, a, "limit=500") {
		if en.Action != "ticket.resolved" {
			continue
		}
		if en.Target != "ticket:7" {
			t.Errorf("a failed action is in the audit log: %+v", en)
			continue
		}
		found = true
		var detail map[string]any
		if err := json.Unmarshal(en.Detail, &detail); err != nil {
			t.Fatal(err)
		}
		if detail["status"] != 500.0 || !strings.Contains(fmt.Sprint(detail["error"]), "input/output error") {
			t.Errorf("the record of an action not known on disk: %s", en.Detail)
		}
	}
	if !found {
		t.Error("no audit record of an action committed whose fsync failed")
	}
}
