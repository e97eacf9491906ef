package watch

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	sigs   []string
	stamps []string
	ids    []string
	fail   atomic.Int32 // answer 500 this many times (negative: always)
	hits   atomic.Int32
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		if f := h.fail.Load(); f != 0 {
			if f > 0 {
				h.fail.Add(-1)
			}
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.sigs = append(h.sigs, r.Header.Get(HeaderSignature))
		h.stamps = append(h.stamps, r.Header.Get(HeaderTimestamp))
		h.ids = append(h.ids, r.Header.Get(HeaderDelivery))
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

// raiseCrisis feeds a crisis post and enough time for it to be evaluated.
func raiseCrisis(h *harness) {
	rng := rand.New(rand.NewPCG(1, 1))
	at := day0.Add(time.Hour)
	h.feed(traffic(rng, day0, at, constant(1), "calm")...)
	h.feed(mk{at: at, id: "x1", author: "a", text: "data breach at velora?", sentiment: -0.3, label: "negative"}.data())
	h.feed(traffic(rng, at.Add(time.Minute), at.Add(3*time.Minute), constant(1), "after")...)
}

func runDeliveriesFor(t *testing.T, h *harness, until func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.w.runDeliveries(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for !until() && time.Now().Before(deadline) {
		wake(h.w.wakeDeliver)
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestWebhookSignedRetriedThenSent(t *testing.T) {
	t.Parallel()
	srv := newHookServer(t)
	srv.fail.Store(2)
	cfg := testConfig(t)
	cfg.Delivery = DeliveryConfig{Backoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxAttempts: 5}
	cfg.Webhooks = []WebhookConfig{{Name: "ops", URL: srv.URL, Secret: "s3cret", Events: []Change{ChangeRaised}}}
	h := newHarness(t, cfg)
	raiseCrisis(h)
	runDeliveriesFor(t, h, func() bool { st, _ := h.w.Deliveries(context.Background()); return st.Sent == 1 })
	st, err := h.w.Deliveries(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st != (DeliveryStats{Sent: 1}) || srv.hits.Load() != 3 {
		t.Fatalf("deliveries %+v after %d hits, want 1 sent after 2 failures", st, srv.hits.Load())
	}
	body, sig := srv.bodies[0], srv.sigs[0]
	if !Verify("s3cret", body, sig) || Verify("other", body, sig) {
		t.Errorf("signature %q does not verify", sig)
	}
	if srv.stamps[0] == "" || srv.ids[0] == "" {
		t.Errorf("missing timestamp or delivery headers")
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != EventAlertRaised || p.Alert.Detector != DetectorCrisis || p.Alert.ID == 0 || p.IdempotencyKey == "" {
		t.Errorf("payload %+v", p)
	}
	for _, s := range p.Alert.Explanation.Samples {
		if s.Excerpt != "" {
			t.Errorf("webhook carries an excerpt")
		}
	}
}

func TestWebhookDeadLetter(t *testing.T) {
	t.Parallel()
	srv := newHookServer(t)
	srv.fail.Store(-1)
	cfg := testConfig(t)
	cfg.Delivery = DeliveryConfig{Backoff: 5 * time.Millisecond, MaxBackoff: 10 * time.Millisecond, MaxAttempts: 3}
	cfg.Webhooks = []WebhookConfig{{Name: "ops", URL: srv.URL, Events: []Change{ChangeRaised}}}
	h := newHarness(t, cfg)
	raiseCrisis(h)
	runDeliveriesFor(t, h, func() bool { st, _ := h.w.Deliveries(context.Background()); return st.Dead == 1 })
	st, _ := h.w.Deliveries(context.Background())
	if st != (DeliveryStats{Dead: 1}) || srv.hits.Load() != 3 {
		t.Fatalf("deliveries %+v after %d hits, want 1 dead after 3", st, srv.hits.Load())
	}
}

func TestSlackPayload(t *testing.T) {
	t.Parallel()
	srv := newHookServer(t)
	cfg := testConfig(t)
	cfg.Webhooks = []WebhookConfig{{Name: "slack", URL: srv.URL, Format: FormatSlack}}
	h := newHarness(t, cfg)
	raiseCrisis(h)
	runDeliveriesFor(t, h, func() bool { st, _ := h.w.Deliveries(context.Background()); return st.Sent >= 1 })
	if len(srv.bodies) == 0 {
		t.Fatal("nothing sent")
	}
	var m struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(srv.bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	if m.Text == "" || len(m.Blocks) < 3 || m.Blocks[0].Type != "header" {
		t.Errorf("slack message %s", srv.bodies[0])
	}
	if srv.sigs[0] != "" {
		t.Errorf("signed without a secret")
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	c := DeliveryConfig{Backoff: time.Second, MaxBackoff: 5 * time.Second}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 5 * time.Second, 10: 5 * time.Second} {
		if got := backoff(c, n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}
