// Package yieldtest helps test the stages that take a yield function.
package yieldtest

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Hold is a yield function that keeps the stage waiting, as a busy hot path
// would, until Release.
type Hold struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

// NewHold returns a Hold that holds every call until Release.
func NewHold() *Hold {
	return &Hold{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

// Yield is the yield function to configure.
func (h *Hold) Yield(ctx context.Context) {
	select {
	case h.entered <- struct{}{}:
	default:
	}
	select {
	case <-h.release:
	case <-ctx.Done():
	}
}

// WaitEntered fails the test unless the stage calls Yield within a minute.
func (h *Hold) WaitEntered(tb testing.TB) {
	tb.Helper()
	select {
	case <-h.entered:
	case <-time.After(time.Minute):
		tb.Fatal("the stage never yielded")
	}
}

// Release lets every call, present and future, return.
func (h *Hold) Release() { h.once.Do(func() { close(h.release) }) }
