package archive

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/internal/pause"
)

// AuditLog is the audit log as the archive follows it. *auth.Auth
// implements it. Implementations are safe for concurrent use.
type AuditLog interface {
	// ReadAudit returns up to max entries with Seq > after, in Seq order.
	ReadAudit(ctx context.Context, after int64, max int) ([]auth.AuditEntry, error)
	// WaitAudit blocks until an entry with Seq > after exists, and returns
	// nil; or until ctx ends, and returns ctx.Err().
	WaitAudit(ctx context.Context, after int64) error
}

var _ AuditLog = (*auth.Auth)(nil)

// AuditStore keeps a copy of the audit log: the witness that a truncated or
// rewritten audit log in auth.db can be checked against. Both stores
// implement it.
type AuditStore interface {
	// WriteAudit archives entries, in Seq order. Writing an entry again (a
	// retry) keeps one copy of it (at once in the embedded store; after
	// ClickHouse's background merge, invisible to AuditCursor meanwhile).
	WriteAudit(ctx context.Context, entries []auth.AuditEntry) error
	// AuditCursor returns the Seq of the newest archived entry, 0 for none.
	AuditCursor(ctx context.Context) (int64, error)
	// AuditEntries returns up to max archived entries with Seq > after, in
	// Seq order, with their hashes (for checking the chain).
	AuditEntries(ctx context.Context, after int64, max int) ([]auth.AuditEntry, error)
}

var (
	_ AuditStore = (*Embedded)(nil)
	_ AuditStore = (*ClickHouse)(nil)
)

// AuditFeeder follows the audit log into an AuditStore, like Feeder follows
// the desk's event log: from the store's own cursor, in batches, retrying a
// failed write with back-off until it succeeds. It only reads the log.
type AuditFeeder struct {
	log    AuditLog
	store  AuditStore
	cfg    Config
	logger *slog.Logger
	cursor prometheus.Gauge
	errors prometheus.Counter
}

// NewAuditFeeder returns an AuditFeeder from log into store. reg may be nil.
func NewAuditFeeder(log AuditLog, store AuditStore, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*AuditFeeder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	f := &AuditFeeder{
		log: log, store: store, cfg: cfg, logger: logger.With("component", "archive_audit"),
		cursor: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_archive_audit_cursor",
			Help: "Seq of the newest audit entry archived.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_archive_audit_write_errors_total",
			Help: "Failed attempts to archive audit entries (each is retried).",
		}),
	}
	if reg != nil {
		reg.MustRegister(f.cursor, f.errors)
	}
	return f, nil
}

// Run archives audit entries until ctx ends, then returns nil.
func (f *AuditFeeder) Run(ctx context.Context) error {
	var cursor int64
	if err := retry(ctx, f.cfg, f.logger, "read audit cursor", nil, func() error {
		c, err := f.store.AuditCursor(ctx)
		cursor = c
		return err
	}); err != nil {
		return nil // ctx ended
	}
	f.cursor.Set(float64(cursor))
	for {
		var batch []auth.AuditEntry
		if err := retry(ctx, f.cfg, f.logger, "read audit log", nil, func() error {
			var err error
			batch, err = f.log.ReadAudit(ctx, cursor, f.cfg.BatchSize)
			return err
		}); err != nil {
			return nil
		}
		if len(batch) == 0 {
			if err := f.log.WaitAudit(ctx, cursor); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				f.logger.Warn("archive_audit_wait_failed", "error", err)
				if pause.For(ctx, f.cfg.RetryMin) != nil {
					return nil
				}
			}
			continue
		}
		if err := retry(ctx, f.cfg, f.logger, "write audit entries", f.errors, func() error {
			return f.store.WriteAudit(ctx, batch)
		}); err != nil {
			return nil
		}
		cursor = batch[len(batch)-1].Seq
		f.cursor.Set(float64(cursor))
	}
}

// Cursor returns the Seq of the newest audit entry archived.
func (f *AuditFeeder) Cursor(ctx context.Context) (int64, error) { return f.store.AuditCursor(ctx) }
