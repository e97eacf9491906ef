package main

import (
	"encoding/json"
	"os"
	"testing"
	"time"
)

// TestKPIsThroughVigie: a mention answered through the API shows in the
// managers' KPIs, on the embedded archive and on a real ClickHouse.
func TestKPIsThroughVigie(t *testing.T) {
	archives := map[string]string{"embedded": ""}
	if dsn := os.Getenv("VIGIE_TEST_CLICKHOUSE"); dsn != "" {
		archives["clickhouse"] = dsn
	} else if os.Getenv("CI") == "true" {
		t.Fatal("VIGIE_TEST_CLICKHOUSE is not set: make test starts a ClickHouse for this test")
	}
	for name, dsn := range archives {
		t.Run(name, func(t *testing.T) {
			a := startApp(t, t.TempDir(), func(c *serveConfig) { c.ClickHouse = dsn })
			a.ingest(mention("k1", "kim", "My refund never came", nil), mention("k2", "lou", "Love the new trains", nil))
			tk := waitTicketFor(t, a, "k1")
			a.do("POST", "/api/v1/tickets/"+itoa64(tk.ID)+"/reply", "application/json", []byte(`{"text":"Sorry Kim, on it"}`), nil)
			from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
			to := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			deadline := time.Now().Add(20 * time.Second)
			for {
				var res struct {
					Buckets []struct {
						Key       string   `json:"key"`
						Mentions  int      `json:"mentions"`
						Tickets   int      `json:"tickets"`
						FirstP50  *float64 `json:"first_response_p50_seconds"`
						Responded int      `json:"responded"`
					} `json:"buckets"`
				}
				code := a.do("GET", "/api/v1/kpis?from="+from+"&to="+to+"&interval=2h", "", nil, &res)
				if code == 200 && len(res.Buckets) == 1 && res.Buckets[0].Mentions == 2 && res.Buckets[0].Tickets == 2 && res.Buckets[0].Responded == 1 && res.Buckets[0].FirstP50 != nil {
					return
				}
				if time.Now().After(deadline) {
					b, _ := json.Marshal(res)
					t.Fatalf("KPIs never showed 2 mentions, 2 tickets, 1 answered (last answer %d): %s", code, b)
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
