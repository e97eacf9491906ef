package watch

import "errors"

// The watch's errors. Register's handlers map them to status codes.
var (
	// ErrAlertNotFound is returned for an alert id the watch does not hold.
	ErrAlertNotFound = errors.New("alert not found")
	// ErrInvalid wraps a request the watch cannot take as it is.
	ErrInvalid = errors.New("invalid request")
	// ErrConflict wraps a request that does not fit the alert's state.
	ErrConflict = errors.New("conflict")
)
