package watch

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
	"github.com/vigie/vigie/router/nlp"
)

// twcsPath is the Customer Support on Twitter sample, beside the repository.
var twcsPath = filepath.Join("..", "..", "shared", "data", "customer_support_twitter", "twcs_first5000.csv")

// readTWCS turns the inbound (customer) tweets into mention data, read by
// router/nlp, in time order.
func readTWCS(tb testing.TB) []desk.MentionData {
	tb.Helper()
	f, err := os.Open(twcsPath)
	if err != nil {
		tb.Skipf("TWCS data absent (%v): the replay needs ../shared/data/customer_support_twitter beside the repository", err)
	}
	defer f.Close()
	an, err := nlp.New()
	if err != nil {
		tb.Fatal(err)
	}
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		tb.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	var out []desk.MentionData
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		if rec[col["inbound"]] != "True" {
			continue
		}
		at, err := time.Parse("Mon Jan 02 15:04:05 -0700 2006", rec[col["created_at"]])
		if err != nil {
			tb.Fatalf("tweet %s: %v", rec[col["tweet_id"]], err)
		}
		m := listener.Mention{Source: "twitter", ID: rec[col["tweet_id"]], CreatedAt: at.UTC(),
			Author: listener.Author{ID: rec[col["author_id"]]}, Text: rec[col["text"]], ReplyTo: rec[col["in_response_to_tweet_id"]]}
		c := an.Classify(m.Text, "")
		en := router.Enrichment{Lang: c.Lang, LangConfidence: c.LangConfidence, Sentiment: c.Sentiment, Label: c.Label,
			Intent: c.Intent, Influence: router.Influence(&m)}
		// The brand the customer writes to is the queue: the first @handle.
		queue := "general"
		for _, w := range strings.Fields(m.Text) {
			if strings.HasPrefix(w, "@") && len(w) > 1 && !isDigits(w[1:]) {
				queue = strings.ToLower(strings.Trim(w[1:], ".,:;!?"))
				break
			}
		}
		out = append(out, desk.MentionData{Mention: m, Version: 1, ReceivedAt: m.CreatedAt, Enrichment: en, Decision: router.Decision{Queue: queue}})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Mention.CreatedAt.Before(out[j].Mention.CreatedAt) })
	return out
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// TestTWCSReplay replays the customer tweets of the TWCS sample with their
// own timestamps and prints the alerts raised with their explanations
// (docs/EVALUATION.md, "Alerts"). Run it with -v.
func TestTWCSReplay(t *testing.T) {
	mds := readTWCS(t)
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	h.feed(mds...)
	// Let event time run past the end so that the last alerts resolve.
	h.clock.Set(h.clock.Now().Add(time.Hour))
	h.sync()

	evs := h.published("")
	byDet := map[Detector]int{}
	for _, ev := range evs {
		if ev.Change == ChangeRaised {
			byDet[ev.Alert.Detector]++
		}
	}
	t.Logf("%d inbound tweets, %s to %s; %d alert events; raised by detector: %v",
		len(mds), mds[0].Mention.CreatedAt.Format(time.RFC3339), mds[len(mds)-1].Mention.CreatedAt.Format(time.RFC3339), len(evs), byDet)
	page, err := h.w.Alerts(t.Context(), Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(page.Alerts) - 1; i >= 0; i-- {
		a := page.Alerts[i]
		ex := a.Explanation
		var terms, authors, samples []string
		for _, tc := range ex.TopTerms {
			terms = append(terms, fmt.Sprintf("%s(%d,×%.1f)", tc.Term, tc.Count, tc.Lift))
		}
		for _, ac := range ex.TopAuthors {
			authors = append(authors, fmt.Sprintf("%s(%d)", ac.AuthorID, ac.Count))
		}
		for _, s := range ex.Samples[:min(2, len(ex.Samples))] {
			samples = append(samples, s.ID)
		}
		t.Logf("#%d %s %s [%s] window %s–%s observed %v threshold %v peak %v triggers %d status %s\n    %s\n    terms %v authors %v samples %v",
			a.ID, a.Detector, a.Scope, a.Severity, ex.WindowStart.Format("2006-01-02 15:04"), ex.WindowEnd.Format("15:04"),
			ex.Observed, ex.Threshold, a.Peak, a.Triggers, a.Status, ex.Reason, terms, authors, samples)
	}
	if byDet[DetectorVolume] == 0 {
		t.Errorf("the 2017-10-31 evening surge raised no volume alert")
	}
	for _, a := range page.Alerts {
		if a.Status != StatusResolved {
			t.Errorf("alert %d still %s an hour after the last tweet", a.ID, a.Status)
		}
	}
}

// BenchmarkDetectors measures mentions a second through the detectors
// (observe, and a window evaluated every simulated minute), without I/O.
func BenchmarkDetectors(b *testing.B) {
	cfg := Config{Path: "unused"}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	e, err := newEngine(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	life := newLifecycle(&cfg)
	var mds []desk.MentionData
	start := day0
	for i := range 6000 { // 100 a minute for an hour, repeated
		mds = append(mds, mk{at: start.Add(time.Duration(i) * 600 * time.Millisecond), id: fmt.Sprint(i), author: fmt.Sprint("u", i%700),
			text: calmTexts[i%len(calmTexts)] + " velora boycott", sentiment: -0.3, label: "negative", influence: i % 90, tags: []string{"t"}}.data())
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		md := mds[i%len(mds)]
		shift := time.Duration(i/len(mds)) * time.Hour
		md.Mention.CreatedAt = md.Mention.CreatedAt.Add(shift)
		m := minuteOf(md.Mention.CreatedAt)
		for e.since != 0 && e.evaluated+e.stepMin <= m {
			life.apply(e.evaluated+e.stepMin, start, e.evaluate(e.evaluated+e.stepMin))
		}
		e.observe(&md)
		clear(e.dirty)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
}

// BenchmarkConsume measures mentions a second through the whole watch:
// detectors and the SQLite commit of each 256-event batch.
func BenchmarkConsume(b *testing.B) {
	h := newHarness(b, testConfig(b))
	var evs []desk.Event
	for i := 0; i < b.N; i++ {
		md := mk{at: day0.Add(time.Duration(i) * 600 * time.Millisecond), id: fmt.Sprint(i), author: fmt.Sprint("u", i%700),
			text: calmTexts[i%len(calmTexts)], sentiment: 0.1, influence: i % 50}.data()
		h.log.append(desk.EventMentionReceived, &md)
	}
	evs, _ = h.log.ReadEvents(b.Context(), 0, b.N)
	b.ResetTimer()
	for i := 0; i < len(evs); i += 256 {
		if err := h.w.consume(b.Context(), evs[i:min(i+256, len(evs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
}
