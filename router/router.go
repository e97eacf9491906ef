package router

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/listener"
)

// Classification is a Classifier's reading of one text.
type Classification struct {
	Lang           string
	LangConfidence float64
	Sentiment      float64
	Label          string
	SentimentTerms []string
	Intent         string
	IntentTerms    []string
}

// Classifier reads a text. langHint is the language the source claims ("" if
// none): a hint, not the truth. Implementations are safe for concurrent use.
type Classifier interface {
	Classify(text, langHint string) Classification
}

// Sink is the router's output port: the desk implements it.
type Sink interface {
	// Cursor returns the seq of the last intake record applied.
	Cursor(ctx context.Context) (int64, error)
	// Apply commits a batch, in order, together with the cursor (the seq of
	// its last record). Applying a record already applied is a no-op.
	Apply(ctx context.Context, batch []Routed) error
}

// Log is what the router reads: the intake log.
type Log interface {
	Wait(ctx context.Context, after int64) error
	Read(ctx context.Context, after int64, max int) ([]intake.Record, error)
	LastSeq() int64
}

// Config configures a Router.
type Config struct {
	// BatchSize bounds the records routed and applied together (default 512:
	// large enough to amortise a desk commit, small enough to keep the first
	// ticket of a burst within milliseconds).
	BatchSize int
}

// Router enriches and routes what the intake log holds.
type Router struct {
	cfg        Config
	log        Log
	sink       Sink
	classifier Classifier
	rules      atomic.Pointer[RuleSet]
	logger     *slog.Logger
	metrics    *metrics
	lag        atomic.Int64 // Lag
}

// New returns a Router. Call Run to start it.
func New(cfg Config, lg Log, sink Sink, c Classifier, rules *RuleSet, logger *slog.Logger, reg prometheus.Registerer) *Router {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 512
	}
	r := &Router{cfg: cfg, log: lg, sink: sink, classifier: c, logger: logger.With("component", "router"), metrics: newMetrics(reg)}
	r.rules.Store(rules)
	// Until Run has read its cursor, count the whole log as pending: a lag
	// of 0 before the router has started would tell an operator (or a
	// test waiting for the router to drain) that it is done.
	r.setLag(lg.LastSeq())
	return r
}

// Lag returns how many records of the log are not routed yet (the
// vigie_router_lag_items gauge): the whole log until Run has read its
// cursor.
func (r *Router) Lag() int64 { return r.lag.Load() }

func (r *Router) setLag(n int64) {
	r.lag.Store(n)
	r.metrics.lag.Set(float64(n))
}

// Rules returns the rule set in force.
func (r *Router) Rules() *RuleSet { return r.rules.Load() }

// SetRules replaces the rule set; the next mention routed uses it.
func (r *Router) SetRules(rs *RuleSet) { r.rules.Store(rs) }

// Route enriches and routes one mention with the rules in force.
func (r *Router) Route(m *listener.Mention) (Enrichment, Decision) {
	return r.RouteWith(r.rules.Load(), m)
}

// RouteWith enriches and routes one mention with the given rules (a dry run
// of a draft rule set).
func (r *Router) RouteWith(rs *RuleSet, m *listener.Mention) (Enrichment, Decision) {
	en := r.Enrich(m)
	return en, rs.Evaluate(m, &en)
}

// Enrich reads a mention: language, sentiment, intent and influence.
func (r *Router) Enrich(m *listener.Mention) Enrichment {
	c := r.classifier.Classify(m.Text, m.Lang)
	return Enrichment{
		Lang: c.Lang, LangConfidence: c.LangConfidence,
		Sentiment: c.Sentiment, Label: c.Label, SentimentTerms: c.SentimentTerms,
		Intent: c.Intent, IntentTerms: c.IntentTerms,
		Influence: Influence(m),
	}
}

// Run routes records as they are committed until ctx is done. It returns
// ctx.Err() on cancellation, or the first error of the sink.
func (r *Router) Run(ctx context.Context) error {
	cursor, err := r.sink.Cursor(ctx)
	if err != nil {
		return fmt.Errorf("router: read cursor: %w", err)
	}
	r.setLag(max(0, r.log.LastSeq()-cursor))
	for {
		// The sink's transactions finish even when ctx ends (they are
		// short and better finished than interrupted), and Wait returns at
		// once while records wait: ending is checked here.
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.log.Wait(ctx, cursor); err != nil {
			return err
		}
		recs, err := r.log.Read(ctx, cursor, r.cfg.BatchSize)
		if err != nil {
			return fmt.Errorf("router: %w", err)
		}
		if len(recs) == 0 {
			continue
		}
		start := time.Now()
		batch := make([]Routed, len(recs))
		for i, rec := range recs {
			batch[i] = r.route(rec)
		}
		if err := r.apply(ctx, batch); err != nil {
			return err
		}
		cursor = recs[len(recs)-1].Seq
		r.metrics.batchSeconds.Observe(time.Since(start).Seconds())
		r.setLag(r.log.LastSeq() - cursor)
	}
}

// apply hands a batch to the sink, retrying with back-off while the sink
// fails (a full disk, a locked file): nothing is skipped.
func (r *Router) apply(ctx context.Context, batch []Routed) error {
	backoff := 100 * time.Millisecond
	for {
		err := r.sink.Apply(ctx, batch)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.logger.Error("apply_failed", "error", err, "records", len(batch), "retry_in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

func (r *Router) route(rec intake.Record) Routed {
	out := Routed{Record: rec}
	if m := rec.Item.Mention; m != nil {
		out.Enrichment, out.Decision = r.Route(m)
		outcome := "ticket"
		if out.Decision.Drop {
			outcome = "dropped"
		}
		r.metrics.routed.WithLabelValues("mention", outcome).Inc()
		return out
	}
	r.metrics.routed.WithLabelValues(string(rec.Item.Kind), "other").Inc()
	return out
}
