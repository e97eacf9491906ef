package offer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/internal/pause"
	"github.com/vigie/vigie/internal/sqlite"
)

// Log is what the engine reads: the intake log. Wait blocks until a record
// after seq is committed or ctx is done; Read returns up to max records after
// seq, in order, without blocking.
type Log interface {
	Wait(ctx context.Context, after int64) error
	Read(ctx context.Context, after int64, max int) ([]intake.Record, error)
	LastSeq() int64
}

// Publisher appends an event to the desk's event log and pushes it live on
// the websocket: (*desk.Desk).Publish. It must be safe for concurrent use.
type Publisher interface {
	Publish(ctx context.Context, typ desk.EventType, topic desk.Topic, data any) (desk.Event, error)
}

// The desk events the engine publishes on desk.TopicOffers. Their data is a
// Decision (with its id, so that a consumer can drop a repeat: publication
// is at least once).
const (
	EventSent     desk.EventType = "offer.sent"
	EventSkipped  desk.EventType = "offer.skipped"
	EventRedeemed desk.EventType = "offer.redeemed"
)

var migrations = []string{
	`CREATE TABLE fences(id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL);
	CREATE TABLE campaigns(id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL);
	CREATE TABLE consents(
		source TEXT NOT NULL, user_id TEXT NOT NULL,
		granted INTEGER NOT NULL, channel TEXT NOT NULL, proof TEXT NOT NULL,
		tags TEXT NOT NULL, time_zone TEXT NOT NULL,
		granted_at INTEGER, withdrawn_at INTEGER, updated_at INTEGER NOT NULL,
		PRIMARY KEY(source, user_id)) WITHOUT ROWID;
	CREATE TABLE consent_log(
		id INTEGER PRIMARY KEY, source TEXT NOT NULL, user_id TEXT NOT NULL,
		at INTEGER NOT NULL, granted INTEGER NOT NULL, channel TEXT NOT NULL,
		proof TEXT NOT NULL, recorded_by TEXT NOT NULL);
	CREATE INDEX consent_log_user ON consent_log(source, user_id, id);
	CREATE TABLE people(
		source TEXT NOT NULL, user_id TEXT NOT NULL, influence INTEGER NOT NULL,
		PRIMARY KEY(source, user_id)) WITHOUT ROWID;
	CREATE TABLE presence(
		source TEXT NOT NULL, user_id TEXT NOT NULL, fence_id INTEGER NOT NULL,
		entered_at INTEGER NOT NULL, last_at INTEGER NOT NULL, fired TEXT NOT NULL,
		PRIMARY KEY(source, user_id, fence_id)) WITHOUT ROWID;
	CREATE TABLE decisions(
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		seq INTEGER NOT NULL, at INTEGER NOT NULL, decided_at INTEGER NOT NULL,
		source TEXT NOT NULL, user_id TEXT NOT NULL, handle TEXT NOT NULL,
		item TEXT NOT NULL, item_id TEXT NOT NULL,
		fence_id INTEGER NOT NULL, store TEXT NOT NULL, transition TEXT NOT NULL,
		campaign_id INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
		text TEXT NOT NULL, code TEXT NOT NULL,
		delivery TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER,
		last_error TEXT NOT NULL DEFAULT '', delivered_at INTEGER, redeemed_at INTEGER,
		redeem_ref TEXT NOT NULL DEFAULT '');
	CREATE INDEX decisions_user_sent ON decisions(source, user_id, at) WHERE status = 'sent';
	CREATE INDEX decisions_campaign_sent ON decisions(campaign_id, source, user_id, at) WHERE status = 'sent';
	CREATE INDEX decisions_queued ON decisions(next_at) WHERE delivery = 'queued';
	CREATE INDEX decisions_filter ON decisions(status, reason, id);
	CREATE INDEX decisions_delivery ON decisions(delivery, id);
	CREATE INDEX decisions_person ON decisions(source, user_id, id);
	CREATE TABLE outbox(id INTEGER PRIMARY KEY, type TEXT NOT NULL, data BLOB NOT NULL);
	CREATE TABLE state(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;`,
}

// Engine is the offer engine. It follows the intake log from its own
// persisted cursor, matches every check-in and geolocated mention against
// the fences, decides (and records) whether an offer goes out, delivers the
// offers to the gateway and publishes its decisions to the desk. Its methods
// are safe for concurrent use; Run must be called once.
type Engine struct {
	cfg     Config
	db      *sqlite.DB
	in      Log
	pub     Publisher
	log     *slog.Logger
	metrics *metrics
	client  *http.Client

	// catMu serialises changes to fences and campaigns; cat is the
	// snapshot the matcher reads without locks.
	catMu     sync.Mutex
	fences    map[int64]*Fence
	campaigns map[int64]*Campaign
	cat       atomic.Pointer[catalog]

	// visits is owned by the matching loop (Run): the people inside
	// fences, by person then fence.
	visits    map[personKey]map[int64]*visit
	watermark time.Time // the newest point time seen, for pruning
	lastPrune time.Time
	cursor    atomic.Int64
	install   int64

	wakeDeliver chan struct{}
	wakePublish chan struct{}
	closed      atomic.Bool
}

// catalog is an immutable snapshot of the fences and campaigns.
type catalog struct {
	index   *Index
	fences  map[int64]*Fence
	byFence map[int64][]*Campaign // active campaigns, in priority order
}

type personKey struct{ source, user string }

// visit is a person's presence inside one fence.
type visit struct {
	EnteredAt time.Time
	LastAt    time.Time
	// Fired lists the dwell campaigns already sent in this visit.
	Fired []int64
}

// Open opens (creating when missing) the engine's database and loads its
// fences, campaigns and presence. pub may be nil: decisions are then not
// published as desk events. Call Run to start it and Close when done.
func Open(ctx context.Context, cfg Config, in Log, pub Publisher, logger *slog.Logger, reg prometheus.Registerer) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, cfg.Path, sqlite.SyncFull, migrations)
	if err != nil {
		return nil, fmt.Errorf("open offer store: %w", err)
	}
	e := &Engine{
		cfg: cfg, db: db, in: in, pub: pub,
		log:         logger.With("component", "offer"),
		metrics:     newMetrics(reg),
		client:      &http.Client{Timeout: cfg.GatewayTimeout},
		fences:      map[int64]*Fence{},
		campaigns:   map[int64]*Campaign{},
		visits:      map[personKey]map[int64]*visit{},
		wakeDeliver: make(chan struct{}, 1),
		wakePublish: make(chan struct{}, 1),
	}
	if err := e.load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if cfg.GatewayURL == "" {
		e.log.Warn("offer_gateway_unset", "effect", "offers are decided and recorded but not delivered")
	}
	return e, nil
}

// Close closes the database. Call it after Run has returned.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	return e.db.Close()
}

// Cursor returns the seq of the last intake record decided.
func (e *Engine) Cursor() int64 { return e.cursor.Load() }

// CaughtUp reports whether every intake record up to seq is decided.
func (e *Engine) CaughtUp(seq int64) bool { return e.cursor.Load() >= seq }

func (e *Engine) load(ctx context.Context) error {
	var cur int64
	err := e.db.R.QueryRowContext(ctx, "SELECT value FROM state WHERE name = 'intake_cursor'").Scan(&cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read offer cursor: %w", err)
	}
	e.cursor.Store(cur)
	// The install id makes offer ids unique across databases, so that a
	// gateway that keeps idempotency keys never takes a new offer of a new
	// data directory for an old one.
	err = e.db.R.QueryRowContext(ctx, "SELECT value FROM state WHERE name = 'install_id'").Scan(&e.install)
	if errors.Is(err, sql.ErrNoRows) {
		e.install = rand.Int64N(1 << 62)
		_, err = e.db.Exec(ctx, "INSERT INTO state(name, value) VALUES('install_id', ?)", e.install)
	}
	if err != nil {
		return fmt.Errorf("read install id: %w", err)
	}
	if err := loadBodies(ctx, e.db.R, "fences", func(id int64, body []byte) error {
		var f Fence
		if err := json.Unmarshal(body, &f); err != nil {
			return err
		}
		f.ID = id
		if err := f.compile(); err != nil {
			return err
		}
		e.fences[id] = &f
		return nil
	}); err != nil {
		return err
	}
	if err := loadBodies(ctx, e.db.R, "campaigns", func(id int64, body []byte) error {
		var c Campaign
		if err := json.Unmarshal(body, &c); err != nil {
			return err
		}
		c.ID = id
		if err := c.compile(); err != nil {
			return err
		}
		e.campaigns[id] = &c
		return nil
	}); err != nil {
		return err
	}
	e.rebuild()
	rows, err := e.db.R.QueryContext(ctx, "SELECT source, user_id, fence_id, entered_at, last_at, fired FROM presence")
	if err != nil {
		return fmt.Errorf("load presence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k        personKey
			fence    int64
			in, last int64
			fired    string
		)
		if err := rows.Scan(&k.source, &k.user, &fence, &in, &last, &fired); err != nil {
			return fmt.Errorf("load presence: %w", err)
		}
		v := &visit{EnteredAt: time.Unix(0, in).UTC(), LastAt: time.Unix(0, last).UTC()}
		if err := json.Unmarshal([]byte(fired), &v.Fired); err != nil {
			return fmt.Errorf("load presence of fence %d: %w", fence, err)
		}
		if e.visits[k] == nil {
			e.visits[k] = map[int64]*visit{}
		}
		e.visits[k][fence] = v
		if v.LastAt.After(e.watermark) {
			e.watermark = v.LastAt
		}
	}
	return rows.Err()
}

func loadBodies(ctx context.Context, db *sql.DB, table string, each func(id int64, body []byte) error) error {
	rows, err := db.QueryContext(ctx, "SELECT id, body FROM "+table+" ORDER BY id")
	if err != nil {
		return fmt.Errorf("load %s: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   int64
			body []byte
		)
		if err := rows.Scan(&id, &body); err != nil {
			return fmt.Errorf("load %s: %w", table, err)
		}
		if err := each(id, body); err != nil {
			return fmt.Errorf("load %s %d: %w", table, id, err)
		}
	}
	return rows.Err()
}

// rebuild makes a new catalog snapshot from e.fences and e.campaigns. The
// caller holds catMu (or has the engine to itself, in Open).
func (e *Engine) rebuild() {
	fences := make([]*Fence, 0, len(e.fences))
	byID := make(map[int64]*Fence, len(e.fences))
	for _, f := range e.fences {
		fences = append(fences, f)
		byID[f.ID] = f
	}
	slices.SortFunc(fences, func(a, b *Fence) int { return cmpInt64(a.ID, b.ID) })
	camps := make([]*Campaign, 0, len(e.campaigns))
	for _, c := range e.campaigns {
		if !c.Paused {
			camps = append(camps, c)
		}
	}
	slices.SortFunc(camps, func(a, b *Campaign) int {
		if a.Priority != b.Priority {
			return a.Priority - b.Priority
		}
		return cmpInt64(a.ID, b.ID)
	})
	byFence := map[int64][]*Campaign{}
	for _, f := range fences {
		for _, c := range camps {
			if c.appliesTo(f) {
				byFence[f.ID] = append(byFence[f.ID], c)
			}
		}
	}
	e.cat.Store(&catalog{index: newIndex(fences), fences: byID, byFence: byFence})
	e.metrics.fences.Set(float64(len(fences)))
	e.metrics.campaigns.Set(float64(len(camps)))
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Run matches, decides, delivers and publishes until ctx is done, and
// returns ctx.Err(). A failing batch is retried with back-off, never
// skipped.
func (e *Engine) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return e.matchLoop(ctx) })
	if e.cfg.GatewayURL != "" {
		g.Go(func() error { return e.deliverLoop(ctx) })
	}
	if e.pub != nil {
		g.Go(func() error { return e.publishLoop(ctx) })
	}
	return g.Wait()
}

func (e *Engine) matchLoop(ctx context.Context) error {
	cursor := e.cursor.Load()
	for {
		e.metrics.lagRecords.Set(float64(max(0, e.in.LastSeq()-cursor)))
		if err := e.in.Wait(ctx, cursor); err != nil {
			return err
		}
		recs, err := e.in.Read(ctx, cursor, e.cfg.BatchSize)
		if err != nil {
			e.log.Error("offer_read_failed", "error", err, "after", cursor)
			if err := pause.For(ctx, time.Second); err != nil {
				return err
			}
			continue
		}
		if len(recs) == 0 {
			continue
		}
		backoff := 100 * time.Millisecond
		for {
			err := e.process(ctx, recs)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e.log.Error("offer_batch_failed", "error", err, "first_seq", recs[0].Seq, "retry_in", backoff)
			if err := pause.For(ctx, backoff); err != nil {
				return err
			}
			backoff = min(2*backoff, 30*time.Second)
		}
		cursor = recs[len(recs)-1].Seq
	}
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
