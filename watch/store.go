package watch

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigie/vigie/internal/sqlite"
)

var migrations = []string{
	`CREATE TABLE state(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
	CREATE TABLE buckets(
		series TEXT NOT NULL,
		minute INTEGER NOT NULL,
		total INTEGER NOT NULL,
		negative INTEGER NOT NULL,
		PRIMARY KEY(series, minute)
	) WITHOUT ROWID;
	CREATE INDEX buckets_minute ON buckets(minute);
	CREATE TABLE term_hours(
		hour INTEGER NOT NULL,
		term TEXT NOT NULL, -- '' holds the hour's post count
		df INTEGER NOT NULL,
		PRIMARY KEY(hour, term)
	) WITHOUT ROWID;
	CREATE TABLE alerts(
		id INTEGER PRIMARY KEY,
		key TEXT NOT NULL,
		detector TEXT NOT NULL,
		scope TEXT NOT NULL,
		severity TEXT NOT NULL,
		status TEXT NOT NULL,
		title TEXT NOT NULL,
		raised_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		acked_at INTEGER,
		acked_by TEXT NOT NULL DEFAULT '',
		resolved_at INTEGER,
		triggers INTEGER NOT NULL,
		updates INTEGER NOT NULL,
		peak REAL NOT NULL,
		explanation BLOB NOT NULL,
		quiet INTEGER NOT NULL DEFAULT 0,
		last_push INTEGER NOT NULL DEFAULT 0,
		push_window INTEGER NOT NULL DEFAULT 0,
		push_count INTEGER NOT NULL DEFAULT 0,
		resolved_minute INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX alerts_status ON alerts(status, id);
	CREATE INDEX alerts_key ON alerts(key, id);
	CREATE TABLE alert_samples(
		alert_id INTEGER NOT NULL REFERENCES alerts(id),
		source TEXT NOT NULL,
		mention_id TEXT NOT NULL,
		author_id TEXT NOT NULL
	);
	CREATE INDEX alert_samples_alert ON alert_samples(alert_id);
	CREATE INDEX alert_samples_mention ON alert_samples(source, mention_id);
	CREATE INDEX alert_samples_author ON alert_samples(source, author_id);
	CREATE TABLE outbox(id INTEGER PRIMARY KEY, type TEXT NOT NULL, data BLOB NOT NULL);
	CREATE TABLE deliveries(
		id INTEGER PRIMARY KEY,
		webhook TEXT NOT NULL,
		alert_id INTEGER NOT NULL,
		change TEXT NOT NULL,
		body BLOB NOT NULL,
		status TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_at INTEGER NOT NULL,
		last_error TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL
	);
	CREATE INDEX deliveries_pending ON deliveries(status, next_at);`,
}

// The names in the state table.
const (
	stateCursor    = "cursor"    // seq of the last desk event applied
	stateSince     = "since"     // first minute with data
	stateEvaluated = "evaluated" // end of the last evaluated window (minute)
	stateMaxEvent  = "max_event" // newest event time seen (Unix ns)
	statePruned    = "pruned_at" // evaluated minute of the last pruning
)

func (w *Watch) load(ctx context.Context) error {
	rows, err := w.db.R.QueryContext(ctx, "SELECT name, value FROM state")
	if err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	st := map[string]int64{}
	for rows.Next() {
		var n string
		var v int64
		if err := rows.Scan(&n, &v); err != nil {
			rows.Close()
			return fmt.Errorf("read state: %w", err)
		}
		st[n] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read state: %w", err)
	}
	w.cursor.Store(st[stateCursor])
	e := w.eng
	e.since, e.evaluated, w.prunedAt = st[stateSince], st[stateEvaluated], st[statePruned]
	if v := st[stateMaxEvent]; v != 0 {
		w.maxEvent = time.Unix(0, v).UTC()
		w.maxEventWall = w.clock.Now()
	}
	if e.since == 0 {
		return nil
	}
	from := e.evaluated - int64(e.ringLen) + e.windowMin
	rows, err = w.db.R.QueryContext(ctx, "SELECT series, minute, total, negative FROM buckets WHERE minute >= ? ORDER BY minute", from)
	if err != nil {
		return fmt.Errorf("read buckets: %w", err)
	}
	for rows.Next() {
		var name string
		var minute, total, neg int64
		if err := rows.Scan(&name, &minute, &total, &neg); err != nil {
			rows.Close()
			return fmt.Errorf("read buckets: %w", err)
		}
		if i := e.seriesFor(name); i >= 0 {
			sl := &e.list[i].ring[mod(minute, int64(e.ringLen))]
			*sl = slot{minute: minute, total: uint32(total), neg: uint32(neg)}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read buckets: %w", err)
	}
	hours := map[int64]map[string]int{}
	docs := map[int64]int{}
	rows, err = w.db.R.QueryContext(ctx, "SELECT hour, term, df FROM term_hours WHERE hour > ?", (e.evaluated-1)/60-e.terms.hours-1)
	if err != nil {
		return fmt.Errorf("read term hours: %w", err)
	}
	for rows.Next() {
		var h int64
		var term string
		var df int
		if err := rows.Scan(&h, &term, &df); err != nil {
			rows.Close()
			return fmt.Errorf("read term hours: %w", err)
		}
		if hours[h] == nil {
			hours[h] = map[string]int{}
		}
		if term == "" {
			docs[h] = df
		} else {
			hours[h][term] = df
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read term hours: %w", err)
	}
	for h, df := range hours {
		e.terms.restore(h, docs[h], df)
	}
	// Alerts still open, and those resolved within the cooldown (they may reopen).
	cool := e.evaluated - int64(w.cfg.Noise.Cooldown/time.Minute)
	rows, err = w.db.R.QueryContext(ctx, "SELECT "+alertColumns+", quiet, last_push, push_window, push_count, resolved_minute FROM alerts WHERE status != 'resolved' OR resolved_minute >= ? ORDER BY id", cool)
	if err != nil {
		return fmt.Errorf("read alerts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t := &tracked{}
		a, err := scanAlert(rows, &t.quiet, &t.lastPush, &t.pushWindow, &t.pushCount, &t.resolvedMinute)
		if err != nil {
			return fmt.Errorf("read alerts: %w", err)
		}
		t.alert = a
		if old := w.life.byKey[a.Key]; old == nil || old.alert.ID < a.ID {
			w.life.byKey[a.Key] = t
		}
	}
	return rows.Err()
}

const alertColumns = "id, key, detector, scope, severity, status, title, raised_at, updated_at, acked_at, acked_by, resolved_at, triggers, updates, peak, explanation"

type scanner interface {
	Scan(dest ...any) error
}

func scanAlert(s scanner, extra ...any) (Alert, error) {
	var a Alert
	var det, sev, st string
	var raised, updated int64
	var acked, resolved sql.NullInt64
	var ex []byte
	dest := append([]any{&a.ID, &a.Key, &det, &a.Scope, &sev, &st, &a.Title, &raised, &updated, &acked, &a.AckedBy, &resolved,
		&a.Triggers, &a.Updates, &a.Peak, &ex}, extra...)
	if err := s.Scan(dest...); err != nil {
		return Alert{}, err
	}
	a.Detector, a.Severity, a.Status = Detector(det), Severity(sev), Status(st)
	a.RaisedAt, a.UpdatedAt = time.Unix(0, raised).UTC(), time.Unix(0, updated).UTC()
	if acked.Valid {
		t := time.Unix(0, acked.Int64).UTC()
		a.AckedAt = &t
	}
	if resolved.Valid {
		t := time.Unix(0, resolved.Int64).UTC()
		a.ResolvedAt = &t
	}
	if err := json.Unmarshal(ex, &a.Explanation); err != nil {
		return Alert{}, fmt.Errorf("decode explanation of alert %d: %w", a.ID, err)
	}
	return a, nil
}

func nanos(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

// saveAlert inserts or updates a tracked alert and its sample index.
func saveAlert(ctx context.Context, tx *sqlite.Tx, t *tracked) error {
	a := &t.alert
	ex, err := json.Marshal(&a.Explanation)
	if err != nil {
		return fmt.Errorf("encode explanation: %w", err)
	}
	args := []any{a.Key, string(a.Detector), a.Scope, string(a.Severity), string(a.Status), a.Title, a.RaisedAt.UnixNano(), a.UpdatedAt.UnixNano(),
		nanos(a.AckedAt), a.AckedBy, nanos(a.ResolvedAt), a.Triggers, a.Updates, a.Peak, ex, t.quiet, t.lastPush, t.pushWindow, t.pushCount, t.resolvedMinute}
	if a.ID == 0 {
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts(key, detector, scope, severity, status, title, raised_at, updated_at, acked_at, acked_by, resolved_at,
			triggers, updates, peak, explanation, quiet, last_push, push_window, push_count, resolved_minute) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, args...)
		if err != nil {
			return fmt.Errorf("insert alert %s: %w", a.Key, err)
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("insert alert %s: %w", a.Key, err)
		}
	} else {
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET key=?, detector=?, scope=?, severity=?, status=?, title=?, raised_at=?, updated_at=?, acked_at=?, acked_by=?,
			resolved_at=?, triggers=?, updates=?, peak=?, explanation=?, quiet=?, last_push=?, push_window=?, push_count=?, resolved_minute=? WHERE id=?`, append(args, a.ID)...); err != nil {
			return fmt.Errorf("update alert %d: %w", a.ID, err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM alert_samples WHERE alert_id=?", a.ID); err != nil {
			return fmt.Errorf("update samples of alert %d: %w", a.ID, err)
		}
	}
	for _, s := range a.Explanation.Samples {
		if _, err := tx.ExecContext(ctx, "INSERT INTO alert_samples(alert_id, source, mention_id, author_id) VALUES(?,?,?,?)", a.ID, s.Source, s.ID, s.AuthorID); err != nil {
			return fmt.Errorf("index samples of alert %d: %w", a.ID, err)
		}
	}
	return nil
}

// scrubStored removes a deleted post or author from the stored alerts the
// lifecycle does not hold.
func (w *Watch) scrubStored(ctx context.Context, tx *sqlite.Tx, source, id, authorID string) error {
	q, arg := "SELECT DISTINCT alert_id FROM alert_samples WHERE source=? AND mention_id=?", id
	if id == "" {
		q, arg = "SELECT DISTINCT alert_id FROM alert_samples WHERE source=? AND author_id=?", authorID
	}
	rows, err := tx.QueryContext(ctx, q, source, arg)
	if err != nil {
		return fmt.Errorf("find alerts to erase from: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var i int64
		if err := rows.Scan(&i); err != nil {
			rows.Close()
			return fmt.Errorf("find alerts to erase from: %w", err)
		}
		ids = append(ids, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find alerts to erase from: %w", err)
	}
	for _, i := range ids {
		if w.life.byID(i) != nil {
			continue // scrubbed in memory, saved with the lifecycle
		}
		t := &tracked{}
		a, err := scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertColumns+", quiet, last_push, push_window, push_count, resolved_minute FROM alerts WHERE id=?", i),
			&t.quiet, &t.lastPush, &t.pushWindow, &t.pushCount, &t.resolvedMinute)
		if err != nil {
			return fmt.Errorf("read alert %d to erase from: %w", i, err)
		}
		t.alert = a
		scrubExplanation(&t.alert.Explanation, source, id, authorID)
		if err := saveAlert(ctx, tx, t); err != nil {
			return err
		}
	}
	return nil
}

// Filter selects alerts. Zero fields select everything.
type Filter struct {
	Status Status
	// Limit is at most 500; 0 means 50.
	Limit int
	// Cursor continues a previous listing (its NextCursor).
	Cursor string
}

// Page is one page of alerts, newest first.
type Page struct {
	Alerts     []Alert `json:"alerts"`
	NextCursor string  `json:"next_cursor"`
}

// Alerts lists alerts, newest first, by keyset pagination.
func (w *Watch) Alerts(ctx context.Context, f Filter) (Page, error) {
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 500 {
		return Page{}, fmt.Errorf("%w: limit must be between 1 and 500", ErrInvalid)
	}
	if f.Status != "" && !f.Status.Valid() {
		return Page{}, fmt.Errorf("%w: status %q: want open, acked or resolved", ErrInvalid, f.Status)
	}
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status=?"), append(args, string(f.Status))
	}
	if f.Cursor != "" {
		before, err := decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		where, args = append(where, "id<?"), append(args, before)
	}
	q := "SELECT " + alertColumns + " FROM alerts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := w.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	page := Page{Alerts: []Alert{}}
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return Page{}, fmt.Errorf("list alerts: %w", err)
		}
		page.Alerts = append(page.Alerts, a)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("list alerts: %w", err)
	}
	if len(page.Alerts) > f.Limit {
		page.Alerts = page.Alerts[:f.Limit]
		page.NextCursor = encodeCursor(page.Alerts[f.Limit-1].ID)
	}
	return page, nil
}

// Alert returns one alert.
func (w *Watch) Alert(ctx context.Context, id int64) (Alert, error) {
	a, err := scanAlert(w.db.R.QueryRowContext(ctx, "SELECT "+alertColumns+" FROM alerts WHERE id=?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Alert{}, fmt.Errorf("alert %d: %w", id, ErrAlertNotFound)
	}
	if err != nil {
		return Alert{}, fmt.Errorf("read alert %d: %w", id, err)
	}
	return a, nil
}

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a:" + strconv.FormatInt(id, 10)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		if rest, ok := strings.CutPrefix(string(b), "a:"); ok {
			if id, err := strconv.ParseInt(rest, 10, 64); err == nil && id > 0 {
				return id, nil
			}
		}
	}
	return 0, fmt.Errorf("%w: cursor: not one this server gave", ErrInvalid)
}
