package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/internal/sqlite"
)

func actions(es []AuditEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action + " " + e.Target
	}
	return out
}

// TestAuditRecordsUserTokenAndLoginChanges: every user and token change and
// every login attempt leaves one entry, with who did it and from where, in
// the same transaction as the change.
func TestAuditRecordsUserTokenAndLoginChanges(t *testing.T) {
	a, _ := newTestAuth(t)
	ctx := WithRequest(NewContext(context.Background(), Principal{User: "root", Role: RoleAdmin, Via: ViaSession}), "192.0.2.7", "req-1")
	if _, err := a.CreateUser(ctx, "root", RoleAdmin, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateUser(ctx, "ana", RoleAgent, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.UpdateUser(ctx, "ana", UserUpdate{Role: ptr(RoleMonitor), Password: ptr("another long password")}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.IssueToken(ctx, TokenSpec{User: "root", Name: "feed", Source: "mastodon-brand"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeToken(ctx, tok.ID); err != nil { // a no-op: not recorded
		t.Fatal(err)
	}
	lctx := WithRequest(context.Background(), "198.51.100.9", "")
	if _, err := a.Login(lctx, "ana", "another long password", "198.51.100.9"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(lctx, "ana", "guess-number-one", "198.51.100.9"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if _, err := a.Login(lctx, "correct horse battery", "x-password-x", "198.51.100.9"); !errors.Is(err, ErrInvalidCredentials) {
		t.Fatal(err)
	}
	if err := a.DeleteUser(ctx, "ana"); err != nil {
		t.Fatal(err)
	}
	if err := a.Audit(SystemContext(context.Background(), "retention"), "retention.ran", "", map[string]int{"items": 3}); err != nil {
		t.Fatal(err)
	}

	es, err := a.ReadAudit(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"user.created user:root", "user.created user:ana", "user.updated user:ana",
		"token.created token:" + tok.ID, "token.revoked token:" + tok.ID,
		"login.succeeded user:ana", "login.failed user:ana", "login.failed ", "user.deleted user:ana",
		"retention.ran ",
	}
	if got := actions(es); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("audit log:\n got %q\nwant %q", got, want)
	}
	for i, e := range es {
		if e.Seq != int64(i+1) || len(e.Hash) != 64 || len(e.PrevHash) != 64 || (i > 0 && e.PrevHash != es[i-1].Hash) {
			t.Fatalf("entry %d: seq %d, chain %s→%s", i, e.Seq, e.PrevHash, e.Hash)
		}
	}
	if e := es[2]; e.Actor != "root" || e.ActorRole != RoleAdmin || e.RemoteIP != "192.0.2.7" || e.RequestID != "req-1" {
		t.Fatalf("user.updated entry: %+v", e)
	}
	var d map[string]any
	if err := json.Unmarshal(es[2].Detail, &d); err != nil || d["role"] != "monitor" || d["previous_role"] != "agent" || d["password_reset"] != true {
		t.Fatalf("user.updated detail %s (%v)", es[2].Detail, err)
	}
	if err := json.Unmarshal(es[3].Detail, &d); err != nil || d["source"] != "mastodon-brand" {
		t.Fatalf("token.created detail %s (%v)", es[3].Detail, err)
	}
	if e := es[5]; e.Actor != "ana" || e.RemoteIP != "198.51.100.9" || e.RequestID == "" {
		t.Fatalf("login entry: %+v", e)
	}
	if e := es[9]; e.Actor != "retention" || e.Via != ViaSystem || e.ActorRole != "" {
		t.Fatalf("system entry: %+v", e)
	}
	// No secret and no typed-in password in the log: the unknown "user"
	// above was a password.
	for _, e := range es {
		raw, _ := json.Marshal(e)
		for _, secret := range []string{"correct horse battery", "another long password", "guess-number-one", "x-password-x"} {
			if strings.Contains(string(raw), secret) {
				t.Fatalf("entry %d holds %q: %s", e.Seq, secret, raw)
			}
		}
	}
	if n, err := a.VerifyAudit(context.Background()); err != nil || n != int64(len(es)) {
		t.Fatalf("VerifyAudit = %d, %v", n, err)
	}
	if a.AuditHead() != int64(len(es)) {
		t.Fatalf("AuditHead = %d", a.AuditHead())
	}
}

// TestAuditFailedChangeLeavesNoEntry: a change that fails records nothing.
func TestAuditFailedChangeLeavesNoEntry(t *testing.T) {
	a, _ := newTestAuth(t)
	mustUser(t, a, "root", RoleAdmin, "correct horse battery")
	if _, err := a.CreateUser(context.Background(), "root", RoleAgent, "correct horse battery"); !errors.Is(err, ErrUserExists) {
		t.Fatal(err)
	}
	if _, err := a.UpdateUser(context.Background(), "root", UserUpdate{Disabled: ptr(true)}); !errors.Is(err, ErrLastAdmin) {
		t.Fatal(err)
	}
	if _, _, err := a.IssueToken(context.Background(), TokenSpec{User: "root", Name: "x", Source: "Bad Source"}); !errors.Is(err, ErrInvalidSource) {
		t.Fatal(err)
	}
	es, _ := a.ReadAudit(context.Background(), 0, 10)
	if got := actions(es); len(got) != 1 || got[0] != "user.created user:root" {
		t.Fatalf("audit log %q", got)
	}
	if es[0].Actor != "anonymous" {
		t.Fatalf("a change with no principal in its context: actor %q", es[0].Actor)
	}
}

// TestAuditAppendOnly: the database refuses to change or delete entries,
// and an entry changed behind its back (triggers dropped) is detected by
// VerifyAudit at the entry changed, as is one deleted.
func TestAuditAppendOnly(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		tamper string
		seq    int64
	}{
		{"edited detail", `UPDATE audit SET detail = '{"role":"agent"}' WHERE seq = 2`, 2},
		{"edited actor", `UPDATE audit SET actor = 'someone' WHERE seq = 3`, 3},
		{"deleted entry", `DELETE FROM audit WHERE seq = 2`, 2},
		{"rehashed entry", `UPDATE audit SET target = 'user:x', hash = zeroblob(32) WHERE seq = 1`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _ := newTestAuth(t)
			for _, n := range []string{"a1", "a2", "a3", "a4"} {
				mustUser(t, a, n, RoleAdmin, "correct horse battery")
			}
			for _, q := range []string{`UPDATE audit SET actor = 'x'`, `DELETE FROM audit WHERE seq = 4`} {
				if _, err := a.db.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Fatalf("%s: %v, want refused", q, err)
				}
			}
			if _, err := a.db.Exec(ctx, `DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; `+tc.tamper); err != nil {
				t.Fatal(err)
			}
			_, err := a.VerifyAudit(ctx)
			var ce *AuditChainError
			if !errors.As(err, &ce) || ce.Seq != tc.seq {
				t.Fatalf("VerifyAudit after tampering = %v, want a break at %d", err, tc.seq)
			}
		})
	}
}

func TestQueryAuditFiltersAndPages(t *testing.T) {
	a, clock := newTestAuth(t)
	ctx := NewContext(context.Background(), Principal{User: "root", Role: RoleAdmin})
	mustUser(t, a, "root", RoleAdmin, "correct horse battery")
	start := clock.Now()
	for i := range 7 {
		clock.Advance(time.Minute)
		if _, err := a.CreateUser(ctx, fmt.Sprintf("u%d", i), RoleAgent, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Audit(ctx, "rules.changed", "rules", nil); err != nil {
		t.Fatal(err)
	}
	page, err := a.QueryAudit(context.Background(), AuditQuery{Actor: "root", Action: "user.", Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for {
		for _, e := range page.Entries {
			got = append(got, e.Target)
		}
		if page.Next == 0 {
			break
		}
		if len(page.Entries) != 3 {
			t.Fatalf("page of %d", len(page.Entries))
		}
		if page, err = a.QueryAudit(context.Background(), AuditQuery{Actor: "root", Action: "user.", Limit: 3, Before: page.Next}); err != nil {
			t.Fatal(err)
		}
	}
	if want := "[user:u6 user:u5 user:u4 user:u3 user:u2 user:u1 user:u0]"; fmt.Sprint(got) != want {
		t.Fatalf("pages: %v, want %s", got, want)
	}
	page, _ = a.QueryAudit(context.Background(), AuditQuery{From: start.Add(2 * time.Minute), To: start.Add(4 * time.Minute)})
	if got := actions(page.Entries); fmt.Sprint(got) != "[user.created user:u2 user.created user:u1]" {
		t.Fatalf("time window: %v", got)
	}
	page, _ = a.QueryAudit(context.Background(), AuditQuery{Action: "rules.changed"})
	if len(page.Entries) != 1 {
		t.Fatalf("by action: %v", actions(page.Entries))
	}
	if err := a.Audit(ctx, "x", "", []int{1}); err == nil {
		t.Fatal("a detail that is not an object was accepted")
	}
}

// TestWaitAudit: a follower blocked on the head wakes when an entry lands.
func TestWaitAudit(t *testing.T) {
	a, _ := newTestAuth(t)
	done := make(chan error, 1)
	go func() { done <- a.WaitAudit(context.Background(), 0) }()
	select {
	case err := <-done:
		t.Fatalf("WaitAudit returned early: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	mustUser(t, a, "root", RoleAdmin, "correct horse battery")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.WaitAudit(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestMigrateAuthFromEverySchema: an auth database of each released schema
// version, holding a user and a token, opens with this binary, migrates
// forward, keeps the token working (unscoped) and audits new work.
func TestMigrateAuthFromEverySchema(t *testing.T) {
	for v := 1; v <= len(migrations); v++ {
		t.Run(fmt.Sprintf("from v%d", v), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "auth.db")
			var text string
			{
				a, _ := newTestAuth(t, func(c *Config) { c.Path = filepath.Join(t.TempDir(), "seed.db") })
				hash, err := a.hasher.hash(ctx, "correct horse battery")
				if err != nil {
					t.Fatal(err)
				}
				old, err := sqlite.Open(ctx, path, sqlite.SyncNormal, migrations[:v])
				if err != nil {
					t.Fatal(err)
				}
				id, secret, tokText := newToken()
				text = tokText
				if _, err := old.Exec(ctx, `INSERT INTO users(name, role, password_hash, created_at) VALUES('root', 'admin', ?, 1)`, hash); err != nil {
					t.Fatal(err)
				}
				if _, err := old.Exec(ctx, `INSERT INTO tokens(id, name, secret_hash, role, user, created_at) VALUES(?, 'ci', ?, 'admin', 'root', 1)`, id, digest(secret)); err != nil {
					t.Fatal(err)
				}
				old.Close()
			}
			a, err := New(ctx, Config{Path: path, Hash: cheapParams}, nil, prometheus.NewRegistry())
			if err != nil {
				t.Fatalf("open a schema %d database: %v", v, err)
			}
			defer a.Close()
			if got, _ := sqlite.Version(ctx, a.db.R); got != len(migrations) {
				t.Fatalf("schema %d after opening, want %d", got, len(migrations))
			}
			req, _ := http.NewRequest(http.MethodGet, "/api/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+text)
			p, err := a.AuthenticateRequest(req)
			if err != nil || p.User != "root" || p.Source != "" || !p.Can(PermManageUsers) {
				t.Fatalf("old token after migration: %+v, %v", p, err)
			}
			if _, err := a.Login(ctx, "root", "correct horse battery", "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if n, err := a.VerifyAudit(ctx); err != nil || n != 1 {
				t.Fatalf("audit after migration: %d entries, %v", n, err)
			}
		})
	}
}

// TestSourceScopedToken: a token scoped to a source ingests and does
// nothing else, whatever its role; only roles that ingest get one.
func TestSourceScopedToken(t *testing.T) {
	a, _ := newTestAuth(t)
	ctx := context.Background()
	mustUser(t, a, "root", RoleAdmin, "correct horse battery")
	mustUser(t, a, "ana", RoleAgent, "correct horse battery")
	tok, text, err := a.IssueToken(ctx, TokenSpec{User: "root", Name: "mastodon feed", Source: "mastodon-brand"})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Source != "mastodon-brand" || tok.Role != RoleAdmin {
		t.Fatalf("token %+v", tok)
	}
	req, _ := http.NewRequest(http.MethodPost, "/api/v1/mentions", nil)
	req.Header.Set("Authorization", "Bearer "+text)
	p, err := a.AuthenticateRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	if p.Source != "mastodon-brand" || !p.Can(PermIngest) {
		t.Fatalf("principal %+v", p)
	}
	for _, perm := range Permissions {
		if perm != PermIngest && p.Can(perm) {
			t.Errorf("a source-scoped token may %s", perm)
		}
	}
	if got := p.Permissions(); len(got) != 1 || got[0] != PermIngest {
		t.Fatalf("permissions %v", got)
	}
	ts, _ := a.Tokens(ctx, "root")
	if len(ts) != 1 || ts[0].Source != "mastodon-brand" {
		t.Fatalf("listed %+v", ts)
	}
	for _, tc := range []struct {
		spec TokenSpec
		want error
	}{
		{TokenSpec{User: "ana", Name: "x", Source: "mastodon"}, ErrScope},
		{TokenSpec{User: "root", Name: "x", Role: RoleManager, Source: "mastodon"}, ErrScope},
		{TokenSpec{User: "root", Name: "x", Source: "-bad"}, ErrInvalidSource},
		{TokenSpec{User: "root", Name: "x", Source: strings.Repeat("a", 33)}, ErrInvalidSource},
	} {
		if _, _, err := a.IssueToken(ctx, tc.spec); !errors.Is(err, tc.want) {
			t.Errorf("IssueToken(%+v) = %v, want %v", tc.spec, err, tc.want)
		}
	}
}

func TestHTTPAuditAndScopedTokens(t *testing.T) {
	a, _ := newTestAuth(t)
	mustUser(t, a, "root", RoleAdmin, "correct horse battery")
	mustUser(t, a, "mia", RoleManager, "correct horse battery")
	srv := testServer(t, a)
	admin := &client{tb: t, srv: srv, bearer: testAdminToken}
	r := admin.do("POST", "/api/v1/tokens", `{"user":"root","name":"feed","source":"mastodon-brand"}`, "X-Request-Id", "rid-42")
	expect(t, r, http.StatusCreated)
	if r.body["source"] != "mastodon-brand" || r.header.Get("X-Request-Id") != "rid-42" {
		t.Fatalf("created %v, header %q", r.body, r.header.Get("X-Request-Id"))
	}
	scoped := &client{tb: t, srv: srv, bearer: r.body["token"].(string)}
	expect(t, scoped.do("POST", "/api/v1/tokens", `{"name":"more"}`), http.StatusForbidden)
	expect(t, scoped.do("GET", "/api/v1/audit", ""), http.StatusForbidden)
	expect(t, scoped.do("GET", "/api/v1/users", ""), http.StatusForbidden)
	me := scoped.do("GET", "/api/v1/me", "")
	expect(t, me, http.StatusOK)
	if me.body["source"] != "mastodon-brand" || fmt.Sprint(me.body["permissions"]) != "[ingest]" {
		t.Fatalf("/me of a scoped token: %v", me.body)
	}
	expect(t, admin.do("POST", "/api/v1/tokens", `{"user":"root","name":"x","source":"Not A Source"}`), http.StatusBadRequest)

	mgr := &client{tb: t, srv: srv}
	expect(t, mgr.login("mia", "correct horse battery"), http.StatusOK)
	expect(t, mgr.do("GET", "/api/v1/audit", ""), http.StatusForbidden)

	r = admin.do("GET", "/api/v1/audit?actor=admin-token&action=token.created", "")
	expect(t, r, http.StatusOK)
	var page AuditPage
	if err := json.Unmarshal([]byte(r.raw), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].RequestID != "rid-42" || page.Entries[0].RemoteIP != "127.0.0.1" || page.Entries[0].Via != ViaAdminToken {
		t.Fatalf("audit page %+v", page)
	}
	r = admin.do("GET", "/api/v1/audit?action=login.succeeded", "")
	if err := json.Unmarshal([]byte(r.raw), &page); err != nil || len(page.Entries) != 1 || page.Entries[0].Actor != "mia" {
		t.Fatalf("login entries %s", r.raw)
	}
	r = admin.do("GET", "/api/v1/audit?limit=1", "")
	if err := json.Unmarshal([]byte(r.raw), &page); err != nil || len(page.Entries) != 1 || page.Next == 0 {
		t.Fatalf("first page %s", r.raw)
	}
	r = admin.do("GET", fmt.Sprintf("/api/v1/audit?limit=500&before=%d", page.Next), "")
	var rest AuditPage
	if err := json.Unmarshal([]byte(r.raw), &rest); err != nil || len(rest.Entries) == 0 || rest.Entries[0].Seq != page.Next-1 || rest.Next != 0 {
		t.Fatalf("next page %s", r.raw)
	}
	for _, q := range []string{"from=yesterday", "limit=0", "limit=501", "before=-1", "from=2026-11-22T10:00:00Z&to=2026-11-22T09:00:00Z"} {
		expect(t, admin.do("GET", "/api/v1/audit?"+q, ""), http.StatusBadRequest)
	}
}

// BenchmarkAudit measures one audit entry appended and committed (fsync).
func BenchmarkAudit(b *testing.B) {
	a, _ := newTestAuth(b)
	ctx := WithRequest(NewContext(context.Background(), Principal{User: "root", Role: RoleAdmin, Via: ViaSession}), "192.0.2.1", "rid")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := a.Audit(ctx, "ticket.replied", "ticket:"+fmt.Sprint(i), map[string]any{"status": 202}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAudit measures checking the chain of 10,000 entries.
func BenchmarkVerifyAudit(b *testing.B) {
	a, _ := newTestAuth(b)
	ctx := NewContext(context.Background(), Principal{User: "root", Role: RoleAdmin})
	recs := make([]auditRecord, 1000)
	for i := range recs {
		recs[i] = auditRecord{"ticket.replied", "ticket:" + fmt.Sprint(i), map[string]any{"status": 202}}
	}
	for range 10 {
		if err := a.txAudit(ctx, func(*sqlite.Tx) ([]auditRecord, error) { return recs, nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n, err := a.VerifyAudit(context.Background()); err != nil || n != 10_000 {
			b.Fatal(n, err)
		}
	}
}
