// Package listenertest is the test kit for listener sources: a conformance
// suite every listener.Source runs (name, valid items, cancellation while
// blocked or idle, never closing out, finite sources ending with nil), and
// helpers to collect and check items.
package listenertest
