package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/vigie/vigie/intake"
)

// child is Vigie running as a separate process (this test binary).
type child struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer // its logs; read only after cmd.Wait
}

func startChild(t *testing.T, data string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "VIGIE_TEST_CHILD=1", "VIGIE_ADMIN_TOKEN="+testToken,
		"VIGIE_TEST_ARGS="+strings.Join([]string{"serve", "--addr", "127.0.0.1:0", "--data", data}, "\n"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	urlc := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if u, ok := strings.CutPrefix(lines.Text(), "Vigie is listening on "); ok {
				urlc <- u
			}
		}
	}()
	select {
	case u := <-urlc:
		c := &child{cmd: cmd, url: u, stderr: &stderr}
		t.Cleanup(func() { c.cmd.Process.Kill(); c.cmd.Wait() })
		return c
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("child did not start: %s", stderr.String())
	}
	return nil
}

// TestCrashKeepsEveryAcknowledgedMention kills Vigie with SIGKILL while
// mentions are being posted; after a restart every mention that got a 202 is
// in the intake log and on a ticket exactly once.
func TestCrashKeepsEveryAcknowledgedMention(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	data := t.TempDir()
	c := startChild(t, data)

	var mu sync.Mutex
	acked := map[string]bool{}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for b := 0; ctx.Err() == nil; b++ {
				var items []map[string]any
				var ids []string
				for i := 0; i < 20; i++ {
					id := fmt.Sprintf("w%d-b%d-i%d", w, b, i)
					ids = append(ids, id)
					items = append(items, mention(id, "author-"+id, "Crash test mention "+id+": where is my refund?", nil))
				}
				body, _ := json.Marshal(items)
				req, _ := http.NewRequestWithContext(ctx, "POST", c.url+"/api/v1/mentions", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+testToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				var res intake.IngestResponse
				json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted && res.Accepted == len(ids) {
					mu.Lock()
					for _, id := range ids {
						acked[id] = true
					}
					mu.Unlock()
				}
			}
		}(w)
	}
	// Let some load through, then kill without warning.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 1000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	stop()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}

	// Restart, let the router drain, stop gracefully with SIGTERM.
	c2 := startChild(t, data)
	waitDrained(t, c2.url)
	if err := c2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c2.cmd.Wait(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}

	counts := func(db, query string) map[string]int {
		h, err := sql.Open("sqlite", "file:"+filepath.Join(data, db)+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		rows, err := h.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]int{}
		for rows.Next() {
			var id string
			var n int
			rows.Scan(&id, &n)
			out[id] = n
		}
		return out
	}
	inLog := counts("intake.db", "SELECT native_id, COUNT(*) FROM items GROUP BY native_id")
	onTickets := counts("desk.db", "SELECT native_id, COUNT(*) FROM messages WHERE direction='in' GROUP BY native_id")
	var lost, dupLog, dupDesk int
	for id := range acked {
		switch {
		case inLog[id] == 0 || onTickets[id] == 0:
			lost++
		case inLog[id] > 1:
			dupLog++
		case onTickets[id] > 1:
			dupDesk++
		}
	}
	t.Logf("%d acknowledged before SIGKILL, %d in the log after restart", len(acked), len(inLog))
	if lost+dupLog+dupDesk > 0 {
		t.Fatalf("of %d acknowledged mentions: %d lost, %d twice in the log, %d twice on tickets", len(acked), lost, dupLog, dupDesk)
	}
}

// waitDrained waits until the router has routed everything in the log.
func waitDrained(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/metrics")
		if err == nil {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if sc.Text() == "vigie_router_lag_items 0" {
					resp.Body.Close()
					return
				}
			}
			resp.Body.Close()
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("router did not drain within 60s")
}
