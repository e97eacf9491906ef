package mastodon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/source"
)

// seenSize is how many status versions a Source remembers to drop the
// overlap between a REST catch-up and the live stream: a catch-up reads at
// most CatchUpPages*40 statuses (1,000 by default), so 4,096 covers it.
const seenSize = 4096

// ErrDeadConnection is the error of a session whose stream stayed silent for
// longer than the heartbeat timeout.
var ErrDeadConnection = errors.New("mastodon: no heartbeat within the timeout")

// Source follows one Mastodon stream. Build it with New.
type Source struct {
	cfg    Config
	store  source.CursorStore
	log    *slog.Logger
	tr     *source.Tracker
	rest   *rest
	host   string
	cursor string // name of the persisted cursor
	seen   *source.Seen

	mu        sync.Mutex
	newest    string // highest status id received
	committed string // highest status id committed
}

var (
	_ listener.Source    = (*Source)(nil)
	_ listener.Committer = (*Source)(nil)
)

// New returns a Source for cfg (validated here). store persists the resume
// cursor under "mastodon:<name>"; nil keeps it in memory only.
func New(cfg Config, store source.CursorStore, logger *slog.Logger, reg prometheus.Registerer) (*Source, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		store = &source.MemCursors{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Source{
		cfg:    cfg,
		store:  store,
		log:    logger.With("component", "mastodon", "source", cfg.Name),
		tr:     source.NewTracker(cfg.Name, newMetrics(reg)),
		rest:   &rest{cfg: &cfg, gate: newRateGate()},
		host:   hostOf(cfg.Server),
		cursor: "mastodon:" + cfg.Name,
		seen:   source.NewSeen(seenSize),
	}
	s.rest.cfg = &s.cfg
	return s, nil
}

// Name returns the source name on its mentions.
func (s *Source) Name() string { return s.cfg.Name }

// Status returns the source's health.
func (s *Source) Status() source.Status { return s.tr.Status() }

// Observe makes the source report its connections and errors to o (the
// sources registry's Health), on top of its own Status.
func (s *Source) Observe(o source.Observer) { s.tr.Observe(o) }

// Run follows the stream until ctx is done, reconnecting with back-off, and
// returns ctx.Err(). It never closes out. It fails early only when the
// persisted cursor cannot be read.
func (s *Source) Run(ctx context.Context, out chan<- listener.Item) error {
	cur, err := s.store.Cursor(ctx, s.cursor)
	if err != nil {
		return fmt.Errorf("mastodon %s: read cursor: %w", s.cfg.Name, err)
	}
	s.mu.Lock()
	if idLess(s.newest, cur) {
		s.newest = cur
	}
	if idLess(s.committed, cur) {
		s.committed = cur
	}
	s.mu.Unlock()
	bo := source.Backoff{Initial: s.cfg.BackoffMin, Max: s.cfg.BackoffMax, Jitter: 0.2}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.tr.Reconnect()
		}
		connected, err := s.session(ctx, out)
		s.tr.Connected(false)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.tr.Error(err)
		if connected {
			bo.Reset()
		}
		wait := bo.Next()
		var he *HTTPError
		if errors.As(err, &he) && !he.RetryAt.IsZero() {
			wait = max(wait, time.Until(he.RetryAt))
		}
		s.log.Warn("stream_lost", "error", err, "retry_in", wait)
		if err := source.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// session connects, catches up over REST and follows the stream until it
// fails. connected says whether the connection was established.
func (s *Source) session(ctx context.Context, out chan<- listener.Item) (connected bool, err error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last atomic.Int64
	touch := func() { last.Store(time.Now().UnixNano()) }
	touch()
	var c streamConn
	if s.cfg.Transport == TransportWebSocket {
		c, err = dialWS(sctx, &s.cfg, s.rest.gate, touch)
	} else {
		c, err = dialSSE(sctx, &s.cfg, s.rest.gate)
	}
	if err != nil {
		return false, err
	}
	defer c.close()
	s.tr.Connected(true)
	s.log.Info("stream_connected", "stream", s.cfg.Stream, "transport", s.cfg.Transport)

	events := make(chan event, 256)
	readErr := make(chan error, 1)
	go func() {
		for {
			ev, err := c.next()
			if err != nil {
				readErr <- err
				return
			}
			touch()
			if ev.name == "" {
				continue // heartbeat
			}
			select {
			case events <- ev:
			case <-sctx.Done():
				return
			}
		}
	}()
	if ws, ok := c.(*wsConn); ok {
		go s.ping(sctx, ws)
	}

	s.mu.Lock()
	from := s.newest
	s.mu.Unlock()
	if from != "" {
		if err := s.catchUp(sctx, out, from); err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return true, err
		}
	}
	touch()
	watch := time.NewTicker(max(s.cfg.HeartbeatTimeout/4, time.Millisecond))
	defer watch.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case err := <-readErr:
			return true, fmt.Errorf("read stream: %w", err)
		case <-watch.C:
			if time.Since(time.Unix(0, last.Load())) > s.cfg.HeartbeatTimeout {
				return true, ErrDeadConnection
			}
		case ev := <-events:
			if err := s.handle(ctx, out, ev); err != nil {
				return true, err
			}
		}
	}
}

// ping keeps a websocket alive and proves the server is there: its pongs
// count as heartbeats.
func (s *Source) ping(ctx context.Context, c *wsConn) {
	t := time.NewTicker(max(s.cfg.HeartbeatTimeout/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.c.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)); err != nil {
				return
			}
		}
	}
}

// handle turns one stream event into items. Only a cancelled ctx is an
// error: an unreadable payload is counted and skipped.
func (s *Source) handle(ctx context.Context, out chan<- listener.Item, ev event) error {
	switch ev.name {
	case "update", "status.update":
		st, err := parseStatus(ev.data)
		if err != nil {
			s.invalid("bad_status", err)
			return nil
		}
		return s.emitStatus(ctx, out, st)
	case "notification":
		n, err := parseNotification(ev.data)
		if err != nil {
			s.invalid("bad_notification", err)
			return nil
		}
		if n.Type != "mention" || n.Status == nil {
			return nil
		}
		return s.emitStatus(ctx, out, n.Status)
	case "delete":
		id := strings.TrimSpace(string(ev.data))
		if id == "" || strings.ContainsAny(id, " \t\n\"{") {
			s.invalid("bad_delete", fmt.Errorf("delete event with id %q", id))
			return nil
		}
		if !s.seen.Add("delete:" + id) {
			return nil
		}
		t := listener.Tombstone{Source: s.cfg.Name, ID: id, Reason: "deleted", At: time.Now().UTC()}
		return s.tr.Send(ctx, out, listener.TombstoneItem(t), time.Time{})
	case "invalid":
		s.invalid("bad_frame", errors.New("unreadable websocket frame"))
	}
	// filters_changed, announcement, conversation...: nothing to listen to.
	return nil
}

func (s *Source) invalid(reason string, err error) {
	s.tr.Invalid(reason)
	s.log.Warn("payload_dropped", "reason", reason, "error", err)
}

// emitStatus sends a status (once per version) as a mention.
func (s *Source) emitStatus(ctx context.Context, out chan<- listener.Item, st *status) error {
	s.mu.Lock()
	if idLess(s.newest, st.ID) {
		s.newest = st.ID
	}
	s.mu.Unlock()
	if st.Reblog != nil {
		return nil // a boost repeats a post; it is not a new mention
	}
	if !s.seen.Add(st.version()) {
		return nil
	}
	m := st.mention(s.cfg.Name, s.host)
	if m.Text == "" {
		s.invalid("empty_text", fmt.Errorf("status %s has no text", st.ID))
		return nil
	}
	return s.tr.Send(ctx, out, listener.MentionItem(m), m.CreatedAt)
}

// catchUp pages the REST timeline forward from id to the present, oldest
// first, so that nothing posted while disconnected is missed.
func (s *Source) catchUp(ctx context.Context, out chan<- listener.Item, id string) error {
	u := pageAfter(&s.cfg, id)
	for page := 0; page < s.cfg.CatchUpPages; page++ {
		var sts []status
		h, err := s.rest.do(ctx, "catch up", "GET", u, nil, nil, &sts)
		if err != nil {
			return err
		}
		if len(sts) == 0 {
			return nil
		}
		// A page holds the statuses right after min_id, newest first.
		slices.SortFunc(sts, func(a, b status) int {
			if idLess(a.ID, b.ID) {
				return -1
			}
			if idLess(b.ID, a.ID) {
				return 1
			}
			return 0
		})
		for i := range sts {
			st := &sts[i]
			if st.ID == "" || st.Account.ID == "" || st.CreatedAt.IsZero() {
				s.invalid("bad_status", fmt.Errorf("timeline status %q lacks id, account or created_at", st.ID))
				continue
			}
			if err := s.emitStatus(ctx, out, st); err != nil {
				return err
			}
		}
		prev := links(h.Get("Link"))["prev"]
		if prev == "" {
			u = pageAfter(&s.cfg, sts[len(sts)-1].ID)
		} else if !sameOrigin(s.cfg.Server, prev) {
			return fmt.Errorf("catch up: Link header points to another origin: %q", prev)
		} else {
			u = prev
		}
	}
	s.log.Warn("catch_up_truncated", "pages", s.cfg.CatchUpPages)
	s.tr.Error(errGap)
	return nil
}

// Commit persists the highest status id among the committed mentions of
// this source, so that a restart catches up from there.
func (s *Source) Commit(ctx context.Context, items []listener.Item) error {
	s.mu.Lock()
	top := s.committed
	for _, it := range items {
		if it.Mention != nil && it.Mention.Source == s.cfg.Name && idLess(top, it.Mention.ID) {
			top = it.Mention.ID
		}
	}
	changed := top != s.committed
	s.mu.Unlock()
	if !changed {
		return nil
	}
	if err := s.store.SetCursor(ctx, s.cursor, top); err != nil {
		return fmt.Errorf("mastodon %s: %w", s.cfg.Name, err)
	}
	s.mu.Lock()
	if idLess(s.committed, top) {
		s.committed = top
	}
	s.mu.Unlock()
	return nil
}
