package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/intake"
)

const testToken = "test-admin-token-0123456789"

// app is a Vigie running in this process on a loopback port.
type app struct {
	client *http.Client
	t      testing.TB
	srv    *server
	url    string
	cancel context.CancelFunc
	done   chan error
}

func startApp(t testing.TB, data string, extra ...func(*serveConfig)) *app {
	t.Helper()
	return startAppWith(t, data, http.DefaultClient, extra...)
}

// startAppWith starts the app and waits for it with client.
func startAppWith(t testing.TB, data string, client *http.Client, extra ...func(*serveConfig)) *app {
	t.Helper()
	cfg := serveConfig{Addr: "127.0.0.1:0", Data: data, AdminToken: testToken, ShutdownWait: 10 * time.Second, IngestRate: 10_000}
	for _, f := range extra {
		f(&cfg)
	}
	// Without -v, warnings and errors are kept and shown only if the test
	// fails: a 500 in CI then says why.
	kept := &keptLog{}
	logger := slog.New(slog.NewTextHandler(kept, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's warnings and errors:\n%s", kept.String())
		}
	})
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := newServer(ctx, cfg, logger)
	if err != nil {
		cancel()
		t.Fatalf("start vigie: %v", err)
	}
	a := &app{t: t, srv: srv, url: srv.URL(), cancel: cancel, done: make(chan error, 1), client: client}
	go func() { a.done <- srv.Run(ctx) }()
	t.Cleanup(a.stop)
	a.waitReady()
	return a
}

// keptLog keeps the last 256 KiB written to it.
type keptLog struct {
	mu  sync.Mutex
	buf []byte
}

func (k *keptLog) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.buf = append(k.buf, p...)
	if over := len(k.buf) - 256<<10; over > 0 {
		k.buf = append([]byte(nil), k.buf[over:]...)
	}
	return len(p), nil
}

func (k *keptLog) String() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return string(k.buf)
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (a *app) waitReady() {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := a.client.Get(a.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.t.Fatal("vigie never became ready")
}

func (a *app) stop() {
	if a.cancel == nil {
		return
	}
	a.cancel()
	a.cancel = nil
	// Shutdown waits up to ShutdownWait for each stage to drain (HTTP, the
	// router, each sink, the search worker): a test that leaves a backlog
	// (100,000 items in one POST) may take that long.
	limit := 30 * time.Second
	if a.srv != nil {
		limit = max(limit, a.srv.cfg.ShutdownWait*time.Duration(4+len(a.srv.sinks)))
	}
	select {
	case err := <-a.done:
		if err != nil {
			a.t.Errorf("vigie stopped with an error: %v", err)
		}
	case <-time.After(limit):
		a.t.Errorf("vigie did not stop within %s", limit)
	}
}

// do sends a request with the admin token and decodes a JSON answer.
func (a *app) do(method, path, contentType string, body []byte, out any) int {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

func (a *app) ingest(mentions ...map[string]any) intake.IngestResponse {
	a.t.Helper()
	body, _ := json.Marshal(mentions)
	var res intake.IngestResponse
	if code := a.do("POST", "/api/v1/mentions", "application/json", body, &res); code != http.StatusAccepted {
		a.t.Fatalf("ingest: status %d (%+v)", code, res)
	}
	return res
}

func (a *app) dial(query string) *websocket.Conn {
	a.t.Helper()
	u := strings.Replace(a.url, "http://", "ws://", 1) + "/ws?token=" + testToken + query
	ws, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		if resp != nil {
			b, _ := io.ReadAll(resp.Body)
			a.t.Fatalf("dial websocket: %v: %d %s", err, resp.StatusCode, b)
		}
		a.t.Fatalf("dial websocket: %v", err)
	}
	a.t.Cleanup(func() { ws.Close() })
	return ws
}

type frameMsg struct {
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// readUntil reads frames until want returns true, or fails after timeout.
func readUntil(t testing.TB, ws *websocket.Conn, timeout time.Duration, want func(frameMsg) bool) []frameMsg {
	t.Helper()
	var got []frameMsg
	deadline := time.Now().Add(timeout)
	for {
		ws.SetReadDeadline(deadline)
		var f frameMsg
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("read websocket after %d frames: %v", len(got), err)
		}
		got = append(got, f)
		if want(f) {
			return got
		}
	}
}

func mention(id, author, text string, extra map[string]any) map[string]any {
	m := map[string]any{
		"source": "mastodon", "id": id, "created_at": "2026-11-22T10:00:00Z",
		"author": map[string]any{"id": author, "handle": "@" + author + "@social.example", "followers": 120},
		"text":   text,
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestEndToEnd(t *testing.T) {
	data := t.TempDir()
	a := startApp(t, data)
	ws := a.dial("")
	if err := ws.WriteJSON(map[string]any{"subscribe": []string{"tickets", "mentions"}}); err != nil {
		t.Fatal(err)
	}

	res := a.ingest(
		mention("m1", "ana", "My train was cancelled and I want a refund now", nil),
		mention("m2", "bob", "Does the 8:15 to Lyon stop in Dijon?", nil),
	)
	if res.Accepted != 2 || len(res.Rejected) != 0 {
		t.Fatalf("ingest: %+v", res)
	}
	created := map[int64]desk.TicketData{}
	readUntil(t, ws, 10*time.Second, func(f frameMsg) bool {
		if f.Type == "ticket.created" {
			var td desk.TicketData
			if err := json.Unmarshal(f.Data, &td); err != nil {
				t.Fatal(err)
			}
			created[td.Ticket.ID] = td
		}
		return len(created) == 2
	})
	var refund desk.TicketData
	for _, td := range created {
		if td.Message.NativeID == "m1" {
			refund = td
		}
	}
	if refund.Ticket.Queue != "refunds" || refund.Ticket.Routing.Rule != "refunds" {
		t.Errorf("m1 routed to %q by %q, want refunds", refund.Ticket.Queue, refund.Ticket.Routing.Rule)
	}

	// A follow-up from the same author in the same conversation joins the
	// ticket; the same post again is a duplicate.
	res = a.ingest(
		mention("m3", "ana", "Still waiting for an answer...", map[string]any{"reply_to": "m1"}),
		mention("m1", "ana", "My train was cancelled and I want a refund now", nil),
	)
	if res.Accepted != 1 || res.Duplicates != 1 {
		t.Fatalf("follow-up: %+v", res)
	}
	// Other updates (the SLA clock's, an assignment) may come first: wait
	// for the message's.
	var upd desk.TicketData
	readUntil(t, ws, 10*time.Second, func(f frameMsg) bool {
		if f.Type != "ticket.updated" {
			return false
		}
		var td desk.TicketData
		if err := json.Unmarshal(f.Data, &td); err != nil {
			t.Fatal(err)
		}
		if td.Change != desk.ChangeMessage {
			return false
		}
		upd = td
		return true
	})
	if upd.Ticket.ID != refund.Ticket.ID {
		t.Fatalf("follow-up went to ticket %d, want %d", upd.Ticket.ID, refund.Ticket.ID)
	}

	// Reply, note, resolve through the API.
	id := refund.Ticket.ID
	var replied struct {
		Ticket  desk.Ticket  `json:"ticket"`
		Message desk.Message `json:"message"`
	}
	if code := a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/reply", id), "application/json", []byte(`{"text":"Sorry Ana, refund on its way."}`), &replied); code != http.StatusAccepted {
		t.Fatalf("reply: %d", code)
	}
	if replied.Ticket.Status != desk.StatusPending || replied.Ticket.FirstResponseAt == nil {
		t.Errorf("after reply: status %s, first response %v", replied.Ticket.Status, replied.Ticket.FirstResponseAt)
	}
	readUntil(t, ws, 10*time.Second, func(f frameMsg) bool {
		var td desk.TicketData
		json.Unmarshal(f.Data, &td)
		return f.Type == "ticket.updated" && td.Change == desk.ChangeDelivery
	})
	if code := a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/note", id), "application/json", []byte(`{"text":"VIP customer"}`), nil); code != http.StatusOK {
		t.Fatalf("note: %d", code)
	}
	if code := a.do("POST", fmt.Sprintf("/api/v1/tickets/%d/resolve", id), "", nil, nil); code != http.StatusOK {
		t.Fatalf("resolve: %d", code)
	}
	var tk desk.Ticket
	a.do("GET", fmt.Sprintf("/api/v1/tickets/%d", id), "", nil, &tk)
	if tk.Status != desk.StatusResolved || len(tk.Messages) != 4 {
		t.Fatalf("ticket: status %s, %d messages, want resolved with 4", tk.Status, len(tk.Messages))
	}
	if tk.Messages[2].Direction != desk.Outbound || tk.Messages[2].Delivery != desk.DeliverySent || tk.Messages[2].NativeID == "" {
		t.Errorf("reply message: %+v", tk.Messages[2])
	}
	lastSeq := a.srv.desk.LastSeq()
	a.stop()

	// Restart on the same data directory: everything is still there, and a
	// client resuming from an old sequence number gets what it missed.
	b := startApp(t, data)
	var page desk.Page
	b.do("GET", "/api/v1/tickets", "", nil, &page)
	if len(page.Tickets) != 2 {
		t.Fatalf("after restart: %d tickets, want 2", len(page.Tickets))
	}
	ws2 := b.dial("")
	ws2.WriteJSON(map[string]any{"subscribe": []string{"tickets"}, "since": 0})
	var seqs []int64
	readUntil(t, ws2, 10*time.Second, func(f frameMsg) bool {
		seqs = append(seqs, f.Seq)
		return f.Seq >= lastSeq
	})
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("resumed frames out of order: %v", seqs)
		}
	}
	// A new mention after the resume arrives live, once.
	b.ingest(mention("m9", "carl", "Wifi on the train is great today, thanks!", nil))
	frames := readUntil(t, ws2, 10*time.Second, func(f frameMsg) bool { return f.Type == "ticket.created" })
	if last := frames[len(frames)-1]; last.Seq <= lastSeq {
		t.Errorf("live frame seq %d not after %d", last.Seq, lastSeq)
	}
}

func itoa64(i int64) string { return fmt.Sprint(i) }

func jsonBytes(v any) ([]byte, error) { return json.Marshal(v) }
