package desk

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
)

// TestMigrateFromEverySchema: a desk database created by each released
// schema version, holding a ticket, opens with this binary, migrates, and
// serves the ticket and new work.
func TestMigrateFromEverySchema(t *testing.T) {
	for v := 1; v <= len(migrations); v++ {
		t.Run(fmt.Sprintf("from v%d", v), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "desk.db")
			ctx := context.Background()
			old, err := sqlite.Open(ctx, path, sqlite.SyncNormal, migrations[:v])
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UnixNano()
			if _, err := old.Exec(ctx, `INSERT INTO tickets(id, queue, status, priority, sentiment, intent, lang, source, author_id, author, conversation, created_at, updated_at, tags, routing, message_count)
				VALUES(1, 'refunds', 'open', 'high', -0.5, 'complaint', 'fr', 'x', 'ana', '{"id":"ana"}', 'p1', ?, ?, '[]', '{"rule":"refunds","trace":[]}', 1)`, now, now); err != nil {
				t.Fatal(err)
			}
			if _, err := old.Exec(ctx, `INSERT INTO messages(ticket_id, direction, source, native_id, version, author_id, text, conversation, created_at) VALUES(1, 'in', 'x', 'p1', 1, 'ana', 'toujours pas de remboursement', 'p1', ?)`, now); err != nil {
				t.Fatal(err)
			}
			old.Close()

			d, err := Open(ctx, Config{Path: path}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			if err != nil {
				t.Fatalf("open a schema %d database: %v", v, err)
			}
			defer d.Close()
			tk, err := d.Ticket(ctx, 1)
			if err != nil || tk.Queue != "refunds" || len(tk.Messages) != 1 {
				t.Fatalf("ticket after migration: %+v, %v", tk, err)
			}
			if _, _, err := d.SaveRules(ctx, "rules: []\n", "test", ""); err != nil {
				t.Fatalf("new work after migration: %v", err)
			}
			if got, _ := sqlite.Version(ctx, d.db.R); got != len(migrations) {
				t.Fatalf("schema %d after opening, want %d", got, len(migrations))
			}
		})
	}
}

// TestRefuseNewerSchema: a database from a newer Vigie is not opened (it
// could not be read right).
func TestRefuseNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "desk.db")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.SyncNormal, append(append([]string{}, migrations...), "CREATE TABLE future(x)"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, Config{Path: path}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("opening a newer schema: %v", err)
	}
}
