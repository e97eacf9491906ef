package search

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TestRemote: through a Remote, the worker's index answers as it does in
// the server's process; a bad request never reaches the worker; a worker
// that cannot be reached gets 503, not a 500.
func TestRemote(t *testing.T) {
	t.Parallel()
	log := httpTestLog(t)
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	ix, err := Open(Config{Path: filepath.Join(dir, "search.bleve")}, log, nil, reg)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	catchUp(t, ix)

	socket := filepath.Join(dir, "socket")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var served http.Handler = ix.Handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	worker := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/search" && r.URL.Query().Get("size") == "1000" {
			t.Errorf("a bad request reached the worker: %s", r.URL)
		}
		served.ServeHTTP(w, r)
	})}
	go func() { _ = worker.Serve(ln) }()
	defer worker.Close()

	local, remote := echo.New(), echo.New()
	ix.Register(local.Group("/api/v1"))
	rm := NewRemote(socket)
	rm.Register(remote.Group("/api/v1"))
	get := func(e *echo.Echo, query string) (int, string) {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/search?"+query, nil))
		return rec.Code, rec.Body.String()
	}
	for _, q := range []string{"q=rembourser&facets=source,sentiment,queue", "", "q=service&size=1", "size=1000", "q=a:"} {
		lc, lb := get(local, q)
		rc, rb := get(remote, q)
		if lc != rc || lb != rb {
			t.Errorf("%q: in process %d %s, through the worker %d %s", q, lc, lb, rc, rb)
		}
	}
	if code, body := get(remote, "q=rembourser"); code != http.StatusOK || body == "" {
		t.Fatalf("search through the worker: %d %s", code, body)
	}

	want, err := ix.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rm.Cursor(); err != nil || got != want || got == 0 {
		t.Fatalf("Cursor = %d, %v; want %d", got, err, want)
	}
	if err := rm.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	fams, err := rm.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fams {
		if f.GetName() == "vigie_search_cursor_seq" && f.GetMetric()[0].GetGauge().GetValue() == float64(want) {
			found = true
		}
	}
	if !found {
		t.Fatalf("the worker's metrics lack its cursor: %v", fams)
	}

	// The worker gone: 503, and errors that say so.
	worker.Close()
	if code, body := get(remote, "q=rembourser"); code != http.StatusServiceUnavailable {
		t.Errorf("search with no worker: %d %s", code, body)
	}
	if _, err := rm.Cursor(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Cursor with no worker: %v", err)
	}
	if fams, err := rm.Gather(); err != nil || len(fams) != 0 {
		t.Errorf("Gather with no worker: %v, %v", fams, err)
	}
}
