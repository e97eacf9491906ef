package watch

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// End to end with a real desk: mentions applied by the desk reach the
// watch through its event log, the alert comes back on it, the API lists
// and acknowledges it, and a restart resumes from the cursor.
func TestWithRealDesk(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d, err := desk.Open(ctx, desk.Config{Path: filepath.Join(dir, "desk.db")}, discard(), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	go d.Run(ctx)

	now := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
	var batch []router.Routed
	for i := 0; i < 8; i++ {
		at := now.Add(time.Duration(i) * time.Minute)
		text := "Is my train on time?"
		if i == 3 {
			text = "Rappel produit sur les sandwichs de la gare ?"
		}
		m := &listener.Mention{Source: "mastodon", ID: "m" + string(rune('0'+i)), CreatedAt: at, Author: listener.Author{ID: "a" + string(rune('0'+i))}, Text: text, Lang: "fr"}
		batch = append(batch, router.Routed{
			Record:     intake.Record{Seq: int64(i + 1), Version: 1, ReceivedAt: at, Item: listener.Item{Kind: listener.KindMention, Mention: m}},
			Enrichment: router.Enrichment{Lang: "fr", Label: "neutral"},
			Decision:   router.Decision{Queue: "general"},
		})
	}
	if err := d.Apply(ctx, batch); err != nil {
		t.Fatal(err)
	}

	cfg := Config{Path: filepath.Join(dir, "watch.db")}
	clock := &fixedClock{t: now.Add(8 * time.Minute)}
	w, err := Open(ctx, cfg, d, d, discard(), prometheus.NewRegistry(), WithClock(clock), WithWho(func(ctx context.Context) string { return "mona" }))
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()

	var raised desk.Event
	waitFor(t, func() bool {
		evs, _ := d.ReadEvents(ctx, 0, 1000)
		for _, ev := range evs {
			if ev.Type == EventAlertRaised {
				raised = ev
				return true
			}
		}
		return false
	})
	var ae AlertEvent
	if err := json.Unmarshal(raised.Data, &ae); err != nil {
		t.Fatal(err)
	}
	if ae.Alert.Key != `crisis:"rappel produit"` || ae.Alert.RaisedAt.IsZero() {
		t.Fatalf("raised %+v", ae.Alert)
	}

	e := echo.New()
	g := e.Group("/api/v1")
	pass := func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	w.Register(g, pass, pass)
	srv := httptest.NewServer(e)
	defer srv.Close()

	var page Page
	getJSON(t, srv.URL+"/api/v1/alerts?status=open", http.StatusOK, &page)
	if len(page.Alerts) != 1 || page.Alerts[0].ID != ae.Alert.ID || page.Alerts[0].Explanation.Samples[0].Excerpt == "" {
		t.Fatalf("open alerts %+v", page)
	}
	var acked Alert
	postJSON(t, srv.URL+"/api/v1/alerts/"+itoa(ae.Alert.ID)+"/ack", http.StatusOK, &acked)
	if acked.Status != StatusAcked || acked.AckedBy != "mona" || acked.AckedAt == nil {
		t.Errorf("acked %+v", acked)
	}
	postJSON(t, srv.URL+"/api/v1/alerts/"+itoa(ae.Alert.ID)+"/ack", http.StatusConflict, nil)
	postJSON(t, srv.URL+"/api/v1/alerts/999/ack", http.StatusNotFound, nil)
	getJSON(t, srv.URL+"/api/v1/alerts?status=nope", http.StatusBadRequest, nil)
	getJSON(t, srv.URL+"/api/v1/alerts?status=acked&limit=1", http.StatusOK, &page)
	if len(page.Alerts) != 1 {
		t.Errorf("acked alerts %+v", page)
	}
	waitFor(t, func() bool {
		evs, _ := d.ReadEvents(ctx, 0, 1000)
		for _, ev := range evs {
			if ev.Type == EventAlertAcked {
				var a AlertEvent
				json.Unmarshal(ev.Data, &a)
				return a.TimeToAckSeconds != nil && a.Alert.AckedAt != nil && a.Actor == "mona"
			}
		}
		return false
	})

	// Restart: the watch resumes from its cursor with its alert.
	waitFor(t, func() bool { return w.Cursor() >= d.LastSeq()-1 })
	stop()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	cursor := w.Cursor()
	w.Close()
	w2, err := Open(ctx, cfg, d, d, discard(), prometheus.NewRegistry(), WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	if w2.Cursor() != cursor || w2.life.byID(ae.Alert.ID) == nil || w2.life.byID(ae.Alert.ID).alert.Status != StatusAcked {
		t.Errorf("after restart: cursor %d (want %d), alert %+v", w2.Cursor(), cursor, w2.life.byID(ae.Alert.ID))
	}
	if w2.eng.since == 0 || len(w2.eng.list) == 0 {
		t.Errorf("counts not restored")
	}
	total, _ := w2.eng.list[0].sum(minuteOf(now), minuteOf(now)+10)
	if total != 8 {
		t.Errorf("restored %v mentions, want 8", total)
	}
}

func itoa(i int64) string { b, _ := json.Marshal(i); return string(b) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, code int, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != code {
		t.Fatalf("GET %s: %d, want %d", url, resp.StatusCode, code)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
}

func postJSON(t *testing.T, url string, code int, v any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != code {
		t.Fatalf("POST %s: %d, want %d", url, resp.StatusCode, code)
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
}
