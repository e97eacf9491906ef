// Package blueskytest is a fake Bluesky for tests: a Jetstream v1
// `/subscribe` websocket (wantedCollections with prefix.*, wantedDids,
// cursor replay from a ring buffer, options_update), and the XRPC methods a
// connector uses (createSession, refreshSession, createRecord, getRecord,
// getProfile, getPosts) with JWT and reply-shape checks. Tests script it:
// Post, Edit, Delete, Account, Identity, EmitRaw, Drop, Silence,
// FailConnects, ExpireTokens.
package blueskytest

import (
	"crypto/rand"
	"encoding/hex"
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

	"github.com/gorilla/websocket"
	"github.com/vigie/vigie/listener/listenertest"
)

// Event is a Jetstream v1 event as it goes on the wire.
type Event struct {
	DID      string    `json:"did"`
	TimeUS   int64     `json:"time_us"`
	Kind     string    `json:"kind"`
	Commit   *Commit   `json:"commit,omitempty"`
	Identity *Identity `json:"identity,omitempty"`
	Account  *Account  `json:"account,omitempty"`
	raw      string    // EmitRaw: sent as is
}

// Commit is a repository commit.
type Commit struct {
	Rev        string          `json:"rev"`
	Operation  string          `json:"operation"`
	Collection string          `json:"collection"`
	RKey       string          `json:"rkey"`
	CID        string          `json:"cid,omitempty"`
	Record     json.RawMessage `json:"record,omitempty"`
}

// Identity is an identity (handle) change.
type Identity struct {
	DID    string `json:"did"`
	Handle string `json:"handle"`
	Seq    int64  `json:"seq"`
	Time   string `json:"time"`
}

// Account is an account status change.
type Account struct {
	Active bool   `json:"active"`
	DID    string `json:"did"`
	Seq    int64  `json:"seq"`
	Time   string `json:"time"`
	Status string `json:"status,omitempty"`
}

// Ref is a strong reference to a record.
type Ref struct {
	URI string `json:"uri"`
	CID string `json:"cid"`
}

// Profile is what getProfile answers.
type Profile struct {
	DID            string `json:"did"`
	Handle         string `json:"handle"`
	DisplayName    string `json:"displayName,omitempty"`
	FollowersCount int64  `json:"followersCount"`
	FollowsCount   int64  `json:"followsCount"`
	PostsCount     int64  `json:"postsCount"`
}

// Created is a record created through createRecord.
type Created struct {
	Repo, RKey string
	Record     map[string]any
	URI, CID   string
}

// Options configure a Server.
type Options struct {
	// Identifier and Password are the accepted credentials (default
	// "brand.example" and "app-pass").
	Identifier, Password string
	// BrandDID is the DID of the logged-in account (default
	// "did:plc:brand").
	BrandDID string
}

// Server is the fake. Safe for concurrent use.
type Server struct {
	*httptest.Server
	opt Options

	mu       sync.Mutex
	clock    int64
	ring     []Event // every event, time_us ascending
	clients  map[*client]struct{}
	connects []string // raw query of each subscribe
	fail     []int
	silent   bool
	records  map[string]record // uri → record
	profiles map[string]Profile
	access   map[string]bool // access JWT → valid
	refresh  map[string]bool
	created  []Created
	sessions int
	n        int
}

type record struct {
	cid   string
	value json.RawMessage
}

type client struct {
	collections []string
	dids        map[string]bool
	send        chan Event
	drop        chan struct{}
	once        sync.Once
}

// NewServer starts the fake on 127.0.0.1, closed at the end of the test.
func NewServer(tb testing.TB, opt Options) *Server {
	tb.Helper()
	if opt.Identifier == "" {
		opt.Identifier = "brand.example"
	}
	if opt.Password == "" {
		opt.Password = "app-pass"
	}
	if opt.BrandDID == "" {
		opt.BrandDID = "did:plc:brand"
	}
	s := &Server{opt: opt, clock: time.Now().UnixMicro(), clients: map[*client]struct{}{}, records: map[string]record{},
		profiles: map[string]Profile{}, access: map[string]bool{}, refresh: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /subscribe", s.serveSubscribe)
	mux.HandleFunc("POST /xrpc/com.atproto.server.createSession", s.serveCreateSession)
	mux.HandleFunc("POST /xrpc/com.atproto.server.refreshSession", s.serveRefreshSession)
	mux.HandleFunc("POST /xrpc/com.atproto.repo.createRecord", s.serveCreateRecord)
	mux.HandleFunc("GET /xrpc/com.atproto.repo.getRecord", s.serveGetRecord)
	mux.HandleFunc("GET /xrpc/app.bsky.actor.getProfile", s.serveGetProfile)
	mux.HandleFunc("GET /xrpc/app.bsky.feed.getPosts", s.serveGetPosts)
	s.Server = httptest.NewServer(mux)
	tb.Cleanup(func() {
		s.Drop()
		s.Server.Close()
	})
	return s
}

// JetstreamURL returns the ws:// URL of /subscribe.
func (s *Server) JetstreamURL() string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/subscribe"
}

// BrandDID returns the DID of the logged-in account.
func (s *Server) BrandDID() string { return s.opt.BrandDID }

// Identifier and Password return the accepted credentials.
func (s *Server) Identifier() string { return s.opt.Identifier }

// Password returns the accepted app password.
func (s *Server) Password() string { return s.opt.Password }

// SetProfile sets what getProfile answers for p.DID.
func (s *Server) SetProfile(p Profile) {
	s.mu.Lock()
	s.profiles[p.DID] = p
	s.mu.Unlock()
}

// PostOption changes a post record before it is emitted.
type PostOption func(map[string]any)

// MentionOf adds a mention facet of did over the first bytes of the text.
func MentionOf(did string) PostOption {
	return func(r map[string]any) {
		text := r["text"].(string)
		r["facets"] = []any{map[string]any{
			"index":    map[string]int{"byteStart": 0, "byteEnd": min(len(text), 6)},
			"features": []any{map[string]string{"$type": "app.bsky.richtext.facet#mention", "did": did}},
		}}
	}
}

// ReplyTo makes the post a reply to parent in the thread of root.
func ReplyTo(root, parent Ref) PostOption {
	return func(r map[string]any) { r["reply"] = map[string]Ref{"root": root, "parent": parent} }
}

// Langs sets the post's languages.
func Langs(l ...string) PostOption { return func(r map[string]any) { r["langs"] = l } }

// Post creates a post by did and emits its create commit; it returns the
// post's reference.
func (s *Server) Post(did, text string, opts ...PostOption) Ref {
	s.mu.Lock()
	s.n++
	rkey := fmt.Sprintf("3l%011d", s.n)
	s.mu.Unlock()
	return s.commit(did, "create", rkey, text, opts)
}

// Edit replaces the text of a post and emits an update commit.
func (s *Server) Edit(ref Ref, text string, opts ...PostOption) Ref {
	did, rkey := splitURI(ref.URI)
	return s.commit(did, "update", rkey, text, opts)
}

func (s *Server) commit(did, op, rkey, text string, opts []PostOption) Ref {
	rec := map[string]any{"$type": "app.bsky.feed.post", "text": text, "createdAt": time.Now().UTC().Format("2006-01-02T15:04:05.000Z")}
	for _, o := range opts {
		o(rec)
	}
	raw, _ := json.Marshal(rec)
	cid := newCID()
	uri := "at://" + did + "/app.bsky.feed.post/" + rkey
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[uri] = record{cid: cid, value: raw}
	s.emit(Event{DID: did, Kind: "commit", Commit: &Commit{Rev: newRev(), Operation: op, Collection: "app.bsky.feed.post", RKey: rkey, CID: cid, Record: raw}})
	return Ref{URI: uri, CID: cid}
}

// Like emits a like commit (another collection, filtered out unless wanted).
func (s *Server) Like(did string, subject Ref) {
	raw, _ := json.Marshal(map[string]any{"$type": "app.bsky.feed.like", "subject": subject, "createdAt": time.Now().UTC().Format(time.RFC3339)})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.emit(Event{DID: did, Kind: "commit", Commit: &Commit{Rev: newRev(), Operation: "create", Collection: "app.bsky.feed.like", RKey: fmt.Sprintf("3k%011d", s.n), CID: newCID(), Record: raw}})
}

// Delete removes a post and emits its delete commit.
func (s *Server) Delete(ref Ref) {
	did, rkey := splitURI(ref.URI)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, ref.URI)
	s.emit(Event{DID: did, Kind: "commit", Commit: &Commit{Rev: newRev(), Operation: "delete", Collection: "app.bsky.feed.post", RKey: rkey}})
}

// Account emits an account event (active false with status deleted,
// takendown, suspended, deactivated).
func (s *Server) Account(did string, active bool, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emit(Event{DID: did, Kind: "account", Account: &Account{Active: active, DID: did, Seq: s.clock, Time: time.Now().UTC().Format(time.RFC3339), Status: status}})
}

// Identity emits a handle change.
func (s *Server) Identity(did, handle string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emit(Event{DID: did, Kind: "identity", Identity: &Identity{DID: did, Handle: handle, Seq: s.clock, Time: time.Now().UTC().Format(time.RFC3339)}})
}

// EmitRaw sends a frame as is to every client (not kept for replay).
func (s *Server) EmitRaw(frame string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.push(Event{raw: frame})
	}
}

// emit stamps an event, keeps it for replay and sends it live.
func (s *Server) emit(ev Event) {
	s.clock = max(s.clock+1, time.Now().UnixMicro())
	ev.TimeUS = s.clock
	s.ring = append(s.ring, ev)
	for c := range s.clients {
		if c.wants(ev) {
			c.push(ev)
		}
	}
}

func (c *client) push(ev Event) {
	select {
	case c.send <- ev:
	default:
		c.once.Do(func() { close(c.drop) }) // too slow: Jetstream drops it
	}
}

func (c *client) wants(ev Event) bool {
	if len(c.dids) > 0 && !c.dids[ev.DID] {
		return false
	}
	if ev.Kind != "commit" || len(c.collections) == 0 {
		return true // identity and account bypass wantedCollections
	}
	for _, w := range c.collections {
		if w == ev.Commit.Collection || strings.HasSuffix(w, ".*") && strings.HasPrefix(ev.Commit.Collection, strings.TrimSuffix(w, "*")) {
			return true
		}
	}
	return false
}

// Drop closes every Jetstream connection.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.once.Do(func() { close(c.drop) })
		delete(s.clients, c)
	}
}

// Silence stops (true) answering pings and sending events, leaving the
// connections open: a dead connection, as a client sees it.
func (s *Server) Silence(on bool) {
	s.mu.Lock()
	s.silent = on
	s.mu.Unlock()
}

// FailConnects makes the next subscribes fail with these HTTP statuses.
func (s *Server) FailConnects(codes ...int) {
	s.mu.Lock()
	s.fail = append(s.fail, codes...)
	s.mu.Unlock()
}

// ExpireTokens makes every access token issued so far expired.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	for k := range s.access {
		s.access[k] = false
	}
	s.mu.Unlock()
}

// Connections returns the number of open Jetstream connections.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Subscribes returns the raw query of every subscribe attempt.
func (s *Server) Subscribes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.connects)
}

// WaitConnections waits until n Jetstream connections are open.
func (s *Server) WaitConnections(tb testing.TB, n int) {
	tb.Helper()
	listenertest.WaitFor(tb, fmt.Sprintf("%d Jetstream connections", n), func() bool { return s.Connections() == n })
}

// Created returns the records created through createRecord.
func (s *Server) Created() []Created {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.created)
}

// Sessions returns how many times createSession succeeded.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (s *Server) serveSubscribe(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c := &client{collections: q["wantedCollections"], dids: map[string]bool{}, send: make(chan Event, 4096), drop: make(chan struct{})}
	for _, d := range q["wantedDids"] {
		c.dids[d] = true
	}
	var cursor int64
	if v := q.Get("cursor"); v != "" {
		var err error
		if cursor, err = strconv.ParseInt(v, 10, 64); err != nil {
			http.Error(w, "bad cursor", http.StatusBadRequest)
			return
		}
	}
	s.mu.Lock()
	s.connects = append(s.connects, r.URL.RawQuery)
	if len(s.fail) > 0 {
		code := s.fail[0]
		s.fail = s.fail[1:]
		s.mu.Unlock()
		http.Error(w, http.StatusText(code), code)
		return
	}
	s.mu.Unlock()
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	s.mu.Lock()
	if cursor > 0 { // replay, then live, with no gap: under the same lock
		for _, ev := range s.ring {
			if ev.TimeUS >= cursor && c.wants(ev) {
				c.push(ev)
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
	ws.SetPingHandler(func(data string) error {
		s.mu.Lock()
		silent := s.silent
		s.mu.Unlock()
		if silent {
			return nil
		}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			var msg struct {
				Type    string `json:"type"`
				Payload struct {
					WantedCollections []string `json:"wantedCollections"`
					WantedDids        []string `json:"wantedDids"`
				} `json:"payload"`
			}
			if err := ws.ReadJSON(&msg); err != nil {
				return
			}
			if msg.Type == "options_update" {
				s.mu.Lock()
				c.collections = msg.Payload.WantedCollections
				c.dids = map[string]bool{}
				for _, d := range msg.Payload.WantedDids {
					c.dids[d] = true
				}
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
		case ev := <-c.send:
			s.mu.Lock()
			silent := s.silent
			s.mu.Unlock()
			if silent {
				continue
			}
			var b []byte
			if ev.raw != "" {
				b = []byte(ev.raw)
			} else {
				b, _ = json.Marshal(ev)
			}
			if err := ws.WriteMessage(websocket.TextMessage, b); err != nil {
				return
			}
		}
	}
}

func xrpcError(w http.ResponseWriter, code int, name, msg string) {
	writeJSON(w, code, map[string]string{"error": name, "message": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) issue() map[string]string {
	a, r := "access-"+randHex(), "refresh-"+randHex()
	s.access[a], s.refresh[r] = true, true
	return map[string]string{"accessJwt": a, "refreshJwt": r, "did": s.opt.BrandDID, "handle": s.opt.Identifier}
}

func (s *Server) serveCreateSession(w http.ResponseWriter, r *http.Request) {
	var in struct{ Identifier, Password string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if (in.Identifier != s.opt.Identifier && in.Identifier != s.opt.BrandDID) || in.Password != s.opt.Password {
		xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Invalid identifier or password")
		return
	}
	s.sessions++
	writeJSON(w, http.StatusOK, s.issue())
}

func (s *Server) serveRefreshSession(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.refresh[tok] {
		xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
		return
	}
	delete(s.refresh, tok)
	writeJSON(w, http.StatusOK, s.issue())
}

// authorized checks the access JWT, answering ExpiredToken or
// AuthenticationRequired as a PDS does.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	valid, known := s.access[tok]
	s.mu.Unlock()
	switch {
	case !known:
		xrpcError(w, http.StatusUnauthorized, "AuthenticationRequired", "Authentication Required")
		return false
	case !valid:
		xrpcError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
		return false
	}
	return true
}

func (s *Server) serveCreateRecord(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	var in struct {
		Repo       string         `json:"repo"`
		Collection string         `json:"collection"`
		RKey       string         `json:"rkey"`
		Record     map[string]any `json:"record"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if in.Repo != s.opt.BrandDID {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "repo does not match the session")
		return
	}
	if in.Collection != "app.bsky.feed.post" || in.Record["$type"] != "app.bsky.feed.post" {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Invalid $type: expected app.bsky.feed.post")
		return
	}
	text, _ := in.Record["text"].(string)
	if _, err := time.Parse(time.RFC3339Nano, fmt.Sprint(in.Record["createdAt"])); err != nil || text == "" {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Record/text and Record/createdAt are required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if reply, ok := in.Record["reply"].(map[string]any); ok {
		for _, k := range []string{"root", "parent"} {
			ref, _ := reply[k].(map[string]any)
			uri, _ := ref["uri"].(string)
			cid, _ := ref["cid"].(string)
			if rec, ok := s.records[uri]; !ok || rec.cid != cid {
				xrpcError(w, http.StatusBadRequest, "InvalidRequest", "reply."+k+" does not reference an existing record by uri and cid")
				return
			}
		}
	}
	if in.RKey == "" {
		s.n++
		in.RKey = fmt.Sprintf("3m%011d", s.n)
	}
	uri := "at://" + in.Repo + "/app.bsky.feed.post/" + in.RKey
	if _, ok := s.records[uri]; ok {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Record already exists")
		return
	}
	raw, _ := json.Marshal(in.Record)
	cid := newCID()
	s.records[uri] = record{cid: cid, value: raw}
	s.created = append(s.created, Created{Repo: in.Repo, RKey: in.RKey, Record: in.Record, URI: uri, CID: cid})
	writeJSON(w, http.StatusOK, Ref{URI: uri, CID: cid})
}

func (s *Server) serveGetRecord(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	uri := "at://" + q.Get("repo") + "/" + q.Get("collection") + "/" + q.Get("rkey")
	s.mu.Lock()
	rec, ok := s.records[uri]
	s.mu.Unlock()
	if !ok {
		xrpcError(w, http.StatusBadRequest, "RecordNotFound", "Could not locate record: "+uri)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"uri": uri, "cid": rec.cid, "value": rec.value})
}

func (s *Server) serveGetProfile(w http.ResponseWriter, r *http.Request) {
	actor := r.URL.Query().Get("actor")
	s.mu.Lock()
	p, ok := s.profiles[actor]
	s.mu.Unlock()
	if !ok {
		xrpcError(w, http.StatusBadRequest, "InvalidRequest", "Profile not found")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) serveGetPosts(w http.ResponseWriter, r *http.Request) {
	posts := []map[string]any{}
	s.mu.Lock()
	for _, uri := range r.URL.Query()["uris"] {
		if rec, ok := s.records[uri]; ok {
			did, _ := splitURI(uri)
			posts = append(posts, map[string]any{"uri": uri, "cid": rec.cid, "author": map[string]string{"did": did}, "record": rec.value})
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"posts": posts})
}

func splitURI(uri string) (did, rkey string) {
	parts := strings.Split(strings.TrimPrefix(uri, "at://"), "/")
	if len(parts) != 3 {
		panic("blueskytest: bad AT-URI " + uri)
	}
	return parts[0], parts[2]
}

func randHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newCID returns a CID-looking string (base32 "bafyrei..." shape).
func newCID() string { return "bafyrei" + randHex() + randHex() }

func newRev() string { return "3l" + randHex()[:11] }
