package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

//go:embed static
var static embed.FS

// AssetPrefix is the URL path under which the application's files are served.
const AssetPrefix = "/assets/"

// asset is one embedded file, ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// site is the embedded application, indexed once.
type site struct {
	assets map[string]*asset // by path under static/
	csp    string
}

var theSite = mustLoad(static)

// contentTypes maps the extensions the application uses to their media
// types, so that serving never depends on the host's mime.types.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
	".map":  "application/json",
	".txt":  "text/plain; charset=utf-8",
	"":      "text/plain; charset=utf-8", // LICENSE files
}

func mustLoad(fsys fs.FS) *site {
	s, err := load(fsys)
	if err != nil {
		panic(fmt.Sprintf("ui: embedded files: %v", err))
	}
	return s
}

func load(fsys fs.FS) (*site, error) {
	s := &site{assets: map[string]*asset{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		s.assets[strings.TrimPrefix(p, "static/")] = &asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		return nil, err
	}
	index, ok := s.assets["index.html"]
	if !ok {
		return nil, fmt.Errorf("static/index.html is missing")
	}
	importMap, err := inlineScript(index.body, `<script type="importmap">`)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(importMap)
	// The only inline script is the import map, allowed by its hash. Styles
	// may be set from scripts (charts, the virtual list), hence
	// 'unsafe-inline' for style-src only.
	s.csp = strings.Join([]string{
		"default-src 'self'",
		"script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'",
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"connect-src 'self' ws: wss:",
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	}, "; ")
	return s, nil
}

// inlineScript returns the text between open and the next </script>.
func inlineScript(html []byte, open string) ([]byte, error) {
	i := bytes.Index(html, []byte(open))
	if i < 0 {
		return nil, fmt.Errorf("index.html: no %s", open)
	}
	rest := html[i+len(open):]
	j := bytes.Index(rest, []byte("</script>"))
	if j < 0 {
		return nil, fmt.Errorf("index.html: %s is not closed", open)
	}
	return rest[:j], nil
}

// Handler serves the application: GET / and /index.html answer the page,
// GET /assets/{path} its files; anything else is 404. Every answer carries
// an ETag and Cache-Control: no-cache, so that a browser revalidates (a 304
// costs one round trip) and never runs files older than the binary.
func Handler() http.Handler { return theSite }

// Register mounts Handler on e for GET and HEAD of / and /* (the page and
// its assets; any other path outside the API answers 404). Routes that are
// more specific, such as /api/v1/... and /ws, keep precedence in echo's
// router.
func Register(e *echo.Echo) {
	h := echo.WrapHandler(theSite)
	for _, p := range []string{"/", "/*"} {
		e.GET(p, h)
		e.HEAD(p, h)
	}
}

func (s *site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var name string
	switch p := r.URL.Path; {
	case p == "/" || p == "/index.html":
		name = "index.html"
	case strings.HasPrefix(p, AssetPrefix):
		name = strings.TrimPrefix(p, AssetPrefix)
		if name == "index.html" {
			name = "" // the page has one address
		}
	}
	a, ok := s.assets[name]
	if !ok || strings.Contains(name, "..") {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if name == "index.html" {
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Frame-Options", "DENY")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatch(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(a.body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(a.body)
}

// etagMatch reports whether an If-None-Match header names etag (or *).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
