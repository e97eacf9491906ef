package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/vigie/vigie/desk"
)

// BenchmarkHotPath measures the product's path: mentions POSTed over HTTP,
// committed, routed, turned into tickets and pushed to agents' websockets.
// Each iteration posts 10,000 mentions from 4 concurrent clients in batches
// of 50 and waits until every ticket.created frame reached the agent.
// Reported: mentions/s, and the latency from the POST of a mention's batch
// to its frame on the agent's websocket (p50, p99, max).
func BenchmarkHotPath(b *testing.B) {
	b.Run("max", func(b *testing.B) { benchHotPath(b, 0) })
	// About half of what "max" sustains here with every sink running beside
	// it (search, archive, alerts, offers, SLA clocks): the latency an agent
	// sees on a busy day, not in a backlog.
	b.Run("rate=800", func(b *testing.B) { benchHotPath(b, 800) })
}

// benchHotPath posts 10,000 mentions an iteration, as fast as possible
// (rate 0) or at rate mentions/s in batches of 10 ms.
func benchHotPath(b *testing.B, rate float64) {
	const (
		perIter = 10_000
		agents  = 5
	)
	batch, posters := 50, 4
	var every time.Duration
	if rate > 0 {
		batch, posters = int(rate/100), 1
		every = 10 * time.Millisecond
	}
	a := startApp(b, b.TempDir())
	var (
		mu      sync.Mutex
		sentAt  = map[string]time.Time{}
		lat     []time.Duration
		arrived = make(chan struct{}, perIter)
	)
	for i := 0; i < agents; i++ {
		ws := a.dial("")
		ws.WriteJSON(map[string]any{"subscribe": []string{"tickets"}})
		first := i == 0
		go func() {
			for {
				if !first {
					// The other agents read and drop their frames.
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
					continue
				}
				var f struct {
					Type string          `json:"type"`
					Data json.RawMessage `json:"data"`
				}
				if err := ws.ReadJSON(&f); err != nil {
					return
				}
				if !first || f.Type != "ticket.created" {
					continue
				}
				var td desk.TicketData
				json.Unmarshal(f.Data, &td)
				mu.Lock()
				if t0, ok := sentAt[td.Message.NativeID]; ok {
					lat = append(lat, time.Since(t0))
					delete(sentAt, td.Message.NativeID)
				}
				mu.Unlock()
				arrived <- struct{}{}
			}
		}()
	}
	_ = websocket.TextMessage
	client := &http.Client{Timeout: time.Minute}
	b.ResetTimer()
	start := time.Now()
	for it := 0; it < b.N; it++ {
		var wg sync.WaitGroup
		for p := 0; p < posters; p++ {
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				var tick <-chan time.Time
				if every > 0 {
					t := time.NewTicker(every)
					defer t.Stop()
					tick = t.C
				}
				for k := p * batch; k < perIter; k += posters * batch {
					if tick != nil {
						<-tick
					}
					var buf bytes.Buffer
					ids := make([]string, 0, batch)
					for j := k; j < k+batch && j < perIter; j++ {
						id := fmt.Sprintf("bench-%d-%d", it, j)
						ids = append(ids, id)
						m := mention(id, "a-"+id, "Train 8412 to Lyon is 40 minutes late again, any news?", nil)
						json.NewEncoder(&buf).Encode(m)
					}
					req, _ := http.NewRequest("POST", a.url+"/api/v1/mentions", &buf)
					req.Header.Set("Authorization", "Bearer "+testToken)
					req.Header.Set("Content-Type", "application/x-ndjson")
					now := time.Now()
					mu.Lock()
					for _, id := range ids {
						sentAt[id] = now
					}
					mu.Unlock()
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != 202 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			}(p)
		}
		wg.Wait()
		timeout := time.After(2 * time.Minute)
		for n := 0; n < perIter; n++ {
			select {
			case <-arrived:
			case <-timeout:
				b.Fatalf("only %d of %d tickets arrived", n, perIter)
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(perIter*b.N)/elapsed.Seconds(), "mentions/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(0, "ns/op")
}
