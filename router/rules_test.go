package router

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie/vigie/listener"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenCase is one line of testdata/decisions.ndjson: a mention and what the
// classifier made of it; the golden file holds the decisions.
type goldenCase struct {
	Name       string           `json:"name"`
	Mention    listener.Mention `json:"mention"`
	Enrichment Enrichment       `json:"enrichment"`
}

// TestDefaultRulesGolden routes the cases through the shipped rules and
// compares the decisions and traces with testdata/decisions.golden.
func TestDefaultRulesGolden(t *testing.T) {
	rs := DefaultRules()
	f, err := os.Open(filepath.Join("testdata", "decisions.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c goldenCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("bad case %q: %v", sc.Text(), err)
		}
		d := rs.Evaluate(&c.Mention, &c.Enrichment)
		b, _ := json.Marshal(struct {
			Name string `json:"name"`
			Decision
		}{c.Name, d})
		out.Write(b)
		out.WriteByte('\n')
	}
	golden := filepath.Join("testdata", "decisions.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("decision %d differs (run with -update after checking):\n got %s\nwant %s", i, gl[i], wl[i])
			}
		}
		t.Fatalf("golden has %d lines, got %d", len(wl), len(gl))
	}
}

func TestRulesErrorsHavePositions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"bad query", "rules:\n  - name: r\n    match: 'refund OR'\n    then: {queue: a}\n", 3, 22, "unexpected end"},
		{"bad condition", "rules:\n  - name: r\n    if: 'sentiment <'\n    then: {queue: a}\n", 3, 20, "if:"},
		{"unknown field in condition", "rules:\n  - name: r\n    if: 'mood > 1'\n    then: {queue: a}\n", 3, 0, "unknown name mood"},
		{"unknown action", "rules:\n  - name: r\n    then: {queue: a, sing: true}\n", 3, 22, "unknown action"},
		{"bad priority", "rules:\n  - name: r\n    then: {priority: asap}\n", 3, 11, "priority"},
		{"duplicate name", "rules:\n  - name: r\n    then: {queue: a}\n  - name: r\n    then: {queue: b}\n", 4, 5, "already used"},
		{"missing then", "rules:\n  - name: r\n", 2, 5, "then: required"},
		{"not yaml", "rules: [\n", 1, 1, "did not find"},
		{"unknown top key", "rule: []\n", 1, 1, "unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tc.src))
			var re *RulesError
			if !errors.As(err, &re) {
				t.Fatalf("error %v, want a RulesError", err)
			}
			if re.Line != tc.line || (tc.col != 0 && re.Column != tc.col) || !strings.Contains(re.Error(), tc.msg) {
				t.Errorf("got %v (line %d col %d), want line %d col %d containing %q", re, re.Line, re.Column, tc.line, tc.col, tc.msg)
			}
		})
	}
}

func TestRuleOrderAndContinue(t *testing.T) {
	t.Parallel()
	rs, err := ParseRules([]byte(`
default_queue: inbox
rules:
  - name: tag
    match: velora
    then: {tags: [brand], priority: low}
    continue: true
  - name: urgent
    if: 'sentiment < -0.5'
    then: {priority: urgent, queue: hot}
  - name: never
    then: {queue: never}
`))
	if err != nil {
		t.Fatal(err)
	}
	m := &listener.Mention{Source: "x", Text: "Velora is awful"}
	d := rs.Evaluate(m, &Enrichment{Sentiment: -0.8})
	if d.Queue != "hot" || d.Priority != PriorityUrgent || d.Rule != "urgent" || len(d.Tags) != 1 {
		t.Fatalf("decision %+v", d)
	}
	if len(d.Trace) != 2 || d.Trace[1].Why != "sentiment < -0.5 (sentiment=-0.80)" {
		t.Fatalf("trace %+v", d.Trace)
	}
	d = rs.Evaluate(m, &Enrichment{Sentiment: 0.3})
	if d.Queue != "never" || len(d.Trace) != 2 || d.Trace[1].Rule != "never" {
		t.Fatalf("decision %+v", d)
	}
}
