package offer

import "errors"

// The offer engine's errors. The HTTP layer maps them to status codes.
var (
	// ErrNotFound is returned for a fence, campaign, consent or offer the
	// engine does not hold.
	ErrNotFound = errors.New("not found")
	// ErrInvalid wraps a request that cannot be taken as it is; its text
	// says which field is wrong and why.
	ErrInvalid = errors.New("invalid request")
	// ErrUnauthorized is returned when a gateway callback's signature is
	// missing, stale or wrong.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("offer engine closed")
)
