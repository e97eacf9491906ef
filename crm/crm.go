package crm

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/pause"
	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/offer"
)

// EventLog is what the CRM follows: the desk's event log.
type EventLog interface {
	// ReadEvents returns up to max events with seq > after, in order.
	ReadEvents(ctx context.Context, after int64, max int) ([]desk.Event, error)
	// WaitEvents blocks until an event after seq exists, or ctx is done.
	WaitEvents(ctx context.Context, after int64) error
}

// Publisher appends CSAT events to the desk's log and pushes them live,
// tagged with the person they are about so that an erasure wipes them:
// (*desk.Desk).PublishFor. It must be safe for concurrent use.
type Publisher interface {
	PublishFor(ctx context.Context, typ desk.EventType, topic desk.Topic, source, authorID string, data any) (desk.Event, error)
}

// The events the CRM publishes, on desk.TopicTickets.
const (
	// EventCSATOffered: a survey was recorded for a resolved ticket
	// (data: SurveyOffer).
	EventCSATOffered desk.EventType = "csat.offered"
	// EventCSATRated: the customer answered (data: Rating).
	EventCSATRated desk.EventType = "csat.rated"
)

var migrations = []string{
	`CREATE TABLE profiles(
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		crm_id TEXT,
		consent INTEGER NOT NULL DEFAULT 0,
		consent_at INTEGER,
		consent_by TEXT NOT NULL DEFAULT '',
		consent_proof TEXT NOT NULL DEFAULT '',
		city TEXT NOT NULL DEFAULT '',
		interests TEXT NOT NULL DEFAULT '[]',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL);
	CREATE UNIQUE INDEX profiles_crm ON profiles(crm_id) WHERE crm_id IS NOT NULL;
	CREATE TABLE identities(
		source TEXT NOT NULL, author_id TEXT NOT NULL,
		profile_id INTEGER NOT NULL REFERENCES profiles(id),
		handle TEXT NOT NULL DEFAULT '', handle_key TEXT NOT NULL DEFAULT '',
		name TEXT NOT NULL DEFAULT '', name_key TEXT NOT NULL DEFAULT '',
		url TEXT NOT NULL DEFAULT '', url_key TEXT NOT NULL DEFAULT '',
		followers INTEGER NOT NULL DEFAULT 0, influence INTEGER NOT NULL DEFAULT 0,
		linked_by TEXT NOT NULL DEFAULT '', linked_at INTEGER,
		first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
		PRIMARY KEY(source, author_id)) WITHOUT ROWID;
	CREATE INDEX identities_profile ON identities(profile_id);
	CREATE INDEX identities_handle ON identities(handle_key) WHERE handle_key != '';
	CREATE INDEX identities_name ON identities(name_key) WHERE name_key != '';
	CREATE INDEX identities_url ON identities(url_key) WHERE url_key != '';
	CREATE TABLE identity_links(
		source TEXT NOT NULL, author_id TEXT NOT NULL, url_key TEXT NOT NULL,
		PRIMARY KEY(source, author_id, url_key)) WITHOUT ROWID;
	CREATE INDEX identity_links_url ON identity_links(url_key);
	CREATE TABLE mentions(
		source TEXT NOT NULL, id TEXT NOT NULL, author_id TEXT NOT NULL,
		at INTEGER NOT NULL, ticket_id INTEGER NOT NULL, queue TEXT NOT NULL,
		sentiment REAL NOT NULL, intent TEXT NOT NULL, tags TEXT NOT NULL,
		text TEXT NOT NULL, url TEXT NOT NULL,
		PRIMARY KEY(source, id)) WITHOUT ROWID;
	CREATE INDEX mentions_author ON mentions(source, author_id, at);
	CREATE TABLE tickets(
		id INTEGER PRIMARY KEY,
		source TEXT NOT NULL, author_id TEXT NOT NULL,
		queue TEXT NOT NULL, status TEXT NOT NULL, assignee TEXT NOT NULL,
		conversation TEXT NOT NULL,
		created_at INTEGER NOT NULL, first_response_at INTEGER, resolved_at INTEGER,
		rating INTEGER, comment TEXT NOT NULL DEFAULT '', rated_at INTEGER);
	CREATE INDEX tickets_author ON tickets(source, author_id, id);
	CREATE TABLE offers(
		id INTEGER PRIMARY KEY,
		source TEXT NOT NULL, user_id TEXT NOT NULL,
		at INTEGER NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
		store TEXT NOT NULL, campaign_id INTEGER NOT NULL, item TEXT NOT NULL,
		redeemed_at INTEGER);
	CREATE INDEX offers_person ON offers(source, user_id, at);
	CREATE TABLE surveys(
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		ticket_id INTEGER NOT NULL UNIQUE,
		source TEXT NOT NULL, author_id TEXT NOT NULL,
		queue TEXT NOT NULL, agent TEXT NOT NULL,
		offered_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
		rating INTEGER, comment TEXT NOT NULL DEFAULT '', rated_at INTEGER);
	CREATE INDEX surveys_offered ON surveys(offered_at);
	CREATE INDEX surveys_person ON surveys(source, author_id);
	CREATE TABLE consent_log(
		id INTEGER PRIMARY KEY, profile_id INTEGER NOT NULL,
		at INTEGER NOT NULL, granted INTEGER NOT NULL,
		proof TEXT NOT NULL, by TEXT NOT NULL);
	CREATE INDEX consent_log_profile ON consent_log(profile_id, id);
	CREATE TABLE segments(
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT NOT NULL UNIQUE, filter BLOB NOT NULL,
		created_by TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
	CREATE TABLE outbox(
		id INTEGER PRIMARY KEY, type TEXT NOT NULL,
		source TEXT NOT NULL, author_id TEXT NOT NULL, data BLOB NOT NULL);
	CREATE TABLE state(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
	CREATE TABLE secrets(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;`,
	// Survey messages really sent to the customer (SurveySender). Surveys
	// recorded before are "legacy": never sent, and not sent late.
	`ALTER TABLE surveys ADD COLUMN send_status TEXT NOT NULL DEFAULT 'legacy';
	ALTER TABLE surveys ADD COLUMN send_error TEXT NOT NULL DEFAULT '';
	ALTER TABLE surveys ADD COLUMN sent_at INTEGER;
	CREATE INDEX surveys_to_send ON surveys(id) WHERE send_status='pending';`,
	// Outbound campaigns and their recipients (campaign.go).
	`CREATE TABLE campaigns(
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT NOT NULL, segment_id INTEGER NOT NULL,
		networks TEXT NOT NULL, template TEXT NOT NULL,
		start_at INTEGER, status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '',
		planned_at INTEGER,
		created_by TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
	CREATE INDEX campaigns_status ON campaigns(status);
	CREATE TABLE campaign_recipients(
		id INTEGER PRIMARY KEY,
		campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
		source TEXT NOT NULL, author_id TEXT NOT NULL,
		idempotency_key TEXT NOT NULL UNIQUE,
		reply_to TEXT NOT NULL DEFAULT '', text TEXT NOT NULL DEFAULT '',
		status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
		attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,
		queued_at INTEGER NOT NULL, sent_at INTEGER, external_id TEXT NOT NULL DEFAULT '',
		replied_at INTEGER, reply_id TEXT NOT NULL DEFAULT '',
		UNIQUE(campaign_id, source, author_id));
	CREATE INDEX campaign_recipients_due ON campaign_recipients(next_at) WHERE status='queued';
	CREATE INDEX campaign_recipients_person ON campaign_recipients(source, author_id, sent_at);
	ALTER TABLE outbox ADD COLUMN topic TEXT NOT NULL DEFAULT 'tickets';`,
	// Engagement: the brand's own posts (replies delivered) and the post
	// each mention answers (engagement.go).
	`CREATE TABLE brand_posts(
		source TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, ticket_id INTEGER NOT NULL,
		PRIMARY KEY(source, id)) WITHOUT ROWID;
	CREATE INDEX brand_posts_ticket ON brand_posts(ticket_id);
	ALTER TABLE mentions ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
	CREATE INDEX mentions_at ON mentions(at);
	CREATE INDEX identities_first_seen ON identities(first_seen);
	CREATE INDEX campaign_recipients_external ON campaign_recipients(source, external_id) WHERE external_id != '';`,
}

// CRM holds customer profiles, surveys and segments, derived from the
// desk's event log. Its methods are safe for concurrent use.
type CRM struct {
	cfg     Config
	db      *sqlite.DB
	events  EventLog
	pub     Publisher
	log     *slog.Logger
	metrics *metrics
	client  *http.Client
	secret  []byte

	sender      SurveySender // nil: surveys are recorded, not sent
	replier     desk.Replier // posts campaign messages; nil: none are sent
	limiters    map[string]*rate.Limiter
	wakeCamp    chan struct{}
	mu          sync.Mutex // serialises writes (the follow loop and the API)
	cursor      atomic.Int64
	wakePublish chan struct{}
	wakeSurveys chan struct{}
}

// Open opens the CRM's database at cfg.Path. Call Run to follow events.
func Open(ctx context.Context, cfg Config, events EventLog, pub Publisher, logger *slog.Logger, reg prometheus.Registerer) (*CRM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if events == nil || pub == nil {
		return nil, errors.New("crm: an event log and a publisher are required")
	}
	db, err := sqlite.Open(ctx, cfg.Path, sqlite.SyncNormal, migrations)
	if err != nil {
		return nil, fmt.Errorf("open crm: %w", err)
	}
	c := &CRM{
		cfg: cfg, db: db, events: events, pub: pub,
		log:         logger.With("component", "crm"),
		metrics:     newMetrics(reg),
		client:      &http.Client{Timeout: cfg.Export.Timeout},
		wakePublish: make(chan struct{}, 1),
		wakeSurveys: make(chan struct{}, 1),
		wakeCamp:    make(chan struct{}, 1),
		limiters:    map[string]*rate.Limiter{},
	}
	for n, l := range cfg.Campaigns.Networks {
		c.limiters[n] = rate.NewLimiter(rate.Limit(l.PerHour/3600), l.Burst)
	}
	c.sender, _ = pub.(SurveySender)
	if err := c.load(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open crm: %w", err)
	}
	return c, nil
}

func (c *CRM) load(ctx context.Context) error {
	var cur int64
	err := c.db.R.QueryRowContext(ctx, "SELECT value FROM state WHERE name='cursor'").Scan(&cur)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("read cursor: %w", err)
	}
	c.cursor.Store(cur)
	if len(c.cfg.Secret) > 0 {
		c.secret = c.cfg.Secret
		return nil
	}
	err = c.db.R.QueryRowContext(ctx, "SELECT value FROM secrets WHERE name='survey'").Scan(&c.secret)
	if errors.Is(err, sql.ErrNoRows) {
		c.secret = make([]byte, 32)
		rand.Read(c.secret)
		_, err = c.db.Exec(ctx, "INSERT INTO secrets(name, value) VALUES('survey', ?)", c.secret)
	}
	if err != nil {
		return fmt.Errorf("survey secret: %w", err)
	}
	return nil
}

// Close closes the database. Run must have returned.
func (c *CRM) Close() error { return c.db.Close() }

// Checkpoint flushes the WAL into the database file and truncates it, so
// that data removed by an erasure is gone from the WAL's bytes too.
func (c *CRM) Checkpoint(ctx context.Context) error { return c.db.Checkpoint(ctx) }

// Cursor returns the seq of the last desk event applied.
func (c *CRM) Cursor() int64 { return c.cursor.Load() }

// Run follows the event log and publishes CSAT events until ctx is done;
// it returns nil then, or the first failure to read the log or to commit.
func (c *CRM) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.runPublish(ctx) }()
	if c.sender != nil {
		wg.Add(1)
		go func() { defer wg.Done(); c.runSurveys(ctx) }()
	}
	if c.replier != nil {
		wg.Add(1)
		go func() { defer wg.Done(); c.runCampaigns(ctx) }()
	}
	err := c.follow(ctx)
	cancel()
	wg.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// follow applies the desk's events as they come. A batch that fails (a
// full disk, a locked file) is retried with back-off, from the same cursor:
// a sink's trouble never stops the server, and nothing is skipped.
func (c *CRM) follow(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		// consume finishes its batch even when ctx ends: with a backlog,
		// ending is noticed here.
		if err := ctx.Err(); err != nil {
			return err
		}
		if c.cfg.Yield != nil {
			c.cfg.Yield(ctx)
		}
		n, err := c.Step(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			c.metrics.applyErrs.Inc()
			c.log.Error("apply_failed", "error", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return ctx.Err()
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if n >= c.cfg.BatchSize {
			continue // a backlog: no waiting
		}
		if n == 0 {
			if err := c.events.WaitEvents(ctx, c.Cursor()); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("crm: wait for events: %w", err)
			}
		}
		// Let a batch gather (MaxDelay).
		if err := pause.For(ctx, c.cfg.MaxDelay); err != nil {
			return err
		}
	}
}

// Step reads and applies one batch of events after the cursor and returns
// how many it applied (0 when caught up). Run calls it in a loop; tests
// and tools call it to catch up synchronously.
func (c *CRM) Step(ctx context.Context) (int, error) {
	evs, err := c.events.ReadEvents(ctx, c.Cursor(), c.cfg.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("crm: %w", err)
	}
	if len(evs) == 0 {
		return 0, nil
	}
	start := time.Now()
	if err := c.consume(ctx, evs); err != nil {
		return 0, err
	}
	c.metrics.batchSeconds.Observe(time.Since(start).Seconds())
	return len(evs), nil
}

// consume applies a batch and commits it with the cursor.
func (c *CRM) consume(ctx context.Context, evs []desk.Event) error {
	ctx = sqlite.Detached(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	tx, err := c.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("crm: begin: %w", err)
	}
	defer tx.Rollback()
	a := &applier{c: c, tx: tx, ctx: ctx}
	for i := range evs {
		if err := a.apply(&evs[i]); err != nil {
			return fmt.Errorf("crm: apply event %d: %w", evs[i].Seq, err)
		}
	}
	last := evs[len(evs)-1].Seq
	if _, err := tx.ExecContext(ctx, "INSERT INTO state(name, value) VALUES('cursor', ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value", last); err != nil {
		return fmt.Errorf("crm: save cursor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("crm: commit: %w", err)
	}
	c.cursor.Store(last)
	if a.queued {
		wake(c.wakePublish)
	}
	if a.offered {
		wake(c.wakeSurveys)
	}
	return nil
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// applier applies events within one transaction.
type applier struct {
	c       *CRM
	tx      *sqlite.Tx
	ctx     context.Context
	queued  bool // events were queued in the outbox
	offered bool // surveys were recorded, to send
}

// exec and queryRow run q in the batch's transaction, with the writer's
// statement for it (sqlite.Tx), kept from one batch to the next.
func (a *applier) exec(q string, args ...any) (sql.Result, error) {
	return a.tx.ExecContext(a.ctx, q, args...)
}

func (a *applier) queryRow(q string, args ...any) *sql.Row {
	return a.tx.QueryRowContext(a.ctx, q, args...)
}

func (a *applier) apply(ev *desk.Event) error {
	bad := func(err error) error {
		a.c.metrics.events.WithLabelValues("bad").Inc()
		a.c.log.Warn("bad_event", "seq", ev.Seq, "type", string(ev.Type), "error", err)
		return nil
	}
	switch ev.Type {
	case desk.EventMentionReceived:
		md, err := ev.MentionData() // shared with the other sinks: read only
		if err != nil {
			return bad(err)
		}
		a.c.metrics.events.WithLabelValues("mention").Inc()
		return a.mention(md, ev.At)
	case desk.EventTicketCreated, desk.EventTicketUpdated:
		td, err := ev.TicketData() // shared with the other sinks: read only
		if err != nil {
			return bad(err)
		}
		a.c.metrics.events.WithLabelValues("ticket").Inc()
		return a.ticket(td, ev.At)
	case offer.EventSent, offer.EventSkipped, offer.EventRedeemed:
		var d offer.Decision
		if err := desk.DecodePayload(ev.Data, &d); err != nil {
			return bad(err)
		}
		if d.Source == "" || d.UserID == "" {
			return nil // wiped by an erasure
		}
		a.c.metrics.events.WithLabelValues("offer").Inc()
		return a.offer(&d, ev.Type, ev.At)
	case desk.EventMentionDeleted:
		var dd desk.DeletedData
		if err := desk.DecodePayload(ev.Data, &dd); err != nil {
			return bad(err)
		}
		if dd.ID == "" && dd.AuthorID != "" {
			a.c.metrics.events.WithLabelValues("erasure").Inc()
			return a.erase(dd.Source, dd.AuthorID)
		}
		a.c.metrics.events.WithLabelValues("deletion").Inc()
		_, err := a.exec("DELETE FROM mentions WHERE source=? AND id=?", dd.Source, dd.ID)
		return err
	case desk.EventRetentionApplied:
		// The retention policy: posts' words and customers' comments older
		// than the cutoff go; the facts (sentiment, queue, rating) stay.
		var rd desk.RetentionData
		if err := desk.DecodePayload(ev.Data, &rd); err != nil {
			return bad(err)
		}
		if rd.Before.IsZero() {
			return bad(errors.New("retention without a cutoff"))
		}
		a.c.metrics.events.WithLabelValues("retention").Inc()
		cut := rd.Before.UnixNano()
		if _, err := a.exec("UPDATE mentions SET text='', url='' WHERE at < ? AND (text != '' OR url != '')", cut); err != nil {
			return fmt.Errorf("expire mentions: %w", err)
		}
		_, err := a.exec("UPDATE tickets SET comment='' WHERE rated_at < ? AND comment != ''", cut)
		return err
	case EventCSATRated:
		// Our own answers, read back: a CRM rebuilt from the log gets its
		// ratings again.
		var r Rating
		if err := desk.DecodePayload(ev.Data, &r); err != nil {
			return bad(err)
		}
		if r.TicketID == 0 || r.Rating == 0 {
			return nil // wiped by an erasure
		}
		a.c.metrics.events.WithLabelValues("csat").Inc()
		_, err := a.exec("UPDATE tickets SET rating=?, comment=?, rated_at=? WHERE id=? AND rated_at IS NULL", r.Rating, r.Comment, r.RatedAt.UnixNano(), r.TicketID)
		return err
	}
	a.c.metrics.events.WithLabelValues("other").Inc()
	return nil
}
