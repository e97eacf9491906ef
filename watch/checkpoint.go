package watch

import "context"

// Checkpoint flushes the database's WAL into its file and truncates it, so
// that data deleted by an erasure is gone from the WAL's bytes too.
func (w *Watch) Checkpoint(ctx context.Context) error { return w.db.Checkpoint(ctx) }
