// Package pause waits for a duration or until a context ends, whichever
// comes first: the back-offs, batch gathering and pacing of Vigie's loops.
package pause

import (
	"context"
	"time"
)

// For waits d, or until ctx ends. It returns ctx.Err() when ctx ended
// first (at once when d <= 0 and ctx is done), nil otherwise.
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
