package intake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/listener"
)

// TestRetainDeletesOldReadItemsOnly: the sweep deletes the mentions and
// check-ins received before the cutoff that every follower has read, keeps
// the rest and the tombstones, remembers where it stopped, and an expired
// post delivered again is still a duplicate.
func TestRetainDeletesOldReadItemsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "intake.db")
	l := openLog(t, path, func(c *Config) { c.TailRecords = 2 })
	defer l.Close()
	old := []listener.Item{
		item("1", "le train a encore du retard SECRET-ONE"),
		listener.TombstoneItem(listener.Tombstone{Source: "x", ID: "9", At: time.Unix(0, 0).UTC()}),
		item("2", "remboursement SECRET-TWO"),
		item("3", "pas encore lu SECRET-THREE"),
	}
	if _, err := l.Append(ctx, old, time.Now()); err != nil {
		t.Fatal(err)
	}
	cutoff := time.Now().Add(time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if _, err := l.Append(ctx, []listener.Item{item("4", "récent SECRET-FOUR")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Followers have read up to seq 3: item 3 (seq 4) must stay.
	n, err := l.Retain(ctx, cutoff, 3)
	if err != nil || n != 2 {
		t.Fatalf("Retain = %d, %v; want 2 deleted", n, err)
	}
	recs, err := l.Read(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, r := range recs {
		kept = append(kept, string(r.Item.Kind)+":"+r.Item.NativeID())
	}
	if got := strings.Join(kept, " "); got != "tombstone:9 mention:3 mention:4" {
		t.Fatalf("kept %q", got)
	}
	// The followers move on: the next sweep takes item 3, not item 4
	// (received after the cutoff), and nothing twice.
	if n, err := l.Retain(ctx, cutoff, 5); err != nil || n != 1 {
		t.Fatalf("second Retain = %d, %v", n, err)
	}
	if n, err := l.Retain(ctx, cutoff, 5); err != nil || n != 0 {
		t.Fatalf("third Retain = %d, %v", n, err)
	}
	res, err := l.Append(ctx, []listener.Item{item("1", "le train a encore du retard SECRET-ONE")}, time.Now())
	if err != nil || res[0].Outcome != Duplicate {
		t.Fatalf("an expired post delivered again: %+v, %v", res, err)
	}
	if err := l.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	l.Close()
	for _, name := range []string{"intake.db", "intake.db-wal"} {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(path), name))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, s := range []string{"SECRET-ONE", "SECRET-TWO", "SECRET-THREE"} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s still holds %s", name, s)
			}
		}
	}
}

// TestIngestSourceScope: with a source scope, items of other sources are
// rejected one by one with their index and code; the others are stored.
func TestIngestSourceScope(t *testing.T) {
	t.Parallel()
	l := openLog(t, filepath.Join(t.TempDir(), "intake.db"))
	defer l.Close()
	type scopeKey struct{}
	l.SetSourceScope(func(ctx context.Context) string { s, _ := ctx.Value(scopeKey{}).(string); return s })
	e := echo.New()
	g := e.Group("/api/v1", func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if s := c.Request().Header.Get("X-Test-Scope"); s != "" {
				c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), scopeKey{}, s)))
			}
			return next(c)
		}
	})
	l.Register(g)
	srv := httptest.NewServer(e)
	defer srv.Close()
	body := `[{"source":"mastodon-brand","id":"1","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"ok"},
		{"source":"bluesky","id":"2","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"other source"},
		{"source":"mastodon-brand","id":"3","created_at":"not a time","author":{"id":"a"},"text":"bad"},
		{"source":"mastodon-brand","id":"4","created_at":"2026-11-22T10:00:00Z","author":{"id":"a"},"text":"ok too"}]`
	post := func(scope string) IngestResponse {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/mentions", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if scope != "" {
			req.Header.Set("X-Test-Scope", scope)
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("status %d", res.StatusCode)
		}
		var out IngestResponse
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := post("mastodon-brand")
	if out.Accepted != 2 || len(out.Rejected) != 2 {
		t.Fatalf("scoped ingest: %+v", out)
	}
	if r := out.Rejected[0]; r.Index != 1 || r.Code != listener.CodeSourceNotAllowed || !strings.Contains(r.Error, `"bluesky"`) {
		t.Fatalf("first rejection %+v", r)
	}
	if r := out.Rejected[1]; r.Index != 2 || r.Code != listener.CodeInvalid {
		t.Fatalf("second rejection %+v", r)
	}
	if out := post(""); out.Accepted != 1 || out.Duplicates != 2 {
		t.Fatalf("unscoped ingest: %+v", out)
	}
}

// TestRestartAfterRetentionKeepsSeqsNew: when retention deleted the newest
// items, a restart still numbers new items after them, so that followers,
// which read past those seqs, do not skip the new items.
func TestRestartAfterRetentionKeepsSeqsNew(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "intake.db")
	l := openLog(t, path)
	if _, err := l.Append(ctx, []listener.Item{item("1", "a"), item("2", "b"), item("3", "c")}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := l.Retain(ctx, time.Now().Add(time.Hour), 3); err != nil || n != 3 {
		t.Fatalf("Retain = %d, %v; want 3 deleted", n, err)
	}
	l.Close()
	l = openLog(t, path)
	defer l.Close()
	if got := l.LastSeq(); got != 3 {
		t.Fatalf("LastSeq after the restart = %d, want 3", got)
	}
	res, err := l.Append(ctx, []listener.Item{item("4", "d")}, time.Now())
	if err != nil || res[0].Seq != 4 {
		t.Fatalf("the first item after the restart: %+v, %v; want seq 4", res, err)
	}
}
