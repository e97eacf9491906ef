package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/gorilla/websocket"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/jsonx"
	"github.com/vigie/vigie/listener/demo"
)

func init() {
	commands["bench"] = func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return runBench(ctx, args, stdout, stderr)
	}
}

// benchConfig is everything `vigie bench` is told.
type benchConfig struct {
	Agents   int
	Rate     float64
	Duration time.Duration
	Mentions int
	Batch    int
	Posters  int
	Seed     int64
	// URL and Token target a running Vigie; PID, when given, is its process
	// (for CPU and memory).
	URL   string
	Token string
	PID   int
	// ClickHouse adds a second in-process pass archiving to ClickHouse.
	ClickHouse string
	Data       string
	Limits     bool
	Drain      time.Duration
	LogLevel   string
	// Sample, when positive, prints memory, goroutines, lags and the
	// latency of the last period every period (the soak test).
	Sample time.Duration
	// CPUProfile, when set, writes a CPU profile of the whole run (the
	// in-process Vigie, the load and the limits) to this file; with
	// Sample, one profile per period instead, to FILE.<elapsed>.
	CPUProfile string
	// Trace, when set, writes an execution trace of the whole run to this
	// file (go tool trace): which goroutine waited for a CPU, and why.
	Trace string
	// MemProfile, when set, writes a heap profile of the in-process Vigie
	// (and the load) to this file once the sinks have caught up, and with
	// Sample one every period to FILE.<elapsed> (go tool pprof -base
	// shows what grew between two).
	MemProfile string
	// SearchInProcess runs the in-process Vigie's search index in its own
	// process (serve --search-in-process), for comparison.
	SearchInProcess bool
	// Half paces the run at half the sustained rate, measured first on
	// this machine by Calibrate seconds as fast as possible: the rate the
	// latency and soak targets are set at, whatever the machine.
	Half      bool
	Calibrate time.Duration
	// ResolveAfter, when positive, has the agents resolve every ticket
	// that long after it appeared, in bulk every ResolveEvery, so that the
	// open tickets stay bounded as at a desk that keeps up.
	ResolveAfter, ResolveEvery time.Duration
	// batchSet and postersSet say --batch and --posters were given, so
	// that the defaults follow the rate --half finds.
	batchSet, postersSet bool
}

func parseBench(args []string, stderr io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("vigie bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.Agents, "agents", 5, "agents' websockets subscribed to tickets")
	fs.Float64Var(&c.Rate, "rate", 0, "mentions a second to post (0: as fast as the server answers)")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "how long to post (unless --mentions)")
	fs.IntVar(&c.Mentions, "mentions", 0, "post this many mentions, then stop (overrides --duration)")
	fs.IntVar(&c.Batch, "batch", 0, "mentions a POST (default: 50 as fast as possible, a 10 ms share of --rate when paced)")
	fs.IntVar(&c.Posters, "posters", 0, "concurrent HTTP clients posting (default 4 as fast as possible, 16 when paced)")
	fs.Int64Var(&c.Seed, "seed", 1, "the demo generator's seed")
	fs.StringVar(&c.URL, "url", "", "a running Vigie to load (default: start one in this process)")
	fs.StringVar(&c.Token, "token", "", "the API token for --url (needs ingest and the tickets and mentions topics; or VIGIE_BENCH_TOKEN)")
	fs.IntVar(&c.PID, "pid", 0, "the process id of the Vigie at --url, for its CPU time and peak memory")
	fs.StringVar(&c.ClickHouse, "clickhouse", "", "also run with the archive in ClickHouse (clickhouse://host:9000/db); a scratch database is created and dropped")
	fs.StringVar(&c.Data, "data", "", "where the in-process Vigie keeps its data (default: a temporary directory, removed)")
	fs.BoolVar(&c.Limits, "limits", true, "also measure the parts' limits (raw Bleve, raw clickhouse-go) on the same documents")
	fs.DurationVar(&c.Drain, "drain", 3*time.Minute, "how long to wait for every mention to reach the agents and the sinks after posting")
	fs.StringVar(&c.LogLevel, "log-level", "warn", "the in-process Vigie's log level")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file (read it with 'go tool pprof'); with --sample, one per period to FILE.<elapsed>")
	fs.StringVar(&c.Trace, "trace", "", "write an execution trace of the run to this file (read it with 'go tool trace'; keep the run short: about 10 MB a second)")
	fs.StringVar(&c.MemProfile, "memprofile", "", "write a heap profile of the in-process Vigie to this file once the sinks have caught up (with --clickhouse, of the last pass); with --sample, also one every period to FILE.<elapsed>; each forces a garbage collection first")
	fs.BoolVar(&c.SearchInProcess, "search-in-process", false, "index in the in-process Vigie's own process, not in its search worker (serve --search-in-process)")
	fs.DurationVar(&c.Sample, "sample", 0, "print memory, goroutines, sink lags and latency every period (e.g. 1m, for soak tests)")
	fs.BoolVar(&c.Half, "half", false, "pace at half the sustained rate, measured first by a run as fast as possible on a Vigie of its own (--calibrate long; in-process only; a --cpuprofile without --sample covers it too)")
	fs.DurationVar(&c.Calibrate, "calibrate", 20*time.Second, "with --half, how long the run that measures the sustained rate posts")
	fs.DurationVar(&c.ResolveAfter, "resolve-after", 0, "have the agents resolve every ticket this long after it appears, in bulk every --resolve-every (POST /api/v1/tickets/resolve; --token then needs resolve), so that the open tickets stay bounded; 0: nobody answers")
	fs.DurationVar(&c.ResolveEvery, "resolve-every", 100*time.Millisecond, "with --resolve-after, how often the agents send the tickets due in bulk (500 a call at most)")
	if err := fs.Parse(args); err != nil {
		return c, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigie bench: unexpected argument %q\n", fs.Arg(0))
		return c, errUsage
	}
	if c.Token == "" {
		c.Token = os.Getenv("VIGIE_BENCH_TOKEN")
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "batch": // 0 is the default
			c.batchSet = c.Batch != 0
		case "posters":
			c.postersSet = c.Posters != 0
		}
	})
	switch {
	case c.Agents < 1 || c.Agents > 10_000:
		return c, errors.New("--agents must be within [1, 10000]")
	case math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate < 0:
		return c, errors.New("--rate must be a number >= 0")
	case c.Mentions < 0:
		return c, errors.New("--mentions must be >= 0")
	case c.Mentions == 0 && c.Duration <= 0:
		return c, errors.New("give a positive --duration or --mentions")
	case c.Batch < 0 || c.Batch > 10_000:
		return c, errors.New("--batch must be within [1, 10000]")
	case c.Posters < 0 || c.Posters > 256:
		return c, errors.New("--posters must be within [1, 256]")
	case c.URL != "" && c.Token == "":
		return c, errors.New("--url needs --token (or VIGIE_BENCH_TOKEN)")
	case c.URL == "" && c.PID != 0:
		return c, errors.New("--pid goes with --url")
	case c.URL != "" && c.MemProfile != "":
		return c, errors.New("--memprofile is for the in-process Vigie; a running one has no profile to give")
	case c.URL != "" && c.ClickHouse != "":
		return c, errors.New("--clickhouse is for the in-process Vigie; start the target with its own --clickhouse")
	case c.Drain <= 0:
		return c, errors.New("--drain must be positive")
	case c.Sample < 0:
		return c, errors.New("--sample must be >= 0")
	case c.ResolveAfter < 0:
		return c, errors.New("--resolve-after must be >= 0")
	case c.ResolveEvery <= 0:
		return c, errors.New("--resolve-every must be positive")
	case c.Half && c.Rate > 0:
		return c, errors.New("--half finds the rate itself: give --half or --rate, not both")
	case c.Half && c.URL != "":
		return c, errors.New("--half is for the in-process Vigie: its calibration run would load the target with data of its own")
	case c.Half && c.Calibrate < time.Second:
		return c, errors.New("--calibrate must be at least 1s")
	}
	c.setPacing()
	c.URL = strings.TrimRight(c.URL, "/")
	return c, nil
}

// setPacing sets --batch and --posters, when not given, for the rate.
func (c *benchConfig) setPacing() {
	if !c.batchSet {
		c.Batch = 50
		if c.Rate > 0 {
			c.Batch = int(min(100, max(1, c.Rate/100)))
		}
	}
	if !c.postersSet {
		c.Posters = 4
		if c.Rate > 0 {
			// Enough that a slow answer does not hold the pace back: each
			// poster takes the next due batch.
			c.Posters = 16
		}
	}
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseBench(args, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vigie bench: %s, %d cores (GOMAXPROCS %d), %s\n", runtime.Version(), runtime.NumCPU(), runtime.GOMAXPROCS(0), loadAvg())
	if cfg.CPUProfile != "" && cfg.Sample == 0 {
		stop, err := startRecording("--cpuprofile", cfg.CPUProfile, pprof.StartCPUProfile, pprof.StopCPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if cfg.Trace != "" {
		stop, err := startRecording("--trace", cfg.Trace, trace.Start, trace.Stop)
		if err != nil {
			return err
		}
		defer stop()
	}
	if cfg.URL != "" {
		t := benchTarget{url: cfg.URL, token: cfg.Token, pid: cfg.PID}
		if err := waitHTTPReady(ctx, t.url); err != nil {
			return err
		}
		res, err := driveLoad(ctx, cfg, t, stdout)
		if err != nil {
			return err
		}
		res.Name = cfg.URL
		printBench(stdout, cfg, []*benchResult{res})
		fmt.Fprintln(stdout, "The parts' limits (raw Bleve, raw clickhouse-go) are measured in-process only: run without --url.")
		return nil
	}
	logger, err := newLogger(cfg.LogLevel, "text", stderr)
	if err != nil {
		return err
	}
	root := cfg.Data
	if root == "" {
		if root, err = os.MkdirTemp("", "vigie-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(root)
	}
	if cfg.Half {
		if cfg, err = calibrate(ctx, cfg, filepath.Join(root, "calibrate"), logger, stdout); err != nil {
			return err
		}
	}
	passes := []string{"embedded"}
	if cfg.ClickHouse != "" {
		passes = append(passes, "clickhouse")
	}
	var results []*benchResult
	for _, pass := range passes {
		res, err := benchInProcess(ctx, cfg, pass, filepath.Join(root, pass), logger, stdout)
		if err != nil {
			return fmt.Errorf("%s pass: %w", pass, err)
		}
		results = append(results, res)
	}
	printBench(stdout, cfg, results)
	return nil
}

// calibrate measures the sustained rate on this machine, as fast as
// possible for cfg.Calibrate on an in-process Vigie of its own, and returns
// cfg paced at half of it.
func calibrate(ctx context.Context, cfg benchConfig, data string, logger *slog.Logger, stdout io.Writer) (benchConfig, error) {
	c := cfg
	c.Half, c.Rate, c.Mentions, c.Duration = false, 0, 0, cfg.Calibrate
	c.Limits, c.Sample, c.MemProfile = false, 0, ""
	if c.ResolveAfter > 0 {
		// A desk whose agents answer does more a mention: measure that
		// desk, resolving within the calibration's first quarter.
		c.ResolveAfter = min(c.ResolveAfter, c.Calibrate/4)
	}
	c.setPacing()
	fmt.Fprintf(stdout, "--half: measuring the sustained rate, %s as fast as possible\n", c.Duration)
	res, err := benchInProcess(ctx, c, "calibrate", data, logger, io.Discard)
	if err != nil {
		return cfg, fmt.Errorf("calibration: %w", err)
	}
	if err := os.RemoveAll(data); err != nil {
		return cfg, fmt.Errorf("calibration: %w", err)
	}
	sustained := perSec(res.Seen, res.SinksFor)
	if !res.SearchCaughtUp || !res.ArchiveCaughtUp || res.Seen < res.Acked || sustained <= 0 {
		return cfg, fmt.Errorf("calibration: not everything reached the agents, search and the archive within --drain (%d of %d mentions on the websocket); no sustained rate to halve", res.Seen, res.Acked)
	}
	cfg.Rate = math.Round(sustained / 2)
	cfg.setPacing()
	fmt.Fprintf(stdout, "--half: sustained %.0f mentions/s to search and the archive; pacing at %.0f/s\n", sustained, cfg.Rate)
	return cfg, nil
}

// benchTarget is the Vigie under load.
type benchTarget struct {
	url   string
	token string
	pid   int // 0: this process
}

// benchInProcess starts Vigie in this process on a loopback port, loads it,
// stops it, and measures the parts' limits on what it was fed.
func benchInProcess(ctx context.Context, cfg benchConfig, pass, data string, logger *slog.Logger, stdout io.Writer) (*benchResult, error) {
	token := randomToken()
	sc := serveConfig{Addr: "127.0.0.1:0", Data: data, AdminToken: token, ShutdownWait: cfg.Drain, IngestRate: 1e6, SearchInProcess: cfg.SearchInProcess}
	var ch *chScratch
	if pass == "clickhouse" {
		var err error
		if ch, err = newCHScratch(ctx, cfg.ClickHouse); err != nil {
			return nil, err
		}
		defer ch.drop()
		sc.ClickHouse = ch.dsn
	}
	fmt.Fprintf(stdout, "%s: starting Vigie in-process (data %s)\n", pass, data)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	srv, err := newServer(runCtx, sc, logger)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	stopped := false
	stopServer := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stop()
		return <-done
	}
	defer stopServer()
	if err := waitHTTPReady(ctx, srv.URL()); err != nil {
		return nil, err
	}
	res, err := driveLoad(ctx, cfg, benchTarget{url: srv.URL(), token: token}, stdout)
	if err != nil {
		return nil, err
	}
	res.Name = pass
	if err := stopServer(); err != nil {
		return nil, fmt.Errorf("vigie stopped with an error: %w", err)
	}
	if !cfg.Limits {
		return res, nil
	}
	fmt.Fprintf(stdout, "%s: measuring raw Bleve on the same %d documents\n", pass, len(res.docs))
	if res.RawBleve, err = rawBleveRate(filepath.Join(data, "search.bleve"), res.docs, filepath.Join(data, "raw.bleve")); err != nil {
		return nil, fmt.Errorf("raw Bleve: %w", err)
	}
	if ch != nil {
		fmt.Fprintf(stdout, "%s: measuring raw clickhouse-go batch inserts of the same rows\n", pass)
		if res.RawCH, err = ch.rawInsertRate(ctx, res.Acked); err != nil {
			return nil, fmt.Errorf("raw clickhouse-go: %w", err)
		}
	}
	res.docs = nil
	return res, nil
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "bench-" + hex.EncodeToString(b)
}

func waitHTTPReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s never became ready", url)
}

// benchResult is what one run measured.
type benchResult struct {
	Name     string
	Posted   int // mentions sent in accepted batches
	Acked    int // mentions the server accepted (202)
	Seen     int // mentions whose mention.received frame reached agent 0
	Retries  int // batches answered 429 or 503 and posted again
	Failures int // batches that failed otherwise
	// Phases, from the first POST.
	PostFor, AgentsFor, SinksFor time.Duration
	// Latency from a batch's POST to each of its tickets' frames (agent 0),
	// and of the POST's answer.
	Deliver, Ack []time.Duration
	// TicketFrames is how many ticket frames each agent read.
	TicketFrames []int64
	// The sinks, polled on /metrics: the largest lag seen, and how long
	// after the agents had everything each had caught up.
	MaxSearchLag, MaxArchiveLag     float64
	SearchCatchUp, ArchiveCatchUp   time.Duration
	SearchCaughtUp, ArchiveCaughtUp bool
	CPU                             time.Duration
	PeakRSS                         int64 // bytes; 0 when unknown
	Goroutines                      float64
	RawBleve                        float64 // documents/s; 0 when not measured
	RawCH                           float64 // mentions/s (their mention and desk rows); 0 when not measured
	// Stages are the hot path's own histograms over the run, where the
	// time from POST to screen goes.
	Stages []stage
	// SchedWait is how long goroutines waited, runnable, for a CPU
	// (in-process runs only): the cost of sharing two cores.
	SchedWait                         buckets
	docs                              []desk.MentionData
	frameErrs, wsErrors, unknownFrame atomic.Int64
	// With --resolve-after: tickets the agents resolved, found resolved
	// already (by a macro, or twice created frames), and failed bulk calls.
	resolved, resolveConflicts, resolveErrors atomic.Int64
}

// createdTicket is a ticket an agent saw appear (or reopen), and when.
type createdTicket struct {
	id int64
	at time.Time
}

// resolveTickets resolves tickets in one bulk call, as an agent clearing
// what it has answered, and counts the outcome in res.
func resolveTickets(ctx context.Context, client *http.Client, t benchTarget, ids []int64, res *benchResult) error {
	body, err := json.Marshal(map[string]any{"ids": ids})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url+"/api/v1/tickets/resolve", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /api/v1/tickets/resolve: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(raw))
	}
	var out desk.Bulk
	if err := json.Unmarshal(raw, &out); err != nil {
		return fmt.Errorf("POST /api/v1/tickets/resolve: %w", err)
	}
	res.resolved.Add(int64(len(out.Done)))
	res.resolveConflicts.Add(int64(len(out.Conflicts) + len(out.NotFound)))
	if len(out.Failed) > 0 {
		return fmt.Errorf("POST /api/v1/tickets/resolve: %d tickets not resolved: %s", len(out.Failed), out.Error)
	}
	return nil
}

// keep bounds the documents kept for the raw Bleve comparison.
const keepDocs = 200_000

// driveLoad opens the agents' websockets, posts demo mentions, waits for
// every one of them to reach the agents and the sinks, and measures.
func driveLoad(ctx context.Context, cfg benchConfig, t benchTarget, progress io.Writer) (*benchResult, error) {
	res := &benchResult{TicketFrames: make([]int64, cfg.Agents)}
	// The documents for the raw Bleve limit, measured in-process only.
	keep := cfg.Limits && cfg.URL == ""
	gen, err := demo.New(demo.Config{Seed: cfg.Seed, Rate: max(cfg.Rate, 100), EditShare: -1}, nil, nil)
	if err != nil {
		return nil, err
	}
	var (
		mu     sync.Mutex
		sentAt = map[string]time.Time{}
		// unseen holds the mentions posted and not yet seen on the
		// websocket; seen counts them. Keys leave once seen, so that a
		// long run holds only those in flight.
		unseen  = map[string]struct{}{}
		seen    int
		maxSeq  atomic.Int64
		allSeen = make(chan struct{})
		target  = -1 // mentions to see; set when posting ends
		closed  bool
		// created holds the tickets agent 0 saw created, oldest first,
		// for the agents to resolve (--resolve-after).
		created []createdTicket
	)
	checkDone := func() { // mu held
		if !closed && target >= 0 && seen >= target {
			closed = true
			close(allSeen)
		}
	}
	wsURL := strings.Replace(strings.Replace(t.url, "https://", "wss://", 1), "http://", "ws://", 1) + "/ws?token=" + t.token
	warm := "bench-warmup-" + randomToken()
	warmSeen := make([]chan struct{}, cfg.Agents)
	var conns []*websocket.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	dialer := *websocket.DefaultDialer
	dialer.HandshakeTimeout = 30 * time.Second
	for i := range cfg.Agents {
		ws, resp, err := dialer.DialContext(ctx, wsURL, nil)
		if err != nil {
			if resp != nil {
				return nil, fmt.Errorf("agent %d: websocket: %w (HTTP %d)", i, err, resp.StatusCode)
			}
			return nil, fmt.Errorf("agent %d: websocket: %w", i, err)
		}
		conns = append(conns, ws)
		topics := []string{"tickets"}
		if i == 0 {
			topics = append(topics, "mentions")
		}
		if err := ws.WriteJSON(map[string]any{"subscribe": topics}); err != nil {
			return nil, fmt.Errorf("agent %d: subscribe: %w", i, err)
		}
		warmSeen[i] = make(chan struct{})
		go func(i int, ws *websocket.Conn) {
			warmed := false
			for {
				_, raw, err := ws.ReadMessage()
				if err != nil {
					if !errors.Is(err, net.ErrClosed) && !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
						res.wsErrors.Add(1)
					}
					return
				}
				now := time.Now()
				if i != 0 && warmed {
					// The other agents only count: decoding every frame
					// five times would load the machine under test.
					if bytes.Contains(raw[:min(len(raw), 64)], []byte(`"type":"ticket.`)) {
						atomic.AddInt64(&res.TicketFrames[i], 1)
					}
					continue
				}
				var f struct {
					Seq  int64           `json:"seq"`
					Type desk.EventType  `json:"type"`
					Data json.RawMessage `json:"data"`
				}
				if err := jsonx.Unmarshal(raw, &f); err != nil {
					res.frameErrs.Add(1)
					continue
				}
				if f.Seq > maxSeq.Load() {
					maxSeq.Store(f.Seq)
				}
				switch f.Type {
				case desk.EventTicketCreated, desk.EventTicketUpdated:
					// Only what the measure needs: decoding whole tickets
					// in five agents would load the process it measures.
					var td struct {
						Ticket struct {
							ID int64 `json:"id"`
						} `json:"ticket"`
						Change  desk.Change `json:"change"`
						Message *struct {
							Source    string         `json:"source"`
							NativeID  string         `json:"native_id"`
							Direction desk.Direction `json:"direction"`
						} `json:"message"`
					}
					if err := jsonx.Unmarshal(f.Data, &td); err != nil {
						res.frameErrs.Add(1)
						continue
					}
					if warmed && cfg.ResolveAfter > 0 && (td.Change == desk.ChangeCreated || td.Change == desk.ChangeReopened) {
						mu.Lock()
						created = append(created, createdTicket{td.Ticket.ID, now})
						mu.Unlock()
					}
					if td.Message == nil {
						continue
					}
					if !warmed && td.Message.NativeID == warm {
						warmed = true
						close(warmSeen[i])
						continue
					}
					if !warmed {
						continue
					}
					atomic.AddInt64(&res.TicketFrames[i], 1)
					if td.Message.Direction != desk.Inbound {
						continue
					}
					key := td.Message.Source + "/" + td.Message.NativeID
					mu.Lock()
					if t0, ok := sentAt[key]; ok {
						res.Deliver = append(res.Deliver, now.Sub(t0))
						delete(sentAt, key)
					}
					mu.Unlock()
				case desk.EventMentionReceived:
					var id struct {
						Mention struct {
							Source string `json:"source"`
							ID     string `json:"id"`
						} `json:"mention"`
					}
					if err := jsonx.Unmarshal(f.Data, &id); err != nil {
						res.frameErrs.Add(1)
						continue
					}
					if id.Mention.ID == warm {
						continue
					}
					mu.Lock()
					key := id.Mention.Source + "/" + id.Mention.ID
					if _, ok := unseen[key]; ok {
						delete(unseen, key)
						seen++
						if keep && len(res.docs) < keepDocs {
							// The whole mention, once, for the raw Bleve limit.
							var md desk.MentionData
							if err := jsonx.Unmarshal(f.Data, &md); err != nil {
								res.frameErrs.Add(1)
							} else {
								res.docs = append(res.docs, md)
							}
						}
						checkDone()
					}
					mu.Unlock()
				default:
					res.unknownFrame.Add(1)
				}
			}
		}(i, ws)
	}

	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Posters + 2}}
	post := func(ctx context.Context, body []byte) (int, int, time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url+"/api/v1/mentions", bytes.NewReader(body))
		if err != nil {
			return 0, 0, 0, err
		}
		req.Header.Set("Authorization", "Bearer "+t.token)
		req.Header.Set("Content-Type", "application/x-ndjson")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, 0, 0, err
		}
		defer resp.Body.Close()
		var out struct {
			Accepted int `json:"accepted"`
		}
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, out.Accepted, time.Since(start), nil
	}

	// Warm up: a complaint every agent must see as a ticket before the
	// clock starts, which also proves the subscriptions are in place.
	warmBody, _ := json.Marshal(map[string]any{"source": "mastodon", "id": warm, "created_at": time.Now().UTC().Format(time.RFC3339),
		"author": map[string]any{"id": warm, "handle": "@bench@bench.example"}, "text": "My train is late again and I want a refund"})
	deadline := time.After(30 * time.Second)
	for i := range warmSeen {
		for ready := false; !ready; {
			if code, _, _, err := post(ctx, warmBody); err != nil || code != http.StatusAccepted {
				return nil, fmt.Errorf("warm-up mention: HTTP %d, %v", code, err)
			}
			select {
			case <-warmSeen[i]:
				ready = true
			case <-time.After(time.Second):
				// posted again: a duplicate is harmless, and covers a
				// subscription that landed after the first one
			case <-deadline:
				return nil, fmt.Errorf("agent %d never received the warm-up ticket (do the rules drop it, or does the token lack the tickets topic?)", i)
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}

	metrics0, err := scrapeMetrics(ctx, t.url)
	if err != nil {
		return nil, err
	}
	cpu0, err := cpuOf(t.pid)
	if err != nil {
		return nil, err
	}
	resetPeakRSS(t.pid)
	sched0 := schedLatencies()

	// Poll the sinks' lags while the load runs.
	pollCtx, stopPoll := context.WithCancel(ctx)
	defer stopPoll()
	pollDone := make(chan struct{})
	go func() {
		defer close(pollDone)
		tk := time.NewTicker(250 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-pollCtx.Done():
				return
			case <-tk.C:
			}
			m, err := scrapeMetrics(pollCtx, t.url)
			if err != nil {
				continue
			}
			res.MaxSearchLag = max(res.MaxSearchLag, m["vigie_search_lag_events"])
			res.MaxArchiveLag = max(res.MaxArchiveLag, m["vigie_archive_lag_events"])
			res.Goroutines = max(res.Goroutines, m["go_goroutines"])
		}
	}()
	if cfg.ResolveAfter > 0 {
		go func() {
			// Every ResolveEvery (ten times a second by default), as
			// agents closing tickets all along; a longer period makes
			// fewer, larger calls.
			tk := time.NewTicker(cfg.ResolveEvery)
			defer tk.Stop()
			for {
				select {
				case <-pollCtx.Done():
					return
				case <-tk.C:
				}
				mu.Lock()
				n := 0
				for n < len(created) && time.Since(created[n].at) >= cfg.ResolveAfter {
					n++
				}
				due := make([]int64, n)
				for i := range n {
					due[i] = created[i].id
				}
				created = slices.Delete(created, 0, n)
				mu.Unlock()
				for len(due) > 0 && pollCtx.Err() == nil {
					k := min(len(due), desk.MaxBulk)
					if err := resolveTickets(pollCtx, client, t, due[:k], res); err != nil && pollCtx.Err() == nil {
						res.resolveErrors.Add(1)
						fmt.Fprintf(progress, "resolve: %v\n", err)
					}
					due = due[k:]
				}
			}
		}()
	}

	var (
		next     atomic.Int64
		acked    atomic.Int64
		posted   atomic.Int64
		retries  atomic.Int64
		failures atomic.Int64
		ackMu    sync.Mutex
		firstErr error
	)
	start := time.Now()
	stopAt := start.Add(cfg.Duration)
	sampleDone := make(chan struct{})
	if cfg.Sample <= 0 {
		close(sampleDone)
	} else {
		go func() {
			defer close(sampleDone)
			tk := time.NewTicker(cfg.Sample)
			defer tk.Stop()
			from := 0
			var prof *periodProfile
			if cfg.CPUProfile != "" {
				prof = &periodProfile{base: cfg.CPUProfile}
				if err := prof.next(0); err != nil {
					fmt.Fprintln(progress, err)
					prof = nil
				} else {
					defer func() { _ = prof.next(-time.Since(start).Round(min(cfg.Sample, time.Second))) }()
				}
			}
			lastAt, lastCPU := time.Now(), cpu0
			// The server's stages over each period, to see which one's
			// tail moves with the minute's p99.
			lastM, _ := scrapeMetrics(pollCtx, t.url)
			fmt.Fprintf(progress, "%8s %10s %9s %9s %6s %9s %9s %9s %10s %10s %11s %11s %12s %12s %12s %9s\n", "elapsed", "accepted", "p50", "p99", "CPU %", "anon MiB", "child MiB", "file MiB", "heap MiB", "goroutines", "search lag", "archive lag", "intake p99", "router p99", "server p99", "resolved")
			for {
				select {
				case <-pollCtx.Done():
					return
				case <-tk.C:
				}
				elapsed := time.Since(start).Round(min(cfg.Sample, time.Second))
				if prof != nil {
					if err := prof.next(elapsed); err != nil {
						fmt.Fprintf(progress, "%8s %v\n", elapsed, err)
					}
				}
				cpu, _ := cpuOf(t.pid)
				cpuPct := 100 * float64(cpu-lastCPU) / float64(time.Since(lastAt))
				lastAt, lastCPU = time.Now(), cpu
				mu.Lock()
				win := slices.Clone(res.Deliver[from:])
				from = len(res.Deliver)
				mu.Unlock()
				slices.Sort(win)
				m, err := scrapeMetrics(pollCtx, t.url)
				if err != nil {
					fmt.Fprintf(progress, "%8s metrics: %v\n", time.Since(start).Round(time.Second), err)
					continue
				}
				if cfg.MemProfile != "" && t.pid == 0 {
					if err := writeHeapProfile(cfg.MemProfile + "." + elapsed.String()); err != nil {
						fmt.Fprintf(progress, "%8s %v\n", elapsed, err)
					}
				}
				anon, child, file := memOf(t.pid)
				var st []stage // none on the first period if the first scrape failed
				if lastM != nil {
					st = stagesBetween(lastM, m)
				}
				lastM = m
				fmt.Fprintf(progress, "%8s %10d %9s %9s %6.0f %9.0f %9.0f %9.0f %10.0f %10.0f %11.0f %11.0f %12s %12s %12s %9d\n", elapsed, acked.Load(),
					ms(pct(win, 0.5)), ms(pct(win, 0.99)), cpuPct, anon, child, file, m["go_memstats_heap_inuse_bytes"]/(1<<20),
					m["go_goroutines"], m["vigie_search_lag_events"], m["vigie_archive_lag_events"],
					stageP99(st, "vigie_intake_commit_seconds"), stageP99(st, "vigie_router_batch_seconds"), stageP99(st, "vigie_pipeline_latency_seconds"), res.resolved.Load())
			}
		}()
	}
	var wg sync.WaitGroup
	for range cfg.Posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			keys := make([]string, 0, cfg.Batch)
			for ctx.Err() == nil {
				k := next.Add(1) - 1
				n := cfg.Batch
				if cfg.Mentions > 0 {
					if int(k)*cfg.Batch >= cfg.Mentions {
						return
					}
					n = min(n, cfg.Mentions-int(k)*cfg.Batch)
				} else if time.Now().After(stopAt) {
					return
				}
				if cfg.Rate > 0 {
					due := start.Add(time.Duration(float64(k) * float64(cfg.Batch) / cfg.Rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				buf.Reset()
				keys = keys[:0]
				for range n {
					m := gen.Next()
					keys = append(keys, m.Source+"/"+m.ID)
					_ = enc.Encode(&m)
				}
				body := buf.Bytes()
				for attempt := 0; ; attempt++ {
					now := time.Now()
					mu.Lock()
					for _, key := range keys {
						sentAt[key] = now
						unseen[key] = struct{}{}
					}
					mu.Unlock()
					code, accepted, took, err := post(ctx, body)
					if err == nil && code == http.StatusAccepted {
						acked.Add(int64(accepted))
						posted.Add(int64(n))
						ackMu.Lock()
						res.Ack = append(res.Ack, took)
						ackMu.Unlock()
						break
					}
					mu.Lock()
					for _, key := range keys {
						delete(sentAt, key)
					}
					mu.Unlock()
					if err == nil && (code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable) && attempt < 100 {
						retries.Add(1)
						time.Sleep(50 * time.Millisecond)
						continue
					}
					failures.Add(1)
					ackMu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("POST /api/v1/mentions: HTTP %d, %v", code, err)
					}
					ackMu.Unlock()
					break
				}
			}
		}()
	}
	wg.Wait()
	res.PostFor = time.Since(start)
	res.Acked, res.Posted = int(acked.Load()), int(posted.Load())
	res.Retries, res.Failures = int(retries.Load()), int(failures.Load())
	if res.Acked == 0 {
		return nil, fmt.Errorf("nothing was accepted: %v", firstErr)
	}

	// Every accepted mention must reach agent 0.
	mu.Lock()
	target = res.Acked
	checkDone()
	mu.Unlock()
	select {
	case <-allSeen:
		res.AgentsFor = time.Since(start)
	case <-time.After(cfg.Drain):
		res.AgentsFor = time.Since(start)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	mu.Lock()
	res.Seen = seen
	mu.Unlock()
	agentsAt := time.Now()
	if m, err := scrapeMetrics(ctx, t.url); err == nil {
		res.Stages = stagesBetween(metrics0, m)
	}
	if t.pid == 0 {
		res.SchedWait = schedLatencies().minus(sched0)
	}

	// Then the sinks: caught up when their cursors pass the last event the
	// agents saw.
	head := float64(maxSeq.Load())
	sinkDeadline := time.Now().Add(cfg.Drain)
	for time.Now().Before(sinkDeadline) && !(res.SearchCaughtUp && res.ArchiveCaughtUp) {
		m, err := scrapeMetrics(ctx, t.url)
		if err == nil {
			if !res.SearchCaughtUp && m["vigie_search_cursor_seq"] >= head {
				res.SearchCaughtUp, res.SearchCatchUp = true, time.Since(agentsAt)
			}
			if !res.ArchiveCaughtUp && m["vigie_archive_cursor"] >= head {
				res.ArchiveCaughtUp, res.ArchiveCatchUp = true, time.Since(agentsAt)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	res.SinksFor = time.Since(start)
	stopPoll()
	<-pollDone
	<-sampleDone
	if cfg.MemProfile != "" && t.pid == 0 {
		if err := writeHeapProfile(cfg.MemProfile); err != nil {
			return nil, err
		}
	}

	cpu1, err := cpuOf(t.pid)
	if err != nil {
		return nil, err
	}
	res.CPU = cpu1 - cpu0
	res.PeakRSS = peakRSS(t.pid)
	// Let the readers finish the frames in flight before the counts are read.
	time.Sleep(100 * time.Millisecond)
	for i := range res.TicketFrames {
		res.TicketFrames[i] = atomic.LoadInt64(&res.TicketFrames[i])
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(res.Deliver)
	slices.Sort(res.Ack)
	if firstErr != nil {
		fmt.Fprintf(os.Stderr, "vigie bench: %d batches failed; first: %v\n", res.Failures, firstErr)
	}
	return res, nil
}

// scrapeMetrics reads the unlabelled samples of /metrics.
func scrapeMetrics(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: HTTP %d", resp.StatusCode)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the samples without labels of the Prometheus text
// format, and the sums of labelled counters by name ("name{}").
func parseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		name := line[:i]
		if j := strings.IndexByte(name, '{'); j >= 0 {
			out[name[:j]+"{}"] += v
			out[name] = v
			continue
		}
		out[name] = v
	}
	return out, sc.Err()
}

// cpuOf returns the CPU time (user and system) of a process, this one when
// pid is 0, and of its child processes (the search worker).
func cpuOf(pid int) (time.Duration, error) {
	total, err := cpuOfOne(pid)
	for _, c := range childrenOf(pid) {
		if t, cerr := cpuOfOne(c); cerr == nil { // a child may just have ended
			total += t
		}
	}
	return total, err
}

// childrenOf returns the process ids of the child processes of a process,
// this one when pid is 0.
func childrenOf(pid int) []int {
	tasks, _ := os.ReadDir(procPath(pid, "task"))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(procPath(pid, "task/"+t.Name()+"/children"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

func cpuOfOne(pid int) (time.Duration, error) {
	if pid == 0 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return 0, fmt.Errorf("getrusage: %w", err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("CPU time of process %d: %w", pid, err)
	}
	// The command name may hold spaces: fields count from its closing paren.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTicks = 100 // USER_HZ, 100 on every Linux Go supports
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// startRecording creates path and starts a recorder writing to it (a CPU
// profile, an execution trace); the function it returns stops the recorder
// and closes the file. flag names the option in errors.
func startRecording(flag, path string, start func(io.Writer) error, stop func()) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return func() {
		stop()
		f.Close()
	}, nil
}

// periodProfile writes one CPU profile per sample period, to
// base.<elapsed>: the same function's share in two files shows what grew.
type periodProfile struct {
	base string
	f    *os.File
}

// next ends the current period's profile, naming it after elapsed, and
// starts the next one; a negative elapsed ends the last (its magnitude
// names it).
func (p *periodProfile) next(elapsed time.Duration) error {
	if p.f != nil {
		pprof.StopCPUProfile()
		err := p.f.Close()
		if err == nil {
			err = os.Rename(p.f.Name(), p.base+"."+elapsed.Abs().String())
		}
		if err != nil {
			os.Remove(p.f.Name()) // no half-named profile left behind
		}
		p.f = nil
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	if elapsed < 0 {
		return nil
	}
	f, err := os.Create(p.base + ".part")
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	p.f = f
	return nil
}

// writeHeapProfile writes the live heap, after a collection, to a file.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--memprofile: %w", err)
	}
	return f.Close()
}

func procPath(pid int, file string) string {
	if pid == 0 {
		return "/proc/self/" + file
	}
	return fmt.Sprintf("/proc/%d/%s", pid, file)
}

// resetPeakRSS resets the kernel's peak resident set of the process and of
// its children (Linux ≥ 4.0), so that a pass measures its own peak; without
// it the peak is the process's lifetime one.
func resetPeakRSS(pid int) {
	_ = os.WriteFile(procPath(pid, "clear_refs"), []byte("5"), 0)
	for _, c := range childrenOf(pid) {
		_ = os.WriteFile(procPath(c, "clear_refs"), []byte("5"), 0)
	}
}

// peakRSS returns the sum of the VmHWM of the process and of its children
// in bytes (an upper bound of their peak together), or 0.
func peakRSS(pid int) int64 {
	total := peakRSSOne(pid)
	for _, c := range childrenOf(pid) {
		total += peakRSSOne(c)
	}
	return total
}

func peakRSSOne(pid int) int64 { return procStatus(pid, "VmHWM") }

// procStatus reads one size field of /proc/<pid>/status (VmHWM, VmRSS,
// RssAnon...) in bytes; 0 when it cannot.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(procPath(pid, "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// memOf is the resident memory of a process and of its children (the
// search worker), in MiB: their anonymous memory (heaps) apart, and the
// file pages they map (SQLite, Bleve's segments) together, since the
// kernel can drop those.
func memOf(pid int) (anon, childAnon, file float64) {
	const mib = 1 << 20
	files := func(p int) float64 { return float64(procStatus(p, "RssFile")+procStatus(p, "RssShmem")) / mib }
	anon, file = float64(procStatus(pid, "RssAnon"))/mib, files(pid)
	for _, c := range childrenOf(pid) {
		childAnon += float64(procStatus(c, "RssAnon")) / mib
		file += files(c)
	}
	return anon, childAnon, file
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load average unknown"
	}
	return "load average " + strings.Join(f[:3], " ")
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, int(p*float64(len(d))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func perSec(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func printBench(w io.Writer, cfg benchConfig, results []*benchResult) {
	mode := "as fast as possible"
	if cfg.Rate > 0 {
		mode = fmt.Sprintf("paced at %.0f/s", cfg.Rate)
	}
	fmt.Fprintf(w, "\n%d agents, %s, batches of %d from %d posters\n\n", cfg.Agents, mode, cfg.Batch, cfg.Posters)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t", r.Name)
	}
	fmt.Fprintln(tw)
	row := func(label string, f func(r *benchResult) string) {
		fmt.Fprintf(tw, "%s\t", label)
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t", f(r))
		}
		fmt.Fprintln(tw)
	}
	row("mentions accepted", func(r *benchResult) string { return strconv.Itoa(r.Acked) })
	row("lost (accepted, never on the websocket)", func(r *benchResult) string { return strconv.Itoa(r.Acked - r.Seen) })
	row("POSTs retried (429/503) / failed", func(r *benchResult) string { return fmt.Sprintf("%d / %d", r.Retries, r.Failures) })
	row("ingest rate (accepted/s)", func(r *benchResult) string { return fmt.Sprintf("%.0f", perSec(r.Acked, r.PostFor)) })
	row("sustained to agents (mentions/s)", func(r *benchResult) string { return fmt.Sprintf("%.0f", perSec(r.Seen, r.AgentsFor)) })
	row("sustained to search+archive (mentions/s)", func(r *benchResult) string {
		if !r.SearchCaughtUp || !r.ArchiveCaughtUp {
			return "not caught up"
		}
		return fmt.Sprintf("%.0f", perSec(r.Seen, r.SinksFor))
	})
	row("POST → ticket frame p50", func(r *benchResult) string { return ms(pct(r.Deliver, 0.5)) })
	row("POST → ticket frame p99", func(r *benchResult) string { return ms(pct(r.Deliver, 0.99)) })
	row("POST → ticket frame max", func(r *benchResult) string { return ms(pct(r.Deliver, 1)) })
	row("ticket frames measured", func(r *benchResult) string { return strconv.Itoa(len(r.Deliver)) })
	row("POST answered p50 / p99", func(r *benchResult) string {
		return ms(pct(r.Ack, 0.5)) + " / " + ms(pct(r.Ack, 0.99))
	})
	row("goroutines waiting for a CPU p50 / p99", func(r *benchResult) string {
		if r.SchedWait == nil {
			return "-"
		}
		return ms(r.SchedWait.quantile(0.5)) + " / " + ms(r.SchedWait.quantile(0.99))
	})
	for i, st := range hotPathStages {
		row(st.label+" p50 / p99", func(r *benchResult) string {
			if i >= len(r.Stages) || r.Stages[i].n == 0 {
				return "-"
			}
			return ms(r.Stages[i].p50) + " / " + ms(r.Stages[i].p99)
		})
	}
	row("ticket frames per agent (min-max)", func(r *benchResult) string {
		return fmt.Sprintf("%d-%d", slices.Min(r.TicketFrames), slices.Max(r.TicketFrames))
	})
	row("websocket/frame errors", func(r *benchResult) string {
		return fmt.Sprintf("%d / %d", r.wsErrors.Load(), r.frameErrs.Load())
	})
	if cfg.ResolveAfter > 0 {
		row("tickets resolved by the agents / already resolved / failed calls", func(r *benchResult) string {
			return fmt.Sprintf("%d / %d / %d", r.resolved.Load(), r.resolveConflicts.Load(), r.resolveErrors.Load())
		})
	}
	row("search lag max (events)", func(r *benchResult) string { return fmt.Sprintf("%.0f", r.MaxSearchLag) })
	row("archive lag max (events)", func(r *benchResult) string { return fmt.Sprintf("%.0f", r.MaxArchiveLag) })
	row("search caught up after agents", func(r *benchResult) string { return caught(r.SearchCaughtUp, r.SearchCatchUp) })
	row("archive caught up after agents", func(r *benchResult) string { return caught(r.ArchiveCaughtUp, r.ArchiveCatchUp) })
	row("CPU seconds", func(r *benchResult) string { return fmt.Sprintf("%.1f", r.CPU.Seconds()) })
	row("CPU ms per 1,000 mentions", func(r *benchResult) string {
		return fmt.Sprintf("%.0f", float64(r.CPU.Milliseconds())/float64(max(1, r.Seen))*1000)
	})
	row("peak RSS (MiB)", func(r *benchResult) string { return fmt.Sprintf("%.0f", float64(r.PeakRSS)/(1<<20)) })
	row("goroutines max", func(r *benchResult) string { return fmt.Sprintf("%.0f", r.Goroutines) })
	if slices.ContainsFunc(results, func(r *benchResult) bool { return r.RawBleve > 0 }) {
		row("raw Bleve batch indexing (docs/s)", func(r *benchResult) string { return fmt.Sprintf("%.0f", r.RawBleve) })
		row("end to end / raw Bleve", func(r *benchResult) string {
			if r.RawBleve == 0 || !r.SearchCaughtUp || !r.ArchiveCaughtUp {
				return "-"
			}
			return fmt.Sprintf("%.0f%%", 100*perSec(r.Seen, r.SinksFor)/r.RawBleve)
		})
	}
	if slices.ContainsFunc(results, func(r *benchResult) bool { return r.RawCH > 0 }) {
		row("raw clickhouse-go inserts (mentions/s)", func(r *benchResult) string {
			if r.RawCH == 0 {
				return "-"
			}
			return fmt.Sprintf("%.0f", r.RawCH)
		})
		row("end to end / raw clickhouse-go", func(r *benchResult) string {
			if r.RawCH == 0 || !r.SearchCaughtUp || !r.ArchiveCaughtUp {
				return "-"
			}
			return fmt.Sprintf("%.0f%%", 100*perSec(r.Seen, r.SinksFor)/r.RawCH)
		})
	}
	tw.Flush()
	fmt.Fprintln(w, "\nCPU and peak RSS are the whole process's and its children's (the search worker): in-process, they include the load generator and the agents.")
}

func caught(ok bool, d time.Duration) string {
	if !ok {
		return "no (timed out)"
	}
	return ms(d)
}

// rawBleveRate indexes docs with Bleve alone, in batches as search makes
// them, into a new index with the mapping the product's index at product
// holds, and returns documents a second: the limit search's feeder works
// against.
func rawBleveRate(product string, docs []desk.MentionData, path string) (float64, error) {
	if len(docs) == 0 {
		return 0, errors.New("no documents")
	}
	pi, err := bleve.Open(product)
	if err != nil {
		return 0, fmt.Errorf("open the product's index for its mapping: %w", err)
	}
	im := pi.Mapping()
	if err := pi.Close(); err != nil {
		return 0, err
	}
	type doc struct {
		id     string
		fields map[string]any
	}
	prepared := make([]doc, len(docs))
	for i := range docs {
		prepared[i] = doc{docs[i].Mention.Key(), searchFields(&docs[i])}
	}
	idx, err := bleve.NewUsing(path, im, scorch.Name, scorch.Name, map[string]any{"unsafe_batch": true})
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(path)
	// search.Config's default batch: 2,000 events, two a mention.
	const perBatch = 1_000
	start := time.Now()
	for i := 0; i < len(prepared); i += perBatch {
		b := idx.NewBatch()
		for _, d := range prepared[i:min(i+perBatch, len(prepared))] {
			if err := b.Index(d.id, d.fields); err != nil {
				idx.Close()
				return 0, err
			}
		}
		if err := idx.Batch(b); err != nil {
			idx.Close()
			return 0, err
		}
	}
	if err := idx.Close(); err != nil {
		return 0, err
	}
	return float64(len(prepared)) / time.Since(start).Seconds(), nil
}

// searchFields mirrors the document search builds for a mention (see
// search.Record): the same fields, filled from the same event.
func searchFields(md *desk.MentionData) map[string]any {
	m := &md.Mention
	en := &md.Enrichment
	f := make(map[string]any, 24)
	switch en.Lang {
	case "fr":
		f["text_fr"] = m.Text
	case "en":
		f["text_en"] = m.Text
	default:
		f["text"] = m.Text
	}
	f["source"], f["id"], f["created_at"], f["author_id"] = m.Source, m.ID, m.CreatedAt, m.Author.ID
	f["version"], f["sentiment"] = float64(md.Version), en.Sentiment
	f["influence"], f["followers"] = float64(en.Influence), float64(m.Author.Followers)
	src := *md
	src.Mention.Text = ""
	b, _ := json.Marshal(&src)
	f["src"] = string(b)
	put := func(name, v string) {
		if v != "" {
			f[name] = v
		}
	}
	put("lang", en.Lang)
	put("author_handle", m.Author.Handle)
	put("author_name", m.Author.Name)
	put("label", en.Label)
	put("intent", en.Intent)
	put("queue", md.Decision.Queue)
	put("priority", string(md.Decision.Priority))
	if md.TicketID != 0 {
		f["ticket_id"] = strconv.FormatInt(md.TicketID, 10)
		f["status"] = string(desk.StatusOpen)
	}
	if len(md.Decision.Tags) > 0 {
		f["tags"] = md.Decision.Tags
	}
	if m.Geo != nil {
		f["geo"] = map[string]any{"lat": m.Geo.Lat, "lon": m.Geo.Lon}
	}
	return f
}

// chScratch is a scratch ClickHouse database for one pass: a fresh archive
// (whose cursor starts at zero, like the fresh desk's log), dropped after.
type chScratch struct {
	conn clickhouse.Conn
	db   string
	dsn  string
}

func newCHScratch(ctx context.Context, dsn string) (*chScratch, error) {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse --clickhouse: %w", err)
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, err
	}
	s := &chScratch{conn: conn, db: fmt.Sprintf("vigie_bench_%d", time.Now().UnixNano())}
	if err := conn.Exec(ctx, "CREATE DATABASE "+s.db); err != nil {
		conn.Close()
		return nil, fmt.Errorf("create scratch database on %s: %w", opts.Addr, err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		s.drop()
		return nil, err
	}
	u.Path = "/" + s.db
	s.dsn = u.String()
	return s, nil
}

func (s *chScratch) drop() {
	_ = s.conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+s.db)
	_ = s.conn.Close()
}

// rawInsertRate copies the rows the archive wrote (every table but the
// cursor's) into tables of the same structure with plain clickhouse-go
// batches of 5,000 rows (the archive's batch), and returns mentions a
// second: the limit the archive's feeder works against.
func (s *chScratch) rawInsertRate(ctx context.Context, mentions int) (float64, error) {
	tables := []string{"mentions", "desk_events"}
	data := map[string][][]any{}
	cols := map[string]string{}
	for _, t := range tables {
		if err := s.conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s.raw_%s AS %s.%s", s.db, t, s.db, t)); err != nil {
			return 0, err
		}
		rows, err := s.conn.Query(ctx, fmt.Sprintf("SELECT * FROM %s.%s", s.db, t))
		if err != nil {
			return 0, err
		}
		types := rows.ColumnTypes()
		cols[t] = strings.Join(rows.Columns(), ", ")
		for rows.Next() {
			ptrs := make([]any, len(types))
			for i, ct := range types {
				ptrs[i] = reflect.New(ct.ScanType()).Interface()
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return 0, err
			}
			vals := make([]any, len(ptrs))
			for i, p := range ptrs {
				vals[i] = reflect.ValueOf(p).Elem().Interface()
			}
			data[t] = append(data[t], vals)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
	}
	if len(data["mentions"]) < mentions {
		return 0, fmt.Errorf("the archive holds %d mention rows of %d accepted", len(data["mentions"]), mentions)
	}
	const perBatch = 5_000
	start := time.Now()
	for _, t := range tables {
		all := data[t]
		for i := 0; i < len(all); i += perBatch {
			b, err := s.conn.PrepareBatch(ctx, fmt.Sprintf("INSERT INTO %s.raw_%s (%s)", s.db, t, cols[t]))
			if err != nil {
				return 0, err
			}
			for _, row := range all[i:min(i+perBatch, len(all))] {
				if err := b.Append(row...); err != nil {
					b.Abort()
					return 0, err
				}
			}
			if err := b.Send(); err != nil {
				return 0, err
			}
		}
	}
	return float64(mentions) / time.Since(start).Seconds(), nil
}

// hotPathStages are the histograms the bench reads off /metrics to say where
// the time from POST to screen goes.
var hotPathStages = []struct{ label, name string }{
	{"intake commit (group, fsynced)", "vigie_intake_commit_seconds"},
	{"router batch (read, route, apply)", "vigie_router_batch_seconds"},
	{"desk transaction", "vigie_desk_apply_seconds"},
	{"arrival → frame written (server side)", "vigie_pipeline_latency_seconds"},
}

// stageP99 formats the p99 of the hot path's stage named by its histogram,
// or "-" when the period saw none.
func stageP99(st []stage, name string) string {
	for i, h := range hotPathStages {
		if h.name == name && i < len(st) && st[i].n > 0 {
			return ms(st[i].p99)
		}
	}
	return "-"
}

// stage is one histogram's quantiles over a run.
type stage struct {
	n        float64
	p50, p99 time.Duration
}

// stagesBetween reads hotPathStages' quantiles from the difference of two
// scrapes.
func stagesBetween(before, after map[string]float64) []stage {
	out := make([]stage, len(hotPathStages))
	for i, st := range hotPathStages {
		b := histogramDelta(before, after, st.name)
		if len(b) == 0 {
			continue
		}
		out[i] = stage{n: b[len(b)-1].count, p50: b.quantile(0.5), p99: b.quantile(0.99)}
	}
	return out
}

type bucket struct{ le, count float64 }

type buckets []bucket

// histogramDelta returns name's cumulative buckets (summed over any other
// labels) of after minus before, by upper bound.
func histogramDelta(before, after map[string]float64, name string) buckets {
	sum := map[float64]float64{}
	prefix := name + "_bucket{"
	for k, v := range after {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		i := strings.Index(k, `le="`)
		if i < 0 {
			continue
		}
		rest := k[i+4:]
		le, err := strconv.ParseFloat(rest[:strings.IndexByte(rest, '"')], 64)
		if err != nil {
			continue
		}
		sum[le] += v - before[k]
	}
	var out buckets
	for le, c := range sum {
		out = append(out, bucket{le, c})
	}
	slices.SortFunc(out, func(a, b bucket) int { return cmp.Compare(a.le, b.le) })
	return out
}

// quantile interpolates linearly within the bucket holding q, as
// Prometheus's histogram_quantile does.
func (bs buckets) quantile(q float64) time.Duration {
	total := bs[len(bs)-1].count
	if total == 0 {
		return 0
	}
	rank := q * total
	lo, below := 0.0, 0.0
	for _, b := range bs {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				return time.Duration(lo * float64(time.Second)) // past the last bound
			}
			frac := 0.0
			if b.count > below {
				frac = (rank - below) / (b.count - below)
			}
			return time.Duration((lo + (b.le-lo)*frac) * float64(time.Second))
		}
		lo, below = b.le, b.count
	}
	return time.Duration(lo * float64(time.Second))
}

// schedLatencies reads the runtime's histogram of the time goroutines spent
// runnable before they ran, as cumulative buckets.
func schedLatencies() buckets {
	sample := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	h := sample[0].Value.Float64Histogram()
	out := make(buckets, len(h.Counts))
	var sum float64
	for i, c := range h.Counts {
		sum += float64(c)
		out[i] = bucket{le: h.Buckets[i+1], count: sum}
	}
	return out
}

// minus returns bs's counts less those of earlier, bucket by bucket (both
// from the same histogram).
func (bs buckets) minus(earlier buckets) buckets {
	if len(bs) == 0 || len(bs) != len(earlier) {
		return nil
	}
	out := slices.Clone(bs)
	for i := range out {
		out[i].count -= earlier[i].count
	}
	return out
}
