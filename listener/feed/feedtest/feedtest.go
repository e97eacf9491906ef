// Package feedtest is a fake feed server for tests: it serves RSS 2.0, Atom
// or JSON Feed 1.1 documents built from entries that tests change (edits,
// removals), answers conditional GETs with ETag and Last-Modified like a
// well-behaved web server, and can be scripted to answer a status (429 with
// Retry-After) or a malformed body.
package feedtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Format is a feed format.
type Format string

// The formats the server writes.
const (
	RSS  Format = "rss"
	Atom Format = "atom"
	JSON Format = "json"
)

// Entry is one feed entry.
type Entry struct {
	ID        string
	Title     string
	HTML      string // the summary, as HTML
	Link      string
	Author    string
	Published time.Time
	Updated   time.Time
}

// Request is what the server saw of one request.
type Request struct {
	IfNoneMatch     string
	IfModifiedSince string
	Status          int
}

// Server is a fake feed server. Safe for concurrent use.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	format   Format
	entries  []Entry
	modified time.Time
	script   []func(w http.ResponseWriter)
	requests []Request
}

// NewServer serves entries in format on 127.0.0.1 until the test ends.
func NewServer(tb testing.TB, format Format, entries ...Entry) *Server {
	tb.Helper()
	s := &Server{format: format, entries: entries, modified: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// SetEntries replaces the entries (an edit or a removal changes the
// document, its ETag and its Last-Modified).
func (s *Server) SetEntries(entries ...Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries = entries
	s.modified = s.modified.Add(time.Minute)
}

// RespondStatus makes the next request answer status, with a Retry-After
// header when retryAfter is not empty.
func (s *Server) RespondStatus(status int, retryAfter string) {
	s.push(func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
	})
}

// RespondBody makes the next request answer 200 with body as is.
func (s *Server) RespondBody(contentType, body string) {
	s.push(func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", contentType)
		w.Write([]byte(body))
	})
}

func (s *Server) push(f func(http.ResponseWriter)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, f)
}

// Requests returns what the server saw, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) { r.status = code; r.ResponseWriter.WriteHeader(code) }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, status: 200}
	s.mu.Lock()
	req := Request{IfNoneMatch: r.Header.Get("If-None-Match"), IfModifiedSince: r.Header.Get("If-Modified-Since")}
	var scripted func(http.ResponseWriter)
	if len(s.script) > 0 {
		scripted, s.script = s.script[0], s.script[1:]
	}
	body, ctype := s.render()
	modified := s.modified
	s.mu.Unlock()
	defer func() {
		req.Status = rec.status
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.mu.Unlock()
	}()
	if scripted != nil {
		scripted(rec)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", modified.Format(http.TimeFormat))
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if inm == etag {
			rec.WriteHeader(http.StatusNotModified)
			return
		}
	} else if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !modified.After(ims) {
		rec.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", ctype)
	rec.Write(body)
}

func (s *Server) render() ([]byte, string) {
	switch s.format {
	case Atom:
		return s.atom(), "application/atom+xml"
	case JSON:
		return s.json(), "application/feed+json"
	}
	return s.rss(), "application/rss+xml"
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (s *Server) rss() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rss version="2.0"><channel><title>Velora news</title><link>https://news.example/</link><description>Fake</description><language>fr-FR</language>`)
	for _, e := range s.entries {
		fmt.Fprintf(&b, `<item><title>%s</title><link>%s</link><description>%s</description><guid isPermaLink="false">%s</guid><pubDate>%s</pubDate>`,
			esc(e.Title), esc(e.Link), esc(e.HTML), esc(e.ID), e.Published.Format(time.RFC1123Z))
		if e.Author != "" {
			fmt.Fprintf(&b, `<author>%s</author>`, esc(e.Author))
		}
		b.WriteString(`</item>`)
	}
	b.WriteString(`</channel></rss>`)
	return []byte(b.String())
}

func (s *Server) atom() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<feed xmlns="http://www.w3.org/2005/Atom"><title>Velora forum</title><id>urn:fake:forum</id><updated>2026-11-22T09:00:00Z</updated><link href="https://forum.example/"/>`)
	for _, e := range s.entries {
		upd := e.Updated
		if upd.IsZero() {
			upd = e.Published
		}
		fmt.Fprintf(&b, `<entry><id>%s</id><title>%s</title><link rel="alternate" href="%s"/><published>%s</published><updated>%s</updated><summary type="html">%s</summary>`,
			esc(e.ID), esc(e.Title), esc(e.Link), e.Published.Format(time.RFC3339), upd.Format(time.RFC3339), esc(e.HTML))
		if e.Author != "" {
			fmt.Fprintf(&b, `<author><name>%s</name></author>`, esc(e.Author))
		}
		b.WriteString(`</entry>`)
	}
	b.WriteString(`</feed>`)
	return []byte(b.String())
}

func (s *Server) json() []byte {
	items := []map[string]any{}
	for _, e := range s.entries {
		it := map[string]any{"id": e.ID, "url": e.Link, "title": e.Title, "content_html": e.HTML,
			"date_published": e.Published.Format(time.RFC3339)}
		if !e.Updated.IsZero() {
			it["date_modified"] = e.Updated.Format(time.RFC3339)
		}
		if e.Author != "" {
			it["authors"] = []map[string]string{{"name": e.Author}}
		}
		items = append(items, it)
	}
	b, _ := json.Marshal(map[string]any{"version": "https://jsonfeed.org/version/1.1", "title": "Velora blog",
		"home_page_url": "https://blog.example/", "language": "en", "items": items})
	return b
}
