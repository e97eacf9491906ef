package bluesky

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vigie/vigie/listener/source"
)

// maxPostGraphemes is app.bsky.feed.post's text limit. Counting runes is
// stricter than counting graphemes, never looser.
const maxPostGraphemes = 300

// Replier answers posts as the brand account. Build it with NewReplier.
// Safe for concurrent use.
type Replier struct {
	cfg     Config
	pds     *xrpc
	appView *xrpc
	log     *slog.Logger
	now     func() time.Time

	mu      sync.Mutex
	session *session
	rkeys   map[string]string // idempotency key → rkey of the first attempt
	clock   uint64
}

type session struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	DID        string `json:"did"`
	Handle     string `json:"handle"`
}

// NewReplier returns a Replier for cfg (validated here: PDSURL,
// Identifier, AppPassword and AppViewURL matter).
func NewReplier(cfg Config, logger *slog.Logger) (*Replier, error) {
	if err := cfg.validateReplier(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Replier{
		cfg:     cfg,
		pds:     &xrpc{base: cfg.PDSURL, client: cfg.HTTPClient},
		appView: &xrpc{base: cfg.AppViewURL, client: cfg.HTTPClient},
		log:     logger.With("component", "bluesky_replier", "source", cfg.Name),
		now:     time.Now,
		rkeys:   map[string]string{},
	}, nil
}

// Post answers the post whose AT-URI is r.InReplyTo and returns the new
// post's AT-URI. reply.parent is that post (its cid from getPosts), and
// reply.root its thread's root. The record key is chosen once per
// idempotency key, so that a retry after a lost answer finds the post it
// already made instead of posting twice. Failures a retry will not fix wrap
// source.ErrPermanent.
func (r *Replier) Post(ctx context.Context, rep source.Reply) (string, error) {
	if _, _, _, err := splitURI(rep.InReplyTo); err != nil {
		return "", source.Permanent("bluesky: cannot answer %q: %v", rep.InReplyTo, err)
	}
	if n := utf8.RuneCountInString(rep.Text); n > maxPostGraphemes {
		return "", source.Permanent("bluesky: a reply holds at most %d characters, this one %d", maxPostGraphemes, n)
	}
	parent, root, err := r.thread(ctx, rep.InReplyTo)
	if err != nil {
		return "", err
	}
	rkey, retry := r.rkeyFor(rep.IdempotencyKey)
	var out strongRef
	err = r.authed(ctx, func(s *session) error {
		if retry {
			// Did an earlier attempt succeed without us hearing back?
			var got struct {
				URI string `json:"uri"`
			}
			q := url.Values{"repo": {s.DID}, "collection": {postCollection}, "rkey": {rkey}}
			if err := r.pds.call(ctx, "com.atproto.repo.getRecord", q, nil, s.AccessJwt, &got); err == nil && got.URI != "" {
				out.URI = got.URI
				return nil
			}
		}
		in := map[string]any{
			"repo":       s.DID,
			"collection": postCollection,
			"rkey":       rkey,
			"record": map[string]any{
				"$type":     postCollection,
				"text":      rep.Text,
				"createdAt": r.now().UTC().Format("2006-01-02T15:04:05.000Z"),
				"reply":     map[string]strongRef{"root": root, "parent": parent},
			},
		}
		return r.pds.call(ctx, "com.atproto.repo.createRecord", nil, in, s.AccessJwt, &out)
	})
	if err != nil {
		return "", classify(err)
	}
	if out.URI == "" {
		return "", errors.New("bluesky: createRecord answered without a uri")
	}
	r.log.Info("reply_posted", "ticket_id", rep.TicketID, "uri", out.URI)
	return out.URI, nil
}

// thread resolves the parent's strong ref and its thread's root.
func (r *Replier) thread(ctx context.Context, uri string) (parent, root strongRef, err error) {
	var res struct {
		Posts []struct {
			URI    string     `json:"uri"`
			CID    string     `json:"cid"`
			Record postRecord `json:"record"`
		} `json:"posts"`
	}
	if err := r.appView.call(ctx, "app.bsky.feed.getPosts", url.Values{"uris": {uri}}, nil, "", &res); err != nil {
		return parent, root, classify(err)
	}
	if len(res.Posts) == 0 || res.Posts[0].CID == "" {
		return parent, root, source.Permanent("bluesky: post %s is gone or hidden: nothing to answer", uri)
	}
	p := res.Posts[0]
	parent = strongRef{URI: p.URI, CID: p.CID}
	root = parent
	if p.Record.Reply != nil && p.Record.Reply.Root.URI != "" && p.Record.Reply.Root.CID != "" {
		root = p.Record.Reply.Root
	}
	return parent, root, nil
}

// authed runs call with a session, logging in first if needed, and once
// more after refreshing (or re-creating) an expired session.
func (r *Replier) authed(ctx context.Context, call func(*session) error) error {
	s, err := r.currentSession(ctx)
	if err != nil {
		return err
	}
	err = call(s)
	if !expired(err) {
		return err
	}
	if s, err = r.refresh(ctx, s); err != nil {
		return err
	}
	return call(s)
}

func expired(err error) bool {
	var xe *XRPCError
	return errors.As(err, &xe) && (xe.Name == "ExpiredToken" || xe.Name == "InvalidToken" || xe.Status == http.StatusUnauthorized)
}

func (r *Replier) currentSession(ctx context.Context) (*session, error) {
	r.mu.Lock()
	s := r.session
	r.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return r.login(ctx)
}

func (r *Replier) login(ctx context.Context) (*session, error) {
	var s session
	in := map[string]string{"identifier": r.cfg.Identifier, "password": r.cfg.AppPassword}
	if err := r.pds.call(ctx, "com.atproto.server.createSession", nil, in, "", &s); err != nil {
		var xe *XRPCError
		if errors.As(err, &xe) && (xe.Status == http.StatusUnauthorized || xe.Name == "AuthenticationRequired") {
			return nil, fmt.Errorf("bluesky: log in as %s: the app password is refused: %w: %w", r.cfg.Identifier, source.ErrPermanent, err)
		}
		return nil, fmt.Errorf("bluesky: log in as %s: %w", r.cfg.Identifier, err)
	}
	if s.AccessJwt == "" || s.DID == "" {
		return nil, errors.New("bluesky: createSession answered without a token or DID")
	}
	r.mu.Lock()
	r.session = &s
	r.mu.Unlock()
	r.log.Info("session_created", "did", s.DID)
	return &s, nil
}

// refresh trades the refresh token for a new session, logging in again if
// that fails too.
func (r *Replier) refresh(ctx context.Context, old *session) (*session, error) {
	r.mu.Lock()
	if r.session != nil && r.session != old { // another call refreshed it
		s := r.session
		r.mu.Unlock()
		return s, nil
	}
	r.mu.Unlock()
	var s session
	if err := r.pds.call(ctx, "com.atproto.server.refreshSession", nil, struct{}{}, old.RefreshJwt, &s); err == nil && s.AccessJwt != "" {
		if s.DID == "" {
			s.DID = old.DID
		}
		r.mu.Lock()
		r.session = &s
		r.mu.Unlock()
		return &s, nil
	}
	return r.login(ctx)
}

// rkeyFor returns the record key for an idempotency key, and whether it was
// already used by an earlier attempt.
func (r *Replier) rkeyFor(key string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.rkeys[key]; ok && key != "" {
		return k, true
	}
	r.clock++
	k := tid(uint64(r.now().UnixMicro()), r.clock)
	if key != "" {
		if len(r.rkeys) >= 10_000 { // the desk retries for minutes, not days
			clear(r.rkeys)
		}
		r.rkeys[key] = k
	}
	return k, false
}

// tid formats a record key in the TID syntax: 53 bits of microseconds and 10
// bits of clock id, in base32-sortable, 13 characters.
func tid(micros, clock uint64) string {
	const alphabet = "234567abcdefghijklmnopqrstuvwxyz"
	v := (micros&(1<<53-1))<<10 | clock&(1<<10-1)
	var b [13]byte
	for i := 12; i >= 0; i-- {
		b[i] = alphabet[v&31]
		v >>= 5
	}
	return string(b[:])
}

// classify marks the failures a retry will not fix as permanent.
func classify(err error) error {
	var xe *XRPCError
	if !errors.As(err, &xe) {
		return fmt.Errorf("bluesky: %w", err)
	}
	if xe.Status == http.StatusBadRequest && xe.Name != "ExpiredToken" || xe.Status == http.StatusForbidden || xe.Status == http.StatusNotFound {
		return fmt.Errorf("bluesky: the reply is refused: %w: %w", source.ErrPermanent, err)
	}
	return fmt.Errorf("bluesky: %w", err)
}
