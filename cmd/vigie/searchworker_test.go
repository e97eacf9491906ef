package main

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// searchTotal returns how many mentions the server's search finds for q,
// -1 when it does not answer 200.
func (a *app) searchTotal(q string) int {
	a.t.Helper()
	var res struct {
		Total int `json:"total"`
	}
	if code := a.do("GET", "/api/v1/search?q="+q, "", nil, &res); code != http.StatusOK {
		return -1
	}
	return res.Total
}

// niceOf returns the nice value of every thread of a process.
func niceOf(t *testing.T, pid int) []int {
	t.Helper()
	tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + task.Name() + "/stat")
		if err != nil {
			continue // the thread ended
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		n, _ := strconv.Atoi(f[16]) // field 19 of stat(5), counted from the state
		out = append(out, n)
	}
	return out
}

// gone reports whether a process has ended (or is a zombie nobody reaps).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	s := string(b)
	return err == nil && strings.HasPrefix(strings.TrimSpace(s[strings.LastIndexByte(s, ')')+1:]), "Z")
}

// TestSearchWorker: the index runs in a worker process, every thread of
// it at the lower priority; killed, it is started again and catches up
// with what it missed, and the server's search answers again.
func TestSearchWorker(t *testing.T) {
	a := startApp(t, t.TempDir())
	a.ingest(mention("w1", "ana", "Mon colis tortue est perdu", nil))
	eventually(t, "the first mention in search", func() bool { return a.searchTotal("tortue") == 1 })

	pid := a.srv.searchProc.pid()
	if pid == 0 || pid == os.Getpid() {
		t.Fatalf("search worker pid %d (server %d)", pid, os.Getpid())
	}
	for _, n := range niceOf(t, pid) {
		if n != searchNice {
			t.Fatalf("a thread of the worker runs at nice %d, want %d: %v", n, searchNice, niceOf(t, pid))
		}
	}
	for _, n := range niceOf(t, os.Getpid()) {
		if n != 0 {
			t.Fatalf("a thread of the server runs at nice %d: %v", n, niceOf(t, os.Getpid()))
		}
	}

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the worker to die", func() bool { return a.srv.searchProc.pid() != pid })
	a.ingest(mention("w2", "bob", "Un autre colis tortue", nil))
	eventually(t, "a new worker with both mentions", func() bool {
		p := a.srv.searchProc.pid()
		return p != 0 && p != pid && a.searchTotal("tortue") == 2
	})
	m, err := scrapeMetrics(context.Background(), a.url)
	if err != nil {
		t.Fatal(err)
	}
	if m["vigie_search_worker_starts_total"] != 2 || m["vigie_search_worker_up"] != 1 {
		t.Fatalf("worker metrics: starts %v, up %v", m["vigie_search_worker_starts_total"], m["vigie_search_worker_up"])
	}
	if m["vigie_search_cursor_seq"] == 0 {
		t.Fatal("the worker's metrics are not in the server's")
	}
}

// TestSearchInProcess: with --search-in-process, no worker runs and the
// search answers all the same.
func TestSearchInProcess(t *testing.T) {
	a := startApp(t, t.TempDir(), func(c *serveConfig) { c.SearchInProcess = true })
	if a.srv.searchProc != nil {
		t.Fatal("a search worker runs")
	}
	a.ingest(mention("p1", "ana", "Mon colis tortue est perdu", nil))
	eventually(t, "the mention in search", func() bool { return a.searchTotal("tortue") == 1 })
}

// TestSearchWorkerDiesWithServer: a server killed by SIGKILL takes its
// worker with it, and the next server opens the index again.
func TestSearchWorkerDiesWithServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	data := t.TempDir()
	c := startChild(t, data)
	kids := childrenOf(c.cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("the server has %d child processes, want its search worker", len(kids))
	}
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for !gone(kids[0]) {
		if time.Now().After(deadline) {
			t.Fatalf("the search worker %d outlived its server", kids[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	c = startChild(t, data)
	a := &app{t: t, url: c.url, client: http.DefaultClient}
	a.waitReady()
	body := `[{"source":"mastodon","id":"d1","created_at":"2026-11-22T10:00:00Z","author":{"id":"ana"},"text":"colis tortue"}]`
	if code := a.do("POST", "/api/v1/mentions", "application/json", []byte(body), nil); code != http.StatusAccepted {
		t.Fatalf("ingest: %d", code)
	}
	eventually(t, "search after the restart", func() bool { return a.searchTotal("tortue") == 1 })
}

// TestSocketDir: the worker's socket lives in the data directory, private,
// unless the path would be too long for a socket.
func TestSocketDir(t *testing.T) {
	data := t.TempDir()
	dir, err := socketDir(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(data, "search-worker"); dir != want {
		t.Fatalf("socket directory %s, want %s", dir, want)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("socket directory: %v, %v", fi, err)
	}
	long := filepath.Join(data, strings.Repeat("d", maxSocketPath))
	if err := os.MkdirAll(long, 0o750); err != nil {
		t.Fatal(err)
	}
	dir, err = socketDir(long)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if strings.HasPrefix(dir, data) || len(filepath.Join(dir, "socket")) > maxSocketPath {
		t.Fatalf("with a long data path, the socket directory is %s", dir)
	}
}
