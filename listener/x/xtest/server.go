// Package xtest is a fake X API v2 for tests: stream rules (GET and POST
// add/delete with summaries), the filtered stream (one JSON object and
// "\r\n" per post, bare "\r\n" keep-alives, backfill_minutes replay) and
// POST /2/tweets enforcing the "summoned" reply rule. Tests script it: Emit,
// EmitRaw, KeepAlive, OperationalDisconnect, Drop, Silence, FailConnects,
// RefuseRule.
package xtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie/vigie/listener/listenertest"
)

// User is an expanded author.
type User struct {
	ID            string         `json:"id"`
	Username      string         `json:"username"`
	Name          string         `json:"name"`
	PublicMetrics map[string]int `json:"public_metrics"`
}

// Post is a stream message: the post, its expansions and the rules it
// matched.
type Post struct {
	Data          map[string]any   `json:"data"`
	Includes      map[string]any   `json:"includes,omitempty"`
	MatchingRules []map[string]any `json:"matching_rules,omitempty"`
	at            time.Time
}

// Rule is a stream rule on the account.
type Rule struct {
	ID    string `json:"id"`
	Value string `json:"value"`
	Tag   string `json:"tag,omitempty"`
}

// Reply is a post made through POST /2/tweets.
type Reply struct {
	Text, InReplyTo, ID string
}

// Options configure a Server.
type Options struct {
	// AppToken and UserToken are the accepted bearer tokens (default
	// "app-token" and "user-token").
	AppToken, UserToken string
	// Brand is the account's username: replies are allowed only to posts
	// that mention it (default "velora").
	Brand string
	// KeepAlive is the period of "\r\n" keep-alives (default 20 s).
	KeepAlive time.Duration
}

// Server is the fake. Safe for concurrent use.
type Server struct {
	*httptest.Server
	opt Options

	mu      sync.Mutex
	nextID  int64
	rules   []Rule
	refuse  map[string]bool
	posts   []Post // every emitted post, for backfill and replies
	clients map[*client]struct{}
	queries []string
	fail    []int
	silent  bool
	replies []Reply
	ruleOps int
}

type client struct {
	send   chan string
	drop   chan struct{}
	once   sync.Once
	silent bool // guarded by Server.mu
}

// closeMsg tells a stream handler to close after what it sent before.
const closeMsg = "\x00close"

// NewServer starts the fake on 127.0.0.1, closed at the end of the test.
func NewServer(tb testing.TB, opt Options) *Server {
	tb.Helper()
	if opt.AppToken == "" {
		opt.AppToken = "app-token"
	}
	if opt.UserToken == "" {
		opt.UserToken = "user-token"
	}
	if opt.Brand == "" {
		opt.Brand = "velora"
	}
	if opt.KeepAlive <= 0 {
		opt.KeepAlive = 20 * time.Second
	}
	s := &Server{opt: opt, nextID: 1850000000000000000, refuse: map[string]bool{}, clients: map[*client]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2/tweets/search/stream/rules", s.serveListRules)
	mux.HandleFunc("POST /2/tweets/search/stream/rules", s.serveChangeRules)
	mux.HandleFunc("GET /2/tweets/search/stream", s.serveStream)
	mux.HandleFunc("POST /2/tweets", s.servePost)
	s.Server = httptest.NewServer(mux)
	tb.Cleanup(func() {
		s.Drop()
		s.Server.Close()
	})
	return s
}

// AppToken and UserToken return the accepted tokens.
func (s *Server) AppToken() string { return s.opt.AppToken }

// UserToken returns the accepted user-context token.
func (s *Server) UserToken() string { return s.opt.UserToken }

// SetRules replaces the account's rules (as if made elsewhere).
func (s *Server) SetRules(rules ...Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
	for _, r := range rules {
		if r.ID == "" {
			s.nextID++
			r.ID = strconv.FormatInt(s.nextID, 10)
		}
		s.rules = append(s.rules, r)
	}
}

// Rules returns the account's rules.
func (s *Server) Rules() []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rules)
}

// RuleChanges returns how many POSTs changed the rules.
func (s *Server) RuleChanges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ruleOps
}

// RefuseRule makes a rule value invalid.
func (s *Server) RefuseRule(value string) {
	s.mu.Lock()
	s.refuse[value] = true
	s.mu.Unlock()
}

// NewPost returns a post by author with the next id, created now. Edit it
// before passing it to Emit.
func (s *Server) NewPost(author User, text string) Post {
	s.mu.Lock()
	s.nextID++
	id := strconv.FormatInt(s.nextID, 10)
	s.mu.Unlock()
	return Post{
		Data: map[string]any{
			"id": id, "text": text, "author_id": author.ID, "created_at": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
			"lang": "en", "conversation_id": id, "edit_history_tweet_ids": []string{id},
			"public_metrics": map[string]int{"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
		},
		Includes:      map[string]any{"users": []User{author}},
		MatchingRules: []map[string]any{{"id": "1", "tag": "brand"}},
	}
}

// Emit streams a post to every client and keeps it for backfill.
func (s *Server) Emit(p Post) {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.at = time.Now()
	s.posts = append(s.posts, p)
	s.broadcast(string(b) + "\r\n")
}

// Keep stores a post without streaming it, as one posted while a client was
// disconnected (backfill replays it).
func (s *Server) Keep(p Post) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.at = time.Now()
	s.posts = append(s.posts, p)
}

// EmitRaw streams a line as is (its "\r\n" is added).
func (s *Server) EmitRaw(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcast(line + "\r\n")
}

// KeepAlive sends a keep-alive now.
func (s *Server) KeepAlive() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcast("\r\n")
}

// OperationalDisconnect sends X's operational-disconnect message, then
// closes the streams.
func (s *Server) OperationalDisconnect() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcast(`{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect","detail":"This stream has been disconnected upstream for operational reasons.","type":"https://api.x.com/2/problems/operational-disconnect"}]}` + "\r\n")
	s.broadcast(closeMsg)
}

func (s *Server) broadcast(msg string) {
	for c := range s.clients {
		select {
		case c.send <- msg:
		default:
			c.once.Do(func() { close(c.drop) })
		}
	}
}

// Drop closes every stream.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.once.Do(func() { close(c.drop) })
		delete(s.clients, c)
	}
}

// Silence stops the keep-alives and posts on the streams open now, leaving
// them open: dead connections, as a client sees them. Later connections are
// live.
func (s *Server) Silence() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.silent = true
	}
}

// FailConnects makes the next stream connections fail with these statuses
// (429 answers a TooManyConnections ConnectionException).
func (s *Server) FailConnects(codes ...int) {
	s.mu.Lock()
	s.fail = append(s.fail, codes...)
	s.mu.Unlock()
}

// Connections returns the number of open streams.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Queries returns the raw query of every stream connection attempt.
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

// WaitConnections waits until n streams are open.
func (s *Server) WaitConnections(tb testing.TB, n int) {
	tb.Helper()
	listenertest.WaitFor(tb, fmt.Sprintf("%d streams", n), func() bool { return s.Connections() == n })
}

// Replies returns the posts made through POST /2/tweets.
func (s *Server) Replies() []Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.replies)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func problem(w http.ResponseWriter, code int, title, detail string) {
	writeJSON(w, code, map[string]any{"title": title, "detail": detail, "type": "about:blank", "status": code})
}

func (s *Server) bearer(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Header.Get("Authorization") != "Bearer "+want {
		problem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized")
		return false
	}
	return true
}

func (s *Server) serveListRules(w http.ResponseWriter, r *http.Request) {
	if !s.bearer(w, r, s.opt.AppToken) {
		return
	}
	rules := s.Rules()
	body := map[string]any{"meta": map[string]any{"sent": time.Now().UTC().Format(time.RFC3339), "result_count": len(rules)}}
	if len(rules) > 0 {
		body["data"] = rules
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) serveChangeRules(w http.ResponseWriter, r *http.Request) {
	if !s.bearer(w, r, s.opt.AppToken) {
		return
	}
	var in struct {
		Add    []Rule `json:"add"`
		Delete *struct {
			IDs []string `json:"ids"`
		} `json:"delete"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || (in.Add == nil) == (in.Delete == nil) {
		problem(w, http.StatusBadRequest, "Invalid Request", "One or more parameters to your request was invalid.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ruleOps++
	sent := time.Now().UTC().Format(time.RFC3339)
	if in.Delete != nil {
		n := 0
		s.rules = slices.DeleteFunc(s.rules, func(r Rule) bool {
			if slices.Contains(in.Delete.IDs, r.ID) {
				n++
				return true
			}
			return false
		})
		writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]any{"sent": sent, "summary": map[string]int{"deleted": n, "not_deleted": len(in.Delete.IDs) - n}}})
		return
	}
	var created []Rule
	var errs []map[string]any
	for _, r := range in.Add {
		if s.refuse[r.Value] || strings.TrimSpace(r.Value) == "" || len(r.Value) > 1024 {
			errs = append(errs, map[string]any{"value": r.Value, "title": "UnprocessableEntity", "detail": "There were errors processing your request: Invalid rule: " + r.Value, "type": "https://api.x.com/2/problems/invalid-rules"})
			continue
		}
		s.nextID++
		nr := Rule{ID: strconv.FormatInt(s.nextID, 10), Value: r.Value, Tag: r.Tag}
		s.rules = append(s.rules, nr)
		created = append(created, nr)
	}
	body := map[string]any{"meta": map[string]any{"sent": sent, "summary": map[string]int{"created": len(created), "not_created": len(errs), "valid": len(created), "invalid": len(errs)}}}
	if created != nil {
		body["data"] = created
	}
	if errs != nil {
		body["errors"] = errs
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) serveStream(w http.ResponseWriter, r *http.Request) {
	if !s.bearer(w, r, s.opt.AppToken) {
		return
	}
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.RawQuery)
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		if code == http.StatusTooManyRequests {
			w.Header().Set("x-rate-limit-reset", strconv.FormatInt(time.Now().Unix(), 10))
			writeJSON(w, code, map[string]any{"title": "ConnectionException", "detail": "This stream is currently at the maximum allowed connection limit.", "connection_issue": "TooManyConnections", "type": "https://api.x.com/2/problems/streaming-connection"})
			return
		}
		problem(w, code, http.StatusText(code), "scripted failure")
		return
	}
	c := &client{send: make(chan string, 4096), drop: make(chan struct{})}
	if m, err := strconv.Atoi(r.URL.Query().Get("backfill_minutes")); err == nil && m > 0 {
		since := time.Now().Add(-time.Duration(m) * time.Minute)
		for _, p := range s.posts {
			if p.at.After(since) {
				b, _ := json.Marshal(p)
				c.send <- string(b) + "\r\n"
			}
		}
	}
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
	}()
	fl := w.(http.Flusher)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	tick := time.NewTicker(s.opt.KeepAlive)
	defer tick.Stop()
	for {
		var msg string
		select {
		case <-r.Context().Done():
			return
		case <-c.drop:
			return
		case <-tick.C:
			msg = "\r\n"
		case msg = <-c.send:
		}
		if msg == closeMsg {
			return
		}
		s.mu.Lock()
		silent := c.silent
		s.mu.Unlock()
		if silent {
			continue
		}
		if _, err := fmt.Fprint(w, msg); err != nil {
			return
		}
		fl.Flush()
	}
}

func (s *Server) servePost(w http.ResponseWriter, r *http.Request) {
	if !s.bearer(w, r, s.opt.UserToken) {
		return
	}
	var in struct {
		Text  string `json:"text"`
		Reply *struct {
			InReplyToTweetID string `json:"in_reply_to_tweet_id"`
		} `json:"reply"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || strings.TrimSpace(in.Text) == "" {
		problem(w, http.StatusBadRequest, "Invalid Request", "One or more parameters to your request was invalid.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rep := range s.replies {
		if rep.Text == in.Text {
			problem(w, http.StatusForbidden, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
			return
		}
	}
	target := ""
	if in.Reply != nil {
		target = in.Reply.InReplyToTweetID
		i := slices.IndexFunc(s.posts, func(p Post) bool { return p.Data["id"] == target })
		if i < 0 {
			problem(w, http.StatusBadRequest, "Invalid Request", "The tweet you are replying to does not exist or was deleted.")
			return
		}
		text, _ := s.posts[i].Data["text"].(string)
		if !strings.Contains(strings.ToLower(text), "@"+strings.ToLower(s.opt.Brand)) {
			problem(w, http.StatusForbidden, "Forbidden", "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.")
			return
		}
	}
	s.nextID++
	id := strconv.FormatInt(s.nextID, 10)
	s.replies = append(s.replies, Reply{Text: in.Text, InReplyTo: target, ID: id})
	writeJSON(w, http.StatusCreated, map[string]any{"data": map[string]any{"id": id, "text": in.Text, "edit_history_tweet_ids": []string{id}}})
}
