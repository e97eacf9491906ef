// Package metatest is a fake of Meta's side of the wire for tests: a Graph
// API server that hosts the reply endpoints and the Instagram mention
// lookups, and a webhook sender that signs deliveries over their exact bytes
// and retries on anything but 200, as Meta does.
package metatest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the Graph API version path the fake serves under.
const Version = "/v21.0"

// Reply is one reply the fake Graph API received.
type Reply struct {
	Parent  string // the object replied to
	Edge    string // "comments" (Facebook) or "replies" (Instagram)
	Message string
	ID      string // the id answered
	Token   string
	Proof   string
}

// Comment is what the fake answers for a mentioned comment or media.
type Comment struct {
	ID, Text, Username, Timestamp, MediaID string
}

// Failure is a Graph error to answer instead of the next call.
type Failure struct {
	Status  int
	Code    int
	Message string
}

// Server is a fake Graph API. Safe for concurrent use.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	replies  []Reply
	mentions map[string]Comment // by comment or media id
	fail     []Failure
	calls    int
}

// NewServer starts a fake Graph API on 127.0.0.1, closed at cleanup.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{mentions: map[string]Comment{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// BaseURL is the Graph API base, version included.
func (s *Server) BaseURL() string { return s.URL + Version }

// AddMentioned makes a comment or media findable by mentioned_comment /
// mentioned_media.
func (s *Server) AddMentioned(c Comment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mentions[c.ID] = c
}

// FailNext makes the next calls fail, one Failure each.
func (s *Server) FailNext(f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, f...)
}

// Replies returns the replies received, in order.
func (s *Server) Replies() []Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Reply(nil), s.replies...)
}

// Calls returns how many requests the fake answered.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func graphError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": "OAuthException", "code": code, "fbtrace_id": "Afake"}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls++
	var f *Failure
	if len(s.fail) > 0 {
		f = &s.fail[0]
		s.fail = s.fail[1:]
	}
	s.mu.Unlock()
	if f != nil {
		if f.Code == 0 {
			w.WriteHeader(f.Status)
			io.WriteString(w, f.Message)
			return
		}
		graphError(w, f.Status, f.Code, f.Message)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, Version+"/")
	if !ok {
		graphError(w, http.StatusBadRequest, 2500, "Unknown path components")
		return
	}
	if err := r.ParseForm(); err != nil {
		graphError(w, http.StatusBadRequest, 100, "bad form")
		return
	}
	if r.Form.Get("access_token") == "" {
		graphError(w, http.StatusBadRequest, 190, "An active access token must be used")
		return
	}
	parts := strings.Split(path, "/")
	switch {
	case r.Method == http.MethodPost && len(parts) == 2 && (parts[1] == "comments" || parts[1] == "replies"):
		msg := r.PostForm.Get("message")
		if msg == "" {
			graphError(w, http.StatusBadRequest, 100, "(#100) Missing message")
			return
		}
		s.mu.Lock()
		id := fmt.Sprintf("%s_%d", parts[0], 9000+len(s.replies))
		s.replies = append(s.replies, Reply{Parent: parts[0], Edge: parts[1], Message: msg, ID: id,
			Token: r.PostForm.Get("access_token"), Proof: r.PostForm.Get("appsecret_proof")})
		s.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"id": id})
	case r.Method == http.MethodGet && len(parts) == 1:
		s.lookup(w, r.Form.Get("fields"))
	default:
		graphError(w, http.StatusBadRequest, 100, "Unsupported request")
	}
}

// lookup answers fields=mentioned_comment.comment_id(X){...} or
// mentioned_media.media_id(X){...}.
func (s *Server) lookup(w http.ResponseWriter, fields string) {
	field, rest, _ := strings.Cut(fields, ".")
	open, close := strings.Index(rest, "("), strings.Index(rest, ")")
	if open < 0 || close < open {
		graphError(w, http.StatusBadRequest, 100, "bad fields")
		return
	}
	id := rest[open+1 : close]
	s.mu.Lock()
	c, ok := s.mentions[id]
	s.mu.Unlock()
	if !ok {
		graphError(w, http.StatusBadRequest, 100, "(#100) Object does not exist")
		return
	}
	obj := map[string]any{"id": c.ID, "username": c.Username, "timestamp": c.Timestamp}
	if field == "mentioned_comment" {
		obj["text"] = c.Text
		if c.MediaID != "" {
			obj["media"] = map[string]string{"id": c.MediaID}
		}
	} else {
		obj["caption"] = c.Text
	}
	json.NewEncoder(w).Encode(map[string]any{field: obj, "id": "17841400000000000"})
}

// Change is one change of a delivery.
type Change struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

// Delivery builds a webhook body for object ("page" or "instagram") with
// one entry.
func Delivery(object, entryID string, at time.Time, changes ...Change) []byte {
	b, _ := json.Marshal(map[string]any{"object": object, "entry": []any{map[string]any{
		"id": entryID, "time": at.Unix(), "changes": changes}}})
	return b
}

// FeedChange is a Page feed change. from may be empty (the author did not
// authorise the app).
func FeedChange(item, verb, postID, commentID, fromID, message string, created time.Time) Change {
	v := map[string]any{"item": item, "verb": verb, "post_id": postID, "created_time": created.Unix()}
	if commentID != "" {
		v["comment_id"], v["parent_id"] = commentID, postID
	}
	if fromID != "" {
		v["from"] = map[string]string{"id": fromID, "name": "Person " + fromID}
	}
	if message != "" {
		v["message"] = message
	}
	return Change{Field: "feed", Value: v}
}

// Sign returns the X-Hub-Signature-256 value for body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Deliver POSTs body to url signed with secret, up to attempts times while
// the answer is not 200, and returns the last status.
func Deliver(ctx context.Context, url, secret string, body []byte, attempts int) (int, error) {
	return DeliverSigned(ctx, url, Sign(secret, body), body, attempts)
}

// DeliverSigned is Deliver with a signature header given as is ("" sends
// none).
func DeliverSigned(ctx context.Context, url, signature string, body []byte, attempts int) (int, error) {
	status := 0
	for i := 0; i < max(1, attempts); i++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Type", "application/json")
		if signature != "" {
			req.Header.Set("X-Hub-Signature-256", signature)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		status = resp.StatusCode
		if status == http.StatusOK {
			break
		}
	}
	return status, nil
}
