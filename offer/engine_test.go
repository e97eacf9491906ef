package offer

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/vigie/vigie/listener"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Flatiron's centre and a point 2 km away.
const (
	inLat, inLon   = 40.7411, -73.9897
	outLat, outLon = 40.7590, -73.9845
)

// monday10 is 10:00 in New York on a Monday in November (UTC-5).
var monday10 = time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)

func TestDecisionReasons(t *testing.T) {
	t.Parallel()
	enter := Campaign{Name: "welcome", Fences: []int64{1}, Offer: Offer{Template: "Hi {{name}}, show {{code}} at {{store}}", Code: "WELCOME"}}
	type step struct {
		user string
		at   time.Duration // after monday10
		in   bool
	}
	tests := []struct {
		name     string
		cfg      Config
		campaign func(c *Campaign)
		consent  map[string]string // user → "grant" | "withdraw"
		steps    []step
		want     []string // status or reason, one per decision
	}{
		{name: "sent", consent: map[string]string{"a": "grant"},
			steps: []step{{"a", 0, true}}, want: []string{"sent"}},
		{name: "no consent", steps: []step{{"b", 0, true}}, want: []string{"no_consent"}},
		{name: "withdrawn", consent: map[string]string{"c": "withdraw"},
			steps: []step{{"c", 0, true}}, want: []string{"consent_withdrawn"}},
		{name: "repeat inside is a duplicate", consent: map[string]string{"a": "grant"},
			steps: []step{{"a", 0, true}, {"a", 5 * time.Minute, true}, {"a", 10 * time.Minute, true}},
			want:  []string{"sent", "duplicate", "duplicate"}},
		{name: "point far away decides nothing", consent: map[string]string{"a": "grant"},
			steps: []step{{"a", 0, false}}, want: nil},
		{name: "re-entry the same day is capped per user", consent: map[string]string{"a": "grant"},
			steps: []step{{"a", 0, true}, {"a", 30 * time.Minute, false}, {"a", time.Hour, true}},
			want:  []string{"sent", "capped_user"}},
		{name: "visit timeout makes a new entry", consent: map[string]string{"a": "grant"}, cfg: Config{UserCapWindow: time.Hour},
			steps: []step{{"a", 0, true}, {"a", 3 * time.Hour, true}},
			want:  []string{"sent", "capped_campaign"}},
		{name: "campaign window lets a second offer go", consent: map[string]string{"a": "grant"}, cfg: Config{UserCapWindow: time.Hour},
			campaign: func(c *Campaign) { c.Cap = Cap{PerUser: 1, WindowHours: 2} },
			steps:    []step{{"a", 0, true}, {"a", 3 * time.Hour, true}},
			want:     []string{"sent", "sent"}},
		{name: "total budget", consent: map[string]string{"a": "grant", "b": "grant"},
			campaign: func(c *Campaign) { c.Cap.Total = 1 },
			steps:    []step{{"a", 0, true}, {"b", 0, true}},
			want:     []string{"sent", "capped_campaign"}},
		{name: "closed", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { c.Schedule.OpeningHoursOnly = true },
			steps:    []step{{"a", 12 * time.Hour, true}}, // 22:00 in New York
			want:     []string{"closed"}},
		{name: "open hours ignored when the campaign allows", consent: map[string]string{"a": "grant"},
			steps: []step{{"a", 12 * time.Hour, true}}, want: []string{"sent"}},
		{name: "quiet hours in the store's zone", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { c.Schedule.QuietHours = "09:30-11:00" },
			steps:    []step{{"a", 0, true}}, want: []string{"quiet_hours"}},
		{name: "quiet hours in the person's zone", consent: map[string]string{"a": "grant:Europe/Paris"},
			campaign: func(c *Campaign) { c.Schedule.QuietHours = "09:30-11:00" }, // 16:00 in Paris
			steps:    []step{{"a", 0, true}}, want: []string{"sent"}},
		{name: "outside dates", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { s := monday10.Add(time.Hour); c.Schedule.StartAt = &s },
			steps:    []step{{"a", 0, true}}, want: []string{"outside_dates"}},
		{name: "end is excluded", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { e := monday10; c.Schedule.EndAt = &e },
			steps:    []step{{"a", 0, true}}, want: []string{"outside_dates"}},
		{name: "weekday", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { c.Schedule.Days = []string{"sat", "sun"} },
			steps:    []step{{"a", 0, true}}, want: []string{"outside_dates"}},
		{name: "segment by tag", consent: map[string]string{"a": "grant", "v": "grant:vip"},
			campaign: func(c *Campaign) { c.Audience.Tags = []string{"vip"} },
			steps:    []step{{"a", 0, true}, {"v", 0, true}}, want: []string{"not_in_segment", "sent"}},
		{name: "segment by influence", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { c.Audience.MinInfluence = 30 },
			steps:    []step{{"a", 0, true}}, want: []string{"not_in_segment"}},
		{name: "no campaign", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { c.Fences = []int64{99} },
			steps:    []step{{"a", 0, true}}, want: []string{"no_campaign"}},
		{name: "paused", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { c.Paused = true },
			steps:    []step{{"a", 0, true}}, want: []string{"no_campaign"}},
		{name: "by tag", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { c.Fences, c.FenceTags = nil, []string{"nyc"} },
			steps:    []step{{"a", 0, true}}, want: []string{"sent"}},
		{name: "stale", consent: map[string]string{"a": "grant"},
			steps: []step{{"a", -time.Hour, true}}, want: []string{"stale"}},
		{name: "dwell", consent: map[string]string{"a": "grant"},
			campaign: func(c *Campaign) { c.Trigger = Trigger{Kind: TriggerDwell, DwellMinutes: 15} },
			steps:    []step{{"a", -20 * time.Minute, true}, {"a", -10 * time.Minute, true}, {"a", 0, true}, {"a", 5 * time.Minute, true}},
			// The entry and the 10-minute repeat wait for dwell; at 20
			// minutes it fires; then it has fired for this visit.
			want: []string{"no_campaign", "duplicate", "sent", "duplicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{t: monday10}
			tt.cfg.Now = clk.Now
			e := openEngine(t, tt.cfg, nil, nil)
			f := mustFence(t, e, flatiron())
			if f.ID != 1 {
				t.Fatalf("fence id %d, want 1", f.ID)
			}
			c := enter
			c.Fences = []int64{1}
			if tt.campaign != nil {
				tt.campaign(&c)
			}
			mustCampaign(t, e, c)
			for user, what := range tt.consent {
				req := ConsentRequest{Granted: true, Channel: "sms keyword", Proof: "JOIN from +1555"}
				switch what {
				case "grant:Europe/Paris":
					req.TimeZone = "Europe/Paris"
				case "grant:vip":
					req.Tags = []string{"vip"}
				}
				if _, err := e.PutConsent(context.Background(), "foursquare", user, req, "test"); err != nil {
					t.Fatal(err)
				}
				if what == "withdraw" {
					if _, err := e.PutConsent(context.Background(), "foursquare", user, ConsentRequest{}, "test"); err != nil {
						t.Fatal(err)
					}
				}
			}
			var items []listener.Item
			for i, s := range tt.steps {
				lat, lon := inLat, inLon
				if !s.in {
					lat, lon = outLat, outLon
				}
				items = append(items, checkIn("c"+string(rune('0'+i)), s.user, monday10.Add(s.at), lat, lon))
			}
			// One record a batch, as the clock would see them live.
			for i, rec := range records(1, items...) {
				clk.Set(monday10.Add(max(0, tt.steps[i].at)))
				if err := e.process(context.Background(), records(rec.Seq, rec.Item)); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			for _, d := range allDecisions(t, e) {
				if d.Status == StatusSent {
					got = append(got, "sent")
				} else {
					got = append(got, string(d.Reason))
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("decisions = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSentOfferText(t *testing.T) {
	t.Parallel()
	clk := &clock{t: monday10}
	e := openEngine(t, Config{Now: clk.Now}, nil, nil)
	mustFence(t, e, flatiron())
	mustCampaign(t, e, Campaign{Name: "w", Fences: []int64{1}, Offer: Offer{Template: "Hi {{ name }}, show {{code}} at {{store}}", Code: "W10", FallbackName: "friend"}})
	grant(t, e, "a")
	grant(t, e, "b")
	m := listener.MentionItem(listener.Mention{Source: "foursquare", ID: "m1", CreatedAt: monday10, Author: listener.Author{ID: "b", Name: "Bea"},
		Text: "at the store", Geo: &listener.Geo{Lat: inLat, Lon: inLon}})
	noHandle := listener.CheckInItem(listener.CheckIn{Source: "foursquare", ID: "c9", CreatedAt: monday10, User: listener.CheckInUser{ID: "a"}, Lat: inLat, Lon: inLon})
	if err := e.process(context.Background(), records(1, noHandle, m)); err != nil {
		t.Fatal(err)
	}
	ds := allDecisions(t, e)
	if len(ds) != 2 {
		t.Fatalf("%d decisions, want 2", len(ds))
	}
	if want := "Hi friend, show W10 at Velora Flatiron"; ds[0].Text != want {
		t.Errorf("text = %q, want %q", ds[0].Text, want)
	}
	if want := "Hi Bea, show W10 at Velora Flatiron"; ds[1].Text != want || ds[1].Item != "mention" || ds[1].Code != "W10" {
		t.Errorf("mention offer = %+v, want text %q", ds[1], want)
	}
	if ds[0].Delivery != DeliveryNone {
		t.Errorf("delivery without a gateway = %s, want none", ds[0].Delivery)
	}
}

// TestRestartResumes checks that the cursor and presence survive a restart:
// a check-in decided before is not decided again, and a visit in progress
// stays one.
func TestRestartResumes(t *testing.T) {
	t.Parallel()
	clk := &clock{t: monday10}
	path := filepath.Join(t.TempDir(), "offer.db")
	in := newMemLog()
	e := openEngine(t, Config{Path: path, Now: clk.Now}, in, nil)
	mustFence(t, e, flatiron())
	mustCampaign(t, e, Campaign{Name: "w", Fences: []int64{1}, Offer: Offer{Template: "hello"}})
	grant(t, e, "a")
	in.add(checkIn("c1", "a", monday10, inLat, inLon))
	runUntil(t, e, func() bool { return e.Cursor() == 1 })
	e.Close()

	clk.Set(monday10.Add(5 * time.Minute))
	e2 := openEngine(t, Config{Path: path, Now: clk.Now}, in, nil)
	if e2.Cursor() != 1 {
		t.Fatalf("cursor after restart = %d, want 1", e2.Cursor())
	}
	in.add(checkIn("c2", "a", monday10.Add(5*time.Minute), inLat, inLon))
	runUntil(t, e2, func() bool { return e2.Cursor() == 2 })
	ds := allDecisions(t, e2)
	if len(ds) != 2 || ds[0].Status != StatusSent || ds[1].Reason != ReasonDuplicate {
		t.Fatalf("decisions after restart = %+v, want sent then duplicate", ds)
	}
}

// runUntil runs the engine until done holds (or fails after 10 s).
func runUntil(t testing.TB, e *Engine, done func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			cancel()
			<-errc
			t.Fatal("engine did not get there in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
}

func TestPublishesDecisions(t *testing.T) {
	t.Parallel()
	clk := &clock{t: monday10}
	in := newMemLog()
	pub := &fakePublisher{}
	e := openEngine(t, Config{Now: clk.Now}, in, pub)
	mustFence(t, e, flatiron())
	mustCampaign(t, e, Campaign{Name: "w", Fences: []int64{1}, Offer: Offer{Template: "hello"}})
	grant(t, e, "a")
	in.add(checkIn("c1", "a", monday10, inLat, inLon), checkIn("c2", "b", monday10, inLat, inLon))
	// The engine publishes an event, then deletes it from its outbox: wait
	// for both, or the outbox may be read between the two.
	outbox := func() int {
		var n int
		if err := e.db.R.QueryRow("SELECT COUNT(*) FROM outbox").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	runUntil(t, e, func() bool { return len(pub.all()) == 2 && outbox() == 0 })
	evs := pub.all()
	if evs[0].Type != EventSent || evs[1].Type != EventSkipped || evs[0].Topic != "offers" {
		t.Fatalf("events = %s %s on %s, want offer.sent then offer.skipped on offers", evs[0].Type, evs[1].Type, evs[0].Topic)
	}
	var d Decision
	if err := json.Unmarshal(evs[1].Data, &d); err != nil || d.Reason != ReasonNoConsent || d.ID == 0 {
		t.Fatalf("skipped event data = %s (%v), want a decision with reason no_consent", evs[1].Data, err)
	}
	// The outbox stays empty: a restart publishes nothing again.
	if n := outbox(); n != 0 {
		t.Fatalf("outbox holds %d events, want 0", n)
	}
	if n := len(pub.all()); n != 2 {
		t.Fatalf("%d events published, want 2", n)
	}
}

func TestFenceChangeReindexes(t *testing.T) {
	t.Parallel()
	clk := &clock{t: monday10}
	e := openEngine(t, Config{Now: clk.Now}, nil, nil)
	f := mustFence(t, e, flatiron())
	mustCampaign(t, e, Campaign{Name: "w", Fences: []int64{f.ID}, Offer: Offer{Template: "hello"}})
	grant(t, e, "a")
	// Move the fence 2 km north: the old spot no longer matches.
	moved := flatiron()
	moved.Geometry = pointGeo(outLon, outLat)
	if _, err := e.PutFence(context.Background(), f.ID, moved); err != nil {
		t.Fatal(err)
	}
	if err := e.process(context.Background(), records(1, checkIn("c1", "a", monday10, inLat, inLon))); err != nil {
		t.Fatal(err)
	}
	if ds := allDecisions(t, e); len(ds) != 0 {
		t.Fatalf("%d decisions at the old spot, want 0", len(ds))
	}
	if err := e.process(context.Background(), records(2, checkIn("c2", "a", monday10, outLat, outLon))); err != nil {
		t.Fatal(err)
	}
	if ds := allDecisions(t, e); len(ds) != 1 || ds[0].Status != StatusSent {
		t.Fatalf("decisions at the new spot = %+v, want one sent", ds)
	}
	if err := e.DeleteFence(context.Background(), f.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.process(context.Background(), records(3, checkIn("c3", "a", monday10.Add(time.Minute), outLat, outLon))); err != nil {
		t.Fatal(err)
	}
	if ds := allDecisions(t, e); len(ds) != 1 {
		t.Fatalf("%d decisions after the fence was deleted, want still 1", len(ds))
	}
	if len(e.visits) != 0 {
		t.Errorf("visits to a deleted fence are kept: %v", e.visits)
	}
}
