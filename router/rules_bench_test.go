package router

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vigie/vigie/listener"
)

// synthRules writes n keyword rules over a vocabulary of 5,000 words, in the
// shapes care leads write (ORs of words and prefixes, a phrase AND a word,
// NEAR), each tagging and continuing, the last one choosing a queue.
func synthRules(n int, r *rand.Rand) []byte {
	var b strings.Builder
	b.WriteString("default_queue: general\nrules:\n")
	w := func() string { return fmt.Sprintf("w%04d", r.IntN(5000)) }
	for i := 0; i < n; i++ {
		var q string
		switch i % 4 {
		case 0:
			q = w() + " OR " + w() + " OR " + w()
		case 1:
			q = `"` + w() + " " + w() + `" AND ` + w()
		case 2:
			q = w() + "* OR (" + w() + " -" + w() + ")"
		case 3:
			q = w() + " NEAR/3 " + w()
		}
		fmt.Fprintf(&b, "  - name: r%d\n    match: '%s'\n    then: {tags: [t%d]}\n    continue: true\n", i, q, i%50)
	}
	b.WriteString("  - name: last\n    if: 'sentiment < 0'\n    then: {queue: complaints}\n")
	return []byte(b.String())
}

func benchmarkRules(b *testing.B, n int, filtered bool) {
	r := rand.New(rand.NewPCG(1, 2))
	rs, err := ParseRules(synthRules(n, r))
	if err != nil {
		b.Fatal(err)
	}
	if !filtered {
		rs.filter = &prefilter{always: make([]uint64, (len(rs.Rules)+63)/64)}
		for i := range rs.Rules {
			rs.filter.always[i/64] |= 1 << (i % 64)
		}
	}
	mentions := make([]listener.Mention, 256)
	for i := range mentions {
		words := make([]string, 25)
		for j := range words {
			words[j] = fmt.Sprintf("w%04d", r.IntN(5000))
		}
		mentions[i] = listener.Mention{Source: "x", Text: strings.Join(words, " ")}
	}
	en := &Enrichment{Sentiment: -0.3}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rs.Evaluate(&mentions[i%len(mentions)], en)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
}

// BenchmarkRules evaluates 25-word posts against 1k and 10k keyword rules,
// with the word pre-filter and with every rule evaluated (the baseline).
func BenchmarkRules(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		b.Run(fmt.Sprintf("rules=%d/prefilter", n), func(b *testing.B) { benchmarkRules(b, n, true) })
		b.Run(fmt.Sprintf("rules=%d/scan", n), func(b *testing.B) { benchmarkRules(b, n, false) })
	}
}

// TestPrefilterAgreesWithScan: on random rules and posts the pre-filter
// never changes a decision.
func TestPrefilterAgreesWithScan(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	rs, err := ParseRules(synthRules(500, r))
	if err != nil {
		t.Fatal(err)
	}
	scan := *rs
	scan.filter = &prefilter{always: make([]uint64, (len(rs.Rules)+63)/64)}
	for i := range rs.Rules {
		scan.filter.always[i/64] |= 1 << (i % 64)
	}
	for k := 0; k < 2000; k++ {
		words := make([]string, 1+r.IntN(30))
		for j := range words {
			words[j] = fmt.Sprintf("w%04d", r.IntN(600)) // a small vocabulary: many matches
		}
		m := listener.Mention{Source: "x", Text: strings.Join(words, " ")}
		en := &Enrichment{Sentiment: r.Float64()*2 - 1}
		a, b := rs.Evaluate(&m, en), scan.Evaluate(&m, en)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("post %q:\nprefilter %+v\nscan      %+v", m.Text, a, b)
		}
	}
}
