package offer

import "context"

// Checkpoint flushes the database's WAL into its file and truncates it, so
// that data deleted by an erasure is gone from the WAL's bytes too.
func (e *Engine) Checkpoint(ctx context.Context) error { return e.db.Checkpoint(ctx) }
