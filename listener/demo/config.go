package demo

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// Intent is what a generated mention is meant to express. It is the ground
// truth the generator used, handy to evaluate a classifier.
type Intent string

// The intents the generator writes.
const (
	Complaint  Intent = "complaint"
	Question   Intent = "question"
	Praise     Intent = "praise"
	Purchase   Intent = "purchase"
	Churn      Intent = "churn"
	Spam       Intent = "spam"
	Crisis     Intent = "crisis"
	Competitor Intent = "competitor" // talk about Zephyr Rail or RailNova, sometimes against Velora
	Chatter    Intent = "chatter"    // neutral posts that name the brand
)

// Intents lists every Intent, in a fixed order.
var Intents = []Intent{Complaint, Question, Praise, Purchase, Churn, Spam, Crisis, Competitor, Chatter}

// DefaultMix is the share of new conversations by intent when Config.Mix is
// nil: mostly complaints and questions, as a customer-service desk sees them;
// crisis posts are rare on purpose.
func DefaultMix() map[Intent]float64 {
	return map[Intent]float64{
		Complaint:  0.34,
		Question:   0.18,
		Praise:     0.12,
		Purchase:   0.07,
		Churn:      0.05,
		Spam:       0.06,
		Crisis:     0.01,
		Competitor: 0.07,
		Chatter:    0.10,
	}
}

// DefaultLangs is the share of authors by language when Config.Langs is nil.
func DefaultLangs() map[string]float64 {
	return map[string]float64{"fr": 0.55, "en": 0.33, "es": 0.05, "de": 0.04, "it": 0.03}
}

// DefaultSources is the share of authors by network when Config.Sources is nil.
func DefaultSources() map[string]float64 {
	return map[string]float64{"x": 0.32, "mastodon": 0.18, "bluesky": 0.18, "facebook": 0.17, "instagram": 0.15}
}

// Burst makes the feed surge now and then, the way a real incident does: for
// Length out of every Every, the mention rate is multiplied by Factor and
// complaints dominate. The zero value means no bursts.
type Burst struct {
	Every  time.Duration
	Length time.Duration
	Factor float64
}

// Config configures a Generator. The zero value of each field is replaced by
// the default its comment gives, except Rate, Seed and CheckInRate.
type Config struct {
	// Rate is the mean number of mentions a second Run emits; arrivals are
	// Poisson-like around it. Required for Run (> 0); Next ignores it except
	// to space the created_at of its mentions (1 a second when zero).
	Rate float64
	// Seed makes the stream reproducible: the same Config gives the same
	// mentions, in the same order.
	Seed int64
	// Now gives the time stamps of what Run emits, and the start of the
	// virtual clock Next uses (default time.Now). Pacing always uses the real
	// monotonic clock.
	Now func() time.Time
	// Authors is the size of the author pool (default 3,000).
	Authors int
	// Mix weighs new conversations by intent (default DefaultMix()). Weights
	// are relative; they need not sum to 1.
	Mix map[Intent]float64
	// Langs weighs authors by language, among fr, en, es, de, it (default
	// DefaultLangs()).
	Langs map[string]float64
	// Sources weighs authors by network, among mastodon, bluesky, x,
	// facebook, instagram (default DefaultSources()).
	Sources map[string]float64
	// FollowUpShare is the share of mentions that continue an author's
	// recent conversation (default 0.15; negative means none).
	FollowUpShare float64
	// EditShare is the share of mentions that are edits of a recent post, on
	// the networks that keep the id on edit (default 0.02; negative means none).
	EditShare float64
	// GeoShare is the share of posts, on the networks that carry
	// coordinates, located near a Velora station (default 0.08; negative
	// means none).
	GeoShare float64
	// InfluencerShare is the share of authors with 10k to 2M followers
	// (default 0.02; negative means none).
	InfluencerShare float64
	// CheckInRate is the mean number of check-ins a second Run emits near
	// the stations; zero means no check-ins.
	CheckInRate float64
	// Burst adds incident-like surges to Run (zero value: none).
	Burst Burst
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Now == nil {
		c.Now = time.Now
	}
	if math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) || c.Rate < 0 {
		return fmt.Errorf("demo: rate %v must be a finite number >= 0", c.Rate)
	}
	if math.IsNaN(c.CheckInRate) || math.IsInf(c.CheckInRate, 0) || c.CheckInRate < 0 {
		return fmt.Errorf("demo: check-in rate %v must be a finite number >= 0", c.CheckInRate)
	}
	if c.Authors == 0 {
		c.Authors = 3000
	}
	if c.Authors < 50 || c.Authors > 1_000_000 {
		return fmt.Errorf("demo: authors %d must be within [50, 1000000]", c.Authors)
	}
	if c.Mix == nil {
		c.Mix = DefaultMix()
	}
	known := map[Intent]bool{}
	for _, i := range Intents {
		known[i] = true
	}
	if err := checkWeights("mix", c.Mix, func(k Intent) bool { return known[k] }); err != nil {
		return err
	}
	if c.Langs == nil {
		c.Langs = DefaultLangs()
	}
	if err := checkWeights("langs", c.Langs, func(k string) bool { _, ok := templates[k]; return ok }); err != nil {
		return err
	}
	if c.Sources == nil {
		c.Sources = DefaultSources()
	}
	if err := checkWeights("sources", c.Sources, func(k string) bool { _, ok := networks[k]; return ok }); err != nil {
		return err
	}
	for _, s := range []struct {
		name string
		p    *float64
		def  float64
	}{
		{"follow-up share", &c.FollowUpShare, 0.15},
		{"edit share", &c.EditShare, 0.02},
		{"geo share", &c.GeoShare, 0.08},
		{"influencer share", &c.InfluencerShare, 0.02},
	} {
		switch {
		case math.IsNaN(*s.p) || *s.p > 1:
			return fmt.Errorf("demo: %s %v must be within [0, 1] (negative for none)", s.name, *s.p)
		case *s.p == 0:
			*s.p = s.def
		case *s.p < 0:
			*s.p = 0
		}
	}
	if c.FollowUpShare+c.EditShare > 0.9 {
		return fmt.Errorf("demo: follow-up share %v plus edit share %v leave too few new conversations", c.FollowUpShare, c.EditShare)
	}
	b := c.Burst
	if b != (Burst{}) {
		if b.Every <= 0 || b.Length <= 0 || b.Length >= b.Every {
			return fmt.Errorf("demo: burst length %v must be positive and shorter than its period %v", b.Length, b.Every)
		}
		if math.IsNaN(b.Factor) || math.IsInf(b.Factor, 0) || b.Factor < 1 {
			return fmt.Errorf("demo: burst factor %v must be a finite number >= 1", b.Factor)
		}
	}
	return nil
}

func checkWeights[K ~string](name string, w map[K]float64, known func(K) bool) error {
	sum := 0.0
	for k, v := range w {
		if !known(k) {
			return fmt.Errorf("demo: %s: unknown key %q", name, k)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return fmt.Errorf("demo: %s: weight of %q is %v, must be a finite number >= 0", name, k, v)
		}
		sum += v
	}
	if sum <= 0 {
		return errors.New("demo: " + name + ": weights must not all be zero")
	}
	return nil
}

// weighted is a cumulative table for picking keys by weight, built in sorted
// key order so that picks do not depend on map iteration.
type weighted[K ~string] struct {
	keys []K
	cum  []float64
}

func newWeighted[K ~string](w map[K]float64) weighted[K] {
	keys := make([]K, 0, len(w))
	for k, v := range w {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	t := weighted[K]{keys: keys, cum: make([]float64, len(keys))}
	sum := 0.0
	for i, k := range keys {
		sum += w[k]
		t.cum[i] = sum
	}
	return t
}

// pick maps u, uniform in [0, 1), to a key.
func (t weighted[K]) pick(u float64) K {
	x := u * t.cum[len(t.cum)-1]
	i := sort.Search(len(t.cum), func(i int) bool { return t.cum[i] > x })
	if i >= len(t.keys) {
		i = len(t.keys) - 1
	}
	return t.keys[i]
}
