package bluesky

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/source"
)

// maxFrameBytes is Jetstream's own per-message limit (10 MB).
const maxFrameBytes = 10 << 20

// seenSize bounds the de-duplication set: 5 s of resume overlap on a
// filtered stream is far fewer events than this.
const seenSize = 16_384

// ErrDeadConnection is the error of a session that got no frame and no pong
// within the read timeout.
var ErrDeadConnection = errors.New("bluesky: no frame or pong within the read timeout")

// Source follows Jetstream. Build it with New.
type Source struct {
	cfg      Config
	store    source.CursorStore
	log      *slog.Logger
	tr       *source.Tracker
	profiles *profiles
	seen     *source.Seen
	posts    *source.Seen // URIs emitted, to forward their deletion
	authors  *source.Seen // DIDs emitted, to forward account deletion
	wanted   map[string]bool
	cursor   string // name of the persisted cursor

	mu        sync.Mutex
	processed int64     // time_us of the last event handled
	pending   []pending // emitted, not yet committed, in order
	saved     int64     // time_us last persisted
}

// pending is an emitted item waiting for its commit.
type pending struct {
	key    string
	timeUS int64
}

var (
	_ listener.Source    = (*Source)(nil)
	_ listener.Committer = (*Source)(nil)
)

// New returns a Source for cfg (validated here). store persists the cursor
// under "bluesky:<name>"; nil keeps it in memory only.
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
		cfg:      cfg,
		store:    store,
		log:      logger.With("component", "bluesky", "source", cfg.Name),
		tr:       source.NewTracker(cfg.Name, source.NewMetrics(reg, "bluesky")),
		profiles: &profiles{x: &xrpc{base: cfg.AppViewURL, client: cfg.HTTPClient}, ttl: cfg.ProfileTTL, m: map[string]cachedProfile{}},
		seen:     source.NewSeen(seenSize),
		posts:    source.NewSeen(cfg.TrackDeletes),
		authors:  source.NewSeen(cfg.TrackDeletes),
		wanted:   map[string]bool{},
		cursor:   "bluesky:" + cfg.Name,
	}
	for _, d := range cfg.WantedDIDs {
		s.wanted[d] = true
	}
	return s, nil
}

// Name returns the source name on its mentions.
func (s *Source) Name() string { return s.cfg.Name }

// Status returns the source's health.
func (s *Source) Status() source.Status { return s.tr.Status() }

// Observe makes the source report its connections and errors to o (the
// sources registry's Health), on top of its own Status.
func (s *Source) Observe(o source.Observer) { s.tr.Observe(o) }

// Run follows Jetstream until ctx is done, reconnecting with back-off from
// the last processed event (minus the resume window), and returns ctx.Err().
// It never closes out.
func (s *Source) Run(ctx context.Context, out chan<- listener.Item) error {
	cur, err := s.store.Cursor(ctx, s.cursor)
	if err != nil {
		return fmt.Errorf("bluesky %s: read cursor: %w", s.cfg.Name, err)
	}
	if cur != "" {
		v, err := strconv.ParseInt(cur, 10, 64)
		if err != nil {
			return fmt.Errorf("bluesky %s: cursor %q is not a time_us", s.cfg.Name, cur)
		}
		s.mu.Lock()
		s.processed, s.saved = max(s.processed, v), max(s.saved, v)
		s.mu.Unlock()
	}
	cctx, stopCheckpoints := context.WithCancel(ctx)
	defer stopCheckpoints()
	go s.checkpoints(cctx)

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
		var he *httpError
		if errors.As(err, &he) && he.status == http.StatusTooManyRequests {
			wait = max(wait, time.Minute)
		}
		s.log.Warn("stream_lost", "error", err, "retry_in", wait)
		if err := source.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

type httpError struct{ status int }

func (e *httpError) Error() string { return fmt.Sprintf("connect jetstream: HTTP %d", e.status) }

// subscribeURL returns the Jetstream URL resuming from the processed
// position minus the resume window.
func (s *Source) subscribeURL() string {
	u, _ := url.Parse(s.cfg.JetstreamURL) // checked by Validate
	q := u.Query()
	q["wantedCollections"] = []string{postCollection}
	if len(s.cfg.WantedDIDs) > 0 {
		q["wantedDids"] = s.cfg.WantedDIDs
	}
	s.mu.Lock()
	from := s.processed
	s.mu.Unlock()
	if from > 0 {
		q.Set("cursor", strconv.FormatInt(max(from-s.cfg.ResumeWindow.Microseconds(), 1), 10))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (s *Source) session(ctx context.Context, out chan<- listener.Item) (bool, error) {
	d := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 64 << 10}
	c, resp, err := d.DialContext(ctx, s.subscribeURL(), http.Header{"User-Agent": {"vigie"}})
	if err != nil {
		if resp != nil {
			resp.Body.Close()
			return false, fmt.Errorf("%w: %w", &httpError{status: resp.StatusCode}, err)
		}
		return false, fmt.Errorf("connect jetstream: %w", err)
	}
	defer c.Close()
	c.SetReadLimit(maxFrameBytes)
	extend := func() { _ = c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout)) }
	extend()
	c.SetPongHandler(func(string) error { extend(); return nil })
	s.tr.Connected(true)
	s.log.Info("stream_connected")

	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // pings; a websocket write after Close fails harmlessly
		t := time.NewTicker(s.cfg.PingInterval)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-t.C:
				if c.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)) != nil {
					return
				}
			}
		}
	}()
	go func() { // unblock ReadMessage when ctx is done
		<-sctx.Done()
		_ = c.SetReadDeadline(time.Now())
	}()
	for {
		typ, data, err := c.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				return true, ErrDeadConnection
			}
			return true, fmt.Errorf("read jetstream: %w", err)
		}
		extend()
		if typ != websocket.TextMessage {
			s.invalid("binary_frame", errors.New("binary frame (compression is not requested)"))
			continue
		}
		if err := s.handle(ctx, out, data); err != nil {
			return true, err
		}
	}
}

func (s *Source) invalid(reason string, err error) {
	s.tr.Invalid(reason)
	s.log.Warn("payload_dropped", "reason", reason, "error", err)
}

// handle turns one frame into items. Only a cancelled ctx is an error.
func (s *Source) handle(ctx context.Context, out chan<- listener.Item, data []byte) error {
	ev, err := parseEvent(data)
	if err != nil {
		s.invalid("bad_event", err)
		return nil
	}
	var (
		it     *listener.Item
		key    string
		create time.Time
	)
	switch ev.Kind {
	case "commit":
		it, key, create, err = s.commitItem(ctx, ev)
		if err != nil {
			s.invalid("bad_record", err)
		}
	case "identity":
		if ev.Identity.Handle != "" {
			s.profiles.setHandle(ev.DID, ev.Identity.Handle)
		}
	case "account":
		a := ev.Account
		if !a.Active && (a.Status == "deleted" || a.Status == "takendown" || a.Status == "suspended") &&
			(s.wanted[ev.DID] || s.authors.Has(ev.DID)) && s.seen.Add("account:"+ev.DID+":"+strconv.FormatInt(ev.TimeUS, 10)) {
			t := listener.TombstoneItem(listener.Tombstone{Source: s.cfg.Name, AuthorID: ev.DID, Reason: "account_" + a.Status, At: time.UnixMicro(ev.TimeUS).UTC()})
			it, key = &t, "@"+ev.DID
		}
	}
	if it != nil {
		s.mu.Lock()
		s.pending = append(s.pending, pending{key: key, timeUS: ev.TimeUS})
		s.mu.Unlock()
		if err := s.tr.Send(ctx, out, *it, create); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.processed = max(s.processed, ev.TimeUS)
	s.mu.Unlock()
	return nil
}

// commitItem returns the item a commit event makes, if any, and its key.
func (s *Source) commitItem(ctx context.Context, ev *jetEvent) (*listener.Item, string, time.Time, error) {
	c := ev.Commit
	if c.Collection != postCollection {
		return nil, "", time.Time{}, nil
	}
	uri := postURI(ev.DID, c.RKey)
	if c.Operation == "delete" {
		if !(s.wanted[ev.DID] || s.posts.Has(uri)) || !s.seen.Add("delete:"+uri) {
			return nil, "", time.Time{}, nil
		}
		t := listener.TombstoneItem(listener.Tombstone{Source: s.cfg.Name, ID: uri, Reason: "deleted", At: time.UnixMicro(ev.TimeUS).UTC()})
		return &t, uri, time.Time{}, nil
	}
	if ev.DID == s.cfg.BrandDID {
		return nil, "", time.Time{}, nil // the brand's own posts
	}
	p, err := parsePost(c.Record)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	if !s.matches(ev.DID, p) && !(c.Operation == "update" && s.posts.Has(uri)) {
		return nil, "", time.Time{}, nil
	}
	if !s.seen.Add(uri + "#" + c.CID) {
		return nil, "", time.Time{}, nil // replayed by the resume window
	}
	m := listener.Mention{
		Source:    s.cfg.Name,
		ID:        uri,
		URL:       postURL(ev.DID, c.RKey),
		CreatedAt: p.createdAt(ev.TimeUS),
		Author:    listener.Author{ID: ev.DID},
		Text:      p.Text,
	}
	if len(p.Langs) > 0 {
		m.Lang = source.Lang(p.Langs[0])
	}
	if p.Reply != nil {
		m.ReplyTo, m.Conversation = p.Reply.Parent.URI, p.Reply.Root.URI
	}
	if prof, err := s.profiles.get(ctx, ev.DID); err != nil {
		// The mention is worth more than its author's follower count.
		s.tr.Error(fmt.Errorf("get profile of %s: %w", ev.DID, err))
	} else {
		if prof.Handle != "" && prof.Handle != "handle.invalid" {
			m.Author.Handle = "@" + prof.Handle
		}
		m.Author.Name = prof.DisplayName
		m.Author.Followers, m.Author.Following, m.Author.Posts = prof.FollowersCount, prof.FollowsCount, prof.PostsCount
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, "", time.Time{}, fmt.Errorf("post %s has no text", uri)
	}
	s.posts.Add(uri)
	s.authors.Add(ev.DID)
	it := listener.MentionItem(m)
	return &it, uri, m.CreatedAt, nil
}

// matches reports whether a post is a mention.
func (s *Source) matches(did string, p *postRecord) bool {
	if s.cfg.BrandDID == "" && len(s.cfg.Keywords) == 0 {
		return s.wanted[did]
	}
	if s.cfg.BrandDID != "" && (p.mentions(s.cfg.BrandDID) || p.answers(s.cfg.BrandDID)) {
		return true
	}
	if len(s.cfg.Keywords) > 0 {
		text := strings.ToLower(p.Text)
		for _, k := range s.cfg.Keywords {
			if strings.Contains(text, k) {
				return true
			}
		}
	}
	return false
}

// Commit takes the committed items off the pending list and persists the
// cursor: the processed position when nothing is pending any more, else the
// position of the last committed item.
func (s *Source) Commit(ctx context.Context, items []listener.Item) error {
	s.mu.Lock()
	var upTo int64
	for _, it := range items {
		key := it.NativeID()
		if it.Tombstone != nil && key == "" {
			key = "@" + it.Tombstone.AuthorID
		}
		if len(s.pending) > 0 && s.pending[0].key == key {
			upTo = s.pending[0].timeUS
			s.pending = s.pending[1:]
		}
	}
	if len(s.pending) == 0 {
		upTo = max(upTo, s.processed)
	}
	s.mu.Unlock()
	return s.save(ctx, upTo)
}

// save persists the cursor if it moved forward.
func (s *Source) save(ctx context.Context, timeUS int64) error {
	s.mu.Lock()
	if timeUS <= s.saved {
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	if err := s.store.SetCursor(ctx, s.cursor, strconv.FormatInt(timeUS, 10)); err != nil {
		return fmt.Errorf("bluesky %s: %w", s.cfg.Name, err)
	}
	s.mu.Lock()
	s.saved = max(s.saved, timeUS)
	s.mu.Unlock()
	return nil
}

// checkpoints persists the processed position now and then while nothing
// waits for a commit, so that a quiet brand does not replay hours of the
// network after a restart.
func (s *Source) checkpoints(ctx context.Context) {
	t := time.NewTicker(s.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.mu.Lock()
			idle, at := len(s.pending) == 0, s.processed
			s.mu.Unlock()
			if idle {
				if err := s.save(ctx, at); err != nil && ctx.Err() == nil {
					s.tr.Error(err)
				}
			}
		}
	}
}
