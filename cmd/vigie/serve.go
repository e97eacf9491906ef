package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/vigie/vigie/archive"
	"github.com/vigie/vigie/auth"
	"github.com/vigie/vigie/crm"
	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/internal/yield"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/demo"
	"github.com/vigie/vigie/listener/sources"
	"github.com/vigie/vigie/offer"
	"github.com/vigie/vigie/router"
	"github.com/vigie/vigie/search"
	"github.com/vigie/vigie/watch"
)

// serveConfig is everything `vigie serve` is told.
type serveConfig struct {
	Addr           string
	Data           string
	ClickHouse     string
	Rules          string
	Demo           bool
	DemoRate       float64
	AdminToken     string
	LogLevel       string
	LogFormat      string
	AllowedOrigins string
	ShutdownWait   time.Duration
	TLSCert        string
	TLSKey         string
	IngestRate     float64
	Watch          string
	// OfferGatewayURL receives geolocated offers (SMS/CRM gateway), signed
	// with OfferGatewaySecret.
	OfferGatewayURL    string
	OfferGatewaySecret string
	// Sources is the sources file: the networks to listen to.
	Sources string
	// DeskConfig is the SLA and assignment configuration file.
	DeskConfig string
	// CRMConfig is the CRM's configuration file (CSAT surveys, export
	// webhook).
	CRMConfig string
	// RetentionDays is how long raw content (post texts, authors' display
	// data) is kept; 0 keeps it forever. Aggregates are kept either way.
	RetentionDays int
	// hub tunes the websocket hub; no flag: tests only (faults_test.go).
	hub desk.HubConfig
	// SearchInProcess runs the search index in the server's process, not
	// in the search worker.
	SearchInProcess bool
	// requestTimeout replaces the HTTP server's 2-minute read and write
	// timeouts; no flag: tests only (a 100,000-item POST under -race).
	requestTimeout time.Duration
}

// sinkYieldMax bounds how long a sink steps aside for the hot path before
// each batch: at full speed the hot path is never idle, and the sinks must
// still keep up.
const sinkYieldMax = 250 * time.Millisecond

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("vigie serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&c.Data, "data", "./data", "data directory")
	fs.StringVar(&c.ClickHouse, "clickhouse", "", "ClickHouse archive, clickhouse://host:9000/db (default: the embedded archive)")
	fs.StringVar(&c.Rules, "rules", "", "rules file (default: the embedded rules for the demo brand)")
	fs.BoolVar(&c.Demo, "demo", false, "add demo users and a live demo feed")
	fs.Float64Var(&c.DemoRate, "demo-rate", 2, "demo mentions per second")
	fs.StringVar(&c.AdminToken, "admin-token", "", "an administrator's API token (prefer VIGIE_ADMIN_TOKEN or VIGIE_ADMIN_TOKEN_FILE)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.StringVar(&c.AllowedOrigins, "allowed-origins", "", "comma-separated origins allowed on the websocket besides the server's own")
	fs.StringVar(&c.Sources, "sources", "", "sources file (YAML): the networks to listen to")
	fs.DurationVar(&c.ShutdownWait, "shutdown-wait", 15*time.Second, "how long shutdown waits for each stage to drain")
	fs.StringVar(&c.OfferGatewayURL, "offer-gateway-url", "", "SMS/CRM gateway webhook that sends geolocated offers")
	fs.StringVar(&c.OfferGatewaySecret, "offer-gateway-secret", "", "HMAC secret shared with the offer gateway (prefer VIGIE_OFFER_GATEWAY_SECRET[_FILE])")
	fs.StringVar(&c.Watch, "watch", "", "alerts configuration file (detectors, thresholds, crisis words, webhooks); default: built in")
	fs.StringVar(&c.DeskConfig, "desk-config", "", "SLA and assignment configuration file (sla: and assignment: sections); default: 24/7 SLAs, manual assignment")
	fs.StringVar(&c.CRMConfig, "crm-config", "", "CRM configuration file (CSAT survey templates by queue, segment export webhook); default: no surveys, no webhook")
	fs.IntVar(&c.RetentionDays, "retention-days", 0, "delete raw content (post texts, authors) older than this many days, keeping KPIs; 0 keeps it forever")
	fs.Float64Var(&c.IngestRate, "ingest-rate", 200, "ingest requests a second allowed per token (each up to 100,000 items), with a burst of as many")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "serve HTTPS with this certificate (PEM); needs --tls-key")
	fs.StringVar(&c.TLSKey, "tls-key", "", "the certificate's private key (PEM)")
	fs.BoolVar(&c.SearchInProcess, "search-in-process", false, "index in the server's process, not in a search worker process at a lower CPU priority")
	if err := fs.Parse(args); err != nil {
		return c, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigie serve: unexpected argument %q\n", fs.Arg(0))
		return c, errUsage
	}
	if err := applyEnv(fs, map[string]bool{"admin-token": true, "offer-gateway-secret": true}); err != nil {
		return c, err
	}
	if c.RetentionDays < 0 {
		return c, errors.New("--retention-days must be 0 (keep forever) or positive")
	}
	if c.IngestRate <= 0 {
		return c, errors.New("--ingest-rate must be positive")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return c, errors.New("--tls-cert and --tls-key go together")
	}
	return c, nil
}

// applyEnv gives every flag not set on the command line the value of
// VIGIE_<FLAG> from the environment; secret flags also read VIGIE_<FLAG>_FILE.
func applyEnv(fs *flag.FlagSet, secrets map[string]bool) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		env := "VIGIE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if env == "VIGIE_CLICKHOUSE" {
			env = "VIGIE_CLICKHOUSE_URL"
		}
		v, ok := os.LookupEnv(env)
		if !ok && secrets[f.Name] {
			if path, okf := os.LookupEnv(env + "_FILE"); okf {
				b, rerr := os.ReadFile(path)
				if rerr != nil {
					err = fmt.Errorf("read %s: %w", env+"_FILE", rerr)
					return
				}
				v, ok = strings.TrimRight(string(b), "\r\n"), true
			}
		}
		if ok {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s=%q: %w", env, v, serr)
			}
		}
	})
	return err
}

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	logger, err := newLogger(cfg.LogLevel, cfg.LogFormat, stderr)
	if err != nil {
		return err
	}
	srv, err := newServer(ctx, cfg, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Vigie is listening on %s\n", srv.URL())
	return srv.Run(ctx)
}

// server is a running Vigie: every part, wired.
type server struct {
	cfg     serveConfig
	log     *slog.Logger
	reg     *registry
	auth    *auth.Auth
	intake  *intake.Log
	desk    *desk.Desk
	router  *router.Router
	watch   *watch.Watch
	crm     *crm.CRM
	kpis    *archive.Handler
	archive archive.Store
	search  searchIndex
	// searchProc is the search worker; nil with --search-in-process.
	searchProc *searchProcess
	offer      *offer.Engine
	echo       *echo.Echo
	http       *http.Server
	listener   net.Listener
	ready      atomic.Bool
	registry   *sources.Registry
	// sandbox takes the posts of networks without a connector (replies,
	// surveys, campaigns): nothing leaves, tests read what would have.
	sandbox *desk.Sandbox
	// sources are run by Run into the intake log (the demo feed, networks).
	sources []sourceRunner
	// sinks follow the desk's event log (search, archive).
	sinks []sinkRunner

	closeOnce sync.Once
	closers   []func() error

	// retention is the retention sweep's metrics (retention.go).
	retention *retentionMetrics
}

type sourceRunner func(ctx context.Context) error

// searchIndex is the search index as the server uses it: in this process
// (*search.Index) or in the search worker (*search.Remote).
type searchIndex interface {
	Cursor() (int64, error)
	Compact(ctx context.Context) error
	Register(g *echo.Group, m ...echo.MiddlewareFunc)
}

// openSearch opens the search index, in the search worker unless
// cfg.SearchInProcess, and returns what follows the desk's log into it.
func (s *server) openSearch(ctx context.Context, gate *yield.Gate) (func(context.Context) error, error) {
	path := filepath.Join(s.cfg.Data, "search.bleve")
	if s.cfg.SearchInProcess {
		ix, err := search.Open(search.Config{Path: path, Yield: gate.For("search")}, s.desk, s.log, s.reg)
		if err != nil {
			return nil, err
		}
		s.search = ix
		s.closers = append(s.closers, ix.Close)
		return ix.Run, nil
	}
	p, err := newSearchProcess(s.cfg, s.log, s.reg)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, p.Close)
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	s.search, s.searchProc = p.remote, p
	return p.Run, nil
}

// sinkRunner runs a sink until ctx is done; caughtUp reports whether it has
// applied every event up to seq.
type sinkRunner struct {
	name     string
	run      func(ctx context.Context) error
	caughtUp func(seq int64) bool
}

func newServer(ctx context.Context, cfg serveConfig, logger *slog.Logger) (_ *server, err error) {
	s := &server{cfg: cfg, log: logger}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	s.reg = newRegistry()
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vigie_build_info", Help: "Vigie's version, always 1."}, []string{"version"})
	buildInfo.WithLabelValues(version()).Set(1)
	s.reg.MustRegister(buildInfo)

	if s.auth, err = auth.New(ctx, auth.Config{Path: filepath.Join(cfg.Data, "auth.db"), AdminToken: cfg.AdminToken, SecureCookies: cfg.TLSCert != ""}, logger, s.reg); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.auth.Close)
	if cfg.Demo {
		for _, r := range auth.Roles {
			if err := s.auth.EnsureUser(auth.SystemContext(ctx, "demo"), string(r), r, demoPassword); err != nil {
				return nil, fmt.Errorf("demo user %s: %w", r, err)
			}
		}
	}
	if s.intake, err = intake.Open(ctx, intake.Config{Path: filepath.Join(cfg.Data, "intake.db")}, logger, s.reg); err != nil {
		return nil, err
	}
	// A token scoped to a source ingests that source's items only.
	s.intake.SetSourceScope(func(ctx context.Context) string { p, _ := auth.FromContext(ctx); return p.Source })
	s.closers = append(s.closers, s.intake.Close)
	hubCfg := cfg.hub // tests only; the zero value is the default
	if cfg.AllowedOrigins != "" {
		hubCfg.AllowedOrigins = strings.Split(cfg.AllowedOrigins, ",")
	}
	// The sinks, and the SLA clocks when a backlog crosses its targets at
	// once, step aside while posts wait for the intake's commit or for the
	// router: bursts are accepted and agents see their tickets first, the
	// rest catches up after (internal/yield). The gate asks only once the
	// server runs, when the router exists.
	gate := yield.New(func() bool { return s.intake.Pending() > 0 || s.router.Lag() > 0 }, sinkYieldMax, s.reg)
	deskCfg := desk.Config{Path: filepath.Join(cfg.Data, "desk.db"), Hub: hubCfg, Yield: gate.For("sla")}
	if cfg.DeskConfig != "" {
		if err := deskCfg.LoadFile(cfg.DeskConfig); err != nil {
			return nil, err
		}
	}
	if s.desk, err = desk.Open(ctx, deskCfg, logger, s.reg); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.desk.Close)
	rules, err := s.initialRules(ctx)
	if err != nil {
		return nil, err
	}
	classifier, err := newClassifier()
	if err != nil {
		return nil, err
	}
	s.router = router.New(router.Config{}, s.intake, s.desk, classifier, rules, logger, s.reg)

	var store archive.Store
	if cfg.ClickHouse != "" {
		ch, err := archive.OpenClickHouse(cfg.ClickHouse)
		if err != nil {
			return nil, err
		}
		store = ch // migrated on first use: a server down at start blocks nothing
	} else if store, err = archive.OpenEmbedded(ctx, filepath.Join(cfg.Data, "archive.db")); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, store.Close)
	s.archive = store
	feeder, err := archive.NewFeeder(s.desk, store, archive.Config{Yield: gate.For("archive")}, logger, s.reg)
	if err != nil {
		return nil, err
	}
	s.sinks = append(s.sinks, sinkRunner{name: "archive", run: feeder.Run, caughtUp: func(seq int64) bool {
		c, err := store.Cursor(context.Background())
		return err == nil && c >= seq
	}})
	// The audit log is archived too, from its own stream.
	if as, ok := store.(archive.AuditStore); ok {
		af, err := archive.NewAuditFeeder(s.auth, as, archive.Config{}, logger, s.reg)
		if err != nil {
			return nil, err
		}
		s.sinks = append(s.sinks, sinkRunner{name: "audit archive", run: af.Run, caughtUp: func(int64) bool {
			c, err := as.AuditCursor(context.Background())
			return err == nil && c >= s.auth.AuditHead()
		}})
	}
	// The CRM's engagement KPIs ride along in GET /kpis (s.crm is opened
	// below, before any request).
	engagement := func(ctx context.Context, q archive.Query) (any, error) {
		b, err := s.crm.Engagement(ctx, q.From, q.To, q.Interval, q.By == archive.BySource)
		if err != nil {
			return nil, err
		}
		return map[string]any{"buckets": b}, nil
	}
	if s.kpis, err = archive.NewHandler(store, archive.HandlerConfig{Engagement: engagement}); err != nil {
		return nil, err
	}

	runSearch, err := s.openSearch(ctx, gate)
	if err != nil {
		return nil, err
	}
	s.sinks = append(s.sinks, sinkRunner{name: "search", run: runSearch, caughtUp: func(seq int64) bool {
		c, err := s.search.Cursor()
		return err == nil && c >= seq
	}})

	if s.offer, err = offer.Open(ctx, offer.Config{Path: filepath.Join(cfg.Data, "offer.db"), GatewayURL: cfg.OfferGatewayURL, GatewaySecret: cfg.OfferGatewaySecret}, s.intake, s.desk, logger, s.reg); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.offer.Close)
	// The offer engine follows the intake log (check-ins never reach the
	// desk): it has caught up when it reached the log's head.
	s.sinks = append(s.sinks, sinkRunner{name: "offer", run: s.offer.Run, caughtUp: func(int64) bool { return s.offer.CaughtUp(s.intake.LastSeq()) }})

	watchCfg := watch.Config{}
	if cfg.Watch != "" {
		if watchCfg, err = watch.LoadConfig(cfg.Watch); err != nil {
			return nil, err
		}
	}
	watchCfg.Path = filepath.Join(cfg.Data, "watch.db")
	watchCfg.Yield = gate.For("watch")
	if s.watch, err = watch.Open(ctx, watchCfg, s.desk, s.desk, logger, s.reg, watch.WithWho(userOf)); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.watch.Close)
	s.sinks = append(s.sinks, sinkRunner{name: "watch", run: s.watch.Run, caughtUp: func(seq int64) bool { return s.watch.Cursor() >= seq }})

	// Customer profiles, CSAT and segments: a sink of the
	// desk's event log that publishes csat.* events back through the desk.
	crmCfg := crm.Config{}
	if cfg.CRMConfig != "" {
		if crmCfg, err = crm.LoadConfig(cfg.CRMConfig); err != nil {
			return nil, err
		}
	}
	crmCfg.Path = filepath.Join(cfg.Data, "crm.db")
	crmCfg.Yield = gate.For("crm")
	if s.crm, err = crm.Open(ctx, crmCfg, s.desk, s.desk, logger, s.reg); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, s.crm.Close)
	s.sinks = append(s.sinks, sinkRunner{name: "crm", run: s.crm.Run, caughtUp: func(seq int64) bool { return s.crm.Cursor() >= seq }})

	if cfg.Demo {
		gen, err := demo.New(demo.Config{
			Rate: cfg.DemoRate, Seed: 1, CheckInRate: cfg.DemoRate / 10,
			// An incident-like surge every 10 minutes, for the alerts to show.
			Burst: demo.Burst{Every: 10 * time.Minute, Length: 30 * time.Second, Factor: 4},
		}, logger, s.reg)
		if err != nil {
			return nil, fmt.Errorf("demo feed: %w", err)
		}
		s.sources = append(s.sources, func(ctx context.Context) error { return s.intake.Pump(ctx, gen, logger) })
	}
	// Network sources (none without --sources: the registry then only
	// answers the admin API); replies go through the source of their
	// network, or to the sandbox.
	var extra []sources.SourceConfig
	if cfg.Demo {
		// A local stand-in for a network, polled by the real feed connector.
		feed, err := newDemoFeed(max(0.2, cfg.DemoRate/10))
		if err != nil {
			return nil, err
		}
		sc, err := feed.sourceConfig()
		if err != nil {
			return nil, err
		}
		extra = append(extra, sc)
		s.sources = append(s.sources, feed.Run)
	}
	if s.registry, err = newSourceRegistry(cfg.Sources, s.intake, logger, s.reg, extra...); err != nil {
		return nil, err
	}
	s.sandbox = desk.NewSandbox()
	s.desk.SetReplier(deskReplier{sources: s.registry.Replier(), fallback: s.sandbox})
	// Campaign messages take the same path as the agents' replies.
	s.crm.SetReplier(deskReplier{sources: s.registry.Replier(), fallback: s.sandbox})
	s.sources = append(s.sources, func(ctx context.Context) error {
		return s.registry.Run(ctx, func(ctx context.Context, src listener.Source) error { return s.intake.Pump(ctx, src, logger) })
	})
	// The retention policy's sweep (--retention-days; a no-op at 0).
	s.retention = newRetentionMetrics(s.reg)
	if cfg.RetentionDays > 0 {
		s.sinks = append(s.sinks, sinkRunner{name: "retention", run: s.runRetention, caughtUp: func(int64) bool { return true }})
	}
	if err := s.wireHTTP(); err != nil {
		return nil, err
	}
	if s.listener, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		s.listener = tls.NewListener(s.listener, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	requestTimeout := 2 * time.Minute
	if cfg.requestTimeout > 0 {
		requestTimeout = cfg.requestTimeout
	}
	s.http = &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       requestTimeout,
		WriteTimeout:      requestTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.With("component", "http").Handler(), slog.LevelWarn),
	}
	return s, nil
}

// initialRules picks the rules to start with: the --rules file (saved as a
// new version when it differs from the latest), else the latest saved
// version, else the embedded defaults (saved as the first version).
func (s *server) initialRules(ctx context.Context) (*router.RuleSet, error) {
	latest, err := s.desk.LatestRules(ctx)
	if err != nil && !errors.Is(err, desk.ErrNoRules) {
		return nil, err
	}
	var text []byte
	author := "vigie (default rules)"
	switch {
	case s.cfg.Rules != "":
		if text, err = os.ReadFile(s.cfg.Rules); err != nil {
			return nil, fmt.Errorf("read rules: %w", err)
		}
		author = "file " + s.cfg.Rules
	case latest.Version > 0:
		rs, err := router.ParseRules([]byte(latest.YAML))
		if err != nil {
			return nil, fmt.Errorf("rules version %d: %w", latest.Version, err)
		}
		return rs, nil
	default:
		text = router.DefaultRulesYAML()
	}
	if latest.Version > 0 && latest.YAML == string(text) {
		return router.ParseRules(text)
	}
	_, rs, err := s.desk.SaveRules(ctx, string(text), author, "loaded at start")
	if err != nil {
		return nil, fmt.Errorf("rules %s: %w", s.cfg.Rules, err)
	}
	return rs, nil
}

// URL returns the address the server listens on, as a URL.
func (s *server) URL() string {
	addr, _ := s.listener.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "http"
	if s.cfg.TLSCert != "" {
		scheme = "https"
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, fmt.Sprint(addr.Port)))
}

func (s *server) close() {
	s.closeOnce.Do(func() {
		for i := len(s.closers) - 1; i >= 0; i-- {
			if err := s.closers[i](); err != nil {
				s.log.Error("close_failed", "error", err)
			}
		}
	})
}

// Run serves until ctx is done, then shuts down upstream first: HTTP stops
// accepting, sources stop, the router drains the intake log, the sinks catch
// up with the desk, the hub says goodbye, and the stores close.
func (s *server) Run(ctx context.Context) error {
	defer s.close()
	var (
		srcCtx, stopSources   = context.WithCancel(context.Background())
		routerCtx, stopRouter = context.WithCancel(context.Background())
		deskCtx, stopDesk     = context.WithCancel(context.Background())
		sinkCtx, stopSinks    = context.WithCancel(context.Background())
	)
	defer func() { stopSources(); stopRouter(); stopDesk(); stopSinks() }()
	failed := make(chan error, 8+len(s.sources)+len(s.sinks))
	var srcs, routers, desks, sinks errgroup.Group
	watch := func(g *errgroup.Group, name string, f func(context.Context) error, ctx context.Context) {
		g.Go(func() error {
			err := f(ctx)
			if err != nil && !errors.Is(err, context.Canceled) {
				failed <- fmt.Errorf("%s: %w", name, err)
				return err
			}
			return nil
		})
	}
	watch(&desks, "desk", s.desk.Run, deskCtx)
	watch(&desks, "auth", s.auth.Run, deskCtx)
	watch(&routers, "router", s.router.Run, routerCtx)
	for _, sk := range s.sinks {
		watch(&sinks, sk.name, sk.run, sinkCtx)
	}
	for i, src := range s.sources {
		watch(&srcs, fmt.Sprintf("source %d", i), src, srcCtx)
	}
	httpDone := make(chan error, 1)
	go func() {
		err := s.http.Serve(s.listener)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		httpDone <- err
	}()
	s.ready.Store(true)
	s.log.Info("serving", "addr", s.listener.Addr().String(), "data", s.cfg.Data)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-failed:
		s.log.Error("component_failed", "error", runErr)
	case runErr = <-httpDone:
		if runErr != nil {
			runErr = fmt.Errorf("http: %w", runErr)
		}
	}
	s.ready.Store(false)
	s.log.Info("shutting_down")

	// 1. Stop accepting; let in-flight requests (ingest commits) finish.
	shCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownWait)
	if err := s.http.Shutdown(shCtx); err != nil {
		s.log.Warn("http_shutdown", "error", err)
	}
	cancel()
	// 2. Stop the sources; their pumps flush what they hold.
	stopSources()
	srcs.Wait()
	// 3. Let the router drain the intake log.
	s.waitFor("router", func() bool {
		c, err := s.desk.Cursor(context.Background())
		return err == nil && c >= s.intake.LastSeq()
	})
	stopRouter()
	routers.Wait()
	// 4. Let the sinks catch up with the desk.
	head := s.desk.LastSeq()
	for _, sk := range s.sinks {
		s.waitFor(sk.name, func() bool { return sk.caughtUp(head) })
	}
	stopSinks()
	sinks.Wait()
	// 5. Close the websockets and the outbox.
	stopDesk()
	desks.Wait()
	s.log.Info("stopped")
	return runErr
}

func (s *server) waitFor(what string, done func() bool) {
	deadline := time.Now().Add(s.cfg.ShutdownWait)
	for !done() {
		if time.Now().After(deadline) {
			s.log.Warn("drain_timeout", "stage", what, "wait", s.cfg.ShutdownWait)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// metricsHandler serves the registry in the Prometheus text format.
func (s *server) metricsHandler() http.Handler {
	if s.searchProc == nil {
		return promhttp.HandlerFor(s.reg.Registry, promhttp.HandlerOpts{Registry: s.reg.Registry})
	}
	// The search worker's metrics too; if it answers nonsense, the
	// server's own are still served (and the error logged).
	g := prometheus.Gatherers{s.reg.Registry, s.searchProc.remote}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{Registry: s.reg.Registry,
		ErrorHandling: promhttp.ContinueOnError, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)})
}
