package archive

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// privateClickHouse is a ClickHouse started for one test with
// deploy/clickhouse/test-server.sh, on its own ports and directory, so that
// the test can kill and restart it without disturbing the shared one.
type privateClickHouse struct {
	env []string
}

func startPrivateClickHouse(tb testing.TB) (*privateClickHouse, string) {
	tb.Helper()
	clickhouseDSN(tb) // skip, or fail in CI, like every ClickHouse test
	if _, err := exec.LookPath("clickhouse-server"); err != nil {
		tb.Skip("clickhouse-server is not installed: deploy/clickhouse/test-server.sh start installs it")
	}
	ports := freePorts(tb, 3)
	p := &privateClickHouse{env: append(os.Environ(),
		"VIGIE_CH_DIR="+filepath.Join(tb.TempDir(), "clickhouse"),
		fmt.Sprintf("VIGIE_CH_PORT=%d", ports[0]),
		fmt.Sprintf("VIGIE_CH_HTTP_PORT=%d", ports[1]),
		fmt.Sprintf("VIGIE_CH_INTERSERVER_PORT=%d", ports[2]),
		"VIGIE_CH_DATABASE=vigie_fault",
	)}
	tb.Cleanup(func() { p.run(tb, "stop") })
	dsn := p.run(tb, "start")
	return p, dsn
}

func (p *privateClickHouse) run(tb testing.TB, cmd string) string {
	tb.Helper()
	c := exec.Command("../deploy/clickhouse/test-server.sh", cmd)
	c.Env = p.env
	out, err := c.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		tb.Fatalf("test-server.sh %s: %v\n%s", cmd, err, stderr)
	}
	return strings.TrimSpace(string(out))
}

func freePorts(tb testing.TB, n int) []int {
	tb.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// TestFeederSurvivesClickHouseCrash kills ClickHouse (SIGKILL) while events
// keep arriving, restarts it, and requires every event archived exactly
// once: the KPIs equal those of an embedded store fed the same events.
func TestFeederSurvivesClickHouseCrash(t *testing.T) {
	t.Parallel()
	srv, dsn := startPrivateClickHouse(t)
	ch, err := OpenClickHouse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })

	e := randomHistory(t, randFor(42), 900)
	n := len(e.list)
	log := newMemLog()
	reg := prometheus.NewRegistry()
	stop := runFeeder(t, log, ch, Config{BatchSize: 400, MaxDelay: 5 * time.Millisecond,
		RetryMin: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond}, reg)

	feed := func(from, to int) {
		for i := from; i < to; i += 10 {
			log.append(e.list[i:min(i+10, to)]...)
			time.Sleep(time.Millisecond)
		}
	}
	feed(0, n/3)
	// Kill only once a batch has landed: a feeder still reading its cursor
	// when the server dies fails reads, not writes, and on a loaded machine
	// (the whole suite under -race) it may still be there.
	landed := func() bool {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs { // the counter has labels: absent until the first batch
			if mf.GetName() == "vigie_archive_events_total" {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(time.Minute); !landed(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing archived within a minute of starting")
		}
	}
	srv.run(t, "kill") // mid-stream: batches in flight may or may not have landed
	feed(n/3, 2*n/3)
	// Restart only once a write has failed: on a loaded machine the feeder
	// may still be busy with the first third, and the test must see it
	// retry against a dead server, not merely outlive a short outage.
	for deadline := time.Now().Add(time.Minute); counterValue(t, reg, "vigie_archive_write_errors_total") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no write failed within a minute of killing ClickHouse: is it still running?")
		}
	}
	time.Sleep(300 * time.Millisecond) // and it keeps retrying a while
	restart := time.Now()
	srv.run(t, "start")
	t.Logf("ClickHouse restarted in %s", time.Since(restart).Round(time.Millisecond))
	feed(2*n/3, n)
	waitCursor(t, ch, e.list[n-1].Seq, 60*time.Second)
	t.Logf("%d events archived %s after the restart", n, time.Since(restart).Round(time.Millisecond))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if fails := counterValue(t, reg, "vigie_archive_write_errors_total"); fails == 0 {
		t.Error("no write failed while ClickHouse was down: the fault was not exercised")
	}

	want := newEmbedded(t)
	writeReplaying(t, want, e.list, 1000)
	for _, by := range []Dimension{ByNone, ByQueue, ByAgent} {
		q := Query{From: t0, To: at(48 * time.Hour), Interval: time.Hour, By: by, Now: at(30 * time.Hour)}
		got, err := ch.KPIs(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := want.KPIs(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		assertBuckets(t, got, exp)
	}
	mentions, tickets := totalMentions(t, ch, Query{From: t0, To: at(48 * time.Hour), Interval: 48 * time.Hour})
	if mentions != 900 || tickets == 0 {
		t.Errorf("ClickHouse has %d mentions and %d tickets, want 900 mentions", mentions, tickets)
	}
}
