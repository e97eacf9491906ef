package watch

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/pause"
	"github.com/vigie/vigie/internal/sqlite"
)

// EventLog is what the watch follows: the desk's event log.
type EventLog interface {
	// ReadEvents returns up to max events with seq > after, in order.
	ReadEvents(ctx context.Context, after int64, max int) ([]desk.Event, error)
	// WaitEvents blocks until an event after seq exists, or ctx is done.
	WaitEvents(ctx context.Context, after int64) error
}

// Publisher pushes alert events live and into the log (the desk). It must
// be safe for concurrent use.
type Publisher interface {
	Publish(ctx context.Context, typ desk.EventType, topic desk.Topic, data any) (desk.Event, error)
}

// Clock tells the time of evaluation ticks and of alert changes.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Option configures a Watch beyond its Config.
type Option func(*Watch)

// WithClock sets the clock (default the system's). With a clock that does
// not move, evaluation follows event time alone, so a replay is
// deterministic.
func WithClock(c Clock) Option { return func(w *Watch) { w.clock = c } }

// WithWho sets how the HTTP handlers learn the user acknowledging an alert.
func WithWho(who func(ctx context.Context) string) Option { return func(w *Watch) { w.who = who } }

// WithHTTPClient sets the client webhooks are sent with (default one with
// Delivery.Timeout).
func WithHTTPClient(c *http.Client) Option { return func(w *Watch) { w.client = c } }

// tickEvery is how often, in wall-clock time, a watch with no new events
// checks whether a window is due (quiet periods must resolve alerts too).
const tickEvery = time.Second

// Watch follows the desk's event log from its own cursor, raises alerts,
// publishes them and sends them to webhooks. Its methods are safe for
// concurrent use.
type Watch struct {
	cfg     Config
	db      *sqlite.DB
	events  EventLog
	pub     Publisher
	clock   Clock
	who     func(ctx context.Context) string
	client  *http.Client
	log     *slog.Logger
	metrics *metrics
	hooks   map[string]WebhookConfig

	mu   sync.Mutex // guards everything below, and orders commits
	eng  *engine
	life *lifecycle
	// maxEvent is the newest event time seen, maxEventWall when (by the
	// clock) it was seen: event time is taken to run on with the clock
	// while nothing arrives.
	maxEvent     time.Time
	maxEventWall time.Time
	prunedAt     int64

	cursor      atomic.Int64
	wakePublish chan struct{}
	wakeDeliver chan struct{}
}

// Open opens the watch's database at cfg.Path and restores its state.
// Call Run to follow events.
func Open(ctx context.Context, cfg Config, events EventLog, pub Publisher, logger *slog.Logger, reg prometheus.Registerer, opts ...Option) (*Watch, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if events == nil || pub == nil {
		return nil, errors.New("watch: an event log and a publisher are required")
	}
	w := &Watch{
		cfg: cfg, events: events, pub: pub, clock: systemClock{},
		who:         func(context.Context) string { return "" },
		log:         logger.With("component", "watch"),
		metrics:     newMetrics(reg),
		hooks:       map[string]WebhookConfig{},
		wakePublish: make(chan struct{}, 1),
		wakeDeliver: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(w)
	}
	if w.client == nil {
		w.client = &http.Client{Timeout: cfg.Delivery.Timeout}
	}
	for _, h := range cfg.Webhooks {
		w.hooks[h.Name] = h
	}
	var err error
	if w.eng, err = newEngine(&w.cfg); err != nil {
		return nil, err
	}
	w.life = newLifecycle(&w.cfg)
	if w.db, err = sqlite.Open(ctx, cfg.Path, sqlite.SyncNormal, migrations); err != nil {
		return nil, fmt.Errorf("open watch: %w", err)
	}
	if err := w.load(ctx); err != nil {
		w.db.Close()
		return nil, fmt.Errorf("open watch: %w", err)
	}
	w.countOpen()
	return w, nil
}

// Close closes the database. Run must have returned.
func (w *Watch) Close() error { return w.db.Close() }

// Cursor returns the seq of the last desk event applied: the watch has
// caught up with the log up to it.
func (w *Watch) Cursor() int64 { return w.cursor.Load() }

// Run follows the event log, publishes alert events and delivers webhooks
// until ctx is done; it returns nil then, or the first failure to read the
// log or to commit.
func (w *Watch) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); w.runPublish(ctx) }()
	go func() { defer wg.Done(); w.runDeliveries(ctx) }()
	err := w.follow(ctx)
	cancel()
	wg.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (w *Watch) follow(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for {
		err := w.step(ctx)
		if err == nil {
			backoff = 100 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A batch that failed to commit (a full disk, a locked file) left
		// the detectors' memory ahead of the database: reload what was
		// committed and read the batch again, after a back-off. A sink's
		// trouble never stops the server, and nothing is counted twice.
		w.metrics.applyErrs.Inc()
		w.log.Error("apply_failed", "error", err, "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, 10*time.Second)
		if err := w.reload(ctx); err != nil {
			w.log.Error("reload_failed", "error", err)
		}
	}
}

// step applies the next batch of events, or waits for one (a tick, when
// none comes, so that windows are evaluated on time).
func (w *Watch) step(ctx context.Context) error {
	evs, err := w.events.ReadEvents(ctx, w.Cursor(), w.cfg.BatchSize)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	if len(evs) > 0 {
		if w.cfg.Yield != nil {
			w.cfg.Yield(ctx)
		}
		if err := w.consume(ctx, evs); err != nil || len(evs) >= w.cfg.BatchSize {
			return err // a backlog is read without delay
		}
		return pause.For(ctx, w.cfg.MaxDelay) // let the next batch gather
	}
	wctx, stop := context.WithTimeout(ctx, tickEvery)
	err = w.events.WaitEvents(wctx, w.Cursor())
	stop()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("watch: wait for events: %w", err)
	}
	if err != nil { // a tick: windows may be due with no new event
		return w.consume(ctx, nil)
	}
	return pause.For(ctx, w.cfg.MaxDelay) // let the next batch gather
}

// reload rebuilds the detectors and the alerts' lifecycle from the
// database, as Open does: what memory held beyond the last commit is gone.
func (w *Watch) reload(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	eng, err := newEngine(&w.cfg)
	if err != nil {
		return err
	}
	w.eng, w.life = eng, newLifecycle(&w.cfg)
	w.maxEvent, w.maxEventWall, w.prunedAt = time.Time{}, time.Time{}, 0
	if err := w.load(ctx); err != nil {
		return err
	}
	w.countOpen()
	return nil
}

// consume applies a batch of desk events (none for a clock tick) and
// commits the counts, the alerts, their events and the cursor together.
func (w *Watch) consume(ctx context.Context, evs []desk.Event) error {
	ctx = sqlite.Detached(ctx) // a batch is short, better finished than interrupted
	w.mu.Lock()
	defer w.mu.Unlock()
	var changes []change
	type erasure struct{ source, id, author string }
	var erased []erasure
	cursor := w.Cursor()
	for i := range evs {
		ev := &evs[i]
		cursor = ev.Seq
		switch ev.Type {
		case desk.EventMentionReceived:
			md, err := ev.MentionData() // shared with the other sinks: read only
			if err != nil {
				w.metrics.events.WithLabelValues("bad").Inc()
				w.log.Warn("bad_event", "seq", ev.Seq, "type", string(ev.Type), "error", err)
				continue
			}
			changes = append(changes, w.advance(eventTime(md))...)
			w.metrics.events.WithLabelValues(w.eng.observe(md).String()).Inc()
		case desk.EventMentionDeleted:
			var dd desk.DeletedData
			if err := desk.DecodePayload(ev.Data, &dd); err != nil {
				w.metrics.events.WithLabelValues("bad").Inc()
				w.log.Warn("bad_event", "seq", ev.Seq, "type", string(ev.Type), "error", err)
				continue
			}
			w.eng.forget(dd.Source, dd.ID, dd.AuthorID)
			w.life.scrub(dd.Source, dd.ID, dd.AuthorID)
			erased = append(erased, erasure{dd.Source, dd.ID, dd.AuthorID})
		}
	}
	changes = append(changes, w.advance(time.Time{})...)
	return w.commit(ctx, cursor, changes, func(tx *sqlite.Tx) error {
		for _, e := range erased {
			if err := w.scrubStored(ctx, tx, e.source, e.id, e.author); err != nil {
				return err
			}
		}
		return nil
	})
}

// advance moves event time to at (if later) and evaluates every window
// that is due: its end plus Grace has passed. Event time runs on with the
// clock while nothing arrives. After a long silence, only the evaluations
// that can still resolve alerts are run, then time jumps.
func (w *Watch) advance(at time.Time) []change {
	now := w.clock.Now()
	if at.After(w.maxEvent) {
		w.maxEvent, w.maxEventWall = at, now
	}
	e := w.eng
	if e.since == 0 || w.maxEvent.IsZero() {
		return nil
	}
	effective := w.maxEvent
	if d := now.Sub(w.maxEventWall); d > 0 {
		effective = effective.Add(d)
	}
	last := minuteOf(effective.Add(-w.cfg.Grace)) // windows ending at or before it are due
	last -= mod(last, e.stepMin)
	if e.evaluated%e.stepMin != 0 {
		e.evaluated -= mod(e.evaluated, e.stepMin)
	}
	maxSteps := e.windowMin/e.stepMin + int64(w.cfg.Noise.ResolveAfter) + 1
	var out []change
	for n := int64(0); e.evaluated < last; n++ {
		if n == maxSteps {
			e.evaluated = last - e.stepMin // jump over the silence
		}
		end := e.evaluated + e.stepMin
		start := time.Now()
		trig := e.evaluate(end)
		w.metrics.evalSeconds.Observe(time.Since(start).Seconds())
		w.metrics.evalLag.Observe(max(0, now.Sub(timeOf(end)).Seconds()))
		out = append(out, w.life.apply(end, now, trig)...)
	}
	return out
}

// commit writes what changed since the last commit, in one transaction
// with the cursor, then wakes the publisher and the webhook sender.
func (w *Watch) commit(ctx context.Context, cursor int64, changes []change, extra func(tx *sqlite.Tx) error) error {
	tx, err := w.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("watch: begin: %w", err)
	}
	if err := w.write(ctx, tx, cursor, changes, extra); err != nil {
		tx.Rollback()
		return fmt.Errorf("watch: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("watch: commit: %w", err)
	}
	w.cursor.Store(cursor)
	clear(w.eng.dirty)
	clear(w.eng.terms.dirty)
	for _, t := range w.life.byKey {
		t.dirty = false
	}
	pushed, sent := false, false
	for _, c := range changes {
		w.metrics.changes.WithLabelValues(string(c.snap.Detector), string(c.kind), fmt.Sprint(c.push)).Inc()
		if c.kind == ChangeRaised {
			w.metrics.raised.WithLabelValues(string(c.snap.Detector), string(c.snap.Severity)).Inc()
			w.log.Info("alert_raised", "alert_id", c.snap.ID, "detector", string(c.snap.Detector), "severity", string(c.snap.Severity), "scope", c.snap.Scope)
		}
		pushed = pushed || c.push
		sent = sent || len(w.hooks) > 0
	}
	if len(changes) > 0 {
		w.countOpen()
	}
	if pushed {
		wake(w.wakePublish)
	}
	if sent {
		wake(w.wakeDeliver)
	}
	return nil
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (w *Watch) countOpen() {
	n := 0
	for _, t := range w.life.byKey {
		if t.alert.active() {
			n++
		}
	}
	w.metrics.open.Set(float64(n))
}

func (w *Watch) write(ctx context.Context, tx *sqlite.Tx, cursor int64, changes []change, extra func(tx *sqlite.Tx) error) error {
	e := w.eng
	if len(e.dirty) > 0 {
		stmt, err := tx.Stmt(ctx, `INSERT INTO buckets(series, minute, total, negative) VALUES(?,?,?,?)
			ON CONFLICT(series, minute) DO UPDATE SET total=total+excluded.total, negative=negative+excluded.negative`)
		if err != nil {
			return fmt.Errorf("bucket upsert: %w", err)
		}
		for k, d := range e.dirty {
			if _, err := stmt.ExecContext(ctx, k.series, k.minute, d[0], d[1]); err != nil {
				return fmt.Errorf("save counts: %w", err)
			}
		}
	}
	for h := range e.terms.dirty {
		if h >= e.terms.maxHour {
			continue // still filling; saved once closed
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM term_hours WHERE hour=?", h); err != nil {
			return fmt.Errorf("save terms of hour %d: %w", h, err)
		}
		b := e.terms.bucket(h, false)
		if b == nil {
			continue
		}
		stmt, err := tx.Stmt(ctx, "INSERT INTO term_hours(hour, term, df) VALUES(?,?,?)")
		if err != nil {
			return fmt.Errorf("term insert: %w", err)
		}
		if _, err := stmt.ExecContext(ctx, h, "", b.docs); err != nil {
			return fmt.Errorf("save terms of hour %d: %w", h, err)
		}
		for term, df := range b.df {
			if _, err := stmt.ExecContext(ctx, h, term, df); err != nil {
				return fmt.Errorf("save terms of hour %d: %w", h, err)
			}
		}
	}
	if extra != nil {
		if err := extra(tx); err != nil {
			return err
		}
	}
	saved := map[*tracked]bool{}
	for _, c := range changes {
		if !saved[c.t] {
			if err := saveAlert(ctx, tx, c.t); err != nil {
				return err
			}
			saved[c.t] = true
		}
	}
	for _, t := range w.life.byKey {
		if t.dirty && !saved[t] {
			if err := saveAlert(ctx, tx, t); err != nil {
				return err
			}
		}
	}
	nowNs := w.clock.Now().UnixNano()
	for i := range changes {
		c := &changes[i]
		c.snap.ID = c.t.alert.ID
		ev := AlertEvent{Alert: c.snap.public(), Change: c.kind, Actor: c.actor}
		if c.kind == ChangeAcked && c.snap.AckedAt != nil {
			tta := c.snap.AckedAt.Sub(c.snap.RaisedAt).Seconds()
			ev.TimeToAckSeconds = &tta
		}
		if c.push {
			data, err := json.Marshal(&ev)
			if err != nil {
				return fmt.Errorf("encode alert event: %w", err)
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO outbox(type, data) VALUES(?,?)", string(c.kind.eventType()), data); err != nil {
				return fmt.Errorf("queue alert event: %w", err)
			}
		}
		for _, h := range w.cfg.Webhooks {
			if !wants(h, c.kind, c.snap.Severity) {
				continue
			}
			body, err := webhookBody(h, ev, c.snap.Updates, w.clock.Now())
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO deliveries(webhook, alert_id, change, body, status, next_at, created_at, updated_at) VALUES(?,?,?,?,?,?,?,?)",
				h.Name, c.snap.ID, string(c.kind), body, deliveryPending, 0, nowNs, nowNs); err != nil {
				return fmt.Errorf("queue webhook %s: %w", h.Name, err)
			}
		}
	}
	// Forget what the baselines no longer read, once an hour of event time.
	if e.evaluated-w.prunedAt >= 60 {
		if _, err := tx.ExecContext(ctx, "DELETE FROM buckets WHERE minute < ?", e.evaluated-int64(e.ringLen)); err != nil {
			return fmt.Errorf("prune counts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM term_hours WHERE hour < ?", e.evaluated/60-e.terms.hours-1); err != nil {
			return fmt.Errorf("prune terms: %w", err)
		}
		w.prunedAt = e.evaluated
	}
	var maxEvent int64
	if !w.maxEvent.IsZero() {
		maxEvent = w.maxEvent.UnixNano()
	}
	for name, v := range map[string]int64{stateCursor: cursor, stateSince: e.since, stateEvaluated: e.evaluated, stateMaxEvent: maxEvent, statePruned: w.prunedAt} {
		if _, err := tx.ExecContext(ctx, "INSERT INTO state(name, value) VALUES(?,?) ON CONFLICT(name) DO UPDATE SET value=excluded.value", name, v); err != nil {
			return fmt.Errorf("save %s: %w", name, err)
		}
	}
	return nil
}

// Ack acknowledges an alert for user. An open alert becomes acked (it
// still updates and resolves); a resolved one keeps its status and records
// the acknowledgement. Acknowledging twice is a conflict.
func (w *Watch) Ack(ctx context.Context, id int64, user string) (Alert, error) {
	if strings.TrimSpace(user) == "" {
		return Alert{}, fmt.Errorf("%w: an acknowledgement needs a person behind it", ErrInvalid)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.life.byID(id)
	if t == nil {
		t = &tracked{}
		a, err := scanAlert(w.db.R.QueryRowContext(ctx, "SELECT "+alertColumns+", quiet, last_push, push_window, push_count, resolved_minute FROM alerts WHERE id=?", id),
			&t.quiet, &t.lastPush, &t.pushWindow, &t.pushCount, &t.resolvedMinute)
		if errors.Is(err, sql.ErrNoRows) {
			return Alert{}, fmt.Errorf("alert %d: %w", id, ErrAlertNotFound)
		}
		if err != nil {
			return Alert{}, fmt.Errorf("read alert %d: %w", id, err)
		}
		t.alert = a
	}
	a := &t.alert
	if a.AckedAt != nil {
		return Alert{}, fmt.Errorf("%w: alert %d was acknowledged by %s at %s", ErrConflict, id, a.AckedBy, a.AckedAt.Format(time.RFC3339))
	}
	prev := *a
	now := w.clock.Now().UTC()
	a.AckedAt, a.AckedBy, a.UpdatedAt = &now, user, now
	if a.Status == StatusOpen {
		a.Status = StatusAcked
	}
	c := w.life.record(t, ChangeAcked, true)
	c.actor = user
	if err := w.commit(ctx, w.Cursor(), []change{c}, nil); err != nil {
		*a = prev
		return Alert{}, err
	}
	return *a, nil
}

// runPublish publishes the queued alert events in order, retrying with
// back-off while the publisher fails.
func (w *Watch) runPublish(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		n, err := w.publishSome(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.metrics.publishErrs.Inc()
			w.log.Error("publish_failed", "error", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, 10*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if n > 0 {
			continue
		}
		select {
		case <-w.wakePublish:
		case <-ctx.Done():
			return
		}
	}
}

func (w *Watch) publishSome(ctx context.Context) (int, error) {
	rows, err := w.db.R.QueryContext(ctx, "SELECT id, type, data FROM outbox ORDER BY id LIMIT 100")
	if err != nil {
		return 0, fmt.Errorf("read alert events: %w", err)
	}
	type row struct {
		id   int64
		typ  string
		data []byte
	}
	var batch []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.typ, &r.data); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read alert events: %w", err)
		}
		batch = append(batch, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read alert events: %w", err)
	}
	for _, r := range batch {
		if _, err := w.pub.Publish(ctx, desk.EventType(r.typ), desk.TopicAlerts, json.RawMessage(r.data)); err != nil {
			return 0, fmt.Errorf("publish %s: %w", r.typ, err)
		}
		if _, err := w.db.Exec(ctx, "DELETE FROM outbox WHERE id=?", r.id); err != nil {
			return 0, fmt.Errorf("dequeue alert event: %w", err)
		}
	}
	return len(batch), nil
}
