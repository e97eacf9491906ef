package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/intake"
)

// TestBadInput posts every kind of bad input the issue lists; each bad item
// gets its own error, good items beside them are kept, and the server stays
// up.
func TestBadInput(t *testing.T) {
	// The 100,000-item POST takes about 90 s under -race on two idle
	// cores (10 s without), near the server's 2-minute write timeout.
	a := startApp(t, t.TempDir(), func(c *serveConfig) { c.requestTimeout = 10 * time.Minute })
	good := `{"source":"x","id":"%s","created_at":"2026-11-22T10:00:00Z","author":{"id":"1"},"text":"hello"}`
	cases := []struct {
		name        string
		contentType string
		body        string
		code        int
		accepted    int
		rejected    map[int]string // index → part of the error
	}{
		{
			name: "malformed JSON body", contentType: "application/json",
			body: `[{"source": "x", `, code: 400,
		},
		{
			name: "not JSON at all", contentType: "application/json",
			body: `hello`, code: 400,
		},
		{
			name: "wrong types", contentType: "application/json",
			body: `[` + fmt.Sprintf(good, "ok1") + `,{"source":"x","id":7,"created_at":"2026-11-22T10:00:00Z","author":{"id":"1"},"text":"t"},{"source":"x","id":"w","created_at":"2026-11-22T10:00:00Z","author":{"id":"1","followers":"many"},"text":"t"}]`,
			code: 202, accepted: 1,
			rejected: map[int]string{1: "id: expected a string, got number", 2: "author.followers: expected a number, got string"},
		},
		{
			name: "missing required fields", contentType: "application/json",
			body: `[{"id":"a","created_at":"2026-11-22T10:00:00Z","author":{"id":"1"},"text":"t"},{"source":"x","id":"b","author":{"id":"1"},"text":"t"},{"source":"x","id":"c","created_at":"2026-11-22T10:00:00Z","text":"t"},{"source":"x","id":"d","created_at":"2026-11-22T10:00:00Z","author":{"id":"1"}},` + fmt.Sprintf(good, "ok2") + `]`,
			code: 202, accepted: 1,
			rejected: map[int]string{0: "source: required", 1: "created_at: required", 2: "author: required", 3: "text: required"},
		},
		{
			name: "bad date", contentType: "application/json",
			body:     `[{"source":"x","id":"d1","created_at":"22/11/2026","author":{"id":"1"},"text":"t"}]`,
			code:     202,
			rejected: map[int]string{0: "created_at: not RFC 3339"},
		},
		{
			name: "invalid UTF-8 in NDJSON", contentType: "application/x-ndjson",
			body: fmt.Sprintf(good, "ok3") + "\n" + `{"source":"x","id":"u","created_at":"2026-11-22T10:00:00Z","author":{"id":"1"},"text":"bad ` + "\xff\xfe" + `"}` + "\n",
			code: 202, accepted: 1,
			rejected: map[int]string{1: "invalid UTF-8"},
		},
		{
			name: "malformed NDJSON line keeps the others", contentType: "application/x-ndjson",
			body: "{oops\n" + fmt.Sprintf(good, "ok4") + "\n",
			code: 202, accepted: 1,
			rejected: map[int]string{0: "malformed JSON"},
		},
		{
			name: "a 1 MB text", contentType: "application/json",
			body: `[{"source":"x","id":"big","created_at":"2026-11-22T10:00:00Z","author":{"id":"1"},"text":"` + strings.Repeat("a", 1<<20) + `"},` + fmt.Sprintf(good, "ok5") + `]`,
			code: 202, accepted: 1,
			rejected: map[int]string{0: "text: 1048576 bytes, longer than the 131072 allowed"},
		},
		{
			name: "unknown fields", contentType: "application/json",
			body:     `[{"source":"x","id":"uf","created_at":"2026-11-22T10:00:00Z","author":{"id":"1"},"text":"t","create_at":"x"}]`,
			code:     202,
			rejected: map[int]string{0: `unknown field "create_at"`},
		},
		{
			name: "an array of non-objects", contentType: "application/json",
			body:     `[1, "two", null]`,
			code:     202,
			rejected: map[int]string{0: "not a JSON object", 1: "not a JSON object", 2: "not a JSON object"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var res struct {
				intake.IngestResponse
				Error string `json:"error"`
			}
			code := a.do("POST", "/api/v1/mentions", tc.contentType, []byte(tc.body), &res)
			if code != tc.code {
				t.Fatalf("status %d, want %d (%+v)", code, tc.code, res)
			}
			if code != 202 {
				if res.Error == "" || !strings.Contains(res.Error, "nothing stored") {
					t.Errorf("error %q should say nothing was stored", res.Error)
				}
				return
			}
			if res.Accepted != tc.accepted {
				t.Errorf("accepted %d, want %d", res.Accepted, tc.accepted)
			}
			got := map[int]string{}
			for _, r := range res.Rejected {
				got[r.Index] = r.Error
			}
			if len(got) != len(tc.rejected) {
				t.Errorf("rejected %v, want %v", got, tc.rejected)
			}
			for i, want := range tc.rejected {
				if !strings.Contains(got[i], want) {
					t.Errorf("item %d: error %q, want it to contain %q", i, got[i], want)
				}
			}
		})
	}

	t.Run("100k items in one request", func(t *testing.T) {
		var buf bytes.Buffer
		for i := 0; i < 100_000; i++ {
			if i%1000 == 999 {
				buf.WriteString(`{"source":"x","id":"bad"}` + "\n") // every thousandth is bad
				continue
			}
			fmt.Fprintf(&buf, good+"\n", fmt.Sprintf("bulk-%d", i))
		}
		var res intake.IngestResponse
		if code := a.do("POST", "/api/v1/mentions", "application/x-ndjson", buf.Bytes(), &res); code != 202 {
			t.Fatalf("status %d", code)
		}
		if res.Accepted != 99_900 || len(res.Rejected) != 100 || res.Rejected[0].Index != 999 {
			t.Fatalf("accepted %d, rejected %d (first %+v)", res.Accepted, len(res.Rejected), res.Rejected[0])
		}
	})

	t.Run("more than 100k items", func(t *testing.T) {
		body := []byte("[" + strings.Repeat(`{},`, 100_000) + `{}]`)
		var res map[string]string
		if code := a.do("POST", "/api/v1/mentions", "application/json", body, &res); code != 413 {
			t.Fatalf("status %d, want 413 (%v)", code, res)
		}
	})

	t.Run("body too large", func(t *testing.T) {
		body := bytes.Repeat([]byte(" "), intake.MaxBodyBytes+1)
		if code := a.do("POST", "/api/v1/mentions", "application/json", body, nil); code != 413 {
			t.Fatalf("status %d, want 413", code)
		}
	})

	t.Run("rate limited", func(t *testing.T) {
		b := startApp(t, t.TempDir(), func(c *serveConfig) { c.IngestRate = 1 })
		codes := map[int]int{}
		for i := 0; i < 3; i++ {
			codes[b.do("POST", "/api/v1/mentions", "application/json", []byte("[]"), nil)]++
		}
		if codes[202] != 1 || codes[429] != 2 {
			t.Fatalf("codes %v, want one 202 then 429s", codes)
		}
	})

	t.Run("no token", func(t *testing.T) {
		resp, err := http.Post(a.url+"/api/v1/mentions", "application/json", strings.NewReader("[]"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})

	// The server is still up and serving.
	var page struct {
		Tickets []json.RawMessage `json:"tickets"`
	}
	if code := a.do("GET", "/api/v1/tickets?limit=5", "", nil, &page); code != 200 {
		t.Fatalf("after bad input: %d", code)
	}
}

// TestBulkResolveBadInput: a bulk resolve with a bad list is refused whole,
// with an error that says what is wrong, and resolves nothing.
func TestBulkResolveBadInput(t *testing.T) {
	a := startApp(t, t.TempDir())
	a.ingest(mention("bulk1", "ana", "my train is late", nil))
	tk := waitTicketFor(t, a, "bulk1")
	many := make([]string, 501)
	for i := range many {
		many[i] = fmt.Sprint(i + 1)
	}
	for _, c := range []struct{ body, want string }{
		{``, "ids: empty"},
		{`{"ids":[]}`, "ids: empty"},
		{fmt.Sprintf(`{"ids":[%d,%d]}`, tk.ID, tk.ID), "given twice"},
		{fmt.Sprintf(`{"ids":[%d,0]}`, tk.ID), "not a positive integer"},
		{`{"ids":"all"}`, "ids"},
		{fmt.Sprintf(`{"idz":[%d]}`, tk.ID), "unknown field"},
		{`{"ids":[` + strings.Join(many, ",") + `]}`, "at most 500"},
	} {
		code, body := a.call("POST", "/api/v1/tickets/resolve", testToken, c.body)
		if code != http.StatusBadRequest || !strings.Contains(string(body), c.want) {
			t.Errorf("body %.60q: %d %s, want 400 saying %q", c.body, code, body, c.want)
		}
	}
	var got struct {
		Status string `json:"status"`
	}
	if code := a.do("GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), "", nil, &got); code != http.StatusOK || got.Status == "resolved" {
		t.Fatalf("after refused bulk resolves: HTTP %d, status %s", code, got.Status)
	}
}
