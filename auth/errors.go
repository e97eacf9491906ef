package auth

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by the Auth API. HTTP handlers map them to status codes.
var (
	// ErrInvalidCredentials is returned by Login for an unknown user, a
	// disabled user or a wrong password alike, so that a caller cannot tell
	// which names exist.
	ErrInvalidCredentials = errors.New("invalid user name or password")
	// ErrWrongPassword means the current password given to ChangePassword
	// is wrong.
	ErrWrongPassword = errors.New("current password is wrong")
	// ErrUnauthenticated means the request carried no usable credential.
	ErrUnauthenticated = errors.New("authentication required")
	// ErrInvalidToken means a bearer token or session is unknown, expired,
	// revoked, malformed, or belongs to a disabled user.
	ErrInvalidToken = errors.New("invalid or expired credential")
	// ErrUserNotFound means no user has that name.
	ErrUserNotFound = errors.New("user not found")
	// ErrUserExists means a user with that name already exists.
	ErrUserExists = errors.New("user already exists")
	// ErrTokenNotFound means no token has that id (or it is not the caller's).
	ErrTokenNotFound = errors.New("token not found")
	// ErrInvalidRole means a role name is not one of Roles.
	ErrInvalidRole = errors.New("invalid role")
	// ErrUnsupportedMediaType means a request body is not application/json.
	ErrUnsupportedMediaType = errors.New("request body must be application/json (Content-Type header)")
	// ErrInvalidName means a user name breaks the naming rule.
	ErrInvalidName = errors.New("invalid user name")
	// ErrWeakPassword means a password is too short (or too long).
	ErrWeakPassword = errors.New("unacceptable password")
	// ErrScope means a token was asked for a role its user does not cover.
	ErrScope = errors.New("token role exceeds the user's role")
	// ErrUserDisabled means the user exists but is disabled.
	ErrUserDisabled = errors.New("user disabled")
	// ErrInvalidSource means a token's source scope cannot name a source.
	ErrInvalidSource = errors.New("invalid source")
	// ErrInvalidTokenName means a token's descriptive name is empty or too long.
	ErrInvalidTokenName = errors.New("invalid token name")
	// ErrCSRF means an unsafe request of a cookie session lacked the
	// session's X-CSRF-Token.
	ErrCSRF = errors.New("missing or wrong X-CSRF-Token header")
	// ErrLastAdmin is returned when a change would leave no enabled admin.
	ErrLastAdmin = errors.New("would leave no enabled admin")
	// ErrMalformedHash means a stored password hash is not a PHC argon2id
	// string this package can verify.
	ErrMalformedHash = errors.New("malformed password hash")
	// ErrBusy means too many password hashes are already waiting: retry later.
	ErrBusy = errors.New("too many logins in progress")
)

// ThrottledError is returned by Login when too many attempts failed: the
// caller must wait RetryAfter before trying again. The password was not
// checked.
type ThrottledError struct {
	RetryAfter time.Duration
	// Scope says which limit was hit: "pair" (this user from this address),
	// "user" or "ip".
	Scope string
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed logins: retry in %s", e.RetryAfter.Round(time.Second))
}
