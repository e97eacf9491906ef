package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/vigie/vigie/listener/demo"
	"github.com/vigie/vigie/listener/sources"
)

// demoFeed is a local stand-in for a network, started by --demo: a JSON Feed
// of the demo brand's press coverage on a loopback port, which Vigie's real
// feed connector polls like any other (conditional GET, cursor, dedupe). A
// newcomer sees a connector at work, with its status in Admin → Sources.
type demoFeed struct {
	gen   *demo.Generator
	srv   *http.Server
	ln    net.Listener
	every time.Duration

	mu    sync.Mutex
	items []jsonFeedItem
}

type jsonFeedItem struct {
	ID            string           `json:"id"`
	URL           string           `json:"url"`
	Title         string           `json:"title,omitempty"`
	ContentText   string           `json:"content_text"`
	DatePublished string           `json:"date_published"`
	Authors       []map[string]any `json:"authors,omitempty"`
	Language      string           `json:"language,omitempty"`
}

func newDemoFeed(rate float64) (*demoFeed, error) {
	gen, err := demo.New(demo.Config{Rate: rate, Seed: 2}, nil, nil)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo feed: %w", err)
	}
	f := &demoFeed{gen: gen, ln: ln, every: time.Duration(float64(time.Second) / rate)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /feed.json", f.serve)
	f.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	return f, nil
}

// URL is where the feed is served.
func (f *demoFeed) URL() string { return "http://" + f.ln.Addr().String() + "/feed.json" }

// sourceConfig is the feed's entry for the sources registry.
func (f *demoFeed) sourceConfig() (sources.SourceConfig, error) {
	return sources.NewSourceConfig("rss", "demo-press", fmt.Sprintf("url: %s\ninterval: 3s\nsource: press\n", f.URL()), nil)
}

// Run serves the feed and publishes an article every so often until ctx is
// done.
func (f *demoFeed) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- f.srv.Serve(f.ln) }()
	tick := time.NewTicker(f.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			shCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			f.srv.Shutdown(shCtx)
			cancel()
			return ctx.Err()
		case err := <-errc:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("demo feed: %w", err)
		case <-tick.C:
			m := f.gen.Next()
			title, _, _ := strings.Cut(m.Text, ".")
			f.mu.Lock()
			f.items = append(f.items, jsonFeedItem{
				ID: "press-" + m.ID, URL: "https://press.example/velora/" + m.ID, Title: title,
				ContentText: m.Text, DatePublished: time.Now().UTC().Format(time.RFC3339),
				Authors: []map[string]any{{"name": m.Author.Name}}, Language: m.Lang,
			})
			if len(f.items) > 50 {
				f.items = f.items[len(f.items)-50:]
			}
			f.mu.Unlock()
		}
	}
}

func (f *demoFeed) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	items := make([]jsonFeedItem, len(f.items))
	for i := range f.items { // newest first, as feeds are
		items[i] = f.items[len(f.items)-1-i]
	}
	f.mu.Unlock()
	body, _ := json.Marshal(map[string]any{
		"version": "https://jsonfeed.org/version/1.1", "title": "Velora in the press (Vigie demo)",
		"home_page_url": "https://press.example/velora", "items": items,
	})
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/feed+json")
	w.Write(body)
}
