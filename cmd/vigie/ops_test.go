package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
)

// TestBackupUnderLoadRestores takes a backup while mentions are being
// posted; the restored data directory serves the tickets the backup holds,
// and a restarted Vigie on it keeps working.
func TestBackupUnderLoadRestores(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	a := startApp(t, data)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body, _ := json.Marshal([]any{mention(fmt.Sprintf("b%d", i), fmt.Sprintf("u%d", i), "Backup load post number "+fmt.Sprint(i), nil)})
			req, _ := http.NewRequest("POST", a.url+"/api/v1/mentions", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+testToken)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	backup := filepath.Join(dir, "backup")
	var out bytes.Buffer
	if err := dispatch(context.Background(), []string{"backup", "--data", data, backup}, nil, &out, io.Discard); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	a.stop()

	restored := filepath.Join(dir, "restored")
	if err := dispatch(context.Background(), []string{"restore", "--data", restored, backup}, nil, &out, io.Discard); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	if err := dispatch(context.Background(), []string{"restore", "--data", restored, backup}, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("a restore over a non-empty directory must be refused")
	}
	b := startApp(t, restored)
	var page desk.Page
	b.do("GET", "/api/v1/tickets?limit=500", "", nil, &page)
	if len(page.Tickets) == 0 {
		t.Fatal("the restored Vigie has no tickets")
	}
	// Every ticket of the snapshot is whole: its messages are there.
	for _, tk := range page.Tickets[:min(20, len(page.Tickets))] {
		var full desk.Ticket
		b.do("GET", "/api/v1/tickets/"+itoa64(tk.ID), "", nil, &full)
		if len(full.Messages) == 0 || !strings.HasPrefix(full.Messages[0].Text, "Backup load post") {
			t.Fatalf("ticket %d restored without its message", tk.ID)
		}
	}
	// Search is rebuilt from the desk's events: it finds every restored
	// ticket's post.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var sr struct {
			Total int `json:"total"`
		}
		b.do("GET", "/api/v1/search?q=%22Backup+load+post%22&size=1", "", nil, &sr)
		if sr.Total >= len(page.Tickets) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search finds %d of the %d restored posts", sr.Total, len(page.Tickets))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// And it keeps working.
	b.ingest(mention("after", "later", "A post after the restore", nil))
	waitTicketFor(t, b, "after")
	if _, err := os.Stat(filepath.Join(backup, "manifest.json")); err != nil {
		t.Fatal(err)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("rules:\n  - name: a\n    match: refund\n    then: {queue: refunds}\n"), 0o600)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - name: a\n    match: 'refund OR'\n    then: {queue: refunds}\n"), 0o600)
	var out bytes.Buffer
	if err := dispatch(context.Background(), []string{"check", "--rules", good}, nil, &out, io.Discard); err != nil || !strings.Contains(out.String(), "configuration ok") {
		t.Fatalf("check good: %v %s", err, out.String())
	}
	err := dispatch(context.Background(), []string{"check", "--rules", bad, "--log-level", "loud"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "log level") {
		t.Fatalf("check bad: %v", err)
	}
}

// TestSourcesExampleChecks: the example sources file in deploy/ is valid,
// every source builds.
func TestSourcesExampleChecks(t *testing.T) {
	for _, v := range []string{"VIGIE_MASTODON_TOKEN", "VIGIE_BLUESKY_APP_PASSWORD", "VIGIE_X_BEARER_TOKEN", "VIGIE_X_USER_TOKEN", "VIGIE_META_APP_SECRET", "VIGIE_META_VERIFY_TOKEN", "VIGIE_META_ACCESS_TOKEN"} {
		t.Setenv(v, "a-secret-for-the-test-"+v)
	}
	var out bytes.Buffer
	if err := dispatch(context.Background(), []string{"check", "--sources", "../../deploy/sources.example.yaml"}, nil, &out, io.Discard); err != nil {
		t.Fatalf("check: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "5 sources") {
		t.Fatalf("check said %q", out.String())
	}
}
