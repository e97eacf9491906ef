package watch

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/router"
)

// Time inside the engine is in whole minutes since the Unix epoch.

func minuteOf(t time.Time) int64 { return t.Unix() / 60 }

func timeOf(minute int64) time.Time { return time.Unix(minute*60, 0).UTC() }

// eventTime is when a mention happened: its created_at, unless missing or
// in the future of its arrival (a wrong clock), then its arrival.
func eventTime(md *desk.MentionData) time.Time {
	t, r := md.Mention.CreatedAt, md.ReceivedAt
	if t.IsZero() || (!r.IsZero() && t.After(r.Add(time.Minute))) {
		return r
	}
	return t
}

// slot is one minute of one series.
type slot struct {
	minute     int64
	total, neg uint32
}

// series counts the mentions of one scope per minute, in a ring long
// enough for the seasonal baseline.
type series struct {
	name string
	ring []slot
}

func (s *series) add(minute int64, neg bool) {
	sl := &s.ring[mod(minute, int64(len(s.ring)))]
	if sl.minute != minute {
		*sl = slot{minute: minute}
	}
	sl.total++
	if neg {
		sl.neg++
	}
}

// sum returns the mentions and negative mentions in [from, to).
func (s *series) sum(from, to int64) (total, neg float64) {
	n := int64(len(s.ring))
	for m := from; m < to; m++ {
		sl := &s.ring[mod(m, n)]
		if sl.minute == m {
			total += float64(sl.total)
			neg += float64(sl.neg)
		}
	}
	return total, neg
}

// item is a mention of the current window, kept to explain alerts.
type item struct {
	minute    int64
	at        time.Time
	source    string
	id        string
	url       string
	authorID  string
	handle    string
	influence int
	sentiment float64
	negative  bool
	series    []int // indexes in engine.list
	terms     []string
	crisis    []int    // indexes in engine.crisis
	matched   []string // the crisis words that matched
	excerpt   string
}

func (it *item) author() string { return it.source + "/" + it.authorID }

func (it *item) sample() Sample {
	return Sample{Source: it.source, ID: it.id, URL: it.url, AuthorID: it.authorID, Handle: it.handle,
		CreatedAt: it.at, Sentiment: it.sentiment, Influence: it.influence, Excerpt: it.excerpt}
}

type namedQuery struct {
	name string
	q    *router.Query
}

// trigger is one detector firing for one key at one evaluation.
type trigger struct {
	key      string
	detector Detector
	scope    string
	severity Severity
	title    string
	ex       Explanation
}

// engine turns mentions into per-minute counts and evaluates the detectors
// at each step. It does no I/O and reads no clock: the same mentions give
// the same triggers. It is not safe for concurrent use.
type engine struct {
	cfg      *Config
	stop     map[string]bool
	ignore   map[string]bool
	topics   []namedQuery
	crisis   []namedQuery
	crisisBy map[string][]int // language → indexes in crisis
	scopes   map[string]bool

	ringLen int
	byName  map[string]int
	list    []*series
	// since is the first minute with data (0: none yet).
	since int64
	// evaluated is the end of the last evaluated window (0: none yet).
	evaluated int64

	window     []*item
	terms      *termBaseline
	windowMin  int64
	stepMin    int64
	overflowed int // mentions not kept in the window buffer since the last evaluation

	// dirty collects the counts added since the last flush, for the store.
	dirty map[bucketKey]*[2]int
}

type bucketKey struct {
	series string
	minute int64
}

func newEngine(cfg *Config) (*engine, error) {
	e := &engine{
		cfg:       cfg,
		stop:      stopwordSet(cfg.Terms.Stopwords),
		ignore:    map[string]bool{},
		crisisBy:  map[string][]int{},
		scopes:    map[string]bool{},
		byName:    map[string]int{},
		terms:     newTermBaseline(cfg.Terms.BaselineHours),
		windowMin: int64(cfg.Window / time.Minute),
		stepMin:   int64(cfg.Step / time.Minute),
		dirty:     map[bucketKey]*[2]int{},
	}
	for _, t := range cfg.IgnoreTags {
		e.ignore[t] = true
	}
	for _, s := range cfg.Scopes {
		e.scopes[s] = true
	}
	for _, tp := range cfg.Topics {
		q, err := router.ParseQuery(tp.Query)
		if err != nil {
			return nil, fmt.Errorf("watch: topic %s: %w", tp.Name, err)
		}
		e.topics = append(e.topics, namedQuery{tp.Name, q})
	}
	langs := make([]string, 0, len(cfg.Crisis.Lists))
	for l := range cfg.Crisis.Lists {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, l := range langs {
		for _, src := range cfg.Crisis.Lists[l] {
			q, err := router.ParseQuery(src)
			if err != nil {
				return nil, fmt.Errorf("watch: crisis word %q: %w", src, err)
			}
			e.crisisBy[l] = append(e.crisisBy[l], len(e.crisis))
			e.crisis = append(e.crisis, namedQuery{src, q})
		}
	}
	b := cfg.Baseline
	e.ringLen = b.Days*1440 + int(b.Spread/time.Minute) + int(e.windowMin)*(b.RecentWindows+2) + 2
	e.seriesFor("all")
	return e, nil
}

// seriesFor returns the index of a series, creating it when there is room
// (-1 otherwise).
func (e *engine) seriesFor(name string) int {
	if i, ok := e.byName[name]; ok {
		return i
	}
	if len(e.list) >= e.cfg.MaxSeries {
		return -1
	}
	e.list = append(e.list, &series{name: name, ring: make([]slot, e.ringLen)})
	e.byName[name] = len(e.list) - 1
	return len(e.list) - 1
}

func (e *engine) isNegative(en *router.Enrichment) bool {
	if en.Label != "" {
		return en.Label == "negative"
	}
	return en.Sentiment <= e.cfg.Negative.NegativeBelow
}

// observeResult says what became of a mention.
type observeResult int

const (
	observed observeResult = iota
	observedLate
	ignoredEdit
	ignoredTag
	ignoredOld
)

func (r observeResult) String() string {
	return [...]string{"counted", "late", "edit", "ignored_tag", "too_old"}[r]
}

// observe counts a mention at its event time.
func (e *engine) observe(md *desk.MentionData) observeResult {
	if md.Version > 1 {
		return ignoredEdit // an edit is not a new mention
	}
	for _, t := range md.Decision.Tags {
		if e.ignore[t] {
			return ignoredTag
		}
	}
	at := eventTime(md)
	minute := minuteOf(at)
	if e.since != 0 && minute < e.evaluated-int64(e.ringLen)+e.windowMin {
		return ignoredOld
	}
	if e.since == 0 || minute < e.since {
		if e.since == 0 {
			e.evaluated = minute - mod(minute, e.stepMin) // nothing to evaluate before the first mention
		}
		e.since = minute
	}
	m, en := &md.Mention, &md.Enrichment
	neg := e.isNegative(en)
	doc := router.NewDoc(m, en)
	idx := make([]int, 0, 4)
	addTo := func(name string) {
		if i := e.seriesFor(name); i >= 0 && !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	addTo("all")
	if e.scopes["queue"] && md.Decision.Queue != "" {
		addTo("queue:" + md.Decision.Queue)
	}
	if e.scopes["tag"] {
		for _, t := range md.Decision.Tags {
			addTo("tag:" + t)
		}
	}
	if e.scopes["source"] && m.Source != "" {
		addTo("source:" + m.Source)
	}
	if e.scopes["lang"] && en.Lang != "" {
		addTo("lang:" + en.Lang)
	}
	for _, tp := range e.topics {
		if ok, _ := tp.q.Match(doc); ok {
			addTo("topic:" + tp.name)
		}
	}
	for _, i := range idx {
		e.list[i].add(minute, neg)
		d := e.dirty[bucketKey{e.list[i].name, minute}]
		if d == nil {
			d = new([2]int)
			e.dirty[bucketKey{e.list[i].name, minute}] = d
		}
		d[0]++
		if neg {
			d[1]++
		}
	}
	words := terms(m.Text, e.stop, e.cfg.Terms.MinLength)
	e.terms.add(minute/60, words)

	if minute < e.evaluated-e.windowMin {
		return observedLate // counted for the baselines, too late for any window
	}
	it := &item{minute: minute, at: at, source: m.Source, id: m.ID, url: m.URL, authorID: m.Author.ID, handle: m.Author.Handle,
		influence: en.Influence, sentiment: en.Sentiment, negative: neg, series: idx, terms: words}
	if !e.cfg.Crisis.Disabled {
		lang := en.Lang
		if lang == "" {
			lang = m.Lang
		}
		for _, l := range []string{"*", lang} {
			for _, ci := range e.crisisBy[l] {
				if ok, hits := e.crisis[ci].q.Match(doc); ok && !slices.Contains(it.crisis, ci) {
					it.crisis = append(it.crisis, ci)
					for _, h := range hits {
						if !slices.Contains(it.matched, h) {
							it.matched = append(it.matched, h)
						}
					}
				}
			}
		}
	}
	important := len(it.crisis) > 0 || (neg && en.Influence >= e.cfg.Influencer.MinInfluence)
	if len(e.window) >= e.cfg.MaxWindowMentions && !important {
		e.overflowed++
	} else {
		it.excerpt = excerpt(m.Text, e.cfg.Explain.ExcerptRunes)
		e.window = append(e.window, it)
	}
	if minute < e.evaluated {
		return observedLate
	}
	return observed
}

// forget removes a deleted post (id set) or all of an author's posts from
// the window buffer.
func (e *engine) forget(source, id, authorID string) {
	e.window = slices.DeleteFunc(e.window, func(it *item) bool {
		return it.source == source && ((id != "" && it.id == id) || (id == "" && authorID != "" && it.authorID == authorID))
	})
}

// evaluate runs the detectors on the window ending at minute end (the
// window is [end-Window, end)) and returns their triggers, sorted by key.
func (e *engine) evaluate(end int64) []trigger {
	start := end - e.windowMin
	in := make([]*item, 0, len(e.window))
	for _, it := range e.window {
		if it.minute >= start && it.minute < end {
			in = append(in, it)
		}
	}
	// Keep only what the next windows may still use.
	e.window = slices.DeleteFunc(e.window, func(it *item) bool { return it.minute < start+e.stepMin })
	e.evaluated = end
	var out []trigger
	out = append(out, e.spikes(start, end, in)...)
	if !e.cfg.Influencer.Disabled {
		out = append(out, e.influencers(start, end, in)...)
	}
	if !e.cfg.Crisis.Disabled {
		out = append(out, e.crises(start, end, in)...)
	}
	if !e.cfg.Terms.Disabled {
		out = append(out, e.emerging(start, end, in)...)
	}
	e.overflowed = 0
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// median returns the median of xs (sorted in place).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// robust returns median, MAD and σ = max(1.4826·MAD, √median, 1) of xs.
// 1.4826·MAD estimates a normal law's σ; √median is the Poisson noise of a
// count, the floor when history is flat (MAD 0).
func robust(xs []float64) (med, mad, sigma float64) {
	med = median(xs)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - med)
	}
	mad = median(dev)
	sigma = math.Max(1.4826*mad, math.Max(math.Sqrt(med), 1))
	return med, mad, sigma
}

// samples returns the baseline windows of the window ending at end: the
// same time of day on previous days when MinDays of history exist,
// otherwise the windows just before. ok is false while warming up.
func (e *engine) samples(s *series) func(end int64) (kind string, total, neg []float64, ok bool) {
	return func(end int64) (string, []float64, []float64, bool) {
		b := e.cfg.Baseline
		w := e.windowMin
		days := 0
		for d := b.Days; d >= 1; d-- {
			if end-w-int64(d)*1440 >= e.since {
				days = d
				break
			}
		}
		var total, neg []float64
		if days >= b.MinDays {
			spread := int64(b.Spread / time.Minute)
			for d := 1; d <= days; d++ {
				for off := -spread; off <= spread; off += w {
					to := end - int64(d)*1440 + off
					if to-w < e.since {
						continue
					}
					t, n := s.sum(to-w, to)
					total, neg = append(total, t), append(neg, n)
				}
			}
			return "seasonal", total, neg, true
		}
		for k := 1; k <= b.RecentWindows; k++ {
			to := end - int64(k)*w
			if to-w < e.since {
				break
			}
			t, n := s.sum(to-w, to)
			total, neg = append(total, t), append(neg, n)
		}
		return "recent", total, neg, len(total) >= b.MinRecent
	}
}

// spikeTest compares a window's count with its baseline samples. The
// threshold is the highest of: the count that Poisson noise around the
// baseline (λ = the larger of median and mean) reaches with probability
// at most Alpha; median + K·1.4826·MAD, for series noisier than Poisson;
// and MinCount. Critical needs twice the threshold and median +
// CriticalK·σ.
func spikeTest(obs float64, xs []float64, c SpikeConfig, alpha float64) (bl Baseline, threshold float64, sev Severity, ok bool) {
	mean := 0.0
	for _, x := range xs {
		mean += x
	}
	if len(xs) > 0 {
		mean /= float64(len(xs))
	}
	med, mad, sigma := robust(xs)
	lambda := math.Max(math.Max(med, mean), 0.5)
	sigma = math.Max(sigma, math.Sqrt(lambda))
	bl = Baseline{Samples: len(xs), Median: med, Mean: round2(mean), MAD: mad, Sigma: round2(sigma)}
	threshold = math.Max(poissonQuantile(lambda, alpha), math.Ceil(med+c.K*1.4826*mad))
	threshold = math.Max(threshold, float64(c.MinCount))
	if obs < threshold {
		return bl, threshold, "", false
	}
	sev = SeverityWarning
	if obs >= 2*threshold && obs >= med+c.CriticalK*sigma {
		sev = SeverityCritical
	}
	return bl, threshold, sev, true
}

// poissonQuantile returns the least k with P(X >= k) <= alpha for X
// Poisson of mean lambda.
func poissonQuantile(lambda, alpha float64) float64 {
	p := distuv.Poisson{Lambda: lambda}
	lo, hi := math.Ceil(lambda), math.Ceil(lambda+12*math.Sqrt(lambda)+12)
	for lo < hi {
		mid := math.Floor((lo + hi) / 2)
		if p.Survival(mid-1) <= alpha {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func (e *engine) spikes(start, end int64, in []*item) []trigger {
	if e.cfg.Volume.Disabled && e.cfg.Negative.Disabled {
		return nil
	}
	var out []trigger
	minObs := min(e.cfg.Volume.MinCount, e.cfg.Negative.MinCount)
	for si, s := range e.list {
		obs, neg := s.sum(start, end)
		if obs < float64(minObs) {
			continue
		}
		kind, total, negs, ok := e.samples(s)(end)
		if !ok {
			continue
		}
		inSeries := func(it *item) bool { return slices.Contains(it.series, si) }
		if !e.cfg.Volume.Disabled {
			if bl, thr, sev, hit := spikeTest(obs, total, e.cfg.Volume, e.cfg.Baseline.Alpha); hit {
				bl.Kind = kind
				ex := e.explain(start, end, in, inSeries, byInfluence)
				ex.Metric, ex.Baseline, ex.Threshold, ex.Observed = "mentions", &bl, thr, obs
				ex.Reason = fmt.Sprintf("%.0f mentions in %s against a %s baseline of median %.0f, mean %.1f over %d windows (threshold %.0f)",
					obs, e.cfg.Window, bl.Kind, bl.Median, bl.Mean, bl.Samples, thr)
				out = append(out, trigger{key: "volume:" + s.name, detector: DetectorVolume, scope: s.name, severity: sev,
					title: fmt.Sprintf("Volume spike on %s: %.0f mentions in %s (usually %.0f)", s.name, obs, e.cfg.Window, bl.Median), ex: ex})
			}
		}
		if !e.cfg.Negative.Disabled && neg >= float64(e.cfg.Negative.MinCount) {
			share := neg / obs
			var sumT, sumN float64
			for i := range total {
				sumT += total[i]
				sumN += negs[i]
			}
			baseShare := 0.0
			if sumT > 0 {
				baseShare = sumN / sumT
			}
			nc := e.cfg.Negative
			if bl, thr, sev, hit := spikeTest(neg, negs, nc.SpikeConfig, e.cfg.Baseline.Alpha); hit && share >= nc.MinShare && share >= baseShare+nc.MinShareRise {
				bl.Kind = kind
				ex := e.explain(start, end, in, func(it *item) bool { return it.negative && inSeries(it) }, byNegativity)
				sh, bsh := round2(share), round2(baseShare)
				ex.Metric, ex.Baseline, ex.Threshold, ex.Observed, ex.Share, ex.BaselineShare = "negative_mentions", &bl, thr, neg, &sh, &bsh
				ex.Reason = fmt.Sprintf("%.0f negative mentions in %s (%.0f%% of %.0f) against a %s median of %.0f (threshold %.0f) and a usual share of %.0f%%",
					neg, e.cfg.Window, 100*share, obs, bl.Kind, bl.Median, thr, 100*baseShare)
				out = append(out, trigger{key: "negative:" + s.name, detector: DetectorNegative, scope: s.name, severity: sev,
					title: fmt.Sprintf("Negative spike on %s: %.0f negative mentions in %s (%.0f%%, usually %.0f%%)", s.name, neg, e.cfg.Window, 100*share, 100*baseShare), ex: ex})
			}
		}
	}
	return out
}

func (e *engine) influencers(start, end int64, in []*item) []trigger {
	min := e.cfg.Influencer.MinInfluence
	byAuthor := map[string][]*item{}
	var order []string
	for _, it := range in {
		if it.negative && it.influence >= min {
			a := it.author()
			if byAuthor[a] == nil {
				order = append(order, a)
			}
			byAuthor[a] = append(byAuthor[a], it)
		}
	}
	var out []trigger
	for _, a := range order {
		posts := byAuthor[a]
		top := posts[0]
		for _, p := range posts {
			if p.influence > top.influence {
				top = p
			}
		}
		sev := SeverityWarning
		if top.influence >= e.cfg.Influencer.CriticalInfluence {
			sev = SeverityCritical
		}
		ex := e.explain(start, end, in, func(it *item) bool { return it.author() == a && it.negative }, byNegativity)
		ex.Metric, ex.Threshold, ex.Observed = "negative_posts_by_influencer", float64(min), float64(top.influence)
		ex.Reason = fmt.Sprintf("%d negative post(s) in %s by an author of influence %d (threshold %d)", len(posts), e.cfg.Window, top.influence, min)
		who := top.handle
		if who == "" {
			who = a
		}
		out = append(out, trigger{key: "influencer:" + a, detector: DetectorInfluencer, scope: "author:" + a, severity: sev,
			title: fmt.Sprintf("Influencer complaint: %s (influence %d)", who, top.influence), ex: ex})
	}
	return out
}

func (e *engine) crises(start, end int64, in []*item) []trigger {
	var out []trigger
	for ci, cq := range e.crisis {
		var n, maxInf int
		var matched []string
		for _, it := range in {
			if slices.Contains(it.crisis, ci) {
				n++
				maxInf = max(maxInf, it.influence)
				for _, h := range it.matched {
					if !slices.Contains(matched, h) {
						matched = append(matched, h)
					}
				}
			}
		}
		if n == 0 {
			continue
		}
		sev := SeverityWarning
		if n >= e.cfg.Crisis.CriticalCount || maxInf >= e.cfg.Influencer.MinInfluence {
			sev = SeverityCritical
		}
		ex := e.explain(start, end, in, func(it *item) bool { return slices.Contains(it.crisis, ci) }, byTime)
		ex.Metric, ex.Threshold, ex.Observed, ex.Matched = "crisis_posts", 1, float64(n), matched
		ex.Reason = fmt.Sprintf("%d post(s) in %s match the crisis words %s", n, e.cfg.Window, cq.name)
		out = append(out, trigger{key: "crisis:" + cq.name, detector: DetectorCrisis, scope: "crisis:" + cq.name, severity: sev,
			title: fmt.Sprintf("Crisis words: %s in %d post(s)", cq.name, n), ex: ex})
	}
	return out
}

// lift scores words of the posts in: how many use each, and how many times
// more than the baseline's share predicts.
func (e *engine) lift(in []*item, end int64) (words []string, count []int, lifts []float64, baseDocs int) {
	df := map[string]int{}
	for _, it := range in {
		for _, w := range it.terms {
			df[w]++
		}
	}
	for w := range df {
		words = append(words, w)
	}
	sort.Strings(words)
	baseDocs, bdf := e.terms.stats((end-1)/60, words)
	count, lifts = make([]int, len(words)), make([]float64, len(words))
	for i, w := range words {
		count[i] = df[w]
		expected := 0.0
		if baseDocs > 0 {
			expected = float64(bdf[i]) / float64(baseDocs) * float64(len(in))
		}
		lifts[i] = (float64(df[w]) + 1) / (expected + 1)
	}
	return words, count, lifts, baseDocs
}

func (e *engine) emerging(start, end int64, in []*item) []trigger {
	tc := e.cfg.Terms
	if len(in) < tc.MinCount {
		return nil
	}
	words, count, lifts, baseDocs := e.lift(in, end)
	if baseDocs < tc.MinBaselineDocs {
		return nil
	}
	type cand struct {
		i       int
		authors int
	}
	var cands []cand
	for i := range words {
		if count[i] < tc.MinCount || lifts[i] < tc.MinRatio {
			continue
		}
		authors := map[string]bool{}
		for _, it := range in {
			if slices.Contains(it.terms, words[i]) {
				authors[it.author()] = true
			}
		}
		if len(authors) >= tc.MinAuthors {
			cands = append(cands, cand{i, len(authors)})
		}
	}
	sort.SliceStable(cands, func(a, b int) bool { return lifts[cands[a].i] > lifts[cands[b].i] })
	if len(cands) > tc.MaxAlerts {
		cands = cands[:tc.MaxAlerts]
	}
	var out []trigger
	for _, c := range cands {
		w := words[c.i]
		expected := (float64(count[c.i])+1)/lifts[c.i] - 1
		ex := e.explain(start, end, in, func(it *item) bool { return slices.Contains(it.terms, w) }, byInfluence)
		share, bshare := round2(float64(count[c.i])/float64(len(in))), round2(expected/float64(len(in)))
		ex.Metric, ex.Observed, ex.Threshold, ex.Share, ex.BaselineShare, ex.Matched = "posts_with_term", float64(count[c.i]),
			math.Max(float64(tc.MinCount), math.Ceil(tc.MinRatio*(expected+1)-1)), &share, &bshare, []string{w}
		ex.Baseline = &Baseline{Kind: "terms", Samples: baseDocs, Median: round2(expected)}
		ex.Reason = fmt.Sprintf("%q is in %d of %d posts in %s by %d authors, %.1f times what the previous %dh predict (%.1f)",
			w, count[c.i], len(in), e.cfg.Window, c.authors, lifts[c.i], tc.BaselineHours, expected)
		out = append(out, trigger{key: "term:" + w, detector: DetectorTerms, scope: "term:" + w, severity: SeverityInfo,
			title: fmt.Sprintf("Emerging term %q: %d posts in %s, ×%.1f", w, count[c.i], e.cfg.Window, lifts[c.i]), ex: ex})
	}
	return out
}

// sample orders.
const (
	byInfluence = iota
	byNegativity
	byTime
)

// explain fills the top terms, top authors and samples of the posts of the
// window that keep selects.
func (e *engine) explain(start, end int64, in []*item, keep func(*item) bool, order int) Explanation {
	ex := Explanation{WindowStart: timeOf(start), WindowEnd: timeOf(end), TopTerms: []TermCount{}, TopAuthors: []AuthorCount{}, Samples: []Sample{}}
	var sel []*item
	for _, it := range in {
		if keep(it) {
			sel = append(sel, it)
		}
	}
	xc := e.cfg.Explain
	// Top terms: frequent and unusual, count × log2(1 + lift).
	if xc.TopTerms > 0 && len(sel) > 0 {
		words, count, lifts, _ := e.lift(sel, end)
		idx := make([]int, 0, len(words))
		minCount := 2
		if len(sel) < 10 {
			minCount = 1
		}
		for i := range words {
			if count[i] >= minCount {
				idx = append(idx, i)
			}
		}
		score := func(i int) float64 { return float64(count[i]) * math.Log2(1+lifts[i]) }
		sort.SliceStable(idx, func(a, b int) bool { return score(idx[a]) > score(idx[b]) })
		for _, i := range idx[:min(len(idx), xc.TopTerms)] {
			ex.TopTerms = append(ex.TopTerms, TermCount{Term: words[i], Count: count[i], Lift: round2(lifts[i])})
		}
	}
	if xc.TopAuthors > 0 {
		byA := map[string]*AuthorCount{}
		var order []*AuthorCount
		for _, it := range sel {
			a := byA[it.author()]
			if a == nil {
				a = &AuthorCount{Source: it.source, AuthorID: it.authorID, Handle: it.handle}
				byA[it.author()] = a
				order = append(order, a)
			}
			a.Count++
			a.Influence = max(a.Influence, it.influence)
		}
		sort.SliceStable(order, func(i, j int) bool {
			if order[i].Count != order[j].Count {
				return order[i].Count > order[j].Count
			}
			return order[i].Influence > order[j].Influence
		})
		for _, a := range order[:min(len(order), xc.TopAuthors)] {
			ex.TopAuthors = append(ex.TopAuthors, *a)
		}
	}
	if xc.Samples > 0 {
		s := slices.Clone(sel)
		sort.SliceStable(s, func(i, j int) bool {
			switch order {
			case byNegativity:
				if s[i].sentiment != s[j].sentiment {
					return s[i].sentiment < s[j].sentiment
				}
			case byInfluence:
				if s[i].influence != s[j].influence {
					return s[i].influence > s[j].influence
				}
			}
			return s[i].at.After(s[j].at)
		})
		for _, it := range s[:min(len(s), xc.Samples)] {
			ex.Samples = append(ex.Samples, it.sample())
		}
	}
	return ex
}

// seriesNames lists the series followed, for tests and metrics.
func (e *engine) seriesNames() []string {
	out := make([]string, len(e.list))
	for i, s := range e.list {
		out[i] = s.name
	}
	return out
}
