// Package mastodontest is a fake Mastodon instance for tests: the streaming
// API over Server-Sent Events and websocket, the tag, public and home
// timelines with min_id/max_id/since_id/limit paging and Link headers, status
// lookup, and POST /api/v1/statuses with Bearer and Idempotency-Key checks.
// Tests script it: Emit, EmitEdit, EmitDelete, EmitRaw, Heartbeat,
// DropConnections, Silence, FailStreams.
//
// Its wire types are its own, written from the Mastodon documentation, so
// that it checks the connector rather than mirrors it.
package mastodontest

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vigie/vigie/listener/listenertest"
)

// Account is a Mastodon Account entity.
type Account struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Acct           string `json:"acct"`
	DisplayName    string `json:"display_name"`
	URL            string `json:"url"`
	Bot            bool   `json:"bot"`
	FollowersCount int64  `json:"followers_count"`
	FollowingCount int64  `json:"following_count"`
	StatusesCount  int64  `json:"statuses_count"`
}

// Status is a Mastodon Status entity (the fields the fake fills).
type Status struct {
	ID                 string     `json:"id"`
	URI                string     `json:"uri"`
	URL                string     `json:"url"`
	CreatedAt          time.Time  `json:"created_at"`
	EditedAt           *time.Time `json:"edited_at"`
	Content            string     `json:"content"`
	SpoilerText        string     `json:"spoiler_text"`
	Language           *string    `json:"language"`
	Visibility         string     `json:"visibility"`
	InReplyToID        *string    `json:"in_reply_to_id"`
	InReplyToAccountID *string    `json:"in_reply_to_account_id"`
	Reblog             *Status    `json:"reblog"`
	Account            Account    `json:"account"`
	Tags               []Tag      `json:"tags"`
	RepliesCount       int64      `json:"replies_count"`
	ReblogsCount       int64      `json:"reblogs_count"`
	FavouritesCount    int64      `json:"favourites_count"`
}

// Tag is a hashtag on a status.
type Tag struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Posted is a status created through POST /api/v1/statuses.
type Posted struct {
	Status         string
	InReplyToID    string
	Visibility     string
	IdempotencyKey string
	ID             string
}

// Options configure a Server.
type Options struct {
	// Token is the Bearer token the server accepts (default "test-token").
	Token string
	// Heartbeat is the ":thump" period (default 15 s, as Mastodon).
	Heartbeat time.Duration
}

// Server is the fake instance. Safe for concurrent use.
type Server struct {
	*httptest.Server
	opt Options

	mu        sync.Mutex
	nextID    int64
	timeline  []Status // every status, by id ascending
	clients   map[*client]struct{}
	connects  int
	fail      []int
	silent    bool
	posted    []Posted
	idem      map[string]Status
	requests  []url.Values // timeline queries
	replyCode int
	rateLeft  int // -1: no rate-limit headers
}

type client struct {
	tag    string // "" for public/user streams
	frames chan frame
	drop   chan struct{}
	once   sync.Once
}

type frame struct {
	event, data string // event "" = heartbeat
}

// NewServer starts a fake instance on 127.0.0.1, closed at the end of the
// test.
func NewServer(tb testing.TB, opt Options) *Server {
	tb.Helper()
	if opt.Token == "" {
		opt.Token = "test-token"
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 15 * time.Second
	}
	s := &Server{opt: opt, nextID: 109000000000000000, clients: map[*client]struct{}{}, idem: map[string]Status{}, rateLeft: -1}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/streaming/{kind...}", s.serveSSE)
	mux.HandleFunc("GET /api/v1/streaming", s.serveWS)
	mux.HandleFunc("GET /api/v1/timelines/tag/{tag}", s.serveTimeline)
	mux.HandleFunc("GET /api/v1/timelines/public", s.serveTimeline)
	mux.HandleFunc("GET /api/v1/timelines/home", s.serveTimeline)
	mux.HandleFunc("GET /api/v1/statuses/{id}", s.serveStatus)
	mux.HandleFunc("POST /api/v1/statuses", s.servePost)
	s.Server = httptest.NewServer(mux)
	tb.Cleanup(func() {
		s.DropConnections()
		s.Server.Close()
	})
	return s
}

// Token returns the accepted token.
func (s *Server) Token() string { return s.opt.Token }

// NewStatus returns a status by a default account with the given HTML
// content and hashtag (without '#'), with the next id and created now. It is
// not added: pass it to Emit or Add.
func (s *Server) NewStatus(content, tag string) Status {
	s.mu.Lock()
	s.nextID += 1 << 16
	id := strconv.FormatInt(s.nextID, 10)
	s.mu.Unlock()
	host := strings.TrimPrefix(s.URL, "http://")
	lang := "en"
	st := Status{
		ID: id, URI: "http://" + host + "/users/ana/statuses/" + id, URL: "http://" + host + "/@ana/" + id,
		CreatedAt: time.Now().UTC().Truncate(time.Millisecond), Content: content, Language: &lang, Visibility: "public",
		Account: Account{ID: "42", Username: "ana", Acct: "ana", DisplayName: "Ana", URL: "http://" + host + "/@ana", FollowersCount: 1200, FollowingCount: 80, StatusesCount: 3400},
	}
	if tag != "" {
		st.Tags = []Tag{{Name: tag, URL: "http://" + host + "/tags/" + tag}}
	}
	return st
}

// Add puts a status on the timelines without streaming it, as a post made
// while a client was disconnected.
func (s *Server) Add(st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(st)
}

func (s *Server) add(st Status) {
	i, found := slices.BinarySearchFunc(s.timeline, st.ID, func(a Status, id string) int { return cmpID(a.ID, id) })
	if found {
		s.timeline[i] = st
		return
	}
	s.timeline = slices.Insert(s.timeline, i, st)
}

// Emit adds a status and streams it as an update to the clients whose
// stream it matches.
func (s *Server) Emit(st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.add(st)
	s.broadcast(st, "update")
}

// EmitEdit replaces the content of status id, sets edited_at and streams a
// status.update.
func (s *Server) EmitEdit(id, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.timeline {
		if s.timeline[i].ID == id {
			now := time.Now().UTC()
			s.timeline[i].Content, s.timeline[i].EditedAt = content, &now
			s.broadcast(s.timeline[i], "status.update")
			return
		}
	}
	panic("mastodontest: EmitEdit of unknown status " + id)
}

// EmitDelete removes status id and streams a delete event.
func (s *Server) EmitDelete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeline = slices.DeleteFunc(s.timeline, func(st Status) bool { return st.ID == id })
	for c := range s.clients {
		c.send(frame{event: "delete", data: id})
	}
}

// EmitRaw streams an arbitrary event to every client, for bad payloads.
func (s *Server) EmitRaw(event, data string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.send(frame{event: event, data: data})
	}
}

// Heartbeat sends ":thump" to every client now.
func (s *Server) Heartbeat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.send(frame{})
	}
}

// Silence stops (true) or resumes the periodic heartbeats, leaving the
// connections open: a dead connection, as a client sees it.
func (s *Server) Silence(on bool) {
	s.mu.Lock()
	s.silent = on
	s.mu.Unlock()
}

// DropConnections closes every streaming connection mid-stream.
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.once.Do(func() { close(c.drop) })
		delete(s.clients, c)
	}
}

// FailStreams makes the next streaming connections fail with these HTTP
// statuses, in order (429 comes with X-RateLimit-* headers).
func (s *Server) FailStreams(codes ...int) {
	s.mu.Lock()
	s.fail = append(s.fail, codes...)
	s.mu.Unlock()
}

// FailReplies makes POST /api/v1/statuses answer code (0 restores).
func (s *Server) FailReplies(code int) {
	s.mu.Lock()
	s.replyCode = code
	s.mu.Unlock()
}

// RateLimit makes REST answers carry X-RateLimit-Remaining: n (decreasing
// with each call, 429 at 0); -1 removes the headers.
func (s *Server) RateLimit(n int) {
	s.mu.Lock()
	s.rateLeft = n
	s.mu.Unlock()
}

// Connections returns the number of open streaming connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Connects returns how many streaming connections were attempted.
func (s *Server) Connects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connects
}

// WaitConnections waits until n streaming connections are open.
func (s *Server) WaitConnections(tb testing.TB, n int) {
	tb.Helper()
	listenertest.WaitFor(tb, fmt.Sprintf("%d streaming connections", n), func() bool { return s.Connections() == n })
}

// Posted returns the statuses created through the API, in order.
func (s *Server) Posted() []Posted {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.posted)
}

// TimelineRequests returns the query of every timeline request, in order.
func (s *Server) TimelineRequests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

func (s *Server) broadcast(st Status, event string) {
	b, _ := json.Marshal(st)
	for c := range s.clients {
		if c.tag != "" && !hasTag(st, c.tag) {
			continue
		}
		c.send(frame{event: event, data: string(b)})
	}
}

func hasTag(st Status, tag string) bool {
	for _, t := range st.Tags {
		if strings.EqualFold(t.Name, tag) {
			return true
		}
	}
	return false
}

// send queues a frame; a client too slow to take 1,024 frames is dropped,
// as the real server would eventually do.
func (c *client) send(f frame) {
	select {
	case c.frames <- f:
	default:
		c.once.Do(func() { close(c.drop) })
	}
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "" {
		tok = r.URL.Query().Get("access_token")
	}
	if tok != s.opt.Token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "The access token is invalid"})
		return false
	}
	return true
}

// connect registers a streaming client, or answers a scripted failure.
func (s *Server) connect(w http.ResponseWriter, tag string) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connects++
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		if code == http.StatusTooManyRequests {
			w.Header().Set("X-RateLimit-Limit", "300")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", time.Now().Add(50*time.Millisecond).UTC().Format(time.RFC3339Nano))
		}
		writeJSON(w, code, map[string]string{"error": http.StatusText(code)})
		return nil
	}
	c := &client{tag: tag, frames: make(chan frame, 1024), drop: make(chan struct{})}
	s.clients[c] = struct{}{}
	return c
}

func (s *Server) disconnect(c *client) {
	s.mu.Lock()
	delete(s.clients, c)
	s.mu.Unlock()
}

func (s *Server) isSilent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.silent
}

func (s *Server) serveSSE(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	tag := ""
	switch kind := r.PathValue("kind"); kind {
	case "hashtag", "hashtag/local":
		if tag = r.URL.Query().Get("tag"); tag == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Missing tag name parameter"})
			return
		}
	case "public", "public/local", "public/remote", "user":
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "Unknown channel requested"})
		return
	}
	c := s.connect(w, tag)
	if c == nil {
		return
	}
	defer s.disconnect(c)
	fl := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ":)\n")
	fl.Flush()
	beat := time.NewTicker(s.opt.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-c.drop:
			return
		case <-beat.C:
			if s.isSilent() {
				continue
			}
			fmt.Fprint(w, ":thump\n")
		case f := <-c.frames:
			if f.event == "" {
				fmt.Fprint(w, ":thump\n")
			} else {
				fmt.Fprintf(w, "event: %s\ndata: %s\n\n", f.event, f.data)
			}
		}
		fl.Flush()
	}
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	q := r.URL.Query()
	stream, tag := q.Get("stream"), q.Get("tag")
	c := s.connect(w, tag)
	if c == nil {
		return
	}
	defer s.disconnect(c)
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	switch stream {
	case "hashtag", "hashtag:local", "public", "public:local", "public:remote", "user", "":
	default:
		_ = ws.WriteJSON(map[string]any{"error": "Unknown stream type", "status": 400})
		return
	}
	// Read subscribe messages (and pings, answered by gorilla) until the
	// client goes away.
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			var msg struct {
				Type, Stream, Tag string
			}
			if err := ws.ReadJSON(&msg); err != nil {
				return
			}
			if msg.Type == "subscribe" && msg.Tag != "" {
				s.mu.Lock()
				c.tag = msg.Tag
				s.mu.Unlock()
			}
		}
	}()
	for {
		select {
		case <-gone:
			return
		case <-c.drop:
			return
		case f := <-c.frames:
			if f.event == "" {
				continue // the websocket has no :thump; pings keep it alive
			}
			streamName := []string{stream}
			if tag != "" {
				streamName = append(streamName, tag)
			}
			payload := f.data
			if f.event == "update" || f.event == "status.update" || f.event == "delete" {
				b, _ := json.Marshal(f.data) // the payload is a JSON string
				payload = string(b)
			} else if !json.Valid([]byte(payload)) {
				b, _ := json.Marshal(f.data)
				payload = string(b)
			}
			msg := fmt.Sprintf(`{"stream":%s,"event":%q,"payload":%s}`, mustJSON(streamName), f.event, payload)
			if err := ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				return
			}
		}
	}
}

func (s *Server) rateHeaders(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rateLeft < 0 {
		return true
	}
	reset := time.Now().Add(100 * time.Millisecond).UTC().Format(time.RFC3339Nano)
	w.Header().Set("X-RateLimit-Limit", "300")
	w.Header().Set("X-RateLimit-Reset", reset)
	if s.rateLeft == 0 {
		w.Header().Set("X-RateLimit-Remaining", "0")
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "Too many requests"})
		s.rateLeft = 300 // the window resets
		return false
	}
	s.rateLeft--
	w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(s.rateLeft))
	return true
}

// serveTimeline answers a timeline page: statuses newest first; min_id
// gives the page right after it, since_id the newest after it, max_id the
// page before it; Link carries next (older) and prev (newer) pages.
func (s *Server) serveTimeline(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !s.rateHeaders(w) {
		return
	}
	q := r.URL.Query()
	limit := 20
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 {
		limit = min(l, 40)
	}
	tag := r.PathValue("tag")
	s.mu.Lock()
	s.requests = append(s.requests, q)
	var all []Status // ascending
	for _, st := range s.timeline {
		if tag == "" || hasTag(st, tag) {
			all = append(all, st)
		}
	}
	s.mu.Unlock()
	if v := q.Get("max_id"); v != "" {
		all = slices.DeleteFunc(all, func(st Status) bool { return cmpID(st.ID, v) >= 0 })
	}
	var page []Status
	if v := q.Get("min_id"); v != "" {
		all = slices.DeleteFunc(all, func(st Status) bool { return cmpID(st.ID, v) <= 0 })
		page = all[:min(limit, len(all))] // the oldest after min_id
	} else {
		if v := q.Get("since_id"); v != "" {
			all = slices.DeleteFunc(all, func(st Status) bool { return cmpID(st.ID, v) <= 0 })
		}
		page = all[max(0, len(all)-limit):] // the newest
	}
	page = slices.Clone(page)
	slices.Reverse(page)
	if len(page) > 0 {
		base := "http://" + r.Host + r.URL.Path
		next := base + "?" + url.Values{"max_id": {page[len(page)-1].ID}, "limit": {strconv.Itoa(limit)}}.Encode()
		prev := base + "?" + url.Values{"min_id": {page[0].ID}, "limit": {strconv.Itoa(limit)}}.Encode()
		w.Header().Set("Link", fmt.Sprintf(`<%s>; rel="next", <%s>; rel="prev"`, next, prev))
	}
	if page == nil {
		page = []Status{}
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !s.rateHeaders(w) {
		return
	}
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.timeline {
		if st.ID == id {
			writeJSON(w, http.StatusOK, st)
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "Record not found"})
}

func (s *Server) servePost(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) || !s.rateHeaders(w) {
		return
	}
	var body struct {
		Status      string `json:"status"`
		InReplyToID string `json:"in_reply_to_id"`
		Visibility  string `json:"visibility"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
	} else {
		body.Status, body.InReplyToID, body.Visibility = r.FormValue("status"), r.FormValue("in_reply_to_id"), r.FormValue("visibility")
	}
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	code := s.replyCode
	if st, ok := s.idem[key]; ok && key != "" {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, st)
		return
	}
	s.mu.Unlock()
	if code != 0 {
		writeJSON(w, code, map[string]string{"error": http.StatusText(code)})
		return
	}
	if strings.TrimSpace(body.Status) == "" {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": "Validation failed: Text can't be blank"})
		return
	}
	if body.InReplyToID != "" {
		s.mu.Lock()
		found := slices.ContainsFunc(s.timeline, func(st Status) bool { return st.ID == body.InReplyToID })
		s.mu.Unlock()
		if !found {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "Record not found"})
			return
		}
	}
	st := s.NewStatus("<p>"+html.EscapeString(body.Status)+"</p>", "")
	st.Account = Account{ID: "1", Username: "brand", Acct: "brand", DisplayName: "Brand"}
	if body.InReplyToID != "" {
		st.InReplyToID = &body.InReplyToID
	}
	s.mu.Lock()
	s.add(st)
	s.posted = append(s.posted, Posted{Status: body.Status, InReplyToID: body.InReplyToID, Visibility: body.Visibility, IdempotencyKey: key, ID: st.ID})
	if key != "" {
		s.idem[key] = st
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// cmpID orders decimal snowflake ids.
func cmpID(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}
