package sources

import (
	"context"
	"errors"
	"fmt"

	"github.com/vigie/vigie/listener/source"
)

// Reply is an agent's answer to post on a network: listener/source's, shared
// by every connector. It has the fields of desk.Reply, in the same order, so
// that cmd/vigie converts one into the other with sources.Reply(r).
type Reply = source.Reply

// Replier posts replies to a network and returns the id of the new post. An
// error wrapping ErrPermanent will fail the same way on a retry; any other
// error is worth retrying later. Implementations are safe for concurrent use.
type Replier interface {
	Post(ctx context.Context, r Reply) (externalID string, err error)
}

// ErrPermanent marks a reply failure that a retry will not fix (no
// permission, the post is gone, the text is refused): listener/source's.
// cmd/vigie maps it to desk.ErrPermanent.
var ErrPermanent = source.ErrPermanent

// ErrNoReplier is returned by the registry's Replier for a network no
// configured source answers.
var ErrNoReplier = errors.New("no source replies on this network")

// replierMux dispatches replies by network.
type replierMux map[string]Replier

func (m replierMux) Post(ctx context.Context, r Reply) (string, error) {
	rp, ok := m[r.Source]
	if !ok {
		return "", fmt.Errorf("reply on %q: %w", r.Source, ErrNoReplier)
	}
	return rp.Post(ctx, r)
}
