package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/source"
)

// CursorStore persists sources' resume positions (*intake.Log implements
// it, so that a cursor lives in the same database as the items it covers).
type CursorStore = source.CursorStore

// Appender makes items durable. It returns only once they are, or with an
// error, in which case none was committed. Webhook receivers answer 2xx only
// after it returned nil.
type Appender interface {
	Append(ctx context.Context, items []listener.Item, arrived time.Time) error
}

// AppendFunc adapts a function to Appender. cmd/vigie wraps the intake log:
//
//	sources.AppendFunc(func(ctx context.Context, items []listener.Item, at time.Time) error {
//		_, err := log.Append(ctx, items, at)
//		return err
//	})
type AppendFunc func(ctx context.Context, items []listener.Item, arrived time.Time) error

// Append calls f.
func (f AppendFunc) Append(ctx context.Context, items []listener.Item, arrived time.Time) error {
	return f(ctx, items, arrived)
}

// Pump runs a source and makes what it emits durable until ctx is done or
// the source ends, calling the source's Commit after each commit
// ((*intake.Log).Pump does).
type Pump func(ctx context.Context, src listener.Source) error

// Deps is what a Factory may use. The registry fills Logger, Metrics and
// Health for each source; the rest is shared.
type Deps struct {
	// Logger is tagged with component=source and source=<name>.
	Logger *slog.Logger
	// Metrics registers the source's own metrics; every metric gets the
	// constant label source=<name>, so that two sources of one type can
	// register the same names. Nil in some tests: handle it.
	Metrics prometheus.Registerer
	// Cursors persists resume positions.
	Cursors CursorStore
	// Append makes webhook deliveries durable.
	Append Appender
	// HTTP is the client for outgoing requests (default
	// a client with a one-minute timeout).
	HTTP *http.Client
	// Health reports the source's status to the registry.
	Health Health
}

// Instance is what a Factory builds: a Source the registry runs, a Hook it
// mounts at /hooks/{name}, or both; and optionally a Replier.
type Instance struct {
	Source listener.Source
	Hook   http.Handler
	// Replier answers replies whose Reply.Source is one of Networks.
	Replier  Replier
	Networks []string
}

// Factory builds a source of one type from its entry in the sources file.
// It validates the settings (errors should name the source) and must not
// start anything: the registry runs what it returns.
type Factory func(cfg SourceConfig, deps Deps) (Instance, error)

// Config tunes a Registry. The zero value uses the defaults.
type Config struct {
	// RestartMin is the first wait before restarting a failed source
	// (default 1 s); it doubles on each failure in a row up to RestartMax
	// (default 1 min).
	RestartMin, RestartMax time.Duration
	// Now is the clock for status times (default time.Now).
	Now func() time.Time
}

// Validate fills the defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.RestartMin == 0 {
		c.RestartMin = time.Second
	}
	if c.RestartMax == 0 {
		c.RestartMax = time.Minute
	}
	if c.RestartMin < 0 || c.RestartMax < c.RestartMin {
		return fmt.Errorf("sources: restart back-off %v..%v: want 0 < min <= max", c.RestartMin, c.RestartMax)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// ErrUnknownSource is returned for a name no source has.
var ErrUnknownSource = errors.New("unknown source")

// entry is one configured source.
type entry struct {
	cfg  SourceConfig
	inst Instance
	st   *state

	// Guarded by Registry.mu.
	enabled bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Registry builds, runs and reports on the sources of a sources file.
type Registry struct {
	cfg       Config
	log       *slog.Logger
	reg       prometheus.Registerer
	m         *metrics
	factories map[string]Factory

	mu      sync.Mutex
	entries map[string]*entry
	order   []string
	replier replierMux
	runCtx  context.Context // set while Run runs
	pump    Pump
}

// New returns an empty Registry. Register factories, then Build.
func New(cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{
		cfg:       cfg,
		log:       logger,
		reg:       reg,
		m:         newMetrics(reg),
		factories: map[string]Factory{},
		entries:   map[string]*entry{},
		replier:   replierMux{},
	}, nil
}

// Register sets the Factory for a source type (one of Types). Call it before
// Build.
func (r *Registry) Register(typ string, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.factories[typ] = f
}

// Build builds every source of f with its type's Factory. deps.Logger,
// Metrics and Health are filled per source. Every error found is returned;
// on error nothing is kept.
func (r *Registry) Build(f *File, deps Deps) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	built := map[string]*entry{}
	var order []string
	mux := replierMux{}
	owner := map[string]string{}
	for _, sc := range f.Sources {
		if _, dup := r.entries[sc.Name]; dup {
			errs = append(errs, sc.Errorf("already built"))
			continue
		}
		factory, ok := r.factories[sc.Type]
		if !ok {
			errs = append(errs, sc.Errorf("type %q: no connector for it in this build", sc.Type))
			continue
		}
		st := &state{name: sc.Name, m: r.m, now: r.cfg.Now}
		d := deps
		d.Logger = r.log.With("component", "source", "source", sc.Name)
		if r.reg != nil {
			d.Metrics = prometheus.WrapRegistererWith(prometheus.Labels{"source": sc.Name}, r.reg)
		}
		if d.HTTP == nil {
			d.HTTP = &http.Client{Timeout: time.Minute} // a bound for any call; sources set tighter ones per request
		}
		d.Health = st
		inst, err := factory(sc, d)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if inst.Source == nil && inst.Hook == nil && inst.Replier == nil {
			errs = append(errs, sc.Errorf("its connector built nothing"))
			continue
		}
		if inst.Replier != nil {
			for _, n := range inst.Networks {
				if prev, taken := owner[n]; taken {
					errs = append(errs, sc.Errorf("replies on %q are already sent by source %q", n, prev))
					continue
				}
				owner[n] = sc.Name
				mux[n] = inst.Replier
			}
		}
		e := &entry{cfg: sc, inst: inst, st: st, enabled: sc.Enabled}
		kind := "reply"
		switch {
		case inst.Source != nil:
			kind = "poll"
		case inst.Hook != nil:
			kind = "webhook"
			st.status.Hook = "/hooks/" + sc.Name
		}
		st.status.Name, st.status.Type, st.status.Kind, st.status.Enabled = sc.Name, sc.Type, kind, sc.Enabled
		built[sc.Name] = e
		order = append(order, sc.Name)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, name := range order {
		e := built[name]
		r.entries[name] = e
		r.order = append(r.order, name)
		if e.inst.Hook != nil && e.inst.Source == nil {
			e.st.Connected(e.enabled)
		} else {
			e.st.Connected(false)
		}
	}
	for n, rp := range mux {
		if _, taken := r.replier[n]; taken {
			return fmt.Errorf("replies on %q: already sent by another source", n)
		}
		r.replier[n] = rp
	}
	return nil
}

// Replier returns the Replier that dispatches a Reply to the source that
// declared its network, or fails with ErrNoReplier.
func (r *Registry) Replier() Replier {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(replierMux, len(r.replier))
	for k, v := range r.replier {
		m[k] = v
	}
	return m
}

// Run runs every enabled source with a Source through pump until ctx is
// done, restarting a failed one with back-off, then stops them all and
// returns ctx.Err(). Sources enabled while Run runs start at once.
func (r *Registry) Run(ctx context.Context, pump Pump) error {
	r.mu.Lock()
	if r.runCtx != nil {
		r.mu.Unlock()
		return errors.New("sources: registry already running")
	}
	r.runCtx, r.pump = ctx, pump
	for _, name := range r.order {
		if e := r.entries[name]; e.enabled {
			r.startLocked(e)
		}
	}
	r.mu.Unlock()
	<-ctx.Done()
	r.mu.Lock()
	var waits []chan struct{}
	for _, e := range r.entries {
		if e.cancel != nil {
			e.cancel()
			waits = append(waits, e.done)
			e.cancel = nil
		}
	}
	r.runCtx = nil
	r.mu.Unlock()
	for _, w := range waits {
		<-w
	}
	return ctx.Err()
}

// startLocked starts e's supervisor. r.mu is held.
func (r *Registry) startLocked(e *entry) {
	if e.inst.Source == nil || e.cancel != nil || r.runCtx == nil {
		return
	}
	ctx, cancel := context.WithCancel(r.runCtx)
	e.cancel, e.done = cancel, make(chan struct{})
	go r.supervise(ctx, e, r.pump, e.done)
}

func (r *Registry) supervise(ctx context.Context, e *entry, pump Pump, done chan struct{}) {
	defer close(done)
	log := r.log.With("component", "source", "source", e.cfg.Name)
	src := &tracked{Source: e.inst.Source, st: e.st}
	backoff := r.cfg.RestartMin
	e.st.update(func(s *Status) { s.Running = true })
	defer e.st.update(func(s *Status) { s.Running = false })
	defer e.st.Connected(false)
	for {
		started := time.Now()
		err := pump(ctx, src)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			log.Info("source_ended")
			return
		}
		e.st.Failed(err)
		e.st.update(func(s *Status) { s.Restarts++ })
		r.m.restarts.WithLabelValues(e.cfg.Name).Inc()
		if time.Since(started) > r.cfg.RestartMax {
			backoff = r.cfg.RestartMin // it ran well for a while: start over
		}
		log.Warn("source_failed", "error", err, "restart_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, r.cfg.RestartMax)
	}
}

// SetEnabled enables or disables a source at run time: a polling source's
// goroutine is started or stopped (SetEnabled returns once it stopped); a
// webhook source answers 503 while disabled. The change lasts until the
// process restarts; the sources file says what runs at start.
func (r *Registry) SetEnabled(name string, on bool) (Status, error) {
	r.mu.Lock()
	e, ok := r.entries[name]
	if !ok {
		r.mu.Unlock()
		return Status{}, fmt.Errorf("source %q: %w", name, ErrUnknownSource)
	}
	e.enabled = on
	e.st.update(func(s *Status) { s.Enabled = on })
	var wait chan struct{}
	switch {
	case on:
		r.startLocked(e)
	case e.cancel != nil:
		e.cancel()
		e.cancel, wait = nil, e.done
	}
	if e.inst.Source == nil && e.inst.Hook != nil {
		e.st.Connected(on)
	}
	r.mu.Unlock()
	if wait != nil {
		<-wait
	}
	r.log.Info("source_toggled", "source", name, "enabled", on)
	return e.st.snapshot(), nil
}

// Statuses returns every source's status, in the order of the sources file.
func (r *Registry) Statuses() []Status {
	r.mu.Lock()
	entries := make([]*entry, 0, len(r.order))
	for _, name := range r.order {
		entries = append(entries, r.entries[name])
	}
	r.mu.Unlock()
	out := make([]Status, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.st.snapshot())
	}
	return out
}

// Status returns one source's status.
func (r *Registry) Status(name string) (Status, error) {
	r.mu.Lock()
	e, ok := r.entries[name]
	r.mu.Unlock()
	if !ok {
		return Status{}, fmt.Errorf("source %q: %w", name, ErrUnknownSource)
	}
	return e.st.snapshot(), nil
}

// Names returns the names of the built sources, sorted.
func (r *Registry) Names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := append([]string(nil), r.order...)
	sort.Strings(names)
	return names
}

// hook returns the handler mounted for name and whether it is enabled.
func (r *Registry) hook(name string) (http.Handler, bool, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[name]
	if !ok || e.inst.Hook == nil {
		return nil, false, false
	}
	return e.inst.Hook, e.enabled, true
}

// tracked wraps a source so that the registry sees its state: running while
// Run runs, and the items it hands over counted when Commit says they are
// durable.
type tracked struct {
	listener.Source
	st *state
}

func (t *tracked) Run(ctx context.Context, out chan<- listener.Item) error {
	t.st.Connected(true)
	defer t.st.Connected(false)
	return t.Source.Run(ctx, out)
}

func (t *tracked) Commit(ctx context.Context, items []listener.Item) error {
	t.st.Received(items)
	if c, ok := t.Source.(listener.Committer); ok {
		return c.Commit(ctx, items)
	}
	return nil
}

var _ listener.Committer = (*tracked)(nil)
