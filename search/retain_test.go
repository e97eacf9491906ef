package search

import (
	"slices"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
)

// TestRetentionExpiresOldDocuments: retention.applied removes the documents
// of posts created before its cutoff, those already in the index and those
// in the same batch, and keeps the younger ones.
func TestRetentionExpiresOldDocuments(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	base := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
	add := func(id string, age time.Duration) {
		log.add(t, desk.EventMentionReceived, mentionData(id, "fr", "bonjour "+id, at(base.Add(-age))))
	}
	add("old1", 40*24*time.Hour)
	add("old2", 31*24*time.Hour)
	add("new1", 29*24*time.Hour)
	ix := openTest(t, log, "")
	catchUp(t, ix)
	add("old3", 35*24*time.Hour) // in the same batch as the sweep
	add("new2", time.Hour)
	log.add(t, desk.EventRetentionApplied, desk.RetentionData{Before: base.Add(-30 * 24 * time.Hour)})
	catchUp(t, ix)
	got := keys(mustSearch(t, ix, Request{Size: 100}))
	slices.Sort(got)
	if want := []string{"mastodon/new1", "mastodon/new2"}; !slices.Equal(got, want) {
		t.Fatalf("after the sweep: %v, want %v", got, want)
	}
	for _, q := range []string{"old1", "old2", "old3"} {
		if hits := mustSearch(t, ix, Request{Query: q, Size: 10}); hits.Total != 0 {
			t.Fatalf("an expired post is still found by %q: %+v", q, hits)
		}
	}
	if hits := mustSearch(t, ix, Request{Query: "new1", Size: 10}); hits.Total != 1 {
		t.Fatalf("a young post is not found: %+v", hits)
	}
}
