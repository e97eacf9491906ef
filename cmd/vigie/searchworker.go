package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/search"
)

// The search index runs in a process of its own, the search worker, at a
// lower CPU priority than the server. Bleve's indexing is the heaviest work
// per mention, and the Go scheduler has no priorities: in the server's
// process, its goroutines held the CPUs while agents' tickets waited to be
// routed and pushed (p99 86 ms at 600 mentions/s, 29 ms with no search).
// The kernel's scheduler does have priorities: in a niced process, the
// indexing takes what the hot path leaves.
//
// The worker follows the desk's event log through desk.db (WAL readers in
// another process see every commit), owns search.bleve, and serves the
// index on a Unix socket in a private temporary directory. The server
// forwards GET /api/v1/search to it, reads its cursor and merges its
// metrics into /metrics. The worker exits when its stdin closes: when the
// server dies, even by SIGKILL, it does too.

func init() {
	// The worker takes no context: signals are not for it (runSearchWorker).
	commands["search-worker"] = func(_ context.Context, args []string, stdin io.Reader, _, stderr io.Writer) error {
		return runSearchWorker(args, stdin, stderr)
	}
}

// searchNice is the worker's nice value: a tenth of the server's CPU
// weight when both want the CPUs (the kernel's weights are 110 against
// 1,024), so that indexing is postponed by bursts, never starved by them.
const searchNice = 10

// searchGOGC is the worker's garbage collection target, unless GOGC is set.
// Its live heap is small (the index's caches and the batch being built)
// while Bleve allocates a lot per batch, so the default of 100 collects
// often: at 1,200 mentions/s, 300 cost 5 % less CPU (server and worker
// together, two alternated pairs) for about 75 MiB more.
const searchGOGC = 300

func runSearchWorker(args []string, stdin io.Reader, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigie search-worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "data directory")
	socket := fs.String("socket", "", "the Unix socket to serve on")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *socket == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "vigie search-worker: the server starts it, with --data and --socket")
		return errUsage
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(searchGOGC)
	}
	logger, err := newLogger(*level, "json", stderr)
	if err != nil {
		return err
	}
	// The worker stops when its stdin closes: when the server asks it to,
	// or dies. Signals are not for it: a terminal's Ctrl-C or systemd's
	// SIGTERM reach every process of the group, and the server, still
	// draining, needs its worker until the index has caught up.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, stdin) // the server holds the other end
		cancel()
	}()

	follower, err := desk.OpenFollower(ctx, filepath.Join(*data, "desk.db"))
	if err != nil {
		return err
	}
	defer follower.Close()
	reg := prometheus.NewRegistry()
	ix, err := search.Open(search.Config{Path: filepath.Join(*data, "search.bleve")}, follower, logger, reg)
	if err != nil {
		return err
	}
	defer ix.Close()
	ln, err := net.Listen("unix", *socket)
	if err != nil {
		return fmt.Errorf("search worker: %w", err)
	}
	srv := &http.Server{
		Handler:           ix.Handler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if err := ix.Run(ctx); !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// searchProcess is the server's side of the worker: it starts it, restarts
// it when it dies, and stops it.
type searchProcess struct {
	data    string
	log     *slog.Logger
	relay   *slog.Logger // the worker's records, which name their component
	dir     string       // private: holds the socket
	socket  string
	remote  *search.Remote
	restart time.Duration
	stop    time.Duration
	up      prometheus.Gauge
	starts  prometheus.Counter

	mu   sync.Mutex
	cmd  *exec.Cmd
	in   io.WriteCloser // the worker's stdin
	done chan error     // the worker's exit
}

// workerCommand returns the command that runs `vigie search-worker args`:
// this executable. A test binary runs it from TestMain.
var workerCommand = func(args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable: %w", err)
	}
	return exec.Command(exe, append([]string{"search-worker"}, args...)...), nil
}

func newSearchProcess(cfg serveConfig, logger *slog.Logger, reg prometheus.Registerer) (*searchProcess, error) {
	dir, err := socketDir(cfg.Data)
	if err != nil {
		return nil, fmt.Errorf("search worker: %w", err)
	}
	p := &searchProcess{
		data: cfg.Data, log: logger.With("component", "search_worker"), relay: logger, dir: dir,
		socket: filepath.Join(dir, "socket"), restart: time.Second, stop: cfg.ShutdownWait,
		up: prometheus.NewGauge(prometheus.GaugeOpts{Name: "vigie_search_worker_up",
			Help: "1 while the search worker process runs and answers."}),
		starts: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigie_search_worker_starts_total",
			Help: "Search worker processes started, the first one included."}),
	}
	reg.MustRegister(p.up, p.starts)
	p.remote = search.NewRemote(p.socket)
	return p, nil
}

// maxSocketPath is the longest Unix socket path that fits everywhere
// (sun_path is 104 bytes on the BSDs, 108 on Linux).
const maxSocketPath = 100

// socketDir returns a new directory only this user can enter, for the
// worker's socket: search-worker in the data directory, which is writable
// even on a read-only root file system, unless its path is too long for a
// socket; then one in the temporary directory.
func socketDir(data string) (string, error) {
	abs, err := filepath.Abs(data)
	if err == nil && len(filepath.Join(abs, "search-worker", "socket")) <= maxSocketPath {
		dir := filepath.Join(abs, "search-worker")
		if err = os.RemoveAll(dir); err == nil {
			if err = os.Mkdir(dir, 0o700); err == nil {
				return dir, nil
			}
		}
	}
	dir, terr := os.MkdirTemp("", "vigie-search-")
	if terr != nil {
		return "", errors.Join(err, terr)
	}
	return dir, nil
}

// start starts a worker and waits until it answers, or it exits, or
// startWait passes.
func (p *searchProcess) start(ctx context.Context) error {
	_ = os.Remove(p.socket)
	cmd, err := workerCommand("--data", p.data, "--socket", p.socket, "--log-level", "debug")
	if err != nil {
		return err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("search worker: %w", err)
	}
	logs, err := cmd.StderrPipe()
	if err != nil {
		in.Close()
		return fmt.Errorf("search worker: %w", err)
	}
	if err := startNiced(cmd, searchNice); err != nil {
		in.Close()
		return fmt.Errorf("search worker: start: %w", err)
	}
	p.starts.Inc()
	done := make(chan error, 1)
	relayed := make(chan struct{})
	go func() { relayLogs(p.relay, logs); close(relayed) }()
	go func() { <-relayed; done <- cmd.Wait() }()
	p.mu.Lock()
	p.cmd, p.in, p.done = cmd, in, done
	p.mu.Unlock()
	p.log.Info("search_worker_started", "pid", cmd.Process.Pid)

	deadline := time.NewTimer(startWait)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := p.remote.Cursor(); err == nil {
			p.up.Set(1)
			return nil
		}
		select {
		case err := <-done:
			p.mu.Lock()
			p.cmd, p.done = nil, nil
			p.mu.Unlock()
			return fmt.Errorf("search worker exited while starting: %v", exitReason(err))
		case <-deadline.C:
			p.kill()
			return fmt.Errorf("search worker did not answer within %s", startWait)
		case <-ctx.Done():
			p.kill()
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// startWait bounds a worker's start: opening the index and its socket.
const startWait = time.Minute

// Run watches the worker started by start, restarting it when it dies,
// until ctx is done; then it stops it, letting it write what it holds.
func (p *searchProcess) Run(ctx context.Context) error {
	for {
		p.mu.Lock()
		done := p.done
		p.mu.Unlock()
		if done == nil {
			if err := p.start(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				p.log.Error("search_worker_failed", "error", err, "retry_in", p.restart)
				select {
				case <-time.After(p.restart):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			continue
		}
		select {
		case err := <-done:
			p.up.Set(0)
			p.mu.Lock()
			p.cmd, p.done = nil, nil
			p.mu.Unlock()
			p.log.Error("search_worker_died", "error", exitReason(err), "restart_in", p.restart)
			select {
			case <-time.After(p.restart):
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-ctx.Done():
			p.terminate()
			return ctx.Err()
		}
	}
}

// terminate asks the worker to stop (closes its stdin) and kills it after
// p.stop.
func (p *searchProcess) terminate() {
	p.mu.Lock()
	cmd, in, done := p.cmd, p.in, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	p.up.Set(0)
	_ = in.Close()
	select {
	case err := <-done:
		if err != nil {
			p.log.Warn("search_worker_stopped", "error", exitReason(err))
		}
	case <-time.After(p.stop):
		p.log.Error("search_worker_killed", "waited", p.stop)
		_ = cmd.Process.Kill()
		<-done
	}
}

// kill kills the worker and waits for it.
func (p *searchProcess) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	p.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Kill()
		<-done
	}
}

// Close stops a worker still running (Run did not) and removes the socket.
func (p *searchProcess) Close() error {
	p.terminate()
	return os.RemoveAll(p.dir)
}

// pid returns the running worker's process id, 0 if none runs.
func (p *searchProcess) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// relayLogs writes the worker's log records (JSON lines) to log, at their
// level; a line that is not a record is logged as such.
func relayLogs(log *slog.Logger, r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			log.Warn("search_worker_output", "line", sc.Text())
			continue
		}
		var lv slog.Level
		if s, ok := rec[slog.LevelKey].(string); !ok || lv.UnmarshalText([]byte(s)) != nil {
			lv = slog.LevelInfo
		}
		msg, _ := rec[slog.MessageKey].(string)
		attrs := make([]any, 0, 2*len(rec))
		for _, k := range slices.Sorted(maps.Keys(rec)) {
			if k != slog.TimeKey && k != slog.LevelKey && k != slog.MessageKey {
				attrs = append(attrs, k, rec[k])
			}
		}
		log.Log(context.Background(), lv, msg, attrs...)
	}
	_, _ = io.Copy(io.Discard, r)
}
