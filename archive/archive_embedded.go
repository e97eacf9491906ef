package archive

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/sqlite"
)

// embeddedMigrations are the embedded archive's schema, forward only.
var embeddedMigrations = []string{`
CREATE TABLE cursor (
	name TEXT PRIMARY KEY,
	seq  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE mentions (
	source           TEXT    NOT NULL,
	id               TEXT    NOT NULL,
	version          INTEGER NOT NULL,
	event_id         INTEGER NOT NULL,
	created_ms       INTEGER NOT NULL,
	received_ms      INTEGER NOT NULL,
	lang             TEXT    NOT NULL,
	sentiment        REAL    NOT NULL,
	label            TEXT    NOT NULL,
	polarity         INTEGER NOT NULL,
	intent           TEXT    NOT NULL,
	queue            TEXT    NOT NULL,
	priority         TEXT    NOT NULL,
	tags             TEXT    NOT NULL, -- JSON array
	competitor       INTEGER NOT NULL,
	author_id        TEXT    NOT NULL,
	author_handle    TEXT    NOT NULL,
	author_followers INTEGER NOT NULL,
	influence        INTEGER NOT NULL,
	dropped          INTEGER NOT NULL,
	deleted          INTEGER NOT NULL DEFAULT 0,
	ticket_id        INTEGER NOT NULL,
	PRIMARY KEY (source, id, version)
) WITHOUT ROWID;
CREATE INDEX mentions_received ON mentions (received_ms) WHERE version = 1;
CREATE INDEX mentions_author ON mentions (source, author_id);

-- One row per ticket, folded from its events (see ticketFact.fold).
CREATE TABLE tickets (
	ticket_id          INTEGER PRIMARY KEY,
	created_ms         INTEGER NOT NULL,
	last_seq           INTEGER NOT NULL,
	queue              TEXT    NOT NULL,
	source             TEXT    NOT NULL,
	reply_seq          INTEGER NOT NULL,
	reply_ms           INTEGER NOT NULL,
	responder          TEXT    NOT NULL,
	first_resolved_seq INTEGER NOT NULL,
	first_resolved_ms  INTEGER NOT NULL,
	last_resolved_seq  INTEGER NOT NULL,
	last_resolved_ms   INTEGER NOT NULL,
	reopened_seq       INTEGER NOT NULL
);
CREATE INDEX tickets_created ON tickets (created_ms);
`, `
-- 2: a copy of the audit log (auth.AuditEntry), hashes included.
CREATE TABLE audit (
	seq        INTEGER PRIMARY KEY,
	at_ms      INTEGER NOT NULL,
	actor      TEXT    NOT NULL,
	actor_role TEXT    NOT NULL,
	via        TEXT    NOT NULL,
	action     TEXT    NOT NULL,
	target     TEXT    NOT NULL,
	detail     TEXT    NOT NULL,
	remote_ip  TEXT    NOT NULL,
	request_id TEXT    NOT NULL,
	prev_hash  TEXT    NOT NULL,
	hash       TEXT    NOT NULL
);
`, `
-- 3: CSAT survey answers (csat.rated), one per ticket.
CREATE TABLE csat (
	ticket_id INTEGER PRIMARY KEY,
	event_id  INTEGER NOT NULL,
	survey_id INTEGER NOT NULL,
	queue     TEXT    NOT NULL,
	agent     TEXT    NOT NULL,
	source    TEXT    NOT NULL,
	rating    INTEGER NOT NULL,
	rated_ms  INTEGER NOT NULL
);
CREATE INDEX csat_rated ON csat (rated_ms);
`}

// Embedded is the archive in a SQLite file of the data directory: the
// default, so that KPIs work with no server to install. The cursor is
// written in the same transaction as the rows, so a batch is archived
// exactly once.
type Embedded struct {
	db *sqlite.DB
}

var _ Store = (*Embedded)(nil)

// OpenEmbedded opens (creating when missing) the embedded archive at path,
// e.g. data/archive.db.
func OpenEmbedded(ctx context.Context, path string) (*Embedded, error) {
	// SyncNormal: the archive is derived from the desk's event log; a power
	// loss can only lose the last batches, which the feeder writes again
	// from the cursor the file kept.
	db, err := sqlite.Open(ctx, path, sqlite.SyncNormal, embeddedMigrations)
	if err != nil {
		return nil, fmt.Errorf("open embedded archive: %w", err)
	}
	return &Embedded{db: db}, nil
}

// Close closes the database.
func (e *Embedded) Close() error { return e.db.Close() }

const cursorName = "desk"

// Cursor returns the Seq of the last event archived, 0 when none.
func (e *Embedded) Cursor(ctx context.Context) (int64, error) {
	var seq int64
	err := e.db.R.QueryRowContext(ctx, `SELECT seq FROM cursor WHERE name = ?`, cursorName).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read archive cursor: %w", err)
	}
	return seq, nil
}

// Write archives batch and the cursor in one transaction.
func (e *Embedded) Write(ctx context.Context, batch []desk.Event, cursor int64) error {
	rs := decode(batch)
	return e.writeRows(ctx, &rs, cursor)
}

func (e *Embedded) writeRows(ctx context.Context, rs *rows, cursor int64) (err error) {
	ctx = sqlite.Detached(ctx)
	tx, err := e.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin archive write: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for i := range rs.segments {
		if err := e.writeSegment(ctx, tx, &rs.segments[i]); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cursor (name, seq) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET seq = excluded.seq`, cursorName, cursor); err != nil {
		return fmt.Errorf("write archive cursor: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit archive write: %w", err)
	}
	return nil
}

func (e *Embedded) writeSegment(ctx context.Context, tx *sqlite.Tx, s *segment) error {
	if len(s.mentions) > 0 {
		st, err := tx.Stmt(ctx, `INSERT INTO mentions (source, id, version, event_id,
			created_ms, received_ms, lang, sentiment, label, polarity, intent, queue, priority,
			tags, competitor, author_id, author_handle, author_followers, influence, dropped, ticket_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (source, id, version) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("mention insert: %w", err)
		}
		for i := range s.mentions {
			m := &s.mentions[i]
			tags, err := json.Marshal(m.Tags)
			if err != nil {
				return fmt.Errorf("encode tags of mention %s/%s: %w", m.Source, m.ID, err)
			}
			if _, err := st.ExecContext(ctx, m.Source, m.ID, m.Version, m.EventID, m.CreatedMS, m.ReceivedMS,
				m.Lang, float64(m.Sentiment), m.Label, m.Polarity, m.Intent, m.Queue, m.Priority, string(tags),
				m.Competitor, m.AuthorID, m.AuthorHandle, m.AuthorFollowers, m.Influence, m.Dropped, m.TicketID); err != nil {
				return fmt.Errorf("insert mention %s/%s v%d: %w", m.Source, m.ID, m.Version, err)
			}
		}
	}
	if len(s.desk) > 0 {
		if err := e.foldTickets(ctx, tx, s.desk); err != nil {
			return err
		}
	}
	for i := range s.csat {
		r := &s.csat[i]
		if _, err := tx.ExecContext(ctx, `INSERT INTO csat (ticket_id, event_id, survey_id, queue, agent, source, rating, rated_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ticket_id) DO NOTHING`,
			r.TicketID, r.EventID, r.SurveyID, r.Queue, r.Agent, r.Source, r.Rating, r.RatedMS); err != nil {
			return fmt.Errorf("insert survey answer of ticket %d: %w", r.TicketID, err)
		}
	}
	for _, d := range s.deletes {
		if err := eraseEmbedded(ctx, tx, d); err != nil {
			return err
		}
	}
	return nil
}

const ticketColumns = `ticket_id, created_ms, last_seq, queue, source, reply_seq, reply_ms, responder,
	first_resolved_seq, first_resolved_ms, last_resolved_seq, last_resolved_ms, reopened_seq`

func scanTicket(sc interface{ Scan(...any) error }, f *ticketFact) error {
	return sc.Scan(&f.TicketID, &f.CreatedMS, &f.LastSeq, &f.Queue, &f.Source, &f.ReplySeq, &f.ReplyMS,
		&f.Responder, &f.FirstResolvedSeq, &f.FirstResolvedMS, &f.LastResolvedSeq, &f.LastResolvedMS, &f.ReopenedSeq)
}

// foldTickets folds desk rows into the tickets they belong to.
func (e *Embedded) foldTickets(ctx context.Context, tx *sqlite.Tx, rows []deskRow) error {
	facts := map[int64]*ticketFact{}
	var order []int64
	get, err := tx.Stmt(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE ticket_id = ?`)
	if err != nil {
		return fmt.Errorf("ticket read: %w", err)
	}
	for i := range rows {
		r := &rows[i]
		f := facts[r.TicketID]
		if f == nil {
			f = &ticketFact{}
			err := scanTicket(get.QueryRowContext(ctx, r.TicketID), f)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("read ticket %d: %w", r.TicketID, err)
			}
			facts[r.TicketID] = f
			order = append(order, r.TicketID)
		}
		f.fold(r)
	}
	put, err := tx.Stmt(ctx, `INSERT OR REPLACE INTO tickets (`+ticketColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("ticket write: %w", err)
	}
	for _, id := range order {
		f := facts[id]
		if _, err := put.ExecContext(ctx, f.TicketID, f.CreatedMS, f.LastSeq, f.Queue, f.Source, f.ReplySeq,
			f.ReplyMS, f.Responder, f.FirstResolvedSeq, f.FirstResolvedMS, f.LastResolvedSeq, f.LastResolvedMS,
			f.ReopenedSeq); err != nil {
			return fmt.Errorf("write ticket %d: %w", id, err)
		}
	}
	return nil
}

// eraseEmbedded removes a person's identity from the mentions d names. What
// remains (network, time, queue, sentiment, tags) is pseudonymous and keeps
// past KPIs stable.
func eraseEmbedded(ctx context.Context, tx *sqlite.Tx, d deletion) error {
	if d.retention() {
		if _, err := tx.ExecContext(ctx, `UPDATE mentions SET author_id = '', author_handle = '', author_followers = 0
			WHERE created_ms < ? AND (author_id != '' OR author_handle != '' OR author_followers != 0)`, d.BeforeMS); err != nil {
			return fmt.Errorf("expire authors of mentions created before %d: %w", d.BeforeMS, err)
		}
		return nil
	}
	q := `UPDATE mentions SET author_id = '', author_handle = '', author_followers = 0, deleted = 1 WHERE source = ? AND `
	arg := d.ID
	if d.ID != "" {
		q += `id = ?`
	} else {
		q += `author_id = ?`
		arg = d.AuthorID
	}
	if _, err := tx.ExecContext(ctx, q, d.Source, arg); err != nil {
		return fmt.Errorf("erase mentions of %s (id %q, author %q): %w", d.Source, d.ID, d.AuthorID, err)
	}
	return nil
}

// KPIs computes q's buckets: mention counts in SQL, ticket measures in Go
// from the folded tickets, with ClickHouse's quantileExact semantics.
func (e *Embedded) KPIs(ctx context.Context, q Query) ([]Bucket, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	a := newAggregator(&q)
	w := a.w
	if q.By != ByAgent {
		keyCol := map[Dimension]string{ByNone: `''`, ByQueue: `queue`, BySource: `source`}[q.By]
		rows, err := e.db.R.QueryContext(ctx, `SELECT (received_ms - ?) / ? AS b, `+keyCol+` AS k,
				count(*), sum(polarity > 0), sum(polarity < 0), sum(competitor)
			FROM mentions WHERE version = 1 AND received_ms >= ? AND received_ms < ?
			GROUP BY b, k`, w.from, w.step, w.from, w.to)
		if err != nil {
			return nil, fmt.Errorf("query mention KPIs: %w", err)
		}
		for rows.Next() {
			var b, n, pos, neg, comp int64
			var k string
			if err := rows.Scan(&b, &k, &n, &pos, &neg, &comp); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read mention KPIs: %w", err)
			}
			a.addMentions(b, k, n, pos, neg, comp)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("read mention KPIs: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read mention KPIs: %w", err)
		}
	}
	crows, err := e.db.R.QueryContext(ctx, `SELECT (rated_ms - ?) / ? AS b, `+csatKey[q.By]+` AS k, count(*), sum(rating >= 4)
		FROM csat WHERE rated_ms >= ? AND rated_ms < ? GROUP BY b, k`, w.from, w.step, w.from, w.to)
	if err != nil {
		return nil, fmt.Errorf("query CSAT KPIs: %w", err)
	}
	for crows.Next() {
		var b, n, pos int64
		var k string
		if err := crows.Scan(&b, &k, &n, &pos); err != nil {
			crows.Close()
			return nil, fmt.Errorf("read CSAT KPIs: %w", err)
		}
		a.addCSAT(b, k, n, pos)
	}
	if err := crows.Close(); err != nil {
		return nil, fmt.Errorf("read CSAT KPIs: %w", err)
	}
	if err := crows.Err(); err != nil {
		return nil, fmt.Errorf("read CSAT KPIs: %w", err)
	}
	rows, err := e.db.R.QueryContext(ctx, `SELECT `+ticketColumns+` FROM tickets
		WHERE created_ms >= ? AND created_ms < ?`, w.from, w.to)
	if err != nil {
		return nil, fmt.Errorf("query ticket KPIs: %w", err)
	}
	defer rows.Close()
	var f ticketFact
	for rows.Next() {
		if err := scanTicket(rows, &f); err != nil {
			return nil, fmt.Errorf("read ticket KPIs: %w", err)
		}
		a.addTicket(&f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ticket KPIs: %w", err)
	}
	return a.result(), nil
}

// WriteAudit archives audit entries; an entry already there is kept as it is.
func (e *Embedded) WriteAudit(ctx context.Context, entries []auth.AuditEntry) (err error) {
	tx, err := e.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin audit write: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	st, err := tx.Stmt(ctx, `INSERT INTO audit (seq, at_ms, actor, actor_role, via, action, target, detail,
		remote_ip, request_id, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING`)
	if err != nil {
		return fmt.Errorf("audit insert: %w", err)
	}
	for i := range entries {
		a := &entries[i]
		if _, err := st.ExecContext(ctx, a.Seq, a.At.UnixMilli(), a.Actor, string(a.ActorRole), a.Via, a.Action, a.Target,
			string(a.Detail), a.RemoteIP, a.RequestID, a.PrevHash, a.Hash); err != nil {
			return fmt.Errorf("archive audit entry %d: %w", a.Seq, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit audit write: %w", err)
	}
	return nil
}

// AuditCursor returns the Seq of the newest archived audit entry.
func (e *Embedded) AuditCursor(ctx context.Context) (int64, error) {
	var seq int64
	if err := e.db.R.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read archived audit cursor: %w", err)
	}
	return seq, nil
}

// AuditEntries returns archived audit entries after `after`, in order.
func (e *Embedded) AuditEntries(ctx context.Context, after int64, max int) ([]auth.AuditEntry, error) {
	rows, err := e.db.R.QueryContext(ctx, `SELECT seq, at_ms, actor, actor_role, via, action, target, detail, remote_ip,
		request_id, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?`, after, max)
	if err != nil {
		return nil, fmt.Errorf("read archived audit: %w", err)
	}
	defer rows.Close()
	var out []auth.AuditEntry
	for rows.Next() {
		var a auth.AuditEntry
		var atMS int64
		var detail string
		if err := rows.Scan(&a.Seq, &atMS, &a.Actor, &a.ActorRole, &a.Via, &a.Action, &a.Target, &detail, &a.RemoteIP,
			&a.RequestID, &a.PrevHash, &a.Hash); err != nil {
			return nil, fmt.Errorf("read archived audit entry: %w", err)
		}
		a.At, a.Detail = time.UnixMilli(atMS).UTC(), json.RawMessage(detail)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read archived audit: %w", err)
	}
	return out, nil
}
