package desk

import "errors"

// The desk's errors. The HTTP layer maps them to status codes.
var (
	// ErrTicketNotFound is returned for a ticket id the desk does not hold.
	ErrTicketNotFound = errors.New("ticket not found")
	// ErrInvalid wraps a request the desk cannot take as it is.
	ErrInvalid = errors.New("invalid request")
	// ErrNotFound wraps a request for something the desk does not hold.
	ErrNotFound = errors.New("not found")
	// ErrConflict wraps a request that does not fit the ticket's state.
	ErrConflict = errors.New("conflict")
	// ErrNotDurable wraps an action that is committed, and seen by
	// everyone since, but whose fsync failed: it may not survive a power
	// loss. It must not be taken for an action that did not happen: sent
	// again, a reply would go out twice.
	ErrNotDurable = errors.New("committed, but not known to be on disk")
)
