package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
)

const compactMarker = "\x00compact"

// compactWait bounds each of a compaction's waits for Bleve's background
// goroutines (the persister, the merger, the removal of merged files),
// unless ctx ends first. They share the CPUs with everything else: on a
// loaded two-core machine, a merged segment's file once outlived a 30-second
// bound.
const compactWait = 2 * time.Minute

// Compact merges the index into a single segment and waits until the older
// segment files are gone. A deleted document stays in its segment's file
// until that segment is merged away: after an erasure, Compact makes sure
// the person's text is no longer in the bytes of the index.
func (ix *Index) Compact(ctx context.Context) error {
	ix.mu.RLock()
	if ix.closed {
		ix.mu.RUnlock()
		return errors.New("search: index closed")
	}
	adv, err := ix.bleve.Advanced()
	ix.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("search: compact: %w", err)
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return fmt.Errorf("search: compact: index type %T cannot be merged", adv)
	}
	if n, err := ix.bleve.DocCount(); err == nil && n == 0 {
		// Nothing left to hold anyone's text; a lone empty segment is never
		// merged, so there is nothing to wait for either.
		return nil
	}
	merges := func() uint64 {
		v, _ := sc.StatsMap()["TotFileMergeIntroductionsDone"].(uint64)
		return v
	}
	before := merges()
	// Bleve never merges a lone segment, deleted documents and all: a
	// marker document, in a segment of its own, makes two to merge. It is
	// deleted once the merge is done.
	ix.mu.RLock()
	err = ix.bleve.Index(compactMarker, map[string]any{})
	ix.mu.RUnlock()
	if err != nil {
		return fmt.Errorf("search: compact: %w", err)
	}
	defer func() {
		ix.mu.RLock()
		defer ix.mu.RUnlock()
		if !ix.closed {
			ix.bleve.Delete(compactMarker)
		}
	}()
	store := filepath.Join(ix.cfg.Path, "store")
	// Either the marker's segment is on disk beside the others, or Bleve's
	// own merger has already merged them (which drops deleted documents too).
	if err := waitSegments(ctx, store, func(n int) bool { return n >= 2 || merges() > before }); err != nil {
		return err
	}
	// Merge what is on disk only once the deletions are on disk too.
	for deadline := time.Now().Add(compactWait); ix.persisted.Load() < ix.written.Load(); {
		if time.Now().After(deadline) {
			return fmt.Errorf("search: compact: written batches not on disk after %v", compactWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	old, err := segmentFiles(store)
	if err != nil {
		return err
	}
	opts := mergeplan.SingleSegmentMergePlanOptions
	if err := sc.ForceMerge(ctx, &opts); err != nil {
		return fmt.Errorf("search: compact: %w", err)
	}
	// The merger removes the merged segments' files once no snapshot
	// refers to them, shortly after the merge is persisted: done when one
	// file is left, or when none of the files from before the merge is
	// (the feeder may have written newer segments meanwhile, with only
	// newer events in them).
	return waitSegmentFiles(ctx, store, func(files map[string]bool) bool {
		if len(files) <= 1 {
			return true
		}
		for name := range files {
			if old[name] {
				return false
			}
		}
		return true
	})
}

// segmentFiles returns the names of the segment files in store.
func segmentFiles(store string) (map[string]bool, error) {
	entries, err := os.ReadDir(store)
	if err != nil {
		return nil, fmt.Errorf("search: compact: %w", err)
	}
	files := map[string]bool{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".zap") {
			files[e.Name()] = true
		}
	}
	return files, nil
}

// waitSegments waits until the number of segment files in store satisfies
// ok, for compactWait at most.
func waitSegments(ctx context.Context, store string, ok func(int) bool) error {
	return waitSegmentFiles(ctx, store, func(files map[string]bool) bool { return ok(len(files)) })
}

// waitSegmentFiles waits until the segment files in store satisfy ok, for
// compactWait at most.
func waitSegmentFiles(ctx context.Context, store string, ok func(map[string]bool) bool) error {
	for deadline := time.Now().Add(compactWait); ; {
		files, err := segmentFiles(store)
		if err != nil {
			return err
		}
		zaps := len(files)
		if ok(files) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("search: compact: still %d segment files after %v", zaps, compactWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
