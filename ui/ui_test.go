package ui

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func serve(t testing.TB, method, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec
}

func TestHandler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, path string
		code               int
		contentType        string
	}{
		{"page", "GET", "/", 200, "text/html; charset=utf-8"},
		{"page by name", "GET", "/index.html", 200, "text/html; charset=utf-8"},
		{"module", "GET", "/assets/js/main.js", 200, "text/javascript; charset=utf-8"},
		{"stylesheet", "GET", "/assets/app.css", 200, "text/css; charset=utf-8"},
		{"dictionary", "GET", "/assets/i18n/fr.json", 200, "application/json"},
		{"vendored", "GET", "/assets/vendor/uplot/uPlot.esm.js", 200, "text/javascript; charset=utf-8"},
		{"license", "GET", "/assets/vendor/preact/LICENSE", 200, "text/plain; charset=utf-8"},
		{"head", "HEAD", "/assets/app.css", 200, "text/css; charset=utf-8"},
		{"missing", "GET", "/assets/nope.js", 404, ""},
		{"outside assets", "GET", "/app.css", 404, ""},
		{"traversal", "GET", "/assets/../ui.go", 404, ""},
		{"page under assets", "GET", "/assets/index.html", 404, ""},
		{"post", "POST", "/", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, tt.method, tt.path, nil)
			if rec.Code != tt.code {
				t.Fatalf("%s %s: %d, want %d", tt.method, tt.path, rec.Code, tt.code)
			}
			if tt.contentType != "" && rec.Header().Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tt.contentType)
			}
			if tt.code == 200 {
				if rec.Header().Get("ETag") == "" || rec.Header().Get("Cache-Control") != "no-cache" {
					t.Errorf("caching headers: ETag %q, Cache-Control %q", rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"))
				}
				if tt.method == "HEAD" && rec.Body.Len() != 0 {
					t.Errorf("HEAD has a body of %d bytes", rec.Body.Len())
				}
			}
		})
	}
}

func TestRevalidation(t *testing.T) {
	t.Parallel()
	first := serve(t, "GET", "/assets/js/main.js", nil)
	etag := first.Header().Get("ETag")
	if got := serve(t, "GET", "/assets/js/main.js", map[string]string{"If-None-Match": etag}); got.Code != http.StatusNotModified || got.Body.Len() != 0 {
		t.Errorf("If-None-Match %s: %d with %d bytes, want 304 and no body", etag, got.Code, got.Body.Len())
	}
	if got := serve(t, "GET", "/assets/js/main.js", map[string]string{"If-None-Match": `"other", W/` + etag}); got.Code != http.StatusNotModified {
		t.Errorf("weak tag in a list: %d, want 304", got.Code)
	}
	if got := serve(t, "GET", "/assets/js/main.js", map[string]string{"If-None-Match": `"stale"`}); got.Code != http.StatusOK {
		t.Errorf("stale tag: %d, want 200", got.Code)
	}
}

// The page's CSP allows its one inline script, the import map, by hash,
// and nothing else inline.
func TestContentSecurityPolicy(t *testing.T) {
	t.Parallel()
	rec := serve(t, "GET", "/", nil)
	csp := rec.Header().Get("Content-Security-Policy")
	m := regexp.MustCompile(`(?s)<script type="importmap">(.*?)</script>`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatal("no import map in the page")
	}
	sum := sha256.Sum256([]byte(m[1]))
	want := "script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.Contains(csp, want) {
		t.Errorf("CSP %q lacks %q", csp, want)
	}
	if strings.Contains(csp, "script-src 'self' 'unsafe-inline'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP too loose: %q", csp)
	}
	if n := strings.Count(rec.Body.String(), "<script"); n != 2 {
		t.Errorf("%d script elements, want the import map and the module", n)
	}
	// Every bare name of the import map is an embedded file.
	var im struct {
		Imports map[string]string `json:"imports"`
	}
	if err := json.Unmarshal([]byte(m[1]), &im); err != nil {
		t.Fatalf("import map: %v", err)
	}
	for name, path := range im.Imports {
		if serve(t, "GET", path, nil).Code != 200 {
			t.Errorf("import map: %s → %s is not served", name, path)
		}
	}
}

// Every module's relative imports resolve to embedded files, so that a typo
// cannot reach a browser.
func TestImportsResolve(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`(?m)^\s*(?:import|export)\s[^'"]*?from\s+'(\./[^']+)'`)
	n := 0
	for _, f := range files(t, "static/js") {
		body, _ := fs.ReadFile(static, f)
		for _, m := range re.FindAllStringSubmatch(string(body), -1) {
			n++
			target := "static/js/" + strings.TrimPrefix(m[1], "./")
			if _, err := fs.Stat(static, target); err != nil {
				t.Errorf("%s imports %s: %v", f, m[1], err)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d relative imports: the pattern is broken", n)
	}
}

func files(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(static, dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dictionary(t testing.TB, lang string) map[string]string {
	t.Helper()
	b, err := fs.ReadFile(static, "static/i18n/"+lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]string
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	return d
}

// Both languages have the same keys, no empty string, and every key the
// modules name literally.
func TestDictionaries(t *testing.T) {
	t.Parallel()
	en, fr := dictionary(t, "en"), dictionary(t, "fr")
	for k := range en {
		if _, ok := fr[k]; !ok {
			t.Errorf("fr.json lacks %q", k)
		}
	}
	for k, v := range fr {
		if _, ok := en[k]; !ok {
			t.Errorf("en.json lacks %q", k)
		}
		if strings.TrimSpace(v) == "" || strings.TrimSpace(en[k]) == "" {
			t.Errorf("%q is empty in a language", k)
		}
	}
	// t('key'), tn('key', n) and keys written as 'help.next' in tables.
	re := regexp.MustCompile(`\bt\('([a-zA-Z0-9_.]+)'|tn\('([a-zA-Z0-9_.]+)'|'((?:help|canned|nav|presence)\.[a-zA-Z]+)'`)
	used := 0
	for _, f := range files(t, "static/js") {
		body, _ := fs.ReadFile(static, f)
		for _, m := range re.FindAllStringSubmatch(string(body), -1) {
			used++
			switch {
			case m[1] != "" && !strings.HasSuffix(m[1], "."):
				if _, ok := en[m[1]]; !ok {
					t.Errorf("%s uses %q, not in the dictionaries", f, m[1])
				}
			case m[2] != "":
				for _, form := range []string{".one", ".other"} {
					if _, ok := en[m[2]+form]; !ok {
						t.Errorf("%s uses plural %q, but %q is not in the dictionaries", f, m[2], m[2]+form)
					}
				}
			case m[3] != "":
				if _, ok := en[m[3]]; !ok {
					t.Errorf("%s names %q, not in the dictionaries", f, m[3])
				}
			}
		}
	}
	if used < 100 {
		t.Fatalf("found only %d keys in the modules: the pattern is broken", used)
	}
	// The enumerations the server sends all have words.
	for _, k := range []string{"status.open", "status.assigned", "status.pending", "status.resolved",
		"priority.low", "priority.normal", "priority.high", "priority.urgent",
		"role.agent", "role.monitor", "role.manager", "role.admin",
		"delivery.pending", "delivery.sent", "delivery.failed",
		"intent.complaint", "intent.question", "intent.praise", "intent.purchase", "intent.churn", "intent.spam", "intent.other"} {
		if _, ok := en[k]; !ok {
			t.Errorf("no words for %q", k)
		}
	}
}

// Each vendored library comes with its license.
func TestVendoredLicenses(t *testing.T) {
	t.Parallel()
	entries, err := fs.ReadDir(static, "static/vendor")
	if err != nil {
		t.Fatal(err)
	}
	var libs []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		libs = append(libs, e.Name())
		if _, err := fs.Stat(static, "static/vendor/"+e.Name()+"/LICENSE"); err != nil {
			t.Errorf("vendor/%s has no LICENSE", e.Name())
		}
	}
	if !slices.Contains(libs, "preact") || !slices.Contains(libs, "uplot") {
		t.Errorf("vendored libraries %v", libs)
	}
}

func BenchmarkHandler(b *testing.B) {
	h := Handler()
	req := httptest.NewRequest("GET", "/assets/vendor/uplot/uPlot.esm.js", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}
