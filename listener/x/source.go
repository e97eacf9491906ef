package x

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/source"
)

// maxLineBytes bounds one stream message: a post of 25,000 characters with
// its expansions stays far below 1 MiB.
const maxLineBytes = 1 << 20

// seenSize bounds the de-duplication set: 5 minutes of backfill on a brand's
// rules is far fewer posts than this.
const seenSize = 16_384

// errInvalidRules is the rule sync's error when X refuses rules.
var errInvalidRules = errors.New("x: invalid stream rules")

// ErrDeadConnection is the error of a stream that stayed silent beyond the
// keep-alive timeout.
var ErrDeadConnection = errors.New("x: no data or keep-alive within the timeout")

// streamQuery asks for what a mention needs: author metrics, place,
// threading, edit history.
var streamQuery = url.Values{
	"tweet.fields": {"created_at,lang,author_id,conversation_id,in_reply_to_user_id,geo,public_metrics,referenced_tweets,entities,edit_history_tweet_ids"},
	"expansions":   {"author_id,geo.place_id,referenced_tweets.id"},
	"user.fields":  {"username,name,public_metrics,verified"},
	"place.fields": {"full_name,country_code,geo"},
}

// Source reads the filtered stream. Build it with New.
type Source struct {
	cfg  Config
	api  *api
	log  *slog.Logger
	tr   *source.Tracker
	seen *source.Seen
}

var _ listener.Source = (*Source)(nil)

// New returns a Source for cfg (validated here; BearerToken is required).
func New(cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Source, error) {
	err := cfg.Validate()
	if cfg.BearerToken == "" {
		err = errors.Join(err, errors.New("x: a bearer token is required (VIGIE_X_BEARER_TOKEN or VIGIE_X_BEARER_TOKEN_FILE)"))
	}
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Source{
		cfg:  cfg,
		log:  logger.With("component", "x", "source", cfg.Name),
		tr:   source.NewTracker(cfg.Name, source.NewMetrics(reg, "x")),
		seen: source.NewSeen(seenSize),
	}
	s.api = &api{cfg: &s.cfg, token: cfg.BearerToken}
	return s, nil
}

// Name returns the source name on its mentions.
func (s *Source) Name() string { return s.cfg.Name }

// Status returns the source's health.
func (s *Source) Status() source.Status { return s.tr.Status() }

// Observe makes the source report its connections and errors to o (the
// sources registry's Health), on top of its own Status.
func (s *Source) Observe(o source.Observer) { s.tr.Observe(o) }

// policy is X's reconnect policy: three back-offs, by kind of failure.
type policy struct {
	network, http, rate source.Backoff
	immediate           bool // a working stream dropped: the first retry is at once
}

func newPolicy(cfg *Config) *policy {
	return &policy{
		network: source.Backoff{Initial: cfg.NetworkBackoff, Step: cfg.NetworkBackoff, Max: 64 * cfg.NetworkBackoff},
		http:    source.Backoff{Initial: cfg.HTTPBackoff, Max: 64 * cfg.HTTPBackoff},
		rate:    source.Backoff{Initial: cfg.RateLimitBackoff, Max: 16 * cfg.RateLimitBackoff},
	}
}

func (p *policy) connected() {
	p.network.Reset()
	p.http.Reset()
	p.rate.Reset()
	p.immediate = true
}

// delay returns the wait before the next attempt after err.
func (p *policy) delay(err error) time.Duration {
	var he *HTTPError
	switch {
	case errors.As(err, &he) && he.Status == http.StatusTooManyRequests:
		p.immediate = false
		d := p.rate.Next()
		if !he.RetryAt.IsZero() {
			d = max(d, time.Until(he.RetryAt))
		}
		return d
	case errors.As(err, &he):
		p.immediate = false
		return p.http.Next()
	case p.immediate:
		p.immediate = false
		return 0
	default:
		return p.network.Next()
	}
}

// Run syncs the rules, then follows the stream until ctx is done,
// reconnecting per X's policy, and returns ctx.Err(). It never closes out.
func (s *Source) Run(ctx context.Context, out chan<- listener.Item) error {
	p := newPolicy(&s.cfg)
	for synced := len(s.cfg.Rules) == 0; !synced; {
		err := s.api.syncRules(ctx, s.cfg.Rules)
		switch {
		case err == nil || errors.Is(err, errInvalidRules):
			// Invalid rules are a configuration error a retry cannot fix:
			// stream with the valid ones and say so.
			synced = true
			if err != nil {
				s.tr.Error(err)
				s.log.Error("stream_rules_refused", "error", err)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			s.tr.Error(err)
			d := p.delay(err)
			s.log.Warn("stream_rules_sync_failed", "error", err, "retry_in", d)
			if err := source.Sleep(ctx, d); err != nil {
				return err
			}
		}
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.tr.Reconnect()
		}
		err := s.session(ctx, out, attempt > 0, p)
		s.tr.Connected(false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.tr.Error(err)
		d := p.delay(err)
		s.log.Warn("stream_lost", "error", err, "retry_in", d)
		if err := source.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

// session connects and reads the stream until it fails.
func (s *Source) session(ctx context.Context, out chan<- listener.Item, reconnect bool, p *policy) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	q := url.Values{}
	for k, v := range streamQuery {
		q[k] = v
	}
	if reconnect && s.cfg.BackfillMinutes > 0 {
		q.Set("backfill_minutes", strconv.Itoa(s.cfg.BackfillMinutes))
	}
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, s.cfg.APIURL+"/2/tweets/search/stream?"+q.Encode(), nil)
	if err != nil {
		return fmt.Errorf("stream request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.BearerToken)
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("connect stream: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return responseError("connect stream", resp)
	}
	p.connected()
	s.tr.Connected(true)
	s.log.Info("stream_connected", "backfill", q.Get("backfill_minutes"))

	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	lines := make(chan []byte, 256)
	readErr := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
		for sc.Scan() { // ScanLines drops the "\r\n"
			last.Store(time.Now().UnixNano())
			b := sc.Bytes()
			if len(strings.TrimSpace(string(b))) == 0 {
				continue // keep-alive
			}
			select {
			case lines <- append([]byte(nil), b...):
			case <-sctx.Done():
				return
			}
		}
		err := sc.Err()
		if err == nil {
			err = io.EOF
		}
		readErr <- err
	}()
	watch := time.NewTicker(max(s.cfg.KeepAliveTimeout/4, time.Millisecond))
	defer watch.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-readErr:
			return fmt.Errorf("read stream: %w", err)
		case <-watch.C:
			if time.Since(time.Unix(0, last.Load())) > s.cfg.KeepAliveTimeout {
				return ErrDeadConnection
			}
		case b := <-lines:
			l, err := parseLine(b)
			if errors.Is(err, errOperationalDisconnect) {
				return err
			}
			if err != nil {
				s.tr.Invalid("bad_message")
				s.log.Warn("payload_dropped", "error", err)
				continue
			}
			if !s.seen.Add(l.Data.ID) {
				continue // replayed by backfill
			}
			m := l.mention(s.cfg.Name)
			if strings.TrimSpace(m.Text) == "" {
				s.tr.Invalid("empty_text")
				continue
			}
			if err := s.tr.Send(ctx, out, listener.MentionItem(m), m.CreatedAt); err != nil {
				return err
			}
		}
	}
}
