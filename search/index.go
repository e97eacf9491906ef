package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
)

// EventLog is what the index follows: the desk's event log.
//
// ReadEvents returns up to max events with Seq > after, in Seq order, and an
// empty slice when there are none yet. WaitEvents blocks until an event with
// Seq > after exists (returning nil at once if one does) or ctx is done
// (returning ctx.Err()). Both are safe for concurrent use.
//
// An EventLog that also implements LastSeq() int64 (the head of the log)
// lets the index report its lag in events.
type EventLog interface {
	ReadEvents(ctx context.Context, after int64, max int) ([]desk.Event, error)
	WaitEvents(ctx context.Context, after int64) error
}

// headReader is the optional capability of an EventLog that knows its head.
type headReader interface{ LastSeq() int64 }

// Internal keys, stored in the index beside the documents.
var (
	// keyCursor holds the Seq of the last event in the index, written in
	// the same batch as that event's documents.
	keyCursor = []byte("vigie.cursor")
	// keyMapping holds mappingVersion: an index built with another mapping
	// is thrown away and rebuilt from the event log.
	keyMapping = []byte("vigie.mapping")
)

// mappingVersion names the mapping of newMapping; bump it when the mapping
// or the documents change.
const mappingVersion = "2"

// Index is the full-text index of every mention, fed from the desk's event
// log by Run and queried by Search. Search is safe for concurrent use, also
// while Run writes; Run must run at most once at a time.
type Index struct {
	cfg    Config
	log    EventLog
	logger *slog.Logger
	m      *metrics

	mu     sync.RWMutex // guards bleve against use after Close
	bleve  bleve.Index
	closed bool

	running   sync.Mutex   // held by Run and CatchUp
	written   atomic.Int64 // Seq of the last event written to the index
	persisted atomic.Int64 // Seq of the last event on disk
	cursor    int64        // Seq of the last event in the index; owned by the feeder
	feeder    *feeder
}

// Open opens the index at cfg.Path, creating it when it does not exist, and
// returns it ready to search. Call Run to follow log, and Close when done.
// An index written by another version of the mapping is dropped and rebuilt
// from the event log by Run.
func Open(cfg Config, log EventLog, logger *slog.Logger, reg prometheus.Registerer) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ix := &Index{cfg: cfg, log: log, logger: logger.With("component", "search"), m: newMetrics(reg)}
	b, err := openBleve(cfg)
	if err != nil {
		return nil, err
	}
	v, err := b.GetInternal(keyMapping)
	if err == nil && string(v) != mappingVersion {
		ix.logger.Warn("index_mapping_changed", "path", cfg.Path, "found", string(v), "want", mappingVersion)
		if err := b.Close(); err != nil {
			return nil, fmt.Errorf("search: close outdated index %q: %w", cfg.Path, err)
		}
		if err := os.RemoveAll(cfg.Path); err != nil {
			return nil, fmt.Errorf("search: remove outdated index %q: %w", cfg.Path, err)
		}
		if b, err = openBleve(cfg); err != nil {
			return nil, err
		}
	}
	c, err := readCursor(b)
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("search: open %q: %w", cfg.Path, err)
	}
	ix.bleve, ix.cursor = b, c
	ix.written.Store(c)
	ix.persisted.Store(c)
	ix.feeder = newFeeder(ix)
	ix.m.cursor.Set(float64(c))
	return ix, nil
}

// openBleve opens the Bleve index at cfg.Path or creates it with the
// current mapping.
func openBleve(cfg Config) (bleve.Index, error) {
	rt := map[string]any{
		"unsafe_batch": !cfg.SyncBatches,
		// Fail instead of hanging when another process holds the index.
		"bolt_timeout": "5s",
	}
	b, err := bleve.OpenUsing(cfg.Path, rt)
	if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
		if err := create(cfg.Path); err != nil {
			return nil, fmt.Errorf("search: create index %q: %w", cfg.Path, err)
		}
		b, err = bleve.OpenUsing(cfg.Path, rt)
	}
	if err != nil {
		return nil, fmt.Errorf("search: open index %q (run \"vigie reindex\" to rebuild it): %w", cfg.Path, err)
	}
	return b, nil
}

// create writes an empty index with the current mapping, synchronously: the
// mapping is stored inside the index, and an unsafe batch not yet persisted
// when the index is closed is lost.
func create(path string) error {
	b, err := bleve.NewUsing(path, newMapping(), scorch.Name, scorch.Name, map[string]any{"unsafe_batch": false})
	if err != nil {
		return err
	}
	if err := b.SetInternal(keyMapping, []byte(mappingVersion)); err != nil {
		_ = b.Close()
		return err
	}
	return b.Close()
}

func readCursor(b bleve.Index) (int64, error) {
	v, err := b.GetInternal(keyCursor)
	if err != nil {
		return 0, fmt.Errorf("read cursor: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	c, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read cursor %q: %w", v, err)
	}
	return c, nil
}

// Cursor returns the Seq of the last event in the index.
func (ix *Index) Cursor() (int64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, ErrClosed
	}
	return readCursor(ix.bleve)
}

// DocCount returns how many mentions the index holds.
func (ix *Index) DocCount() (uint64, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return 0, ErrClosed
	}
	n, err := ix.bleve.DocCount()
	if err != nil {
		return 0, fmt.Errorf("search: count documents: %w", err)
	}
	return n, nil
}

// closeWait bounds how long Close waits for written batches to reach the
// disk; Bleve's persister takes milliseconds per batch, so this only matters
// when the disk is stuck.
const closeWait = 10 * time.Second

// Close closes the index. Stop Run first: batches it has not written are
// replayed from the event log on the next Open. Close waits (up to 10s) for
// the batches written to be on disk, so that a clean restart does not
// replay them. Close is idempotent.
func (ix *Index) Close() error {
	deadline := time.Now().Add(closeWait)
	for ix.persisted.Load() < ix.written.Load() && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	if err := ix.bleve.Close(); err != nil {
		return fmt.Errorf("search: close index %q: %w", ix.cfg.Path, err)
	}
	return nil
}
