package watch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigie/vigie/router"
)

// Config configures the watch. Zero fields take the defaults documented on
// each field; Validate fills them in. The YAML form (ParseConfig) uses the
// snake_case names in the tags; Path is never read from YAML.
type Config struct {
	// Path is the SQLite file (<data>/watch.db). Required.
	Path string `yaml:"-"`
	// Window is the span each evaluation looks at, a multiple of Step
	// (default 5m: long enough
	// that a handful of posts make a signal, short enough to rise fast).
	Window time.Duration `yaml:"window"`
	// Step is how often, in event time, windows are evaluated, in whole
	// minutes (default 1m):
	// an alert rises at most one Step plus Grace after its cause.
	Step time.Duration `yaml:"step"`
	// Grace is how long past a window's end the watch waits for stragglers
	// before it evaluates that window (default 10s).
	Grace time.Duration `yaml:"grace"`
	// BatchSize bounds the events read from the desk's log at once
	// (default 512).
	BatchSize int `yaml:"batch_size"`
	// MaxDelay is how long the watch lets events gather, once one
	// arrives, before it counts them (default 250ms): batches cost a
	// fraction of the CPU and commits of one batch an event, and leave the
	// cores to the agents' hot path. An alert rises at most this much
	// later. A backlog larger than BatchSize is read without delay.
	MaxDelay time.Duration `yaml:"max_delay"`
	// Yield, when set, is called before each batch is counted: it returns
	// once the hot path (intake, router) has no work waiting, or after a
	// bounded delay (internal/yield), so that bursts and agents' tickets
	// get the CPUs first. Nil: never wait.
	Yield func(context.Context) `yaml:"-"`
	// MaxWindowMentions bounds the mentions kept in memory for the current
	// window, to explain alerts (default 50,000: a 10,000-a-minute burst);
	// counts stay exact beyond it, only explanations sample less.
	MaxWindowMentions int `yaml:"max_window_mentions"`
	// MaxSeries bounds the volume series (scopes) followed (default 256);
	// mentions of scopes beyond it count in "all" only.
	MaxSeries int `yaml:"max_series"`
	// IgnoreTags lists routing tags whose mentions are not counted at all
	// (default ["spam"]). Set to an empty list in YAML ([]) to count all.
	IgnoreTags []string `yaml:"ignore_tags"`
	// Topics are named keyword queries (router query syntax) — brands,
	// products, campaigns — each followed as its own series "topic:NAME".
	Topics []TopicConfig `yaml:"topics"`
	// Scopes says which routing fields become series besides "all" and the
	// topics (default ["queue", "tag"]).
	Scopes []string `yaml:"scopes"`
	// Baseline says what "normal" is for volume and negative spikes.
	Baseline BaselineConfig `yaml:"baseline"`
	// Volume is the volume-spike detector.
	Volume SpikeConfig `yaml:"volume"`
	// Negative is the negative-sentiment-spike detector.
	Negative NegativeConfig `yaml:"negative"`
	// Influencer is the influencer-complaint detector.
	Influencer InfluencerConfig `yaml:"influencer"`
	// Crisis is the crisis-words detector.
	Crisis CrisisConfig `yaml:"crisis"`
	// Terms is the emerging-terms detector.
	Terms TermsConfig `yaml:"terms"`
	// Noise controls how alerts group, repeat and resolve.
	Noise NoiseConfig `yaml:"noise"`
	// Explain bounds what an alert's explanation carries.
	Explain ExplainConfig `yaml:"explain"`
	// Webhooks are the outbound webhooks alerts are sent to.
	Webhooks []WebhookConfig `yaml:"webhooks"`
	// Delivery configures webhook delivery.
	Delivery DeliveryConfig `yaml:"delivery"`
}

// TopicConfig is a named keyword query followed as its own series.
type TopicConfig struct {
	Name  string `yaml:"name"`
	Query string `yaml:"query"`
}

// BaselineConfig says what "normal" is. The baseline of a window is the
// same window at the same time of day on each of the previous Days days,
// shifted by up to ±Spread in Window steps (so 7 days × 13 offsets = 91
// samples by default), summarised by median and MAD. Until MinDays days
// of history exist, the previous RecentWindows windows stand in for it.
type BaselineConfig struct {
	// Days is how many previous days the seasonal baseline reads (default 7).
	Days int `yaml:"days"`
	// Spread widens each day's sample around the same time of day
	// (default 30m); 0 in YAML keeps the default, use 1ns to disable.
	Spread time.Duration `yaml:"spread"`
	// MinDays is the history, in days, the seasonal baseline needs
	// (default 3).
	MinDays int `yaml:"min_days"`
	// RecentWindows is how many windows before the current one make the
	// fallback baseline (default 12: the previous hour at 5m windows).
	RecentWindows int `yaml:"recent_windows"`
	// MinRecent is how many of those must lie in the history for any
	// evaluation (default 6): before that, the watch is warming up.
	MinRecent int `yaml:"min_recent"`
	// Alpha is the chance that Poisson noise alone crosses a spike
	// threshold at one evaluation of one series (default 1e-6: with 1-minute
	// steps, one false alarm per series in about two years of calm).
	Alpha float64 `yaml:"alpha"`
}

// SpikeConfig configures a spike detector: a window's count is a spike
// when it reaches the count Poisson noise around the baseline reaches with
// probability Baseline.Alpha, median + K·1.4826·MAD of the baseline (for
// series noisier than Poisson), and MinCount. It is critical from twice
// that threshold and median + CriticalK·σ, σ the larger of 1.4826·MAD, √λ
// and 1.
type SpikeConfig struct {
	// Disabled turns the detector off.
	Disabled bool `yaml:"disabled"`
	// K is the warning threshold in σ (default 4).
	K float64 `yaml:"k"`
	// CriticalK is the critical threshold in σ (default 8).
	CriticalK float64 `yaml:"critical_k"`
	// MinCount is the smallest count that can be a spike (default 10 for
	// volume, 5 for negative mentions).
	MinCount int `yaml:"min_count"`
}

// NegativeConfig configures the negative-sentiment spike: the count of
// negative mentions spikes (as in SpikeConfig) and their share of the
// window reaches both MinShare and the baseline's share plus MinShareRise.
type NegativeConfig struct {
	SpikeConfig `yaml:",inline"`
	// MinShare is the smallest negative share that can alert (default 0.3).
	MinShare float64 `yaml:"min_share"`
	// MinShareRise is how far above the baseline's share the window's
	// must be (default 0.1).
	MinShareRise float64 `yaml:"min_share_rise"`
	// NegativeBelow is the sentiment at or below which a mention without a
	// label counts as negative (default -0.2); a label "negative" always does.
	NegativeBelow float64 `yaml:"negative_below"`
}

// InfluencerConfig configures the influencer alert: a negative post by an
// author whose influence (router.Influence, 0-100) reaches MinInfluence.
type InfluencerConfig struct {
	Disabled bool `yaml:"disabled"`
	// MinInfluence is the influence that makes an author an influencer
	// (default 60, as in the default routing rules).
	MinInfluence int `yaml:"min_influence"`
	// CriticalInfluence makes the alert critical (default 80: about
	// 500,000 followers).
	CriticalInfluence int `yaml:"critical_influence"`
}

// CrisisConfig configures the crisis-words detector. Lists maps a language
// (ISO 639-1, or "*" for every language) to keyword queries in the router's
// syntax, matched case- and accent-insensitively; each query is its own
// alert key. Setting Lists replaces the defaults (DefaultCrisisLists).
type CrisisConfig struct {
	Disabled bool                `yaml:"disabled"`
	Lists    map[string][]string `yaml:"lists"`
	// CriticalCount is the number of posts in a window that makes a crisis
	// alert critical (default 3); one post by an influencer does too.
	CriticalCount int `yaml:"critical_count"`
}

// DefaultCrisisLists are the crisis words used when none are configured.
func DefaultCrisisLists() map[string][]string {
	return map[string][]string{
		"*":  {"boycott*", `"data breach"`},
		"en": {`"food poisoning"`, `"product recall"`, `"data leak"`, `"class action"`, "lawsuit", "injured", "explosion"},
		"fr": {"intoxication", `"rappel produit"`, `"rappel conso"`, `"fuite de donnees"`, `"action collective"`, "blesse*", "explosion"},
	}
}

// TermsConfig configures the emerging-terms detector: a word (stopwords
// removed) emerges when the posts of the window that use it reach
// MinCount, come from MinAuthors authors, and are MinRatio times what its
// share of the posts over the previous BaselineHours hours predicts
// (ratio of (observed+1) to (expected+1)).
type TermsConfig struct {
	Disabled bool `yaml:"disabled"`
	// MinCount is the posts that must use the word (default 8).
	MinCount int `yaml:"min_count"`
	// MinAuthors is the distinct authors among them (default 3: one
	// account repeating itself is not a trend).
	MinAuthors int `yaml:"min_authors"`
	// MinRatio is the lift over the baseline (default 5).
	MinRatio float64 `yaml:"min_ratio"`
	// BaselineHours is the hours of history the baseline reads (default 24).
	BaselineHours int `yaml:"baseline_hours"`
	// MinBaselineDocs is the posts the baseline must hold before any word
	// can emerge (default 200), so that a fresh start is not all news.
	MinBaselineDocs int `yaml:"min_baseline_docs"`
	// MinLength is the shortest word considered, in letters (default 3).
	MinLength int `yaml:"min_length"`
	// Stopwords are added to the built-in English and French stopwords.
	Stopwords []string `yaml:"stopwords"`
	// MaxAlerts bounds the terms alerted per evaluation (default 3).
	MaxAlerts int `yaml:"max_alerts"`
}

// NoiseConfig controls how alerts group, repeat and resolve. While a key
// keeps triggering, its alert is updated, never raised again.
type NoiseConfig struct {
	// ResolveAfter is how many consecutive evaluations without a trigger
	// resolve an alert (default 10: ten minutes back to normal).
	ResolveAfter int `yaml:"resolve_after"`
	// Cooldown is how long after an alert resolves a new trigger of the
	// same key reopens it instead of raising a new one (default 1h).
	Cooldown time.Duration `yaml:"cooldown"`
	// UpdateEvery is the least event time between two alert.updated events
	// of one alert (default 1m); an escalation always goes out at once.
	UpdateEvery time.Duration `yaml:"update_every"`
	// MaxUpdatesPerHour bounds the alert.updated events of one alert in an
	// hour of event time (default 12); later updates are stored, not pushed.
	MaxUpdatesPerHour int `yaml:"max_updates_per_hour"`
}

// ExplainConfig bounds what an alert's explanation carries.
type ExplainConfig struct {
	// Samples is the sample posts kept (default 5).
	Samples int `yaml:"samples"`
	// ExcerptRunes is the length of a sample's excerpt (default 140).
	ExcerptRunes int `yaml:"excerpt_runes"`
	// TopTerms and TopAuthors bound those lists (default 5 each).
	TopTerms   int `yaml:"top_terms"`
	TopAuthors int `yaml:"top_authors"`
}

// Format is a webhook's payload format.
type Format string

// The webhook formats.
const (
	// FormatJSON is Vigie's own JSON (WebhookPayload), signed when a secret
	// is set.
	FormatJSON Format = "json"
	// FormatSlack is a Slack incoming-webhook message: {"text", "blocks"}.
	FormatSlack Format = "slack"
)

// WebhookConfig is one outbound webhook.
type WebhookConfig struct {
	// Name identifies the webhook in metrics and the delivery queue.
	Name string `yaml:"name"`
	// URL is where alerts are POSTed (http or https).
	URL    string `yaml:"url"`
	Format Format `yaml:"format"`
	// Secret signs each body with HMAC-SHA256 (header X-Vigie-Signature);
	// SecretFile reads it from a file instead (trailing newline trimmed).
	Secret     string `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	// MinSeverity is the least severity sent (default warning).
	MinSeverity Severity `yaml:"min_severity"`
	// Events lists the changes sent (default raised, escalated, reopened,
	// acked, resolved: every change but plain updates).
	Events []Change `yaml:"events"`
}

// DeliveryConfig configures webhook delivery from the durable queue.
type DeliveryConfig struct {
	// Timeout bounds one HTTP attempt (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts is the attempts before a delivery is dead-lettered
	// (default 8: about 4 minutes of back-off with the defaults).
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is the wait after the first failure, doubled after each
	// next one up to MaxBackoff (defaults 2s and 5m).
	Backoff    time.Duration `yaml:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// ParseConfig reads a YAML watch section strictly: unknown fields are
// errors. The result is validated except for Path, which the caller sets.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // an empty document is all defaults
		return Config{}, fmt.Errorf("watch config: %w", err)
	}
	c.Path = "unset"
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	c.Path = ""
	return c, nil
}

// LoadConfig reads a YAML file with ParseConfig.
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read watch config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func def[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("watch: path required")
	}
	def(&c.Window, 5*time.Minute)
	def(&c.Step, time.Minute)
	def(&c.Grace, 10*time.Second)
	def(&c.BatchSize, 512)
	def(&c.MaxDelay, 250*time.Millisecond)
	def(&c.MaxWindowMentions, 50_000)
	def(&c.MaxSeries, 256)
	if c.IgnoreTags == nil {
		c.IgnoreTags = []string{"spam"}
	}
	if c.Scopes == nil {
		c.Scopes = []string{"queue", "tag"}
	}
	b := &c.Baseline
	def(&b.Days, 7)
	def(&b.Spread, 30*time.Minute)
	def(&b.MinDays, 3)
	def(&b.RecentWindows, 12)
	def(&b.MinRecent, 6)
	def(&b.Alpha, 1e-6)
	def(&c.Volume.K, 4)
	def(&c.Volume.CriticalK, 8)
	def(&c.Volume.MinCount, 10)
	def(&c.Negative.K, 4)
	def(&c.Negative.CriticalK, 8)
	def(&c.Negative.MinCount, 5)
	def(&c.Negative.MinShare, 0.3)
	def(&c.Negative.MinShareRise, 0.1)
	def(&c.Negative.NegativeBelow, -0.2)
	def(&c.Influencer.MinInfluence, 60)
	def(&c.Influencer.CriticalInfluence, 80)
	if c.Crisis.Lists == nil {
		c.Crisis.Lists = DefaultCrisisLists()
	}
	def(&c.Crisis.CriticalCount, 3)
	t := &c.Terms
	def(&t.MinCount, 8)
	def(&t.MinAuthors, 3)
	def(&t.MinRatio, 5)
	def(&t.BaselineHours, 24)
	def(&t.MinBaselineDocs, 200)
	def(&t.MinLength, 3)
	def(&t.MaxAlerts, 3)
	n := &c.Noise
	def(&n.ResolveAfter, 10)
	def(&n.Cooldown, time.Hour)
	def(&n.UpdateEvery, time.Minute)
	def(&n.MaxUpdatesPerHour, 12)
	e := &c.Explain
	def(&e.Samples, 5)
	def(&e.ExcerptRunes, 140)
	def(&e.TopTerms, 5)
	def(&e.TopAuthors, 5)
	d := &c.Delivery
	def(&d.Timeout, 10*time.Second)
	def(&d.MaxAttempts, 8)
	def(&d.Backoff, 2*time.Second)
	def(&d.MaxBackoff, 5*time.Minute)

	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("watch: "+format, args...)) }
	if c.Step < time.Minute || c.Step%time.Minute != 0 {
		bad("step %v: want whole minutes (counts are per minute)", c.Step)
	}
	if c.Window < c.Step || c.Step > 0 && c.Window%c.Step != 0 {
		bad("window %v: want a multiple of step %v", c.Window, c.Step)
	}
	if c.Window > 6*time.Hour {
		bad("window %v: at most 6h", c.Window)
	}
	if c.Grace < 0 || c.Grace >= c.Step {
		bad("grace %v: want 0 or more, less than step %v", c.Grace, c.Step)
	}
	if c.BatchSize < 1 || c.MaxWindowMentions < 1 || c.MaxSeries < 1 {
		bad("batch_size, max_window_mentions and max_series must be positive")
	}
	if c.MaxDelay < 0 || c.MaxDelay > 10*time.Second {
		bad("max_delay %v: want 0 to 10s", c.MaxDelay)
	}
	for _, s := range c.Scopes {
		if s != "queue" && s != "tag" && s != "source" && s != "lang" {
			bad("scope %q: want queue, tag, source or lang", s)
		}
	}
	seen := map[string]bool{}
	for i, tp := range c.Topics {
		if tp.Name == "" || strings.ContainsAny(tp.Name, " \t\n") {
			bad("topics[%d]: name %q: want a word", i, tp.Name)
		}
		if seen[tp.Name] {
			bad("topics[%d]: name %q used twice", i, tp.Name)
		}
		seen[tp.Name] = true
		if _, err := router.ParseQuery(tp.Query); err != nil {
			bad("topics[%d] (%s): query: %w", i, tp.Name, err)
		}
	}
	if b.Days < 1 || b.Days > 28 || b.MinDays < 1 || b.MinDays > b.Days {
		bad("baseline: days %d, min_days %d: want 1 <= min_days <= days <= 28", b.Days, b.MinDays)
	}
	if b.Alpha <= 0 || b.Alpha >= 0.5 {
		bad("baseline: alpha %v: want (0, 0.5)", b.Alpha)
	}
	if b.Spread < 0 || b.Spread > 6*time.Hour {
		bad("baseline: spread %v: want 0 to 6h", b.Spread)
	}
	if b.RecentWindows < 1 || b.MinRecent < 1 || b.MinRecent > b.RecentWindows {
		bad("baseline: recent_windows %d, min_recent %d: want 1 <= min_recent <= recent_windows", b.RecentWindows, b.MinRecent)
	}
	for name, s := range map[string]*SpikeConfig{"volume": &c.Volume, "negative": &c.Negative.SpikeConfig} {
		if s.K <= 0 || s.CriticalK < s.K || s.MinCount < 1 {
			bad("%s: k %v, critical_k %v, min_count %d: want 0 < k <= critical_k, min_count >= 1", name, s.K, s.CriticalK, s.MinCount)
		}
	}
	if c.Negative.MinShare < 0 || c.Negative.MinShare > 1 || c.Negative.MinShareRise < 0 || c.Negative.MinShareRise > 1 {
		bad("negative: min_share and min_share_rise must be in [0, 1]")
	}
	if c.Negative.NegativeBelow < -1 || c.Negative.NegativeBelow > 1 {
		bad("negative: negative_below %v: want [-1, 1]", c.Negative.NegativeBelow)
	}
	if in := c.Influencer; in.MinInfluence < 1 || in.MinInfluence > 100 || in.CriticalInfluence < in.MinInfluence || in.CriticalInfluence > 100 {
		bad("influencer: min_influence %d, critical_influence %d: want 1 <= min <= critical <= 100", in.MinInfluence, in.CriticalInfluence)
	}
	if c.Crisis.CriticalCount < 1 {
		bad("crisis: critical_count must be positive")
	}
	for lang, qs := range c.Crisis.Lists {
		if lang != "*" && (len(lang) != 2 || strings.ToLower(lang) != lang) {
			bad("crisis: language %q: want a lower-case ISO 639-1 code or \"*\"", lang)
		}
		for i, q := range qs {
			if _, err := router.ParseQuery(q); err != nil {
				bad("crisis: lists[%s][%d] %q: %w", lang, i, q, err)
			}
		}
	}
	if t.MinCount < 1 || t.MinAuthors < 1 || t.MinRatio < 1 || t.BaselineHours < 1 || t.BaselineHours > 24*7 || t.MinBaselineDocs < 0 || t.MinLength < 1 || t.MaxAlerts < 1 {
		bad("terms: out of range: %+v", *t)
	}
	if n.ResolveAfter < 1 || n.Cooldown < 0 || n.UpdateEvery < 0 || n.MaxUpdatesPerHour < 1 {
		bad("noise: out of range: %+v", *n)
	}
	if e.Samples < 0 || e.Samples > 50 || e.ExcerptRunes < 0 || e.ExcerptRunes > 1000 || e.TopTerms < 0 || e.TopAuthors < 0 {
		bad("explain: out of range: %+v", *e)
	}
	if d.Timeout <= 0 || d.MaxAttempts < 1 || d.Backoff <= 0 || d.MaxBackoff < d.Backoff {
		bad("delivery: out of range: %+v", *d)
	}
	names := map[string]bool{}
	for i := range c.Webhooks {
		if err := c.Webhooks[i].validate(); err != nil {
			bad("webhooks[%d]: %w", i, err)
		}
		if names[c.Webhooks[i].Name] {
			bad("webhooks[%d]: name %q used twice", i, c.Webhooks[i].Name)
		}
		names[c.Webhooks[i].Name] = true
	}
	return errors.Join(errs...)
}

func (w *WebhookConfig) validate() error {
	if w.Name == "" {
		return errors.New("name required")
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: want an absolute http(s) URL", w.URL)
	}
	def(&w.Format, FormatJSON)
	if w.Format != FormatJSON && w.Format != FormatSlack {
		return fmt.Errorf("format %q: want json or slack", w.Format)
	}
	if w.SecretFile != "" {
		if w.Secret != "" {
			return errors.New("secret and secret_file both set")
		}
		b, err := os.ReadFile(w.SecretFile)
		if err != nil {
			return fmt.Errorf("read secret_file: %w", err)
		}
		w.Secret, w.SecretFile = strings.TrimRight(string(b), "\r\n"), ""
	}
	def(&w.MinSeverity, SeverityWarning)
	if !w.MinSeverity.Valid() {
		return fmt.Errorf("min_severity %q: want info, warning or critical", w.MinSeverity)
	}
	if w.Events == nil {
		w.Events = []Change{ChangeRaised, ChangeEscalated, ChangeReopened, ChangeAcked, ChangeResolved}
	}
	for _, ev := range w.Events {
		if !ev.valid() {
			return fmt.Errorf("events: %q: want raised, updated, escalated, reopened, acked or resolved", ev)
		}
	}
	return nil
}
