package crm

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func boolPtr(b bool) *bool { return &b }

// segmentEnv: ana (influencer, complained twice this week, consented,
// known to the CRM), bob (complained once long ago), cat (praised us,
// unknown to the CRM, tagged vip).
func segmentEnv(t *testing.T, cfg Config) (*env, map[string]int64) {
	e := newEnv(t, cfg)
	old := t0.Add(-60 * 24 * time.Hour)
	e.feed(
		post{source: "x", id: "1", author: "ana", handle: "@ana_lopez", name: "Ana López", intent: "complaint", influence: 70},
		post{source: "x", id: "2", author: "ana", handle: "@ana_lopez", name: "Ana López", intent: "complaint", influence: 70, conversation: "c2", at: t0.Add(-2 * 24 * time.Hour)},
		post{source: "x", id: "3", author: "bob", handle: "@bobby", name: "Bob Stone", intent: "complaint", influence: 80, at: old},
		post{source: "mastodon", id: "4", author: "cat", handle: "@cat@social.example", name: "Cat Noir", intent: "praise", influence: 20, tags: []string{"vip"}},
	)
	ids := map[string]int64{"ana": e.profileOf("x", "ana").ID, "bob": e.profileOf("x", "bob").ID, "cat": e.profileOf("mastodon", "cat").ID}
	if _, err := e.crm.SetCRMID(e.ctx, ids["ana"], "C-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.SetCRMID(e.ctx, ids["bob"], "C-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.SetConsent(e.ctx, ids["ana"], ConsentRequest{Granted: boolPtr(true), City: "Lyon", Interests: []string{"trains", "coffee"}, Proof: "form 77"}, "alice"); err != nil {
		t.Fatal(err)
	}
	return e, ids
}

func TestSegmentFilters(t *testing.T) {
	t.Parallel()
	e, ids := segmentEnv(t, Config{})
	for _, tc := range []struct {
		name   string
		filter Filter
		want   []string
	}{
		{"everyone", Filter{}, []string{"ana", "bob", "cat"}},
		{"influencers who complained twice this month", Filter{MinInfluence: 50, Complaints: &Recent{Min: 2, Days: 30}}, []string{"ana"}},
		{"complained ever", Filter{Complaints: &Recent{Min: 1}}, []string{"ana", "bob"}},
		{"new prospects who praised us", Filter{CRM: CRMUnknown, Praise: &Recent{Min: 1}}, []string{"cat"}},
		{"known to the CRM", Filter{CRM: CRMKnown}, []string{"ana", "bob"}},
		{"tag", Filter{Tags: []string{"vip", "nope"}}, []string{"cat"}},
		{"source", Filter{Sources: []string{"mastodon"}}, []string{"cat"}},
		{"consented", Filter{Consent: boolPtr(true)}, []string{"ana"}},
		{"not consented", Filter{Consent: boolPtr(false)}, []string{"bob", "cat"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := e.crm.Count(e.ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			page, err := e.crm.Members(e.ctx, tc.filter, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range page.Profiles {
				for name, id := range ids {
					if id == p.ID {
						got = append(got, name)
					}
				}
			}
			slices.Sort(got)
			if n != len(tc.want) || !slices.Equal(got, tc.want) {
				t.Errorf("count %d, members %v, want %v", n, got, tc.want)
			}
		})
	}
	for _, bad := range []Filter{{MinInfluence: 101}, {Complaints: &Recent{Min: 0}}, {CRM: "maybe"}, {Tags: []string{""}}} {
		if _, err := e.crm.Count(e.ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("filter %+v: %v, want invalid", bad, err)
		}
	}
	// Counted live: a new complaint moves bob in.
	s, err := e.crm.SaveSegment(e.ctx, Segment{Name: "angry this month", Filter: Filter{Complaints: &Recent{Min: 1, Days: 30}}}, "mia")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := e.crm.Count(e.ctx, s.Filter); n != 1 {
		t.Fatalf("count %d, want 1", n)
	}
	e.feed(post{source: "x", id: "5", author: "bob", intent: "complaint", conversation: "c5"})
	if n, _ := e.crm.Count(e.ctx, s.Filter); n != 2 {
		t.Fatalf("count after a new complaint %d, want 2", n)
	}
	if _, err := e.crm.SaveSegment(e.ctx, Segment{Name: "angry this month"}, "mia"); !errors.Is(err, ErrConflict) {
		t.Errorf("a second segment with the same name: %v", err)
	}
}

// TestConsentNoPersonalFieldExported: without consent, exports (CSV and
// webhook) hold ids only; with it, the consented fields.
func TestConsentNoPersonalFieldExported(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []byte
	var sig, ts string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got, _ = io.ReadAll(r.Body)
		sig, ts = r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp)
	}))
	t.Cleanup(srv.Close)
	e, ids := segmentEnv(t, Config{Export: ExportConfig{URL: srv.URL, Secret: "s3cret"}})
	s, err := e.crm.SaveSegment(e.ctx, Segment{Name: "all", Filter: Filter{}}, "mia")
	if err != nil {
		t.Fatal(err)
	}
	personal := []string{"ana_lopez", "Ana", "Lyon", "trains", "bobby", "Bob Stone", "Cat Noir", "social.example"}

	var buf bytes.Buffer
	if err := e.crm.ExportCSV(e.ctx, s.ID, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], csvHeader) {
		t.Fatalf("csv %v", rows)
	}
	for _, row := range rows[1:] {
		id, _ := strconv.ParseInt(row[0], 10, 64)
		line := strings.Join(row, ",")
		if id == ids["ana"] {
			if row[3] != "true" || row[4] != "'@ana_lopez" || row[6] != "Lyon" || row[7] != "trains; coffee" || row[8] != "70" {
				t.Errorf("consented row %v", row)
			}
			continue
		}
		if row[3] != "false" || row[4]+row[5]+row[6]+row[7]+row[8] != "" {
			t.Errorf("row of a person without consent holds personal fields: %v", row)
		}
		for _, p := range personal {
			if strings.Contains(line, p) {
				t.Errorf("row of a person without consent holds %q: %v", p, row)
			}
		}
	}

	res, err := e.crm.ExportWebhook(e.ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if res.Count != 3 || res.Status != 200 {
		t.Errorf("export result %+v", res)
	}
	sec, _ := strconv.ParseInt(ts, 10, 64)
	if sig != Sign([]byte("s3cret"), time.Unix(sec, 0), got) {
		t.Errorf("signature %q does not match the body", sig)
	}
	var ex Export
	if err := json.Unmarshal(got, &ex); err != nil {
		t.Fatal(err)
	}
	for _, m := range ex.Members {
		raw, _ := json.Marshal(m)
		if m.ProfileID == ids["ana"] {
			if m.City != "Lyon" || len(m.Handles) != 1 || m.Influence == nil {
				t.Errorf("consented member %s", raw)
			}
			continue
		}
		for _, p := range personal {
			if strings.Contains(string(raw), p) {
				t.Errorf("member without consent holds %q: %s", p, raw)
			}
		}
		if len(m.Identities) != 1 || m.Identities[0].AuthorID == "" {
			t.Errorf("member without consent: ids missing: %s", raw)
		}
	}

	// Withdrawing consent wipes the fields and takes them out of exports.
	p, err := e.crm.SetConsent(e.ctx, ids["ana"], ConsentRequest{Granted: boolPtr(false)}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if p.City != "" || len(p.Interests) != 0 || p.Consent.Granted {
		t.Fatalf("after withdrawal %+v", p)
	}
	buf.Reset()
	if err := e.crm.ExportCSV(e.ctx, s.ID, &buf); err != nil {
		t.Fatal(err)
	}
	for _, p := range personal {
		if strings.Contains(buf.String(), p) {
			t.Errorf("export after withdrawal holds %q", p)
		}
	}
	if _, err := e.crm.SetConsent(e.ctx, ids["bob"], ConsentRequest{Granted: boolPtr(false), City: "Paris"}, "alice"); !errors.Is(err, ErrInvalid) {
		t.Errorf("a city without consent: %v, want invalid", err)
	}
	tl, _ := e.crm.Timeline(e.ctx, ids["ana"], time.Time{}, 0)
	consents := 0
	for _, it := range tl {
		if it.Kind == KindConsent {
			consents++
		}
	}
	if consents != 2 {
		t.Errorf("%d consents in the timeline, want 2", consents)
	}
}
