package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/vigie/vigie/desk"
)

// BenchmarkFanout measures the delivery of broadcasts to many agents'
// websockets on loopback: from the desk publishing an event
// ((*desk.Desk).Publish: appended to the event log, committed, then pushed by
// the hub) to each client reading it. In the same run, the same clients read
// the same frames from a bare gorilla/websocket broadcast server (one writer
// goroutine a connection, prepared messages, nothing stored): the floor a
// websocket hub can reach on this machine. Reported: p50, p99 and max of
// both, their p99 ratio, and the errors (failed dials, dropped connections,
// missing frames), which fail the benchmark.
//
// Both sizes run by default: 1,000 takes about 8 s here, 5,000 about 25 s.
//
//	go test ./cmd/vigie -run '^$' -bench Fanout -benchtime 1x
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1_000, 5_000} {
		b.Run(fmt.Sprintf("conns=%d", n), func(b *testing.B) {
			raiseNoFile(b, uint64(2*n+1_000))
			// Space broadcasts so that each is one delivery, not a backlog.
			msgs, every := 30, 100*time.Millisecond
			if n > 1_000 {
				msgs, every = 20, time.Duration(n/10)*time.Millisecond
			}
			var vig, bare fanoutResult
			for i := range b.N {
				// Alternate the order: the machine is shared and its load drifts.
				if i%2 == 0 {
					vig.add(fanoutVigie(b, n, msgs, every))
					bare.add(fanoutBare(b, n, msgs, every))
				} else {
					bare.add(fanoutBare(b, n, msgs, every))
					vig.add(fanoutVigie(b, n, msgs, every))
				}
			}
			vig.report(b, "vigie")
			bare.report(b, "bare")
			if p := bare.pct(0.99); p > 0 {
				b.ReportMetric(float64(vig.pct(0.99))/float64(p), "p99-ratio")
			}
			b.ReportMetric(0, "ns/op")
			if vig.errors+bare.errors > 0 {
				b.Errorf("%d errors with Vigie, %d with the bare server (first: %v / %v)", vig.errors, bare.errors, vig.first, bare.first)
			}
		})
	}
}

// raiseNoFile raises the soft limit of open files to at least need, or skips.
func raiseNoFile(tb testing.TB, need uint64) {
	tb.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		tb.Skipf("cannot read RLIMIT_NOFILE: %v", err)
	}
	if lim.Cur >= need {
		return
	}
	want := lim
	want.Cur = need
	if want.Max < need {
		want.Max = need // only root may raise the hard limit
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		tb.Skipf("need %d open files, the limit is %d/%d and cannot be raised: %v", need, lim.Cur, lim.Max, err)
	}
}

type fanoutResult struct {
	lat    []time.Duration
	errors int
	first  error
}

func (r *fanoutResult) add(o fanoutResult) {
	r.lat = append(r.lat, o.lat...)
	r.errors += o.errors
	if r.first == nil {
		r.first = o.first
	}
}

func (r *fanoutResult) pct(p float64) time.Duration {
	slices.Sort(r.lat)
	return pct(r.lat, p)
}

func (r *fanoutResult) report(b *testing.B, name string) {
	for _, q := range []struct {
		p    float64
		name string
	}{{0.5, "p50"}, {0.99, "p99"}, {1, "max"}} {
		b.ReportMetric(float64(r.pct(q.p).Microseconds())/1000, q.name+"-ms-"+name)
	}
	b.ReportMetric(float64(r.errors), "errors-"+name)
}

// fanoutClients are n websockets reading frames that carry "i":<index>.
type fanoutClients struct {
	conns  []*websocket.Conn
	sent   []atomic.Int64 // unix nanoseconds at which message i was published
	got    [][]time.Duration
	warm   atomic.Int64 // clients that read a warm-up frame
	total  atomic.Int64 // frames read
	errors atomic.Int64
	mu     sync.Mutex
	first  error
	wg     sync.WaitGroup
	closed atomic.Bool
}

func (c *fanoutClients) fail(err error) {
	c.errors.Add(1)
	c.mu.Lock()
	if c.first == nil {
		c.first = err
	}
	c.mu.Unlock()
}

// dialFanout opens n websockets to url, 64 at a time, and starts their
// readers; hello, when not nil, is sent first on each.
func dialFanout(tb testing.TB, url string, n, msgs int, hello any) *fanoutClients {
	tb.Helper()
	c := &fanoutClients{conns: make([]*websocket.Conn, n), sent: make([]atomic.Int64, msgs), got: make([][]time.Duration, n)}
	dialer := &websocket.Dialer{HandshakeTimeout: time.Minute, ReadBufferSize: 4 << 10, WriteBufferSize: 1 << 10}
	sem := make(chan struct{}, 64)
	var dials sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		dials.Add(1)
		go func() {
			defer func() { <-sem; dials.Done() }()
			ws, _, err := dialer.Dial(url, nil)
			if err != nil {
				c.fail(fmt.Errorf("dial %d: %w", i, err))
				return
			}
			if hello != nil {
				if err := ws.WriteJSON(hello); err != nil {
					c.fail(fmt.Errorf("hello %d: %w", i, err))
				}
			}
			c.conns[i] = ws
		}()
	}
	dials.Wait()
	for i, ws := range c.conns {
		if ws == nil {
			continue
		}
		c.got[i] = make([]time.Duration, 0, msgs)
		c.wg.Add(1)
		go c.read(i, ws)
	}
	return c
}

var fanoutIndex = []byte(`"i":`)

func (c *fanoutClients) read(i int, ws *websocket.Conn) {
	defer c.wg.Done()
	warmed := false
	for {
		_, raw, err := ws.ReadMessage()
		if err != nil {
			if !c.closed.Load() {
				c.fail(fmt.Errorf("client %d: %w", i, err))
			}
			return
		}
		now := time.Now().UnixNano()
		k := bytes.Index(raw, fanoutIndex)
		if k < 0 {
			continue
		}
		rest := raw[k+len(fanoutIndex):]
		end := bytes.IndexAny(rest, ",}")
		if end < 0 {
			continue
		}
		idx, err := strconv.Atoi(string(rest[:end]))
		if err != nil {
			continue
		}
		if idx < 0 {
			if !warmed {
				warmed = true
				c.warm.Add(1)
			}
			continue
		}
		if idx < len(c.sent) {
			c.got[i] = append(c.got[i], time.Duration(now-c.sent[idx].Load()))
			c.total.Add(1)
		}
	}
}

// run warms the clients up with publish(-1) until every one has read a
// frame, then publishes msgs frames, every apart, and collects.
func (c *fanoutClients) run(tb testing.TB, msgs int, every time.Duration, publish func(i int) error) fanoutResult {
	tb.Helper()
	live := int64(0)
	for _, ws := range c.conns {
		if ws != nil {
			live++
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for c.warm.Load() < live {
		if time.Now().After(deadline) {
			c.fail(fmt.Errorf("only %d of %d clients received the warm-up", c.warm.Load(), live))
			break
		}
		if err := publish(-1); err != nil {
			tb.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(every)
	for i := range msgs {
		c.sent[i].Store(time.Now().UnixNano())
		if err := publish(i); err != nil {
			tb.Fatal(err)
		}
		time.Sleep(every)
	}
	// Wait for the last frames (every client must read every message).
	want := int(live) * msgs
	for wait := time.Now().Add(time.Minute); time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
		if c.total.Load() >= int64(want) {
			break
		}
	}
	c.closed.Store(true)
	for _, ws := range c.conns {
		if ws != nil {
			ws.Close()
		}
	}
	c.wg.Wait()
	var r fanoutResult
	n := 0
	for _, g := range c.got {
		r.lat = append(r.lat, g...)
		n += len(g)
	}
	if n < int(live)*msgs {
		c.fail(fmt.Errorf("%d of %d frames never arrived", int(live)*msgs-n, int(live)*msgs))
	}
	if missing := len(c.conns) - int(live); missing > 0 && c.first == nil {
		c.fail(fmt.Errorf("%d clients could not connect", missing))
	}
	r.errors, r.first = int(c.errors.Load()), c.first
	return r
}

// fanoutPad makes a frame about the size of a ticket event.
var fanoutPad = strings.Repeat("x", 700)

// fanoutVigie is the product: the whole app, an admin's websockets
// subscribed to alerts, events published on the desk.
func fanoutVigie(b *testing.B, n, msgs int, every time.Duration) fanoutResult {
	b.Helper()
	a := startApp(b, b.TempDir())
	defer a.stop()
	url := strings.Replace(a.url, "http://", "ws://", 1) + "/ws?token=" + testToken
	c := dialFanout(b, url, n, msgs, map[string]any{"subscribe": []string{string(desk.TopicAlerts)}})
	ctx := context.Background()
	return c.run(b, msgs, every, func(i int) error {
		_, err := a.srv.desk.Publish(ctx, "bench.fanout", desk.TopicAlerts, map[string]any{"i": i, "pad": fanoutPad})
		return err
	})
}

// fanoutBare is the comparison: a minimal gorilla/websocket broadcast hub.
func fanoutBare(b *testing.B, n, msgs int, every time.Duration) fanoutResult {
	b.Helper()
	h := &bareHub{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.close()
	c := dialFanout(b, strings.Replace(srv.URL, "http://", "ws://", 1), n, msgs, nil)
	seq := 0
	return c.run(b, msgs, every, func(i int) error {
		seq++
		raw := fmt.Appendf(nil, `{"seq":%d,"type":"bench.fanout","at":%q,"data":{"i":%d,"pad":%q}}`, seq, time.Now().UTC().Format(time.RFC3339Nano), i, fanoutPad)
		return h.broadcast(raw)
	})
}

// bareHub is the least a websocket broadcast server does.
type bareHub struct {
	mu    sync.Mutex
	conns map[*bareConn]struct{}
}

type bareConn struct {
	ws   *websocket.Conn
	send chan *websocket.PreparedMessage
}

var bareUpgrader = websocket.Upgrader{ReadBufferSize: 4 << 10, WriteBufferSize: 16 << 10}

func (h *bareHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := bareUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &bareConn{ws: ws, send: make(chan *websocket.PreparedMessage, 256)}
	h.mu.Lock()
	if h.conns == nil {
		h.conns = map[*bareConn]struct{}{}
	}
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	go func() {
		for pm := range c.send {
			if err := ws.WritePreparedMessage(pm); err != nil {
				break
			}
		}
		ws.Close()
	}()
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
	h.mu.Lock()
	if _, ok := h.conns[c]; ok {
		delete(h.conns, c)
		close(c.send)
	}
	h.mu.Unlock()
}

func (h *bareHub) broadcast(raw []byte) error {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, raw)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		select {
		case c.send <- pm:
		default: // a slow client: dropped, as a real hub would
			delete(h.conns, c)
			close(c.send)
		}
	}
	return nil
}

func (h *bareHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		delete(h.conns, c)
		close(c.send)
	}
}
