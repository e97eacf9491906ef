package mastodon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/vigie/vigie/listener/source"
)

// Replier posts answers on a Mastodon instance. Build it with NewReplier.
// Safe for concurrent use.
type Replier struct {
	cfg  Config
	rest *rest
	log  *slog.Logger
}

// NewReplier returns a Replier for cfg (validated here; only Server, Token,
// ReplyVisibility, NoMentionAuthor and HTTPClient matter).
func NewReplier(cfg Config, logger *slog.Logger) (*Replier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Replier{cfg: cfg, log: logger.With("component", "mastodon_replier", "source", cfg.Name)}
	r.rest = &rest{cfg: &r.cfg, gate: newRateGate()}
	return r, nil
}

// Post answers the status r.InReplyTo with r.Text and returns the new
// status's id. The Idempotency-Key header carries r.IdempotencyKey: the
// instance remembers it for an hour, so a retry never posts twice. Unless
// NoMentionAuthor is set, the reply starts with the author's @acct when the
// text does not already name them. Errors a retry will not fix (the post is
// gone, the text is refused, the token is rejected) wrap
// source.ErrPermanent.
func (r *Replier) Post(ctx context.Context, rep source.Reply) (string, error) {
	if rep.InReplyTo == "" {
		return "", source.Permanent("mastodon: a reply needs the id of the post it answers")
	}
	text := rep.Text
	if !r.cfg.NoMentionAuthor {
		var st status
		_, err := r.rest.do(ctx, "read the answered status", http.MethodGet, r.cfg.Server+"/api/v1/statuses/"+url.PathEscape(rep.InReplyTo), nil, nil, &st)
		if err != nil {
			return "", classify(err, rep.InReplyTo)
		}
		if acct := st.Account.Acct; acct != "" && !strings.Contains(text, "@"+acct) {
			text = "@" + acct + " " + text
		}
	}
	body := map[string]string{"status": text, "in_reply_to_id": rep.InReplyTo}
	if r.cfg.ReplyVisibility != "" {
		body["visibility"] = r.cfg.ReplyVisibility
	}
	var h http.Header
	if rep.IdempotencyKey != "" {
		h = http.Header{"Idempotency-Key": {rep.IdempotencyKey}}
	}
	var created status
	if _, err := r.rest.do(ctx, "post reply", http.MethodPost, r.cfg.Server+"/api/v1/statuses", body, h, &created); err != nil {
		return "", classify(err, rep.InReplyTo)
	}
	if created.ID == "" {
		return "", errors.New("mastodon: post reply: the answer has no id")
	}
	r.log.Info("reply_posted", "ticket_id", rep.TicketID, "status_id", created.ID)
	return created.ID, nil
}

// classify marks the HTTP failures a retry will not fix as permanent.
func classify(err error, id string) error {
	var he *HTTPError
	if !errors.As(err, &he) {
		return fmt.Errorf("mastodon: %w", err)
	}
	switch he.Status {
	case http.StatusNotFound, http.StatusGone:
		return fmt.Errorf("mastodon: status %s is gone or not visible to this account: %w: %w", id, source.ErrPermanent, err)
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("mastodon: the token is refused (needs write:statuses): %w: %w", source.ErrPermanent, err)
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		return fmt.Errorf("mastodon: the instance refuses the reply: %w: %w", source.ErrPermanent, err)
	}
	return fmt.Errorf("mastodon: %w", err)
}
