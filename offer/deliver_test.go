package offer

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef-test-secret"

// gateway is a fake SMS/CRM gateway: it checks every call's signature and
// answers with the statuses it is given, in turn (then 200).
type gateway struct {
	t        testing.TB
	mu       sync.Mutex
	statuses []int
	calls    []gatewayCall
	srv      *httptest.Server
}

type gatewayCall struct {
	key, attempt string
	body         Webhook
	raw          []byte
	sigOK        bool
}

func newGateway(t testing.TB, statuses ...int) *gateway {
	g := &gateway{t: t, statuses: statuses}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	c := gatewayCall{key: r.Header.Get(HeaderIdempotencyKey), attempt: r.Header.Get(HeaderAttempt), raw: raw}
	c.sigOK = Verify([]byte(testSecret), r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), raw, time.Now(), time.Minute) == nil
	if err := json.Unmarshal(raw, &c.body); err != nil {
		g.t.Errorf("gateway: body is not a webhook: %v", err)
	}
	g.mu.Lock()
	g.calls = append(g.calls, c)
	status := http.StatusOK
	if len(g.statuses) > 0 {
		status, g.statuses = g.statuses[0], g.statuses[1:]
	}
	g.mu.Unlock()
	w.WriteHeader(status)
}

func (g *gateway) all() []gatewayCall {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayCall(nil), g.calls...)
}

// deliveryEngine is an engine with a fence, a campaign, consent for "a",
// and the gateway; it decides one check-in of "a" (an offer) and returns.
func deliveryEngine(t *testing.T, g *gateway, cfg Config) (*Engine, *memLog) {
	t.Helper()
	cfg.GatewayURL, cfg.GatewaySecret = g.srv.URL, testSecret
	if cfg.RetryBase == 0 {
		cfg.RetryBase, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	}
	in := newMemLog()
	e := openEngine(t, cfg, in, nil)
	mustFence(t, e, flatiron())
	mustCampaign(t, e, Campaign{Name: "w", Fences: []int64{1}, Offer: Offer{Template: "Hi {{name}}"}})
	grant(t, e, "a")
	in.add(checkIn("c1", "a", time.Now(), inLat, inLon))
	return e, in
}

func offerOne(t *testing.T, e *Engine) Decision {
	t.Helper()
	ds := allDecisions(t, e)
	if len(ds) != 1 {
		t.Fatalf("%d decisions, want 1", len(ds))
	}
	return ds[0]
}

func TestDeliveryRetriesThenDelivers(t *testing.T) {
	t.Parallel()
	g := newGateway(t, 500, 503, 429)
	e, _ := deliveryEngine(t, g, Config{})
	runUntil(t, e, func() bool { return len(g.all()) == 4 && decisionDelivery(e) == DeliveryDelivered })
	calls := g.all()
	d := offerOne(t, e)
	for i, c := range calls {
		if !c.sigOK {
			t.Errorf("call %d: bad signature", i+1)
		}
		if c.key != calls[0].key || !strings.HasPrefix(c.key, "vigie-") {
			t.Errorf("call %d: Idempotency-Key %q, want the same on every attempt (%q)", i+1, c.key, calls[0].key)
		}
		if c.attempt != string(rune('1'+i)) {
			t.Errorf("call %d: attempt header %q", i+1, c.attempt)
		}
		if string(c.raw) != string(calls[0].raw) {
			t.Errorf("call %d: the body changed between attempts", i+1)
		}
	}
	if b := calls[0].body; b.OfferID != d.ID || b.Text != "Hi @a" || b.UserID != "a" || b.Store != "Velora Flatiron" {
		t.Errorf("webhook body = %+v", b)
	}
	if d.Attempts != 4 || d.DeliveredAt == nil {
		t.Errorf("offer = %+v, want 4 attempts and a delivery time", d)
	}
}

func decisionDelivery(e *Engine) Delivery {
	var s string
	e.db.R.QueryRow("SELECT delivery FROM decisions ORDER BY id LIMIT 1").Scan(&s)
	return Delivery(s)
}

func TestDeliveryDeadLetter(t *testing.T) {
	t.Parallel()
	g := newGateway(t, 500, 500, 500, 500, 500)
	e, _ := deliveryEngine(t, g, Config{MaxAttempts: 3})
	runUntil(t, e, func() bool { return decisionDelivery(e) == DeliveryDead })
	if n := len(g.all()); n != 3 {
		t.Errorf("%d calls, want 3 (MaxAttempts)", n)
	}
	dead, _, err := e.Decisions(context.Background(), Filter{Delivery: DeliveryDead})
	if err != nil || len(dead) != 1 || !strings.Contains(dead[0].LastError, "500") {
		t.Fatalf("dead letters = %+v (%v), want the offer with its last error", dead, err)
	}
	// A retry from the dead-letter list goes through.
	if _, err := e.Retry(context.Background(), dead[0].ID); err != nil {
		t.Fatal(err)
	}
	runUntil(t, e, func() bool { return decisionDelivery(e) == DeliveryDelivered })
	calls := g.all()
	if calls[len(calls)-1].key != calls[0].key {
		t.Error("a retried offer must keep its Idempotency-Key")
	}
}

func TestDeliveryPermanentRefusal(t *testing.T) {
	t.Parallel()
	g := newGateway(t, 422)
	e, _ := deliveryEngine(t, g, Config{})
	runUntil(t, e, func() bool { return decisionDelivery(e) == DeliveryDead })
	if n := len(g.all()); n != 1 {
		t.Errorf("%d calls after a 422, want 1: retrying cannot help", n)
	}
}

func TestDeliveryTimeout(t *testing.T) {
	t.Parallel()
	slow := make(chan struct{})
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			<-slow // the first call hangs
		}
	}))
	t.Cleanup(func() { close(slow); srv.Close() })
	g := &gateway{srv: srv}
	e, _ := deliveryEngine(t, g, Config{GatewayTimeout: 50 * time.Millisecond})
	runUntil(t, e, func() bool { return decisionDelivery(e) == DeliveryDelivered })
	d := offerOne(t, e)
	if d.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (a timeout, then a success)", d.Attempts)
	}
}

func TestWithdrawalCancelsQueuedOffer(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	clk := &clock{t: time.Now()}
	e, in := deliveryEngine(t, g, Config{Now: clk.Now})
	// Decide without delivering (no Run), then withdraw.
	recs, _ := in.Read(context.Background(), 0, 10)
	if err := e.process(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if d := offerOne(t, e); d.Delivery != DeliveryQueued {
		t.Fatalf("delivery = %s, want queued", d.Delivery)
	}
	if _, err := e.PutConsent(context.Background(), "foursquare", "a", ConsentRequest{}, "test"); err != nil {
		t.Fatal(err)
	}
	if d := offerOne(t, e); d.Delivery != DeliveryCancelled {
		t.Fatalf("delivery after withdrawal = %s, want cancelled", d.Delivery)
	}
	runUntil(t, e, func() bool { return e.Cursor() == 1 })
	if n := len(g.all()); n != 0 {
		t.Errorf("%d gateway calls after withdrawal, want 0", n)
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	secret := []byte(testSecret)
	now := time.Unix(1_790_000_000, 0)
	body := []byte(`{"offer_id":1}`)
	sig := Sign(secret, now, body)
	ts := "1790000000"
	// Known answer, computed independently:
	//   printf '1790000000.{"offer_id":1}' | openssl dgst -sha256 -hmac '0123456789abcdef-test-secret'
	const want = "sha256=" + knownSig
	if sig != want {
		t.Errorf("Sign = %s, want %s", sig, want)
	}
	tests := []struct {
		name      string
		secret    []byte
		ts, sig   string
		body      []byte
		now       time.Time
		wantError string
	}{
		{"good", secret, ts, sig, body, now, ""},
		{"within skew", secret, ts, sig, body, now.Add(4 * time.Minute), ""},
		{"too old", secret, ts, sig, body, now.Add(6 * time.Minute), "away from now"},
		{"from the future", secret, ts, sig, body, now.Add(-6 * time.Minute), "away from now"},
		{"body changed", secret, ts, sig, []byte(`{"offer_id":2}`), now, "bad signature"},
		{"timestamp changed", secret, "1790000001", sig, body, now, "bad signature"},
		{"wrong secret", []byte("another-secret-of-16"), ts, sig, body, now, "bad signature"},
		{"no secret", nil, ts, sig, body, now, "no gateway secret"},
		{"no signature", secret, ts, "", body, now, "required"},
		{"bad timestamp", secret, "yesterday", sig, body, now, "Unix seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.secret, tt.ts, tt.sig, tt.body, tt.now, 5*time.Minute)
			if tt.wantError == "" {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantError) {
				t.Fatalf("Verify = %v, want an error containing %q", err, tt.wantError)
			}
		})
	}
}

// knownSig is HMAC-SHA256 of `1790000000.{"offer_id":1}` under testSecret,
// computed with openssl (see TestSignVerify).
const knownSig = "0c9dd88e5ef09504c1b1c6881591ac7255b8df0f0c9cf07fca1adb624d0af945"
