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

// compactNudge is how often a compaction waiting for the merged segments'
// files to go makes the persister look again.
const compactNudge = 500 * time.Millisecond

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
	epoch := func(name string) uint64 {
		v, _ := sc.StatsMap()[name].(uint64)
		return v
	}
	// Merge what is on disk once the marker and the deletions are: once
	// the persister has written a snapshot from after the marker (the
	// marker's segment in a file of its own, or merged with the others
	// still in memory, which drops their deleted documents too).
	marked := epoch("CurRootEpoch")
	for deadline := time.Now().Add(compactWait); epoch("LastPersistedEpoch") < marked || ix.persisted.Load() < ix.written.Load(); {
		if time.Now().After(deadline) {
			return fmt.Errorf("search: compact: the index not on disk after %v", compactWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	store := filepath.Join(ix.cfg.Path, "store")
	old, err := segmentFiles(store)
	if err != nil {
		return err
	}
	opts := mergeplan.SingleSegmentMergePlanOptions
	if err := sc.ForceMerge(ctx, &opts); err != nil {
		return fmt.Errorf("search: compact: %w", err)
	}
	// The persister removes the merged segments' files when it next falls
	// idle, and only those of snapshots nobody holds any more. A search that
	// still reads the index from before the merge keeps them past that
	// round, and a quiet index may have no other: each nudge deletes the
	// marker (again), which makes a round. Done when one file is left, or
	// when none of the files from before the merge is (the feeder may have
	// written newer segments meanwhile, with only newer events in them).
	nudge := func() error {
		ix.mu.RLock()
		defer ix.mu.RUnlock()
		if ix.closed {
			return errors.New("search: index closed")
		}
		if err := ix.bleve.Delete(compactMarker); err != nil {
			return fmt.Errorf("search: compact: %w", err)
		}
		return nil
	}
	return waitSegmentFiles(ctx, store, nudge, func(files map[string]bool) bool {
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

// waitSegmentFiles waits until the segment files in store satisfy ok, for
// compactWait at most, calling nudge, when set, every compactNudge.
func waitSegmentFiles(ctx context.Context, store string, nudge func() error, ok func(map[string]bool) bool) error {
	next := time.Now().Add(compactNudge)
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
		if nudge != nil && time.Now().After(next) {
			if err := nudge(); err != nil {
				return err
			}
			next = time.Now().Add(compactNudge)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
