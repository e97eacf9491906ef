package offer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/listener"
)

// The property test generates random fences, campaigns, consents and
// check-in streams, runs them through the engine with a fake clock, and
// asserts the invariants over every decision taken.

var propZones = []string{"America/New_York", "Europe/Paris", "Asia/Tokyo", "Australia/Lord_Howe", "UTC"}

func randClock(rng *rand.Rand) string {
	return fmt.Sprintf("%02d:%02d", rng.IntN(24), rng.IntN(4)*15)
}

func randSpan(rng *rand.Rand) string {
	from := rng.IntN(22 * 4)
	to := from + 1 + rng.IntN(24*4-from)
	c := func(q int) string { return fmt.Sprintf("%02d:%02d", q/4, q%4*15) }
	return c(from) + "-" + c(to)
}

func randFence(rng *rand.Rand, i int) Fence {
	f := Fence{
		Name:     fmt.Sprintf("store %d", i),
		Tags:     []string{[]string{"north", "south"}[rng.IntN(2)]},
		TimeZone: propZones[rng.IntN(len(propZones))],
	}
	lat, lon := 40.75+(rng.Float64()-0.5)*0.01, -73.98+(rng.Float64()-0.5)*0.01
	if rng.IntN(4) == 0 {
		d := 0.001 + rng.Float64()*0.002
		f.Geometry = polygon([][2]float64{{lon - d, lat - d}, {lon + d, lat - d}, {lon + d, lat + d}, {lon, lat + d/3}, {lon - d, lat + d}, {lon - d, lat - d}})
	} else {
		f.Geometry, f.RadiusM = pointGeo(lon, lat), 50+rng.Float64()*350
	}
	if rng.IntN(5) > 0 {
		f.Hours = Hours{}
		for day := range weekdays {
			if rng.IntN(6) > 0 {
				f.Hours[day] = []string{randSpan(rng)}
			}
		}
		if rng.IntN(3) == 0 {
			f.Exceptions = []Exception{{Date: "2026-11-01", Closed: true}}
		}
	}
	return f
}

func randCampaign(rng *rand.Rand, i, fences int) Campaign {
	c := Campaign{Name: fmt.Sprintf("campaign %d", i), Priority: rng.IntN(3), Offer: Offer{Template: "Hi {{name}} at {{store}}"}}
	if rng.IntN(2) == 0 {
		c.FenceTags = []string{[]string{"north", "south"}[rng.IntN(2)]}
	} else {
		for id := 1; id <= fences; id++ {
			if rng.IntN(3) == 0 {
				c.Fences = append(c.Fences, int64(id))
			}
		}
		if len(c.Fences) == 0 {
			c.Fences = []int64{int64(1 + rng.IntN(fences))}
		}
	}
	if rng.IntN(3) == 0 {
		c.Trigger = Trigger{Kind: TriggerDwell, DwellMinutes: 5 + rng.IntN(60)}
	}
	s := &c.Schedule
	s.OpeningHoursOnly = rng.IntN(2) == 0
	if rng.IntN(2) == 0 {
		a, b := randClock(rng), randClock(rng)
		if a != b {
			s.QuietHours = a + "-" + b
		}
	}
	if rng.IntN(3) == 0 {
		for day := range weekdays {
			if rng.IntN(2) == 0 {
				s.Days = append(s.Days, day)
			}
		}
	}
	if rng.IntN(3) == 0 {
		start := propStart.Add(time.Duration(rng.IntN(72)) * time.Hour)
		end := start.Add(time.Duration(24+rng.IntN(120)) * time.Hour)
		s.StartAt, s.EndAt = &start, &end
	}
	if rng.IntN(4) == 0 {
		c.Audience.Tags = []string{"vip"}
	}
	c.Cap = Cap{PerUser: rng.IntN(3), WindowHours: rng.IntN(3) * 12}
	if rng.IntN(4) == 0 {
		c.Cap.Total = 1 + rng.IntN(10)
	}
	return c
}

// propStart is a Saturday before both DST ends of 2026: Europe on
// 2026-10-25, the US on 2026-11-01.
var propStart = time.Date(2026, 10, 24, 0, 0, 0, 0, time.UTC)

type consentAt struct {
	state string // "", "granted", "withdrawn"
	tags  []string
	zone  string
}

func TestPropertyInvariants(t *testing.T) {
	t.Parallel()
	seeds := 4
	if testing.Short() {
		seeds = 2
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			runProperty(t, uint64(seed))
		})
	}
}

func runProperty(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	clk := &clock{t: propStart}
	cfg := Config{
		Now: clk.Now, UserCap: 1 + rng.IntN(2),
		UserCapWindow: time.Duration(1+rng.IntN(24)) * time.Hour,
		VisitTimeout:  time.Duration(30+rng.IntN(120)) * time.Minute,
	}
	e := openEngine(t, cfg, nil, nil)
	ctx := context.Background()
	fences := map[int64]Fence{}
	for i := 1; i <= 8; i++ {
		f, err := e.PutFence(ctx, 0, randFence(rng, i))
		if err != nil {
			t.Fatalf("random fence %d: %v", i, err)
		}
		fences[f.ID] = f
	}
	campaigns := map[int64]Campaign{}
	for i := 1; i <= 5; i++ {
		c, err := e.PutCampaign(ctx, 0, randCampaign(rng, i, len(fences)))
		if err != nil {
			t.Fatalf("random campaign %d: %v", i, err)
		}
		campaigns[c.ID] = c
	}
	ix := e.cat.Load().index
	users := make([]string, 15)
	for i := range users {
		users[i] = fmt.Sprint("u", i)
	}
	// The consent of each user as of each batch (by the batch's last seq).
	consents := map[string]consentAt{}
	type batchInfo struct {
		last     int64
		consents map[string]consentAt
	}
	var batches []batchInfo
	points := map[int64]listener.CheckIn{}

	at := propStart
	var seq int64
	for len(points) < 500 {
		// Change some consents between batches.
		for _, u := range users {
			if rng.IntN(12) != 0 {
				continue
			}
			if rng.IntN(4) == 0 {
				if _, err := e.PutConsent(ctx, "foursquare", u, ConsentRequest{Channel: "sms keyword", Proof: "STOP"}, "test"); err != nil {
					t.Fatal(err)
				}
				consents[u] = consentAt{state: "withdrawn"}
				continue
			}
			req := ConsentRequest{Granted: true, Channel: "web form", Proof: "form"}
			if rng.IntN(3) == 0 {
				req.Tags = []string{"vip"}
			}
			if rng.IntN(2) == 0 {
				req.TimeZone = propZones[rng.IntN(len(propZones))]
			}
			if _, err := e.PutConsent(ctx, "foursquare", u, req, "test"); err != nil {
				t.Fatal(err)
			}
			consents[u] = consentAt{state: "granted", tags: req.Tags, zone: req.TimeZone}
		}
		var recs []intake.Record
		at = at.Add(time.Duration(rng.IntN(120)) * time.Minute)
		for n := 1 + rng.IntN(12); n > 0; n-- {
			at = at.Add(time.Duration(rng.IntN(5)) * time.Minute)
			u := users[rng.IntN(len(users))]
			var lat, lon float64
			if rng.IntN(10) < 7 {
				f := fences[int64(1+rng.IntN(len(fences)))]
				b := f.shape.boxes[0]
				lat = b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])
				lon = b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])
			} else {
				lat, lon = 40.75+(rng.Float64()-0.5)*0.02, -73.98+(rng.Float64()-0.5)*0.02
			}
			seq++
			// Some points arrive late, out of order.
			pt := at
			if rng.IntN(10) == 0 {
				pt = at.Add(-time.Duration(rng.IntN(60)) * time.Minute)
			}
			c := listener.CheckIn{Source: "foursquare", ID: fmt.Sprint("c", seq), CreatedAt: pt, User: listener.CheckInUser{ID: u}, Lat: lat, Lon: lon}
			points[seq] = c
			recs = append(recs, intake.Record{Seq: seq, Version: 1, Item: listener.CheckInItem(c)})
		}
		clk.Set(at.Add(time.Duration(rng.IntN(15)) * time.Minute))
		if err := e.process(ctx, recs); err != nil {
			t.Fatal(err)
		}
		snap := map[string]consentAt{}
		for u, c := range consents {
			snap[u] = c
		}
		batches = append(batches, batchInfo{last: seq, consents: snap})
	}
	consentFor := func(s int64, user string) consentAt {
		i := sort.Search(len(batches), func(i int) bool { return batches[i].last >= s })
		return batches[i].consents[user]
	}

	ds := allDecisions(t, e)
	perSeq := map[int64]int{}
	var sent, skipped int
	reasons := map[Reason]int{}
	sentAt := map[string][]time.Time{}
	sentCampaign := map[string][]time.Time{}
	total := map[int64]int{}
	for _, d := range ds {
		perSeq[d.Seq]++
		p := points[d.Seq]
		f := fences[d.FenceID]
		con := consentFor(d.Seq, d.UserID)
		if !f.shape.contains(point{p.Lat, p.Lon}) {
			t.Errorf("decision %d: point (%g, %g) is not in fence %d", d.ID, p.Lat, p.Lon, d.FenceID)
		}
		switch d.Reason {
		case ReasonNoConsent:
			if con.state != "" {
				t.Errorf("decision %d: no_consent but consent is %q", d.ID, con.state)
			}
		case ReasonConsentWithdrawn:
			if con.state != "withdrawn" {
				t.Errorf("decision %d: consent_withdrawn but consent is %q", d.ID, con.state)
			}
		}
		if d.Status != StatusSent {
			skipped++
			reasons[d.Reason]++
			continue
		}
		sent++
		c, ok := campaigns[d.CampaignID]
		if !ok {
			t.Fatalf("decision %d: sent for unknown campaign %d", d.ID, d.CampaignID)
		}
		if con.state != "granted" {
			t.Errorf("decision %d: an offer sent to %s whose consent is %q", d.ID, d.UserID, con.state)
		}
		if c.Schedule.OpeningHoursOnly && !f.sched.open(d.At, f.loc) {
			t.Errorf("decision %d: sent at %s while %s is closed", d.ID, d.At.In(f.loc), f.Name)
		}
		loc := f.loc
		if con.zone != "" {
			loc = mustZone(t, con.zone)
		}
		if c.quiet.contains(d.At, loc) {
			t.Errorf("decision %d: sent at %s, in quiet hours %s", d.ID, d.At.In(loc), c.Schedule.QuietHours)
		}
		if !c.inDates(d.At, f.loc) {
			t.Errorf("decision %d: sent at %s, outside the campaign's dates", d.ID, d.At)
		}
		if len(c.Audience.Tags) > 0 && !hasAnyTag(con.tags, c.Audience.Tags) {
			t.Errorf("decision %d: sent outside the audience", d.ID)
		}
		if !c.appliesTo(&f) {
			t.Errorf("decision %d: campaign %d does not target fence %d", d.ID, c.ID, f.ID)
		}
		if e.cfg.MaxAge >= 0 && d.DecidedAt.Sub(d.At) > e.cfg.MaxAge {
			t.Errorf("decision %d: sent for a point %s old", d.ID, d.DecidedAt.Sub(d.At))
		}
		sentAt[d.UserID] = append(sentAt[d.UserID], d.At)
		k := fmt.Sprint(d.CampaignID, "/", d.UserID)
		sentCampaign[k] = append(sentCampaign[k], d.At)
		total[d.CampaignID]++
	}
	// Every point inside k fences got exactly k decisions.
	for s, p := range points {
		if want := len(ix.scan(nil, p.Lat, p.Lon)); perSeq[s] != want {
			t.Errorf("point %d: %d decisions, want one per fence it is in (%d)", s, perSeq[s], want)
		}
	}
	for u, ts := range sentAt {
		if n := maxInWindow(ts, e.cfg.UserCapWindow); n > e.cfg.UserCap {
			t.Errorf("user %s got %d offers within %s, cap %d", u, n, e.cfg.UserCapWindow, e.cfg.UserCap)
		}
	}
	for k, ts := range sentCampaign {
		var id int64
		fmt.Sscan(k, &id)
		c := campaigns[id]
		if n := maxInWindow(ts, c.Cap.window()); n > c.Cap.perUser() {
			t.Errorf("campaign/user %s got %d offers within %s, cap %d", k, n, c.Cap.window(), c.Cap.perUser())
		}
	}
	for id, n := range total {
		if c := campaigns[id]; c.Cap.Total > 0 && n > c.Cap.Total {
			t.Errorf("campaign %d sent %d offers, budget %d", id, n, c.Cap.Total)
		}
	}
	if sent == 0 || skipped == 0 {
		t.Fatalf("sent %d, skipped %d: the generator must exercise both", sent, skipped)
	}
	t.Logf("seed %d: %d points, %d decisions, %d sent, skipped %v", seed, len(points), len(ds), sent, reasons)
}

// maxInWindow returns the most times that fall in one half-open window
// [s, s+w).
func maxInWindow(ts []time.Time, w time.Duration) int {
	ts = slices.Clone(ts)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best := 0
	for i := range ts {
		n := 0
		for j := i; j < len(ts) && ts[j].Sub(ts[i]) < w; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}
