package eval

import (
	"context"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var fit = flag.Bool("fit", false, "fit the neutral band on the French training split and print it")

// dataDir is the shared data, two levels above the repository root.
const dataDir = "../../../../shared/data"

func needData(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(dataDir); err != nil {
		tb.Skipf("evaluation data absent (%s): %v", dataDir, err)
	}
}

func TestRun(t *testing.T) {
	needData(t)
	if testing.Short() {
		t.Skip("evaluation takes seconds")
	}
	var out strings.Builder
	rep, err := Run(context.Background(), dataDir, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if rep.English.N != 498 || rep.French.N != 324 {
		t.Errorf("got %d English and %d French texts, want 498 and 324", rep.English.N, rep.French.N)
	}
}

func TestFitBand(t *testing.T) {
	if !*fit {
		t.Skip("pass -fit to fit the neutral band")
	}
	needData(t)
	var out strings.Builder
	b, err := FitBand(context.Background(), dataDir, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s=> %+v", out.String(), b)
}

func TestRunMissingData(t *testing.T) {
	_, err := Run(context.Background(), "/nonexistent/shared/data", &strings.Builder{})
	if !errors.Is(err, ErrNoData) || !strings.Contains(err.Error(), "/nonexistent/shared/data") {
		t.Fatalf("got %v, want ErrNoData naming the path", err)
	}
}

func TestScore(t *testing.T) {
	data := []Example{{"a", Negative}, {"b", Negative}, {"c", Neutral}, {"d", Positive}}
	pred := map[string]int{"a": Negative, "b": Neutral, "c": Neutral, "d": Negative}
	r := score("t", data, func(s string) int { return pred[s] })
	want := struct{ p, r [3]float64 }{p: [3]float64{0.5, 0.5, 0}, r: [3]float64{0.5, 1, 0}}
	if r.Precision != want.p || r.Recall != want.r {
		t.Errorf("precision %v recall %v, want %v %v", r.Precision, r.Recall, want.p, want.r)
	}
	if r.Accuracy != 0.5 || r.F1[Neutral] != 2*0.5*1/1.5 {
		t.Errorf("accuracy %v, neutral F1 %v", r.Accuracy, r.F1[Neutral])
	}
}
