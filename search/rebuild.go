package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RebuildResult says what Rebuild did.
type RebuildResult struct {
	Cursor    int64         // Seq of the last event in the new index
	Documents uint64        // mentions in the new index
	Elapsed   time.Duration // time taken
}

// Rebuild writes a new index from every event in log into a directory
// beside cfg.Path, then swaps it in place of the index at cfg.Path (if any),
// which must not be open (stop "vigie serve" first: Rebuild refuses an
// index another process holds). The swap is two renames: a crash between
// them leaves no index at cfg.Path, which the next Open creates empty and
// fills from the event log by itself. The old index is removed.
func Rebuild(ctx context.Context, log EventLog, cfg Config, logger *slog.Logger) (RebuildResult, error) {
	start := time.Now()
	if err := cfg.Validate(); err != nil {
		return RebuildResult{}, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := checkNotInUse(cfg.Path); err != nil {
		return RebuildResult{}, err
	}
	tmp := cfg.Path + ".rebuild-" + strconv.Itoa(os.Getpid())
	if err := os.RemoveAll(tmp); err != nil {
		return RebuildResult{}, fmt.Errorf("search: rebuild: clear %q: %w", tmp, err)
	}
	bcfg := cfg
	bcfg.Path = tmp
	bcfg.BatchEvents = max(cfg.BatchEvents, 5_000)
	bcfg.ReadEvents = max(cfg.ReadEvents, 5_000)
	// The last batch must be on disk before the swap.
	bcfg.SyncBatches = true
	res, err := build(ctx, log, bcfg, logger)
	if err != nil {
		_ = os.RemoveAll(tmp)
		return RebuildResult{}, err
	}
	old := cfg.Path + ".old-" + strconv.Itoa(os.Getpid())
	if _, err := os.Stat(cfg.Path); err == nil {
		if err := os.Rename(cfg.Path, old); err != nil {
			_ = os.RemoveAll(tmp)
			return RebuildResult{}, fmt.Errorf("search: rebuild: move old index aside: %w", err)
		}
	}
	if err := os.Rename(tmp, cfg.Path); err != nil {
		return RebuildResult{}, fmt.Errorf("search: rebuild: move new index in place: %w", err)
	}
	syncDir(filepath.Dir(cfg.Path))
	if err := os.RemoveAll(old); err != nil {
		logger.Warn("rebuild_cleanup_failed", "path", old, "error", err)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func build(ctx context.Context, log EventLog, cfg Config, logger *slog.Logger) (RebuildResult, error) {
	ix, err := Open(cfg, log, logger, nil)
	if err != nil {
		return RebuildResult{}, err
	}
	cursor, err := ix.CatchUp(ctx)
	if err != nil {
		_ = ix.Close()
		return RebuildResult{}, fmt.Errorf("search: rebuild: %w", err)
	}
	n, err := ix.DocCount()
	if err != nil {
		_ = ix.Close()
		return RebuildResult{}, fmt.Errorf("search: rebuild: %w", err)
	}
	if err := ix.Close(); err != nil {
		return RebuildResult{}, fmt.Errorf("search: rebuild: %w", err)
	}
	return RebuildResult{Cursor: cursor, Documents: n}, nil
}

// checkNotInUse fails if another process holds the index at path: scorch
// holds an exclusive lock on its root.bolt while open.
func checkNotInUse(path string) error {
	root := filepath.Join(path, "store", "root.bolt")
	if _, err := os.Stat(root); err != nil {
		return nil // no index, or not one Rebuild can lock: it will be replaced
	}
	db, err := bolt.Open(root, 0o600, &bolt.Options{Timeout: 500 * time.Millisecond, ReadOnly: true})
	if errors.Is(err, bolt.ErrTimeout) {
		return fmt.Errorf("search: index %q is in use: stop the server first", path)
	}
	if err == nil {
		_ = db.Close()
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
