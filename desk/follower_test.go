package desk

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestFollower: a follower reads the same events as the desk, sees new ones
// (WaitEvents) without the desk telling it, and refuses a file it does not
// know.
func TestFollower(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	for i := range 10 {
		f.apply(f.mention(strconv.Itoa(i), "ana", "train late "+strconv.Itoa(i), "", 1))
	}
	ctx := context.Background()
	fl, err := OpenFollower(ctx, d.db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer fl.Close()
	fl.poll = time.Millisecond
	if fl.LastSeq() != d.LastSeq() {
		t.Fatalf("follower's head %d, desk's %d", fl.LastSeq(), d.LastSeq())
	}
	got, err := fl.ReadEvents(ctx, 2, 1000)
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.readStoredEvents(ctx, 2, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("follower read %d events %+v, the desk %d", len(got), got, len(want))
	}

	head := d.LastSeq()
	waited := make(chan error, 1)
	go func() { waited <- fl.WaitEvents(ctx, head) }()
	select {
	case err := <-waited:
		t.Fatalf("WaitEvents returned %v before any new event", err)
	case <-time.After(50 * time.Millisecond):
	}
	f.apply(f.mention("new", "bob", "and again", "", 1))
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	evs, err := fl.ReadEvents(ctx, head, 10)
	if err != nil || len(evs) == 0 || !strings.Contains(string(evs[0].Data), "and again") {
		t.Fatalf("after the wait: %v, %+v", err, evs)
	}
	// Behind, reading full pages, it knows how far behind (the sink's lag).
	for i := range 3 {
		f.apply(f.mention("more"+strconv.Itoa(i), "cid", "behind", "", 1))
	}
	if _, err := fl.ReadEvents(ctx, 0, 2); err != nil {
		t.Fatal(err)
	}
	if fl.LastSeq() != d.LastSeq() {
		t.Fatalf("after a full page, the follower's head is %d, the desk's %d", fl.LastSeq(), d.LastSeq())
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := fl.WaitEvents(cctx, d.LastSeq()); err != context.Canceled {
		t.Fatalf("WaitEvents with a done context: %v", err)
	}

	// A file of another schema version, or none, is refused.
	if _, err := OpenFollower(ctx, filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Fatal("a follower opened a missing file")
	}
	other := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE events (seq INTEGER); PRAGMA user_version = 999"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := OpenFollower(ctx, other); err == nil || !strings.Contains(err.Error(), "schema version 999") {
		t.Fatalf("a follower of a file of schema version 999: %v", err)
	}
}
