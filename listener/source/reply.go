package source

import (
	"errors"
	"fmt"
)

// Reply is an answer to post on a network. Its fields are those of
// desk.Reply, in the same order, so that cmd/vigie converts one into the
// other with source.Reply(r) (listener may not import desk).
type Reply struct {
	// Source is the name of the source the answered post came from.
	Source string
	// TicketID is the desk ticket the reply belongs to (for logs only).
	TicketID int64
	// InReplyTo is the native id of the post being answered.
	InReplyTo string
	// Text is what to post.
	Text string
	// IdempotencyKey is the same on every attempt of the same reply.
	IdempotencyKey string
}

// ErrPermanent marks a reply failure that a retry will not fix: the platform
// refuses the reply, the post is gone, the credentials are rejected.
// cmd/vigie maps it to desk.ErrPermanent.
var ErrPermanent = errors.New("permanent failure")

// Permanent returns an error wrapping ErrPermanent with a reason a person
// can act on.
func Permanent(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrPermanent, fmt.Sprintf(format, args...))
}
