package search

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
)

// A search that still reads the index from before a compaction's merge
// keeps the old segment files past the persister's round that would have
// removed them. Once it ends, the compaction must still see them go, on
// an index nobody writes to.
func TestCompactOutlastsAReader(t *testing.T) {
	t.Parallel()
	ix := openTest(t, httpTestLog(t), "")
	catchUp(t, ix)
	adv, err := ix.bleve.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	sc := adv.(*scorch.Scorch)
	stat := func(name string) uint64 {
		v, _ := sc.StatsMap()[name].(uint64)
		return v
	}
	// The mentions' segment on disk first, so that the marker's is a file
	// of its own and the merge has two files to merge.
	for stat("LastPersistedEpoch") < stat("CurRootEpoch") {
		time.Sleep(5 * time.Millisecond)
	}
	reader, err := sc.Reader()
	if err != nil {
		t.Fatal(err)
	}
	merges, idle := stat("TotFileMergeIntroductionsDone"), stat("TotPersistLoopWait")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ix.Compact(ctx) }()

	// Wait for the merge to be persisted and for the persister to fall idle
	// after it (a round for the marker, one for the merge), the reader's
	// files still on disk.
	for stat("TotFileMergeIntroductionsDone") == merges || stat("LastPersistedEpoch") < stat("CurRootEpoch") || stat("TotPersistLoopWait") < idle+2 {
		select {
		case err := <-done:
			t.Fatalf("Compact returned %v before its merge was persisted", err)
		case <-ctx.Done():
			t.Fatalf("the merge was never persisted: %d merges, epochs %d of %d persisted", stat("TotFileMergeIntroductionsDone"), stat("LastPersistedEpoch"), stat("CurRootEpoch"))
		case <-time.After(5 * time.Millisecond):
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Compact returned %v while a reader held the files from before the merge", err)
	default:
	}

	if err := reader.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Compact after the reader ended: %v", err)
	}
	files, err := segmentFiles(filepath.Join(ix.cfg.Path, "store"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 {
		t.Errorf("%d segment files after Compact, want 1: %v", len(files), files)
	}
}
