package search

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/vigie/vigie/desk"
)

func TestParseRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		query   string
		want    Request
		wantErr string // substring of the error; "" for success
	}{
		{name: "defaults", query: "", want: Request{Size: DefaultSize, Page: 1, Sort: SortNewest}},
		{name: "query sorts by relevance", query: "q=colis", want: Request{Query: "colis", Size: DefaultSize, Page: 1, Sort: SortRelevance}},
		{name: "everything", query: "q=lang:fr&from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00%2B01:00&size=50&page=3&sort=newest&facets=source,+lang,sentiment",
			want: Request{Query: "lang:fr", From: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 11, 1, 23, 0, 0, 0, time.UTC),
				Size: 50, Page: 3, Sort: SortNewest, Facets: []string{"source", "lang", "sentiment"}}},
		{name: "bad query", query: "q=lang:", wantErr: "q: syntax error"},
		{name: "bad fuzziness", query: "q=colis~a", wantErr: "q: parse error: invalid fuzziness"},
		{name: "bad regexp", query: "q=/[a-/", wantErr: "q: regular expression"},
		{name: "bad date in query", query: `q=created_at:>"nope"`, wantErr: "q: parse error: invalid time"},
		{name: "unbalanced quote", query: `q=%22colis`, wantErr: "q: "},
		{name: "bad from", query: "from=yesterday", wantErr: "from: not an RFC 3339 time"},
		{name: "date only", query: "to=2026-11-01", wantErr: "to: not an RFC 3339 time"},
		{name: "out of range date", query: "from=1600-01-01T00:00:00Z", wantErr: "from: out of range"},
		{name: "to before from", query: "from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", wantErr: "to: must be after from"},
		{name: "size not a number", query: "size=ten", wantErr: "size: not an integer"},
		{name: "size too big", query: "size=101", wantErr: "size: must be between 1 and 100"},
		{name: "size negative", query: "size=-1", wantErr: "size: must be between"},
		{name: "page zero is the first", query: "page=0", want: Request{Size: DefaultSize, Page: 1, Sort: SortNewest}},
		{name: "page negative", query: "page=-2", wantErr: "page: must be 1 or more"},
		{name: "page too deep", query: "size=100&page=101", wantErr: "page: too deep"},
		{name: "deepest page", query: "size=100&page=100", want: Request{Size: 100, Page: 100, Sort: SortNewest}},
		{name: "bad sort", query: "sort=oldest", wantErr: "sort: must be newest or relevance"},
		{name: "unknown facet", query: "facets=source,colour", wantErr: `facets: unknown facet "colour"`},
		{name: "facet twice", query: "facets=lang,lang", wantErr: "asked twice"},
		{name: "query too long", query: "q=" + strings.Repeat("a", maxQueryBytes+1), wantErr: "q: longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseRequest(v)
			if tt.wantErr != "" {
				var re *RequestError
				if !errors.As(err, &re) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a RequestError with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Query != tt.want.Query || !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) || got.Size != tt.want.Size ||
				got.Page != tt.want.Page || got.Sort != tt.want.Sort || strings.Join(got.Facets, ",") != strings.Join(tt.want.Facets, ",") {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"", "q=colis&size=10", "q=lang:(fr", "from=2026-11-01T00:00:00Z&to=x", "facets=source,lang,,",
		"q=%2B%2Bx^2~3&page=9999999999999999999", "q=/[a-/&sort=newest", `q="a b"~2 c:>5 d:<"2026-01-01"`, "q=created_at:>\"x\""} {
		f.Add(s)
	}
	log := newMemLog()
	log.add(f, desk.EventMentionReceived, mentionData("1", "fr", "remboursement refusé", ticket(1)))
	log.add(f, desk.EventMentionReceived, mentionData("2", "en", "great service", source("bluesky")))
	ix := openTest(f, log, "")
	catchUp(f, ix)
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, err := ParseRequest(v)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a RequestError", err)
			}
			return
		}
		if r.Size < 1 || r.Size > MaxSize || r.Page < 1 || r.Page*r.Size > MaxWindow || (r.Sort != SortNewest && r.Sort != SortRelevance) {
			t.Fatalf("accepted out of bounds request %+v", r)
		}
		if _, err := ix.Search(context.Background(), r); err != nil {
			t.Fatalf("valid request %+v fails: %v", r, err)
		}
	})
}

// httpTestLog is the log the HTTP tests search: two mentions, one on a
// ticket.
func httpTestLog(t *testing.T) *memLog {
	log := newMemLog()
	log.add(t, desk.EventMentionReceived, mentionData("1", "fr", "remboursement refusé", ticket(1)))
	log.add(t, desk.EventTicketCreated, ticketData(1, "billing", desk.StatusOpen, ""))
	log.add(t, desk.EventMentionReceived, mentionData("2", "en", "great service", source("bluesky")))
	return log
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	log := httpTestLog(t)
	ix := openTest(t, log, "")
	catchUp(t, ix)
	e := echo.New()
	ix.Register(e.Group("/api/v1"))
	get := func(query string) (int, map[string]any) {
		t.Helper()
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/search?"+query, nil))
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: body %q: %v", query, rec.Body, err)
		}
		return rec.Code, body
	}

	code, body := get("q=rembourser&facets=source,sentiment,queue")
	if code != http.StatusOK || body["total"] != 1.0 {
		t.Fatalf("%d %v", code, body)
	}
	hit := body["hits"].([]any)[0].(map[string]any)
	if hit["key"] != "mastodon/1" || hit["ticket_id"] != 1.0 || hit["queue"] != "billing" || hit["status"] != "open" ||
		hit["text"] != "remboursement refusé" || hit["created_at"] == nil || hit["highlights"] == nil {
		t.Errorf("hit = %v", hit)
	}
	facets := body["facets"].(map[string]any)
	if src := facets["source"].(map[string]any)["values"].([]any); len(src) != 1 || src[0].(map[string]any)["value"] != "mastodon" {
		t.Errorf("source facet = %v", src)
	}
	if code, body := get(""); code != http.StatusOK || body["total"] != 2.0 || len(body["facets"].(map[string]any)) != 0 {
		t.Errorf("match all: %d %v", code, body)
	}
	for _, q := range []string{"q=a:", "q=/[/", "from=nope", "size=1000", "facets=nope", "sort=up"} {
		code, body := get(q)
		if msg, _ := body["error"].(string); code != http.StatusBadRequest || msg == "" {
			t.Errorf("%s: %d %v, want 400 with an error", q, code, body)
		}
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("q=x"); code != http.StatusServiceUnavailable {
		t.Errorf("closed index: %d", code)
	}
}
