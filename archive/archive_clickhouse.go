package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/desk"
)

// chMigrations is the ClickHouse schema, forward only: migration i is
// recorded as version i+1 in schema_migrations. ClickHouse has no DDL
// transactions, so every statement is idempotent (IF NOT EXISTS) and a
// migration interrupted halfway is simply run again.
//
// It must run on ClickHouse 18.16 (Debian's) and on current releases: plain
// types only (no DateTime64, LowCardinality, Nullable, Map or JSON), the
// ORDER BY / PARTITION BY engine syntax, and times as Int64 Unix
// milliseconds beside a DateTime for partitioning and reading.
//
// Rows are never updated in place except by erasure mutations: duplicates
// left by a retried batch share their sorting key, so ReplacingMergeTree
// folds them in the background, and every KPI query is written to ignore
// them meanwhile (uniqExact, min, max, argMin/argMax by event id).
var chMigrations = [][]string{{
	`CREATE TABLE IF NOT EXISTS mentions (
    event_id         Int64,
    source           String,
    id               String,
    version          UInt32,
    created_at       DateTime,
    created_ms       Int64,
    received_at      DateTime,
    received_ms      Int64,
    lang             String,
    sentiment        Float32,
    label            String,
    polarity         Int8,
    intent           String,
    queue            String,
    priority         String,
    tags             Array(String),
    competitor       UInt8,
    author_id        String,
    author_handle    String,
    author_followers Int64,
    influence        UInt8,
    dropped          UInt8,
    deleted          UInt8,
    ticket_id        Int64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(received_at)
ORDER BY (received_at, source, id, version)`,
	`CREATE TABLE IF NOT EXISTS desk_events (
    event_id          Int64,
    ticket_id         Int64,
    type              String,
    change            String,
    at                DateTime,
    at_ms             Int64,
    ticket_created_at DateTime,
    ticket_created_ms Int64,
    queue             String,
    source            String,
    agent             String,
    assignee          String,
    priority          String,
    status            String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ticket_created_at)
ORDER BY (ticket_created_at, ticket_id, event_id)`,
	`CREATE TABLE IF NOT EXISTS archive_cursor (
    name       String,
    seq        Int64,
    written_at DateTime
) ENGINE = ReplacingMergeTree
ORDER BY name`,
}, {
	// 2: a copy of the audit log (auth.AuditEntry), hashes included. A
	// retried batch leaves duplicates of the same seq, which
	// ReplacingMergeTree folds (same seq, same at: same partition).
	`CREATE TABLE IF NOT EXISTS audit (
    seq        Int64,
    at         DateTime,
    at_ms      Int64,
    actor      String,
    actor_role String,
    via        String,
    action     String,
    target     String,
    detail     String,
    remote_ip  String,
    request_id String,
    prev_hash  String,
    hash       String
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY seq`,
}, {
	// 3: CSAT survey answers (csat.rated), one per ticket.
	`CREATE TABLE IF NOT EXISTS csat_ratings (
    event_id  Int64,
    ticket_id Int64,
    survey_id Int64,
    queue     String,
    agent     String,
    source    String,
    rating    UInt8,
    rated_at  DateTime,
    rated_ms  Int64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(rated_at)
ORDER BY (rated_at, ticket_id)`,
}}

// schemaMigrationsTable records applied migrations.
const schemaMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    UInt32,
    applied_at DateTime
) ENGINE = MergeTree
ORDER BY version`

// ClickHouse is the archive in a ClickHouse database, over the native
// protocol (clickhouse-go/v2). It connects lazily: a server that is down at
// start only delays the archive (the Feeder retries), never the desk.
type ClickHouse struct {
	conn     driver.Conn
	database string

	mu     sync.Mutex
	schema bool // migrations applied
}

var _ Store = (*ClickHouse)(nil)

// OpenClickHouse prepares a connection pool to the database the DSN names,
// e.g. clickhouse://user:password@host:9000/vigie?dial_timeout=5s (see
// clickhouse-go's DSN options). It does not wait for the server: the schema
// is created or migrated on first use.
func OpenClickHouse(dsn string) (*ClickHouse, error) {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse ClickHouse DSN: %w", err)
	}
	if opts.Auth.Database == "" {
		opts.Auth.Database = "default"
	}
	if opts.DialTimeout == 0 || opts.DialTimeout > 10*time.Second {
		opts.DialTimeout = 5 * time.Second
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open ClickHouse %s: %w", redact(dsn), err)
	}
	return &ClickHouse{conn: conn, database: opts.Auth.Database}, nil
}

// redact hides a password in a DSN for error messages.
func redact(dsn string) string {
	if i, j := strings.Index(dsn, "://"), strings.LastIndex(dsn, "@"); i >= 0 && j > i {
		return dsn[:i+3] + "…" + dsn[j:]
	}
	return dsn
}

// Close closes the pool.
func (c *ClickHouse) Close() error { return c.conn.Close() }

// ServerVersion returns the server's version, e.g. "18.16.1".
func (c *ClickHouse) ServerVersion(ctx context.Context) (string, error) {
	if err := c.conn.Ping(ctx); err != nil {
		return "", fmt.Errorf("ping ClickHouse: %w", err)
	}
	v, err := c.conn.ServerVersion()
	if err != nil {
		return "", fmt.Errorf("ClickHouse server version: %w", err)
	}
	return fmt.Sprintf("%d.%d.%d", v.Version.Major, v.Version.Minor, v.Version.Patch), nil
}

// Migrate creates or migrates the schema now. Other methods call it when
// needed; calling it at start only surfaces a bad DSN early.
func (c *ClickHouse) Migrate(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.schema {
		return nil
	}
	if err := c.conn.Exec(ctx, schemaMigrationsTable); err != nil {
		return fmt.Errorf("create schema_migrations in ClickHouse database %q: %w", c.database, err)
	}
	var have uint32
	if err := c.conn.QueryRow(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("read ClickHouse schema version: %w", err)
	}
	if int(have) > len(chMigrations) {
		return fmt.Errorf("ClickHouse schema version %d is newer than this binary knows (%d): refusing to write", have, len(chMigrations))
	}
	for i := int(have); i < len(chMigrations); i++ {
		for _, stmt := range chMigrations[i] {
			if err := c.conn.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("ClickHouse migration %d: %w", i+1, err)
			}
		}
		if err := c.insertRow(ctx, `INSERT INTO schema_migrations (version, applied_at)`,
			uint32(i+1), time.Now().UTC()); err != nil {
			return fmt.Errorf("record ClickHouse migration %d: %w", i+1, err)
		}
	}
	c.schema = true
	return nil
}

// Cursor returns the Seq of the last batch recorded, 0 when none.
func (c *ClickHouse) Cursor(ctx context.Context) (int64, error) {
	if err := c.Migrate(ctx); err != nil {
		return 0, err
	}
	var seq int64
	// max, not FINAL: the cursor only moves forward.
	if err := c.conn.QueryRow(ctx, `SELECT max(seq) FROM archive_cursor WHERE name = ?`, cursorName).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read ClickHouse archive cursor: %w", err)
	}
	return seq, nil
}

// Write inserts the batch's rows, applies its erasures, then records the
// cursor. A failure anywhere leaves the cursor where it was, so the Feeder
// writes the batch again; the duplicates this leaves are invisible to KPIs
// and folded by ReplacingMergeTree.
func (c *ClickHouse) Write(ctx context.Context, batch []desk.Event, cursor int64) error {
	rs := decode(batch)
	return c.writeRows(ctx, &rs, cursor)
}

func (c *ClickHouse) writeRows(ctx context.Context, rs *rows, cursor int64) error {
	if err := c.Migrate(ctx); err != nil {
		return err
	}
	for i := range rs.segments {
		s := &rs.segments[i]
		if err := c.insertMentions(ctx, s.mentions); err != nil {
			return err
		}
		if err := c.insertDesk(ctx, s.desk); err != nil {
			return err
		}
		if err := c.insertCSAT(ctx, s.csat); err != nil {
			return err
		}
		if err := c.erase(ctx, s.deletes); err != nil {
			return err
		}
	}
	if err := c.insertRow(ctx, `INSERT INTO archive_cursor (name, seq, written_at)`,
		cursorName, cursor, time.Now().UTC()); err != nil {
		return fmt.Errorf("write ClickHouse archive cursor: %w", err)
	}
	return nil
}

// insertRow inserts one row through a batch. An INSERT ... VALUES sent with
// Exec hangs on ClickHouse 18.16: the old server waits for a data block the
// client never sends. Batches work on every version.
func (c *ClickHouse) insertRow(ctx context.Context, insert string, values ...any) error {
	b, err := c.conn.PrepareBatch(ctx, insert)
	if err != nil {
		return err
	}
	defer b.Abort()
	if err := b.Append(values...); err != nil {
		return err
	}
	return b.Send()
}

func b8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func sec(msec int64) time.Time { return time.Unix(msec/1000, 0).UTC() }

func (c *ClickHouse) insertMentions(ctx context.Context, rows []mentionRow) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := c.conn.PrepareBatch(ctx, `INSERT INTO mentions (event_id, source, id, version, created_at,
		created_ms, received_at, received_ms, lang, sentiment, label, polarity, intent, queue, priority, tags,
		competitor, author_id, author_handle, author_followers, influence, dropped, deleted, ticket_id)`)
	if err != nil {
		return fmt.Errorf("prepare ClickHouse mention insert: %w", err)
	}
	defer b.Abort()
	for i := range rows {
		m := &rows[i]
		if err := b.Append(m.EventID, m.Source, m.ID, m.Version, sec(m.CreatedMS), m.CreatedMS,
			sec(m.ReceivedMS), m.ReceivedMS, m.Lang, m.Sentiment, m.Label, m.Polarity, m.Intent, m.Queue,
			m.Priority, m.Tags, b8(m.Competitor), m.AuthorID, m.AuthorHandle, m.AuthorFollowers, m.Influence,
			b8(m.Dropped), uint8(0), m.TicketID); err != nil {
			return fmt.Errorf("append mention %s/%s v%d: %w", m.Source, m.ID, m.Version, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d mentions into ClickHouse: %w", len(rows), err)
	}
	return nil
}

func (c *ClickHouse) insertDesk(ctx context.Context, rows []deskRow) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := c.conn.PrepareBatch(ctx, `INSERT INTO desk_events (event_id, ticket_id, type, change, at, at_ms,
		ticket_created_at, ticket_created_ms, queue, source, agent, assignee, priority, status)`)
	if err != nil {
		return fmt.Errorf("prepare ClickHouse desk event insert: %w", err)
	}
	defer b.Abort()
	for i := range rows {
		r := &rows[i]
		if err := b.Append(r.EventID, r.TicketID, r.Type, string(r.Change), sec(r.AtMS), r.AtMS,
			sec(r.CreatedMS), r.CreatedMS, r.Queue, r.Source, r.Agent, r.Assignee, r.Priority, r.Status); err != nil {
			return fmt.Errorf("append desk event %d: %w", r.EventID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d desk events into ClickHouse: %w", len(rows), err)
	}
	return nil
}

func (c *ClickHouse) insertCSAT(ctx context.Context, rows []csatRow) error {
	if len(rows) == 0 {
		return nil
	}
	b, err := c.conn.PrepareBatch(ctx, `INSERT INTO csat_ratings (event_id, ticket_id, survey_id, queue, agent, source, rating, rated_at, rated_ms)`)
	if err != nil {
		return fmt.Errorf("prepare ClickHouse survey answer insert: %w", err)
	}
	defer b.Abort()
	for i := range rows {
		r := &rows[i]
		if err := b.Append(r.EventID, r.TicketID, r.SurveyID, r.Queue, r.Agent, r.Source, r.Rating, sec(r.RatedMS), r.RatedMS); err != nil {
			return fmt.Errorf("append survey answer of ticket %d: %w", r.TicketID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d survey answers into ClickHouse: %w", len(rows), err)
	}
	return nil
}

// erase removes people's identity from the mentions ds name, in one
// mutation (ALTER TABLE ... UPDATE, which 18.16 has). Mutations apply to
// every row inserted before them, asynchronously; a replayed batch inserts
// its rows again and then issues the mutation again.
func (c *ClickHouse) erase(ctx context.Context, ds []deletion) error {
	if len(ds) == 0 {
		return nil
	}
	var where []string
	var args []any
	var before int64
	for _, d := range ds {
		if d.retention() {
			before = max(before, d.BeforeMS)
			continue
		}
		if d.ID != "" {
			where = append(where, `(source = ? AND id = ?)`)
			args = append(args, d.Source, d.ID)
		} else {
			where = append(where, `(source = ? AND author_id = ?)`)
			args = append(args, d.Source, d.AuthorID)
		}
	}
	if len(where) > 0 {
		q := `ALTER TABLE mentions UPDATE author_id = '', author_handle = '', author_followers = 0, deleted = 1
		WHERE ` + strings.Join(where, " OR ")
		if err := c.conn.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("erase %d mention sets in ClickHouse: %w", len(where), err)
		}
	}
	if before != 0 {
		// Retention: the same mutation by age, which leaves deleted alone
		// (the posts were not deleted, they aged).
		q := `ALTER TABLE mentions UPDATE author_id = '', author_handle = '', author_followers = 0
		WHERE created_ms < ? AND (author_id != '' OR author_handle != '' OR author_followers != 0)`
		if err := c.conn.Exec(ctx, q, before); err != nil {
			return fmt.Errorf("expire authors of mentions created before %d in ClickHouse: %w", before, err)
		}
	}
	return nil
}

// KPIs computes q's buckets in ClickHouse. The ticket query folds each
// ticket's events exactly as ticketFact.fold does, then aggregates per
// bucket with quantileExact; counts are exact and duplicate-proof.
func (c *ClickHouse) KPIs(ctx context.Context, q Query) ([]Bucket, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if err := c.Migrate(ctx); err != nil {
		return nil, err
	}
	a := newAggregator(&q)
	w := a.w
	fromS, toS := w.from/1000, w.to/1000
	if q.By != ByAgent {
		key := map[Dimension]string{ByNone: `''`, ByQueue: `queue`, BySource: `source`}[q.By]
		rows, err := c.conn.Query(ctx, `SELECT intDiv(received_ms - ?, ?) AS b, `+key+` AS k,
				uniqExact(source, id), uniqExactIf(source, id, polarity > 0),
				uniqExactIf(source, id, polarity < 0), uniqExactIf(source, id, competitor = 1)
			FROM mentions
			WHERE version = 1 AND received_at >= toDateTime(?) AND received_at <= toDateTime(?)
				AND received_ms >= ? AND received_ms < ?
			GROUP BY b, k`, w.from, w.step, fromS, toS, w.from, w.to)
		if err != nil {
			return nil, fmt.Errorf("query ClickHouse mention KPIs: %w", err)
		}
		for rows.Next() {
			var b int64
			var k string
			var n, pos, neg, comp uint64
			if err := rows.Scan(&b, &k, &n, &pos, &neg, &comp); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read ClickHouse mention KPIs: %w", err)
			}
			a.addMentions(b, k, int64(n), int64(pos), int64(neg), int64(comp))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read ClickHouse mention KPIs: %w", err)
		}
	}

	// Survey answers: one per ticket, however often a retry wrote it. The
	// first answer's rating counts, as the embedded store keeps the first.
	crows, err := c.conn.Query(ctx, `SELECT b, k, count(), countIf(r >= 4) FROM (
			SELECT ticket_id, intDiv(min(rated_ms) - ?, ?) AS b, argMin(`+csatKey[q.By]+`, event_id) AS k, argMin(rating, event_id) AS r
			FROM csat_ratings
			WHERE rated_at >= toDateTime(?) AND rated_at <= toDateTime(?) AND rated_ms >= ? AND rated_ms < ?
			GROUP BY ticket_id)
		GROUP BY b, k`, w.from, w.step, fromS, toS, w.from, w.to)
	if err != nil {
		return nil, fmt.Errorf("query ClickHouse CSAT KPIs: %w", err)
	}
	for crows.Next() {
		var b int64
		var k string
		var n, pos uint64
		if err := crows.Scan(&b, &k, &n, &pos); err != nil {
			crows.Close()
			return nil, fmt.Errorf("read ClickHouse CSAT KPIs: %w", err)
		}
		a.addCSAT(b, k, int64(n), int64(pos))
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return nil, fmt.Errorf("read ClickHouse CSAT KPIs: %w", err)
	}

	// target: the queue's SLA target in ms. transform() needs non-empty
	// constant arrays on 18.16.
	target := `toInt64(?)`
	targetArgs := []any{q.SLA.fallback().Milliseconds()}
	if len(q.SLA.Targets) > 0 {
		names := make([]string, 0, len(q.SLA.Targets))
		vals := make([]int64, 0, len(q.SLA.Targets))
		for name, t := range q.SLA.Targets {
			names = append(names, name)
			vals = append(vals, t.Milliseconds())
		}
		target = `transform(tq, ?, ?, toInt64(?))`
		targetArgs = []any{names, vals, q.SLA.fallback().Milliseconds()}
	}
	key := map[Dimension]string{ByNone: `''`, ByQueue: `tq`, BySource: `tsrc`, ByAgent: `responder`}[q.By]
	const human = `change = 'replied' AND agent != ''`
	stmt := `SELECT intDiv(created_ms - ?, ?) AS b, ` + key + ` AS k,
		count(),
		countIf(reply_seq > 0),
		quantilesExactIf(0.5, 0.9)(greatest(reply_ms - created_ms, toInt64(0)), reply_seq > 0),
		countIf(last_resolved_seq > reopened_seq),
		quantilesExactIf(0.5, 0.9)(greatest(last_resolved_ms - created_ms, toInt64(0)), last_resolved_seq > reopened_seq),
		countIf(sla = 1),
		countIf(sla = 2)
	FROM (
		SELECT *,
			` + target + ` AS target,
			multiIf(reply_seq > 0 AND reply_ms - created_ms <= target, 1,
				reply_seq > 0, 2,
				first_resolved_seq > 0 AND first_resolved_ms - created_ms <= target, 3,
				toInt64(?) - created_ms > target, 2,
				0) AS sla
		FROM (
			SELECT ticket_id,
				min(ticket_created_ms) AS created_ms,
				argMax(queue, event_id) AS tq,
				argMax(source, event_id) AS tsrc,
				minIf(event_id, ` + human + `) AS reply_seq,
				argMinIf(at_ms, event_id, ` + human + `) AS reply_ms,
				argMinIf(agent, event_id, ` + human + `) AS responder,
				minIf(event_id, change = 'resolved') AS first_resolved_seq,
				argMinIf(at_ms, event_id, change = 'resolved') AS first_resolved_ms,
				maxIf(event_id, change = 'resolved') AS last_resolved_seq,
				argMaxIf(at_ms, event_id, change = 'resolved') AS last_resolved_ms,
				maxIf(event_id, change = 'reopened') AS reopened_seq
			FROM desk_events
			WHERE ticket_created_at >= toDateTime(?) AND ticket_created_at <= toDateTime(?)
				AND ticket_created_ms >= ? AND ticket_created_ms < ?
			GROUP BY ticket_id
		)
	)
	GROUP BY b, k`
	args := []any{w.from, w.step}
	args = append(args, targetArgs...)
	args = append(args, w.now, fromS, toS, w.from, w.to)
	rows, err := c.conn.Query(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("query ClickHouse ticket KPIs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			b                                      int64
			k                                      string
			tickets, responded, resolved, hit, mis uint64
			fr, rs                                 []int64
		)
		if err := rows.Scan(&b, &k, &tickets, &responded, &fr, &resolved, &rs, &hit, &mis); err != nil {
			return nil, fmt.Errorf("read ClickHouse ticket KPIs: %w", err)
		}
		bk := a.bucket(bucketKey{b, k})
		bk.Tickets += int64(tickets)
		bk.Responded += int64(responded)
		bk.Resolved += int64(resolved)
		bk.SLAHits += int64(hit)
		bk.SLAMisses += int64(mis)
		if responded > 0 && len(fr) == 2 {
			bk.FirstResponseP50Seconds, bk.FirstResponseP90Seconds = seconds(fr[0]), seconds(fr[1])
		}
		if resolved > 0 && len(rs) == 2 {
			bk.ResolutionP50Seconds, bk.ResolutionP90Seconds = seconds(rs[0]), seconds(rs[1])
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ClickHouse ticket KPIs: %w", err)
	}
	return a.result(), nil
}

// WriteAudit inserts audit entries. A retry inserts them again; the copies
// share their seq, are folded by ReplacingMergeTree, and AuditEntries reads
// one of each meanwhile.
func (c *ClickHouse) WriteAudit(ctx context.Context, entries []auth.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if err := c.Migrate(ctx); err != nil {
		return err
	}
	b, err := c.conn.PrepareBatch(ctx, `INSERT INTO audit (seq, at, at_ms, actor, actor_role, via, action, target, detail,
		remote_ip, request_id, prev_hash, hash)`)
	if err != nil {
		return fmt.Errorf("prepare ClickHouse audit insert: %w", err)
	}
	defer b.Abort()
	for i := range entries {
		a := &entries[i]
		ms := a.At.UnixMilli()
		if err := b.Append(a.Seq, sec(ms), ms, a.Actor, string(a.ActorRole), a.Via, a.Action, a.Target, string(a.Detail),
			a.RemoteIP, a.RequestID, a.PrevHash, a.Hash); err != nil {
			return fmt.Errorf("append audit entry %d: %w", a.Seq, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert %d audit entries into ClickHouse: %w", len(entries), err)
	}
	return nil
}

// AuditCursor returns the Seq of the newest archived audit entry.
func (c *ClickHouse) AuditCursor(ctx context.Context) (int64, error) {
	if err := c.Migrate(ctx); err != nil {
		return 0, err
	}
	var seq int64
	if err := c.conn.QueryRow(ctx, `SELECT max(seq) FROM audit`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read ClickHouse audit cursor: %w", err)
	}
	return seq, nil
}

// AuditEntries returns archived audit entries after `after`, one per seq,
// in order.
func (c *ClickHouse) AuditEntries(ctx context.Context, after int64, max int) ([]auth.AuditEntry, error) {
	if err := c.Migrate(ctx); err != nil {
		return nil, err
	}
	rows, err := c.conn.Query(ctx, `SELECT seq, any(at_ms), any(actor), any(actor_role), any(via), any(action), any(target),
		any(detail), any(remote_ip), any(request_id), any(prev_hash), any(hash)
		FROM audit WHERE seq > ? GROUP BY seq ORDER BY seq LIMIT ?`, after, uint64(max))
	if err != nil {
		return nil, fmt.Errorf("read ClickHouse audit: %w", err)
	}
	defer rows.Close()
	var out []auth.AuditEntry
	for rows.Next() {
		var a auth.AuditEntry
		var atMS int64
		var role, detail string
		if err := rows.Scan(&a.Seq, &atMS, &a.Actor, &role, &a.Via, &a.Action, &a.Target, &detail, &a.RemoteIP,
			&a.RequestID, &a.PrevHash, &a.Hash); err != nil {
			return nil, fmt.Errorf("read ClickHouse audit entry: %w", err)
		}
		a.At, a.ActorRole, a.Detail = time.UnixMilli(atMS).UTC(), auth.Role(role), json.RawMessage(detail)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read ClickHouse audit: %w", err)
	}
	return out, nil
}
