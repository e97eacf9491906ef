package source

import (
	"context"
	"sync"
)

// CursorStore persists named resume cursors. intake.Log implements it, so a
// cursor lives in the same database as the items it covers. Cursor returns ""
// for a name never set.
type CursorStore interface {
	Cursor(ctx context.Context, name string) (string, error)
	SetCursor(ctx context.Context, name, value string) error
}

// MemCursors is an in-memory CursorStore for tests and development. The zero
// value is ready to use.
type MemCursors struct {
	mu sync.Mutex
	m  map[string]string
}

// Cursor returns the cursor called name, or "".
func (c *MemCursors) Cursor(_ context.Context, name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[name], nil
}

// SetCursor sets the cursor called name.
func (c *MemCursors) SetCursor(_ context.Context, name, value string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]string{}
	}
	c.m[name] = value
	return nil
}
