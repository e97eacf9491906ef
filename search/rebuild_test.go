package search

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie/vigie/desk"
)

func TestRebuild(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := newMemLog()
	m := newModel(7, log)
	for range 400 {
		m.step(t)
	}
	cfg := Config{Path: filepath.Join(dir, "search.bleve")}

	// From nothing.
	res, err := Rebuild(context.Background(), log, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Cursor != log.LastSeq() || res.Documents != uint64(len(m.docs)) {
		t.Errorf("rebuild = %+v, want cursor %d and %d documents", res, log.LastSeq(), len(m.docs))
	}
	// Over an index that is stale and wrong.
	ix := openTest(t, log, dir)
	log.add(t, desk.EventMentionReceived, mentionData("stray", "en", "only in the old index"))
	catchUp(t, ix)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	log.evs = log.evs[:len(log.evs)-1] // the log no longer has it
	log.mu.Unlock()
	for range 100 {
		m.step(t)
	}
	if _, err := Rebuild(context.Background(), log, cfg, nil); err != nil {
		t.Fatal(err)
	}
	ix = openTest(t, log, dir)
	m.check(t, ix)
	if c, _ := ix.Cursor(); c != log.LastSeq() {
		t.Errorf("cursor = %d, want %d", c, log.LastSeq())
	}
	// Refused while the index is open; nothing left behind.
	if _, err := Rebuild(context.Background(), log, cfg, nil); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("rebuild of an open index: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only the index", len(entries))
	}
}
