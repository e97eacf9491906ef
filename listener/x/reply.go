package x

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/vigie/vigie/listener/source"
)

// Replier posts answers as the brand's X account. Build it with NewReplier.
// Safe for concurrent use.
type Replier struct {
	cfg Config
	api *api
	log *slog.Logger

	mu   sync.Mutex
	done map[string]string // idempotency key → id of the post made
}

// NewReplier returns a Replier for cfg (validated here; UserToken is
// required).
func NewReplier(cfg Config, logger *slog.Logger) (*Replier, error) {
	err := cfg.Validate()
	if cfg.UserToken == "" {
		err = errors.Join(err, errors.New("x: replies need a user-context token (VIGIE_X_USER_TOKEN or VIGIE_X_USER_TOKEN_FILE)"))
	}
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Replier{cfg: cfg, log: logger.With("component", "x_replier", "source", cfg.Name), done: map[string]string{}}
	r.api = &api{cfg: &r.cfg, token: cfg.UserToken}
	return r, nil
}

// Post answers the post r.InReplyTo and returns the new post's id. X offers
// no idempotency key: a key already answered in this process returns the
// same id, and X itself refuses a duplicate text. Refusals wrap
// source.ErrPermanent with X's reason and the post's URL, so the ticket says
// why and where to answer by hand.
func (r *Replier) Post(ctx context.Context, rep source.Reply) (string, error) {
	if rep.InReplyTo == "" || strings.Trim(rep.InReplyTo, "0123456789") != "" {
		return "", source.Permanent("x: cannot answer %q: not a post id", rep.InReplyTo)
	}
	r.mu.Lock()
	id, ok := r.done[rep.IdempotencyKey]
	r.mu.Unlock()
	if ok && rep.IdempotencyKey != "" {
		return id, nil
	}
	in := map[string]any{"text": rep.Text, "reply": map[string]string{"in_reply_to_tweet_id": rep.InReplyTo}}
	var res struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := r.api.do(ctx, "post reply", http.MethodPost, "/2/tweets", in, &res); err != nil {
		return "", classify(err, rep.InReplyTo)
	}
	if res.Data.ID == "" {
		return "", errors.New("x: post reply: the answer has no id")
	}
	r.mu.Lock()
	if len(r.done) >= 10_000 { // the desk retries for minutes, not days
		clear(r.done)
	}
	if rep.IdempotencyKey != "" {
		r.done[rep.IdempotencyKey] = res.Data.ID
	}
	r.mu.Unlock()
	r.log.Info("reply_posted", "ticket_id", rep.TicketID, "post_id", res.Data.ID)
	return res.Data.ID, nil
}

// classify marks what a retry will not fix as permanent, with the reason.
func classify(err error, id string) error {
	var he *HTTPError
	if !errors.As(err, &he) {
		return fmt.Errorf("x: %w", err)
	}
	link := "https://x.com/i/web/status/" + id
	reason := he.Detail
	if reason == "" {
		reason = he.Title
	}
	switch he.Status {
	case http.StatusForbidden:
		return fmt.Errorf("x: X refuses this reply (%s); answer by hand at %s: %w: %w", reason, link, source.ErrPermanent, err)
	case http.StatusUnauthorized:
		return fmt.Errorf("x: the user token is refused (needs tweet.write): %w: %w", source.ErrPermanent, err)
	case http.StatusBadRequest, http.StatusNotFound:
		return fmt.Errorf("x: the reply to %s is invalid (%s): %w: %w", link, reason, source.ErrPermanent, err)
	}
	return fmt.Errorf("x: %w", err)
}
