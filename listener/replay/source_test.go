package replay

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/listenertest"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok", Config{Path: "x.ndjson"}, ""},
		{"no path", Config{}, "path required"},
		{"negative rate", Config{Path: "x", Rate: -1}, "rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Validate = %v, want %q", err, tt.wantErr)
			}
			if err == nil && tt.cfg.Name != "replay" {
				t.Fatalf("default name %q", tt.cfg.Name)
			}
		})
	}
}

// mixedFile is a replay file with good lines, blank lines, CRLF ends, a BOM
// and bad lines, and the good mentions' ids in order.
func mixedFile(tb testing.TB) (path string, wantIDs []string, wantBad []int) {
	tb.Helper()
	good := goodLines(tb, 6)
	var b strings.Builder
	b.WriteString("\ufeff" + good[0] + "\r\n")                                // 1
	b.WriteString("\r\n")                                                     // 2 blank
	b.WriteString(good[1] + "\n")                                             // 3
	b.WriteString("not json at all\n")                                        // 4 bad
	b.WriteString(`{"source":"x","id":"1","text":"hi"}` + "\n")               // 5 bad: no created_at, author
	b.WriteString(good[2] + "\r\n")                                           // 6
	b.WriteString(strings.Replace(good[3], `"text":"`, "\"text\":\"\xff", 1)) // 7 bad: invalid UTF-8
	b.WriteString("\n   \n")                                                  // 8 blank
	b.WriteString(`[` + good[4] + `]` + "\n")                                 // 9 bad: an array, not an object
	b.WriteString(`{"source":"x","bogus":1}` + "\n")                          // 10 bad: unknown field
	b.WriteString(good[5])                                                    // 11, no final newline
	ids := []string{}
	for _, i := range []int{0, 1, 2, 5} {
		ids = append(ids, idOf(tb, good[i]))
	}
	return writeFile(tb, b.String()), ids, []int{4, 5, 7, 9, 10}
}

func idOf(tb testing.TB, line string) string {
	tb.Helper()
	ok, _, err := listener.DecodeMentions([]byte(line), true)
	if err != nil || len(ok) != 1 {
		tb.Fatalf("decode %q: %v", line, err)
	}
	return ok[0].Item.Mention.ID
}

func TestSourceReplaysGoodLinesAndCountsBadOnes(t *testing.T) {
	t.Parallel()
	path, wantIDs, wantBad := mixedFile(t)
	src, err := New(Config{Path: path}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	items := listenertest.Collect(t, src, 100, 5*time.Second)
	if len(items) != len(wantIDs) {
		t.Fatalf("got %d items, want %d", len(items), len(wantIDs))
	}
	for i, it := range items {
		if it.Kind != listener.KindMention || it.Mention.ID != wantIDs[i] {
			t.Errorf("item %d: %s %s, want mention %s", i, it.Kind, it.NativeID(), wantIDs[i])
		}
	}
	st := src.Stats()
	if st.Sent != len(wantIDs) || st.Bad != len(wantBad) || st.Lines != len(wantIDs)+len(wantBad) {
		t.Fatalf("stats %+v", st)
	}
	for i, e := range st.Errors {
		if e.Line != wantBad[i] || e.Error == "" {
			t.Errorf("bad line %d: %+v, want line %d", i, e, wantBad[i])
		}
	}
	if !strings.Contains(st.Errors[1].Error, "created_at") || !strings.Contains(st.Errors[2].Error, "UTF-8") || !strings.Contains(st.Errors[4].Error, "bogus") {
		t.Errorf("reasons do not name the fault: %+v", st.Errors)
	}
}

func TestSourceMissingFile(t *testing.T) {
	t.Parallel()
	src, err := New(Config{Path: t.TempDir() + "/nope.ndjson"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Run(context.Background(), make(chan listener.Item)); err == nil || !strings.Contains(err.Error(), "nope.ndjson") {
		t.Fatalf("Run = %v, want an error naming the file", err)
	}
}

func TestSourceConformance(t *testing.T) {
	t.Parallel()
	path := writeFile(t, strings.Join(goodLines(t, 200), "\n"))
	listenertest.Conformance(t, func(tb testing.TB) listener.Source {
		src, err := New(Config{Path: path, Rate: 2000}, nil, nil)
		if err != nil {
			tb.Fatal(err)
		}
		return src
	}, listenertest.Options{Finite: true, MinItems: 200})
}

// TestSourcePacing: 40 mentions at 100/s take about 0.4 s. The bounds are
// loose (a loaded machine is slow, never fast): a pacer that ignores the
// rate finishes in a few milliseconds.
func TestSourcePacing(t *testing.T) {
	t.Parallel()
	path := writeFile(t, strings.Join(goodLines(t, 40), "\n"))
	src, err := New(Config{Path: path, Rate: 100}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan listener.Item, 100)
	start := time.Now()
	if err := src.Run(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 350*time.Millisecond || d > 5*time.Second {
		t.Fatalf("40 mentions at 100/s took %v, want about 400ms", d)
	}
	if len(out) != 40 {
		t.Fatalf("%d items", len(out))
	}
}

func BenchmarkSource(b *testing.B) {
	path := writeFile(b, strings.Join(goodLines(b, 5000), "\n"))
	src, err := New(Config{Path: path}, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	out := make(chan listener.Item, 5000)
	b.ReportAllocs()
	for b.Loop() {
		if err := src.Run(context.Background(), out); err != nil {
			b.Fatal(err)
		}
		for len(out) > 0 {
			<-out
		}
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "mentions/s")
}
