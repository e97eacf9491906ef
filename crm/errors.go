package crm

import "errors"

// The CRM's errors. Its HTTP handlers map them to status codes.
var (
	// ErrNotFound is returned for a profile, identity, segment or survey
	// the CRM does not hold.
	ErrNotFound = errors.New("not found")
	// ErrInvalid wraps a request that cannot be taken as it is; its text
	// names the field and why.
	ErrInvalid = errors.New("invalid request")
	// ErrConflict wraps a request that does not fit the current state (a
	// CRM id held by another profile, unlinking the last identity).
	ErrConflict = errors.New("conflict")
	// ErrUnauthorized is returned for a survey token that is not one Vigie
	// signed.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrGone is returned for a survey token already used or expired.
	ErrGone = errors.New("gone")
)

// ErrExport is returned when the CRM's webhook refuses or fails an export.
var ErrExport = errors.New("export to the CRM failed")
