package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseBench(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, c benchConfig)
	}{
		{name: "defaults", check: func(t *testing.T, c benchConfig) {
			if c.Agents != 5 || c.Rate != 0 || c.Batch != 50 || c.Posters != 4 || !c.Limits {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "paced batches are a 10 ms share of the rate", args: []string{"--rate", "2000"}, check: func(t *testing.T, c benchConfig) {
			if c.Batch != 20 || c.Posters != 16 {
				t.Errorf("paced: batch %d posters %d", c.Batch, c.Posters)
			}
		}},
		{name: "slow rates post one at a time", args: []string{"--rate", "5"}, check: func(t *testing.T, c benchConfig) {
			if c.Batch != 1 {
				t.Errorf("batch %d", c.Batch)
			}
		}},
		{name: "negative rate", args: []string{"--rate", "-1"}, wantErr: "--rate"},
		{name: "no agents", args: []string{"--agents", "0"}, wantErr: "--agents"},
		{name: "nothing to post", args: []string{"--duration", "0"}, wantErr: "--duration or --mentions"},
		{name: "url without token", args: []string{"--url", "http://127.0.0.1:1"}, wantErr: "--token"},
		{name: "pid without url", args: []string{"--pid", "12"}, wantErr: "--pid goes with --url"},
		{name: "clickhouse with url", args: []string{"--url", "http://x", "--token", "t", "--clickhouse", "clickhouse://x/db"}, wantErr: "in-process"},
		{name: "memory profile of a running Vigie", args: []string{"--url", "http://x", "--token", "t", "--memprofile", "m.pprof"}, wantErr: "in-process"},
		{name: "negative sample period", args: []string{"--sample", "-1s"}, wantErr: "--sample"},
		{name: "negative resolve delay", args: []string{"--resolve-after", "-1s"}, wantErr: "--resolve-after"},
		{name: "no resolve period", args: []string{"--resolve-after", "1s", "--resolve-every", "0s"}, wantErr: "--resolve-every"},
		{name: "stray argument", args: []string{"now"}, wantErr: "usage"},
		{name: "half and a rate", args: []string{"--half", "--rate", "100"}, wantErr: "--half or --rate"},
		{name: "half of a running Vigie", args: []string{"--half", "--url", "http://x", "--token", "t"}, wantErr: "in-process"},
		{name: "calibration too short", args: []string{"--half", "--calibrate", "10ms"}, wantErr: "--calibrate"},
		{name: "given batch and posters stay", args: []string{"--batch", "7", "--posters", "3"}, check: func(t *testing.T, c benchConfig) {
			c.Rate = 2000
			c.setPacing()
			if c.Batch != 7 || c.Posters != 3 {
				t.Errorf("batch %d posters %d after pacing, want 7 and 3", c.Batch, c.Posters)
			}
		}},
		{name: "defaults follow the rate found", args: []string{"--half"}, check: func(t *testing.T, c benchConfig) {
			c.Rate = 2000
			c.setPacing()
			if c.Batch != 20 || c.Posters != 16 {
				t.Errorf("batch %d posters %d after pacing at 2000/s, want 20 and 16", c.Batch, c.Posters)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("VIGIE_BENCH_TOKEN", "")
			c, err := parseBench(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestParseMetrics(t *testing.T) {
	in := `# HELP vigie_search_lag_events x
# TYPE vigie_search_lag_events gauge
vigie_search_lag_events 12
vigie_hub_disconnects_total{reason="slow"} 2
vigie_hub_disconnects_total{reason="shutdown"} 3
go_goroutines 41
bad line
`
	m, err := parseMetrics(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]float64{
		"vigie_search_lag_events":                    12,
		`vigie_hub_disconnects_total{reason="slow"}`: 2,
		"vigie_hub_disconnects_total{}":              5,
		"go_goroutines":                              41,
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
}

func TestCPUOfAndPeakRSS(t *testing.T) {
	self, err := cpuOf(0)
	if err != nil || self <= 0 {
		t.Fatalf("cpuOf(self) = %v, %v", self, err)
	}
	byPid, err := cpuOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// /proc counts in ticks of 10 ms; getrusage is finer.
	if d := self - byPid; d < -50*time.Millisecond || d > 500*time.Millisecond {
		t.Errorf("CPU from getrusage %v, from /proc %v", self, byPid)
	}
	if rss := peakRSS(0); rss < 1<<20 {
		t.Errorf("peak RSS %d bytes", rss)
	}
	if _, err := cpuOf(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

// TestBenchInProcess runs `vigie bench` end to end on a few hundred
// mentions: every one reaches the agents and the sinks, and the limits are
// measured.
func TestBenchInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Vigie and loads it")
	}
	var out bytes.Buffer
	profiles := t.TempDir()
	err := runBench(context.Background(), []string{"--mentions", "300", "--agents", "2", "--rate", "1000", "--sample", "100ms", "--data", t.TempDir(),
		"--cpuprofile", filepath.Join(profiles, "cpu"), "--memprofile", filepath.Join(profiles, "heap"), "--resolve-after", "50ms"}, &out, io.Discard)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	s := out.String()
	t.Log(s)
	field := func(label string) string {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(label) + `\s+(\S+)`).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no %q in the output", label)
		}
		return m[1]
	}
	if got := field("mentions accepted"); got != "300" {
		t.Errorf("accepted %s, want 300", got)
	}
	if got := field("lost (accepted, never on the websocket)"); got != "0" {
		t.Errorf("lost %s", got)
	}
	for _, label := range []string{"sustained to search+archive (mentions/s)", "raw Bleve batch indexing (docs/s)"} {
		if v, err := strconv.ParseFloat(field(label), 64); err != nil || v <= 0 {
			t.Errorf("%s: %q", label, field(label))
		}
	}
	if !regexp.MustCompile(`(?m)^\s+[0-9.]+m?s\s+\d+\s`).MatchString(s) {
		t.Error("no sample line")
	}
	// The server's own p99 of the period, then the tickets resolved so
	// far, end a sample line.
	if !regexp.MustCompile(`(?m)^\s+[0-9.]+m?s\s+\d+\s.*\s[0-9.]+ ms\s+\d+$`).MatchString(s) {
		t.Error("no sample line with the server's p99 of its period and the tickets resolved")
	}
	// The agents resolved tickets (--resolve-after), every call answered.
	if m := regexp.MustCompile(`(?m)^\s*tickets resolved by the agents / already resolved / failed calls\s+(\d+) / \d+ / (\d+)`).FindStringSubmatch(s); m == nil || m[1] == "0" || m[2] != "0" {
		t.Errorf("tickets resolved by the agents: %q", m)
	}
	if !strings.Contains(s, "end to end / raw Bleve") {
		t.Error("no ratio against raw Bleve")
	}
	// With --sample, a CPU and a heap profile per period, and the heap's
	// once the sinks caught up; pprof's files are gzipped.
	for _, pattern := range []string{"cpu.*ms", "heap.*ms", "heap"} {
		files, _ := filepath.Glob(filepath.Join(profiles, pattern))
		if len(files) == 0 {
			t.Errorf("no profile %s", pattern)
		}
		for _, f := range files {
			if b, err := os.ReadFile(f); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
				t.Errorf("%s is not a profile (%d bytes, %v)", f, len(b), err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(profiles, "cpu.part")); err == nil {
		t.Error("the last period's CPU profile was left unfinished")
	}
}

// TestStagesBetween reads a histogram's quantiles from two scrapes, as the
// bench does, interpolating within buckets as histogram_quantile does.
func TestStagesBetween(t *testing.T) {
	scrape := func(counts ...float64) map[string]float64 {
		m := map[string]float64{}
		for i, le := range []string{"0.001", "0.01", "0.1", "+Inf"} {
			m[`vigie_intake_commit_seconds_bucket{le="`+le+`"}`] = counts[i]
		}
		return m
	}
	// 100 commits over the run: 50 under 1 ms, 40 more under 10 ms, 9 more
	// under 100 ms, 1 beyond; 7 before the run, all under 1 ms.
	st := stagesBetween(scrape(7, 7, 7, 7), scrape(57, 97, 106, 107))
	got := st[0]
	if got.n != 100 {
		t.Fatalf("n = %v, want 100", got.n)
	}
	if got.p50 != time.Millisecond {
		t.Errorf("p50 = %v, want 1ms", got.p50)
	}
	if want := 100 * time.Millisecond; got.p99 != want {
		t.Errorf("p99 = %v, want %v", got.p99, want)
	}
	if st[1].n != 0 {
		t.Errorf("a histogram absent from the scrapes has %v samples", st[1].n)
	}
	// The runtime's scheduling histogram goes through the same buckets.
	if b := schedLatencies(); len(b) == 0 || len(b.minus(b)) != len(b) || b.minus(b)[len(b)-1].count != 0 {
		t.Errorf("schedLatencies: %d buckets", len(b))
	}
}

// TestStartRecording: --cpuprofile (without --sample) and --trace write a
// whole file once stopped, and a path that cannot be created is an error
// naming the option.
func TestStartRecording(t *testing.T) {
	dir := t.TempDir()
	cpu, tr := filepath.Join(dir, "cpu"), filepath.Join(dir, "trace")
	stopCPU, err := startRecording("--cpuprofile", cpu, pprof.StartCPUProfile, pprof.StopCPUProfile)
	if err != nil {
		t.Fatal(err)
	}
	stopTrace, err := startRecording("--trace", tr, trace.Start, trace.Stop)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	stopTrace()
	stopCPU()
	if b, err := os.ReadFile(cpu); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("the CPU profile is not one (%d bytes, %v)", len(b), err)
	}
	if b, err := os.ReadFile(tr); err != nil || !bytes.HasPrefix(b, []byte("go 1.")) {
		t.Errorf("the trace is not one (%d bytes, %v)", len(b), err)
	}
	_, err = startRecording("--trace", filepath.Join(dir, "missing", "trace"), trace.Start, trace.Stop)
	if err == nil || !strings.HasPrefix(err.Error(), "--trace: ") {
		t.Errorf("a path that cannot be created gave %v", err)
	}
}

// TestBenchHalf: --half measures the sustained rate first, then paces the
// run at half of it.
func TestBenchHalf(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Vigie twice and loads it")
	}
	var out bytes.Buffer
	err := runBench(context.Background(), []string{"--half", "--calibrate", "2s", "--mentions", "200", "--agents", "1", "--limits=false", "--data", t.TempDir()}, &out, io.Discard)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	s := out.String()
	t.Log(s)
	m := regexp.MustCompile(`sustained (\d+) mentions/s to search and the archive; pacing at (\d+)/s`).FindStringSubmatch(s)
	if m == nil {
		t.Fatal("no calibration line")
	}
	sustained, _ := strconv.Atoi(m[1])
	rate, _ := strconv.Atoi(m[2])
	if sustained <= 0 || rate < sustained/2-1 || rate > sustained/2+1 {
		t.Errorf("sustained %d, paced at %d", sustained, rate)
	}
	if !strings.Contains(s, fmt.Sprintf("paced at %d/s", rate)) {
		t.Errorf("the run was not paced at %d/s", rate)
	}
}
