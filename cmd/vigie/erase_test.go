package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestErasure: after DELETE /api/v1/authors/{source}/{id} the person's text
// is found nowhere: not through the API, not in the bytes of the data
// directory. Other people's posts stay.
func TestErasure(t *testing.T) {
	data := t.TempDir()
	a := startApp(t, data)
	secret := "Zanzibar-quokka-7781 my train ate my luggage"
	a.ingest(
		mention("e1", "erin", secret, nil),
		mention("e2", "erin", secret+" (again)", map[string]any{"reply_to": "e1"}),
		mention("k1", "kept", "Kept post about the Lyon train", nil),
	)
	waitTickets(t, a, 2)
	// The person had consented to offers, with a proof naming them.
	if code := a.do("PUT", "/api/v1/consents/mastodon/erin", "application/json", []byte(`{"granted":true,"channel":"web form","proof":"Zanzibar form #12, Erin Q."}`), nil); code != 200 {
		t.Fatalf("consent: %d", code)
	}
	// The text is indexed before it is erased.
	deadline := time.Now().Add(20 * time.Second)
	for {
		var sr struct {
			Total int `json:"total"`
		}
		a.do("GET", "/api/v1/search?q=Zanzibar", "", nil, &sr)
		if sr.Total >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the posts never reached the search index")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// First the person asks what Vigie holds about them.
	var exp struct {
		Received []json.RawMessage `json:"received"`
		Tickets  []struct {
			Messages []struct {
				Text string `json:"text"`
			} `json:"messages"`
		} `json:"tickets"`
		Offers struct {
			Consent *struct {
				Proof string `json:"proof"`
			} `json:"consent"`
		} `json:"offers"`
		Customer struct {
			Profile *struct {
				ID int64 `json:"id"`
			} `json:"profile"`
			Timeline []struct {
				Kind string `json:"kind"`
				Text string `json:"text"`
			} `json:"timeline"`
		} `json:"customer"`
	}
	if code := a.do("GET", "/api/v1/authors/mastodon/erin/export", "", nil, &exp); code != 200 {
		t.Fatalf("export: %d", code)
	}
	if len(exp.Received) != 2 || len(exp.Tickets) != 1 || len(exp.Tickets[0].Messages) != 2 || !strings.Contains(exp.Tickets[0].Messages[0].Text, "Zanzibar") {
		t.Fatalf("export: %d posts, %d tickets: %+v", len(exp.Received), len(exp.Tickets), exp)
	}
	// The CRM's part: the profile and both posts on its timeline.
	crmPosts := 0
	for _, it := range exp.Customer.Timeline {
		if it.Kind == "mention" && strings.Contains(it.Text, "Zanzibar") {
			crmPosts++
		}
	}
	if exp.Customer.Profile == nil || crmPosts != 2 {
		t.Fatalf("export: CRM profile %+v with %d of 2 posts on its timeline: %+v", exp.Customer.Profile, crmPosts, exp.Customer.Timeline)
	}
	var res map[string]any
	if code := a.do("DELETE", "/api/v1/authors/mastodon/erin", "", nil, &res); code != 200 || res["status"] != "erased" {
		t.Fatalf("erase: %d %v", code, res)
	}
	var page struct {
		Tickets []struct {
			ID int64 `json:"id"`
		} `json:"tickets"`
	}
	if code := a.do("GET", "/api/v1/consents/mastodon/erin", "", nil, nil); code != 404 {
		t.Errorf("the erased person's consent still answers %d", code)
	}
	// Search forgets them.
	deadline = time.Now().Add(20 * time.Second)
	for {
		var sr struct {
			Total int `json:"total"`
		}
		a.do("GET", "/api/v1/search?q=Zanzibar", "", nil, &sr)
		if sr.Total == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("search still finds %d erased posts", sr.Total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.do("GET", "/api/v1/tickets?limit=50", "", nil, &page)
	for _, tk := range page.Tickets {
		var full map[string]any
		a.do("GET", "/api/v1/tickets/"+itoa64(tk.ID), "", nil, &full)
		b, _ := jsonBytes(full)
		if bytes.Contains(b, []byte("Zanzibar")) {
			t.Fatalf("ticket %d still shows the erased text", tk.ID)
		}
	}
	a.stop()
	var found []string
	filepath.WalkDir(data, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("Zanzibar")) {
			found = append(found, strings.TrimPrefix(path, data))
		}
		if !bytes.Contains(b, []byte("Kept post")) && strings.HasSuffix(path, "intake.db") {
			t.Errorf("the other author's post vanished from %s", path)
		}
		return nil
	})
	if len(found) > 0 {
		if os.Getenv("VIGIE_DEBUG_ERASURE") != "" {
			exec.Command("cp", "-r", data, "/tmp/erasure-debug").Run()
		}
		t.Fatalf("the erased text is still in the bytes of %v", found)
	}
}
