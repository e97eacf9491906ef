package main

import (
	"testing"
	"time"
)

// TestDemoFeedThroughTheRealConnector: --demo serves a local feed that the
// real feed connector polls; its articles become mentions, and the source
// reports itself connected with items.
func TestDemoFeedThroughTheRealConnector(t *testing.T) {
	a := startApp(t, t.TempDir(), func(c *serveConfig) { c.Demo, c.DemoRate = true, 30 })
	deadline := time.Now().Add(30 * time.Second)
	for {
		var statuses []struct {
			Name       string `json:"name"`
			Connected  bool   `json:"connected"`
			ItemsTotal int64  `json:"items_total"`
		}
		a.do("GET", "/api/v1/sources", "", nil, &statuses)
		var sr struct {
			Total int `json:"total"`
		}
		a.do("GET", "/api/v1/search?q=source:press", "", nil, &sr)
		for _, s := range statuses {
			if s.Name == "demo-press" && s.Connected && s.ItemsTotal > 0 && sr.Total > 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo feed never came through its connector: %+v, %d press mentions in search", statuses, sr.Total)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
