package feed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/sources"
)

// cursor is what a Source persists: the validators of the last document
// fully committed, and a hash of each entry's text in it.
type cursor struct {
	ETag         string            `json:"etag,omitempty"`
	LastModified string            `json:"last_modified,omitempty"`
	Seen         map[string]string `json:"seen"`
}

// Source polls one feed. See the package documentation.
type Source struct {
	cfg     Config
	store   sources.CursorStore
	health  sources.Health
	client  *http.Client
	log     *slog.Logger
	m       *metrics
	keyword []string
	now     func() time.Time

	mu      sync.Mutex
	loaded  bool
	cur     cursor            // what Run works from
	pending map[string]string // emitted, not yet committed: id → hash
	next    cursor            // to persist once pending is empty
	dirty   bool              // next differs from what is stored
}

var (
	_ listener.Source    = (*Source)(nil)
	_ listener.Committer = (*Source)(nil)
)

// Deps is what a Source needs besides its Config. Every field may be nil.
type Deps struct {
	// Cursors persists the cursor; nil keeps it in memory only.
	Cursors sources.CursorStore
	Health  sources.Health
	// HTTP fetches the feed (default: a client with Config.Timeout).
	HTTP    *http.Client
	Logger  *slog.Logger
	Metrics prometheus.Registerer
}

// New returns a Source.
func New(cfg Config, deps Deps) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Source{cfg: cfg, store: deps.Cursors, health: deps.Health, client: deps.HTTP, log: deps.Logger, m: newMetrics(deps.Metrics), now: time.Now,
		pending: map[string]string{}}
	if s.client == nil {
		s.client = &http.Client{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "feed", "feed", cfg.Name)
	if s.health == nil {
		s.health = nopHealth{}
	}
	for _, k := range cfg.Match {
		s.keyword = append(s.keyword, strings.ToLower(strings.TrimSpace(k)))
	}
	return s, nil
}

// Name returns the source's name.
func (s *Source) Name() string { return s.cfg.Name }

func (s *Source) cursorName() string { return "feed/" + s.cfg.Name }

// Run polls the feed until ctx is done and returns ctx.Err(). Fetch and
// parse failures are reported to Health and retried later.
func (s *Source) Run(ctx context.Context, out chan<- listener.Item) error {
	if err := s.load(ctx); err != nil {
		return err
	}
	failures := 0
	for {
		wait, err := s.poll(ctx, out)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failures++
			s.health.Failed(err)
			s.log.Warn("feed_poll_failed", "error", err, "failures", failures)
			backoff := s.cfg.Interval << min(failures-1, 6)
			wait = max(wait, min(backoff, max(s.cfg.Interval, maxBackoff)))
		} else {
			failures = 0
		}
		if wait == 0 {
			wait = s.cfg.Interval
		}
		t := time.NewTimer(s.jitter(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Source) jitter(d time.Duration) time.Duration {
	if s.cfg.Jitter <= 0 {
		return d
	}
	f := 1 + s.cfg.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// load reads the persisted cursor once.
func (s *Source) load(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded {
		return nil
	}
	s.cur = cursor{Seen: map[string]string{}}
	if s.store != nil {
		raw, err := s.store.Cursor(ctx, s.cursorName())
		if err != nil {
			return fmt.Errorf("feed %s: %w", s.cfg.Name, err)
		}
		if raw != "" {
			if err := json.Unmarshal([]byte(raw), &s.cur); err != nil {
				s.log.Warn("feed_cursor_unreadable", "error", err) // start over: the log deduplicates
				s.cur = cursor{}
			}
			if s.cur.Seen == nil {
				s.cur.Seen = map[string]string{}
			}
		}
	}
	s.next = s.cur
	s.loaded = true
	return nil
}

// StatusError is a fetch answered with an unexpected HTTP status.
type StatusError struct {
	Status     int
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("HTTP %d (retry after %v)", e.Status, e.RetryAfter)
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}

// poll fetches once and emits what is new. It returns how long to wait
// before the next poll (0: the interval).
func (s *Source) poll(ctx context.Context, out chan<- listener.Item) (time.Duration, error) {
	s.mu.Lock()
	etag, lastMod := s.cur.ETag, s.cur.LastModified
	s.mu.Unlock()
	fctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(fctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return 0, fmt.Errorf("feed %s: %w", s.cfg.Name, err)
	}
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set("Accept", "application/feed+json, application/atom+xml, application/rss+xml, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastMod != "" {
		req.Header.Set("If-Modified-Since", lastMod)
	}
	fetched := s.now()
	resp, err := s.client.Do(req)
	if err != nil {
		s.m.fetches.WithLabelValues("network_error").Inc()
		s.health.Connected(false)
		return 0, fmt.Errorf("fetch %s: %w", s.cfg.URL, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		s.m.fetches.WithLabelValues("not_modified").Inc()
		s.health.Connected(true)
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		s.m.fetches.WithLabelValues("throttled").Inc()
		ra := retryAfter(resp.Header.Get("Retry-After"), fetched)
		return ra, &StatusError{Status: resp.StatusCode, RetryAfter: ra}
	case resp.StatusCode/100 != 2:
		s.m.fetches.WithLabelValues("http_error").Inc()
		s.health.Connected(false)
		return 0, fmt.Errorf("fetch %s: %w", s.cfg.URL, &StatusError{Status: resp.StatusCode})
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxBodyBytes+1))
	if err != nil {
		s.m.fetches.WithLabelValues("network_error").Inc()
		return 0, fmt.Errorf("read %s: %w", s.cfg.URL, err)
	}
	s.health.Connected(true)
	if int64(len(body)) > s.cfg.MaxBodyBytes {
		s.m.fetches.WithLabelValues("parse_error").Inc()
		return 0, fmt.Errorf("feed %s: document larger than %d bytes", s.cfg.URL, s.cfg.MaxBodyBytes)
	}
	mentions, err := Parse(body, s.cfg.Source, fetched)
	if err != nil {
		s.m.fetches.WithLabelValues("parse_error").Inc()
		return 0, fmt.Errorf("feed %s: %w", s.cfg.URL, err)
	}
	s.m.fetches.WithLabelValues("ok").Inc()
	return 0, s.emit(ctx, out, mentions, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
}

// emit sends the new and edited entries, and prepares the cursor to persist
// once they are committed.
func (s *Source) emit(ctx context.Context, out chan<- listener.Item, mentions []listener.Mention, etag, lastMod string) error {
	s.mu.Lock()
	seen := make(map[string]string, len(mentions))
	var send []listener.Item
	for _, m := range mentions {
		h := textHash(m.Text)
		prev, known := s.cur.Seen[m.ID]
		seen[m.ID] = h
		switch {
		case known && prev == h:
			s.m.entries.WithLabelValues("unchanged").Inc()
			continue
		case !s.matches(m.Text):
			s.m.entries.WithLabelValues("filtered").Inc()
			continue
		}
		it := listener.MentionItem(m)
		if err := sources.CheckItem(it); err != nil {
			s.m.entries.WithLabelValues("invalid").Inc()
			s.log.Debug("feed_entry_invalid", "error", err)
			continue
		}
		if known {
			s.m.entries.WithLabelValues("edited").Inc()
		} else {
			s.m.entries.WithLabelValues("new").Inc()
		}
		s.pending[m.ID] = h
		send = append(send, it)
	}
	s.cur = cursor{ETag: etag, LastModified: lastMod, Seen: seen}
	s.next, s.dirty = s.cur, true
	s.mu.Unlock()
	if len(send) == 0 {
		s.persist(ctx)
	}
	for i, it := range send {
		select {
		case out <- it:
		case <-ctx.Done():
			s.forget(send[i:])
			return ctx.Err()
		}
	}
	return nil
}

// forget takes back entries that were never sent, so that the next poll
// emits them again: they leave the cursor, and so do the validators, or a
// 304 would hide them.
func (s *Source) forget(unsent []listener.Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range unsent {
		delete(s.pending, it.Mention.ID)
		delete(s.cur.Seen, it.Mention.ID)
	}
	s.cur.ETag, s.cur.LastModified = "", ""
	s.next = s.cur
}

func (s *Source) matches(text string) bool {
	if len(s.keyword) == 0 {
		return true
	}
	lower := strings.ToLower(text)
	for _, k := range s.keyword {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

// Commit records that items are durable; once every entry emitted is, the
// cursor of the last document is persisted.
func (s *Source) Commit(ctx context.Context, items []listener.Item) error {
	s.mu.Lock()
	for _, it := range items {
		if it.Mention == nil || it.Mention.Source != s.cfg.Source {
			continue
		}
		if h, ok := s.pending[it.Mention.ID]; ok && h == textHash(it.Mention.Text) {
			delete(s.pending, it.Mention.ID)
		}
	}
	s.mu.Unlock()
	return s.persist(ctx)
}

// persist stores the next cursor when nothing emitted is still pending.
func (s *Source) persist(ctx context.Context) error {
	s.mu.Lock()
	if len(s.pending) > 0 || !s.dirty || s.store == nil {
		s.mu.Unlock()
		return nil
	}
	raw, err := json.Marshal(s.next)
	s.dirty = false
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("feed %s: encode cursor: %w", s.cfg.Name, err)
	}
	if err := s.store.SetCursor(ctx, s.cursorName(), string(raw)); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		return fmt.Errorf("feed %s: %w", s.cfg.Name, err)
	}
	return nil
}

func textHash(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:8])
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, maxBackoff*24)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxBackoff*24)
	}
	return 0
}

type nopHealth struct{}

func (nopHealth) Connected(bool)           {}
func (nopHealth) Failed(error)             {}
func (nopHealth) Received([]listener.Item) {}
