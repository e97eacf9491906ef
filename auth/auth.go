package auth

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/internal/sqlite"
)

// Times are stored as Unix milliseconds.
var migrations = []string{
	`CREATE TABLE users(
		name TEXT PRIMARY KEY,
		role TEXT NOT NULL,
		password_hash TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		disabled INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;
	CREATE TABLE sessions(
		id_hash BLOB PRIMARY KEY,
		user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
		csrf TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX sessions_user ON sessions(user);
	CREATE INDEX sessions_expires ON sessions(expires_at);
	CREATE TABLE tokens(
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		secret_hash BLOB NOT NULL,
		role TEXT NOT NULL,
		user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
		created_at INTEGER NOT NULL,
		last_used INTEGER NOT NULL DEFAULT 0,
		revoked_at INTEGER NOT NULL DEFAULT 0
	) WITHOUT ROWID;
	CREATE INDEX tokens_user ON tokens(user);`,
	// 2: the audit log (audit.go): append-only, hash-chained.
	`CREATE TABLE audit(
		seq INTEGER PRIMARY KEY,
		at INTEGER NOT NULL,
		actor TEXT NOT NULL,
		actor_role TEXT NOT NULL,
		via TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL,
		detail TEXT NOT NULL,
		remote_ip TEXT NOT NULL,
		request_id TEXT NOT NULL,
		prev_hash BLOB NOT NULL,
		hash BLOB NOT NULL
	);
	CREATE INDEX audit_actor ON audit(actor, seq);
	CREATE INDEX audit_action ON audit(action, seq);
	CREATE INDEX audit_at ON audit(at);
	CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
	CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;`,
	// 3: a token may be scoped to one source (one ingest token per source).
	`ALTER TABLE tokens ADD COLUMN source TEXT NOT NULL DEFAULT '';`,
}

// Auth authenticates requests and manages users, sessions and API tokens.
// It is safe for concurrent use.
type Auth struct {
	cfg      Config
	db       *sqlite.DB
	log      *slog.Logger
	metrics  *metrics
	hasher   *hasher
	throttle *throttle
	now      func() time.Time

	auditMu      sync.Mutex
	auditHead    int64         // Seq of the newest audit entry
	auditChanged chan struct{} // closed and replaced when auditHead moves
}

// New opens (creating when missing) the auth database at cfg.Path. logger
// may be nil (nothing is logged); reg may be nil (metrics are not exported).
func New(ctx context.Context, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Auth, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := sqlite.Open(ctx, cfg.Path, sqlite.SyncFull, migrations)
	if err != nil {
		return nil, fmt.Errorf("open auth database: %w", err)
	}
	m := newMetrics(reg)
	a := &Auth{
		cfg:      cfg,
		db:       db,
		log:      logger.With("component", "auth"),
		metrics:  m,
		hasher:   newHasher(cfg.Hash, cfg.MaxConcurrentHashes, cfg.MaxHashWaiters, m),
		throttle: newThrottle(cfg.Throttle, cfg.Now),
		now:      cfg.Now,

		auditChanged: make(chan struct{}),
	}
	if err := db.R.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit`).Scan(&a.auditHead); err != nil {
		db.Close()
		return nil, fmt.Errorf("read audit log head: %w", err)
	}
	m.auditEntries.Set(float64(a.auditHead))
	if err := a.prune(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// Close closes the database. Requests in flight fail after it.
func (a *Auth) Close() error { return a.db.Close() }

// Run deletes expired sessions and refreshes the active sessions gauge every
// Config.PruneInterval, until ctx is done; it then returns nil. Auth works
// without Run, but expired sessions then accumulate on disk (they are
// refused all the same).
func (a *Auth) Run(ctx context.Context) error {
	t := time.NewTicker(a.cfg.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := a.prune(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("prune sessions", "error", err)
			}
		}
	}
}

// prune deletes sessions past their lifetime or idle timeout, and sets the
// active sessions gauge to what remains.
func (a *Auth) prune(ctx context.Context) error {
	now := a.now()
	if _, err := a.db.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen <= ?`,
		ms(now), ms(now.Add(-a.cfg.IdleTimeout))); err != nil {
		return fmt.Errorf("delete expired sessions: %w", err)
	}
	var n int
	if err := a.db.R.QueryRowContext(ctx, `SELECT count(*) FROM sessions`).Scan(&n); err != nil {
		return fmt.Errorf("count sessions: %w", err)
	}
	a.metrics.sessions.Set(float64(n))
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}
