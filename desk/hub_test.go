package desk

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/vigie/vigie/listener"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeWS is a transport in memory: the test reads what the hub wrote and
// feeds what the client says.
type fakeWS struct {
	in      chan []byte
	out     chan []byte
	block   chan struct{} // when not nil, writes wait on it
	closed  chan struct{}
	once    sync.Once
	mu      sync.Mutex
	written int
}

func newFakeWS() *fakeWS {
	return &fakeWS{in: make(chan []byte, 16), out: make(chan []byte, 100_000), closed: make(chan struct{})}
}

func (f *fakeWS) SetReadLimit(int64)                 {}
func (f *fakeWS) SetReadDeadline(time.Time) error    { return nil }
func (f *fakeWS) SetWriteDeadline(time.Time) error   { return nil }
func (f *fakeWS) SetPongHandler(func(string) error)  {}
func (f *fakeWS) WriteMessage(t int, b []byte) error { return f.WriteFrame(b, nil) }
func (f *fakeWS) ReadMessage() (int, []byte, error) {
	select {
	case b := <-f.in:
		return websocket.TextMessage, b, nil
	case <-f.closed:
		return 0, nil, io.EOF
	}
}
func (f *fakeWS) WriteFrame(raw []byte, _ *websocket.PreparedMessage) error {
	if f.block != nil {
		select {
		case <-f.block:
		case <-f.closed:
			return io.ErrClosedPipe
		}
	}
	select {
	case <-f.closed:
		return io.ErrClosedPipe
	default:
	}
	f.mu.Lock()
	f.written++
	f.mu.Unlock()
	f.out <- raw
	return nil
}
func (f *fakeWS) Close() error { f.once.Do(func() { close(f.closed) }); return nil }

func (f *fakeWS) say(t testing.TB, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	f.in <- b
}

// next returns the next data frame (not a ping or close).
func (f *fakeWS) next(t testing.TB) Event {
	t.Helper()
	for {
		select {
		case b := <-f.out:
			var e Event
			if err := json.Unmarshal(b, &e); err != nil || e.Type == "" {
				continue // a close frame
			}
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no frame within 5s")
		}
	}
}

type testDesk struct {
	*Desk
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan struct{}
}

func openTestDesk(t testing.TB, hub HubConfig) *testDesk {
	t.Helper()
	reg := prometheus.NewRegistry()
	d, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "desk.db"), Hub: hub}, slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	td := &testDesk{Desk: d, reg: reg, cancel: cancel, done: make(chan struct{})}
	go func() { d.Run(ctx); close(td.done) }()
	t.Cleanup(func() { cancel(); <-td.done; d.Close() })
	return td
}

func (d *testDesk) connect(t testing.TB, topics ...Topic) *fakeWS {
	t.Helper()
	ws := newFakeWS()
	if len(topics) == 0 {
		topics = knownTopics
	}
	go d.hub.serve(ws, Client{User: "ana", Topics: topics})
	t.Cleanup(func() { ws.Close() })
	return ws
}

func (d *testDesk) publish(t testing.TB, n int, topic Topic) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := d.Publish(context.Background(), "test.event", topic, map[string]int{"i": i}); err != nil {
			t.Fatal(err)
		}
	}
}

// waitConnected waits until the hub has registered n connections.
func waitConnected(t testing.TB, d *testDesk, n float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for testutil.ToFloat64(d.metrics.connections) != n {
		if time.Now().After(deadline) {
			t.Fatalf("%v connections, want %v", testutil.ToFloat64(d.metrics.connections), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHubSlowClientIsDroppedOthersServed(t *testing.T) {
	d := openTestDesk(t, HubConfig{SendQueue: 50})
	fast := d.connect(t)
	slow := d.connect(t)
	slow.block = make(chan struct{}) // never writes
	waitConnected(t, d, 2)
	d.publish(t, 200, TopicAlerts)
	for i := 0; i < 200; i++ {
		if e := fast.next(t); e.Seq != int64(i+1) {
			t.Fatalf("fast client got seq %d, want %d", e.Seq, i+1)
		}
	}
	waitConnected(t, d, 1)
	if n := testutil.ToFloat64(d.metrics.disconnects.WithLabelValues("slow")); n != 1 {
		t.Fatalf("slow disconnects = %v, want 1", n)
	}
}

func TestHubTopicsFilter(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	ws := d.connect(t)
	ws.say(t, map[string]any{"subscribe": []string{"alerts"}})
	waitConnected(t, d, 1)
	time.Sleep(20 * time.Millisecond) // the subscription reaches the hub
	d.publish(t, 3, TopicTickets)
	d.publish(t, 1, TopicAlerts)
	if e := ws.next(t); e.Seq != 4 {
		t.Fatalf("got seq %d (%s), want only the alert, seq 4", e.Seq, e.Type)
	}
}

func TestHubResumeSinceMissesNothingAndRepeatsNothing(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	d.publish(t, 100, TopicTickets)
	ws := d.connect(t, TopicTickets)
	waitConnected(t, d, 1)
	// Events keep coming while the client resumes from 40.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 100; i++ {
			select {
			case <-stop:
				return
			default:
			}
			d.publish(t, 1, TopicTickets)
		}
	}()
	ws.say(t, map[string]any{"subscribe": []string{"tickets"}, "since": 40})
	wg.Wait()
	close(stop)
	seen := map[int64]bool{}
	var last int64
	for last < 200 {
		e := ws.next(t)
		if seen[e.Seq] {
			t.Fatalf("seq %d sent twice", e.Seq)
		}
		seen[e.Seq] = true
		last = e.Seq
	}
	// Live frames that reached the client before the subscription are
	// allowed; from 41 on every event must be there.
	for s := int64(41); s <= 200; s++ {
		if !seen[s] {
			t.Fatalf("seq %d missed", s)
		}
	}
}

func TestHubBadMessageDisconnects(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	ws := d.connect(t)
	waitConnected(t, d, 1)
	ws.in <- []byte(`{"subscribe": ["weather"]}`)
	waitConnected(t, d, 0)
	if n := testutil.ToFloat64(d.metrics.disconnects.WithLabelValues("bad_message")); n != 1 {
		t.Fatalf("bad_message disconnects = %v", n)
	}
}

func TestHubPresence(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	a := d.connect(t, TopicTickets)
	waitConnected(t, d, 1)
	a.say(t, map[string]any{"presence": map[string]any{"ticket_id": 7, "state": "typing"}})
	e := a.next(t)
	var p PresenceData
	if err := json.Unmarshal(e.Data, &p); err != nil || e.Type != EventPresence || p.TicketID != 7 || p.Viewers["ana"] != "typing" {
		t.Fatalf("presence frame %s %s (%v)", e.Type, e.Data, err)
	}
}

// FuzzClientMessage: whatever a browser sends, parsing never panics, and
// what it accepts is valid.
func FuzzClientMessage(f *testing.F) {
	for _, s := range []string{`{"subscribe":["tickets"],"since":12}`, `{"presence":{"ticket_id":3,"state":"typing"}}`, `{"subscribe":["weather"]}`, `{}`, `[`, `{"since":-1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseClientMessage(data)
		if err != nil {
			return
		}
		for _, tp := range m.Subscribe {
			if !slices.Contains(knownTopics, tp) {
				t.Fatalf("accepted unknown topic %q", tp)
			}
		}
		if m.Since != nil && *m.Since < 0 {
			t.Fatal("accepted a negative since")
		}
		if p := m.Presence; p != nil && p.State != "viewing" && p.State != "typing" && p.State != "left" {
			t.Fatalf("accepted presence %q", p.State)
		}
	})
}

// TestMarshalEventIsEncodingJSON: frames written directly are byte for byte
// what encoding/json writes.
func TestMarshalEventIsEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 4, 5, 123456789, time.UTC)
	data, err := json.Marshal(MentionData{Mention: listener.Mention{Source: "x", ID: "1", Text: `<b>"quoted" & élan</b>`}, TicketID: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []Event{
		{Seq: 1, Type: EventMentionReceived, At: at, Data: data},
		{Seq: 1 << 40, Type: EventTicketUpdated, At: at.In(time.FixedZone("CET", 3600)), Data: []byte(`{"a":[1,2,{"b":null}]}`)},
		{Seq: 7, Type: EventTicketCreated, At: at.Truncate(time.Second), Data: []byte(`"s"`)},
		{Seq: 8, Type: "odd \"type\"", At: at, Data: []byte(`{}`)},
		{Seq: 9, Type: EventMentionDeleted, At: at},
		{Seq: 10, Type: EventMentionDeleted, At: time.Time{}, Data: []byte(`{}`)},
	} {
		want, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("marshalEvent = %s\nencoding/json  %s", got, want)
		}
	}
}
