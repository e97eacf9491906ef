package offer

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/intake"
	"github.com/vigie/vigie/listener"
)

// gowallaDir is the Gowalla NYC sample, relative to this package (the
// repository root's ../shared/data). It is read at run time, never copied.
const gowallaDir = "../../shared/data/checkins_gowalla_nyc"

type gowallaCheckIn struct {
	user     string
	at       time.Time
	lat, lon float64
	venue    string
}

type gowallaVenue struct {
	id, name string
	lat, lon float64
}

// loadGowalla reads the check-ins and venues, or skips the test when the
// data is absent.
func loadGowalla(t testing.TB) ([]gowallaCheckIn, map[string]gowallaVenue) {
	t.Helper()
	dir := gowallaDir
	if d := os.Getenv("VIGIE_GOWALLA_DIR"); d != "" {
		dir = d
	}
	checkins := filepath.Join(dir, "gowalla_nyc_checkins_uid_mod4.tsv")
	if _, err := os.Stat(checkins); err != nil {
		t.Skipf("Gowalla NYC data absent (%v): put the shared data next to the repository (../shared/data) or set VIGIE_GOWALLA_DIR", err)
	}
	var cs []gowallaCheckIn
	readTSV(t, checkins, 5, func(f []string) {
		at, err := time.Parse(time.RFC3339, f[1])
		if err != nil {
			t.Fatalf("check-in time %q: %v", f[1], err)
		}
		cs = append(cs, gowallaCheckIn{user: f[0], at: at, lat: parseFloat(t, f[2]), lon: parseFloat(t, f[3]), venue: f[4]})
	})
	venues := map[string]gowallaVenue{}
	readTSV(t, filepath.Join(dir, "gowalla_nyc_venues.tsv"), 4, func(f []string) {
		venues[f[0]] = gowallaVenue{id: f[0], name: f[1], lat: parseFloat(t, f[2]), lon: parseFloat(t, f[3])}
	})
	return cs, venues
}

func readTSV(t testing.TB, path string, fields int, each func([]string)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != fields {
			t.Fatalf("%s:%d: %d fields, want %d", path, line, len(parts), fields)
		}
		each(parts)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func parseFloat(t testing.TB, s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return v
}

// topVenues returns the n most checked-in venues that have a name and
// coordinates.
func topVenues(cs []gowallaCheckIn, venues map[string]gowallaVenue, n int) []gowallaVenue {
	count := map[string]int{}
	for _, c := range cs {
		if _, ok := venues[c.venue]; ok {
			count[c.venue]++
		}
	}
	ids := make([]string, 0, len(count))
	for id := range count {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return strings.Compare(a, b)
	})
	out := make([]gowallaVenue, 0, n)
	for _, id := range ids[:min(n, len(ids))] {
		out = append(out, venues[id])
	}
	return out
}

// consents30 is the deterministic 30% of users who consented: FNV-1a of the
// user id, modulo 10, below 3.
func consents30(user string) bool {
	h := fnv.New32a()
	h.Write([]byte(user))
	return h.Sum32()%10 < 3
}

// TestGowallaEval replays the real Gowalla NYC check-ins against fences on
// the 50 most visited venues (100 m circles, New York store hours), with
// consent for a deterministic 30% of users, and reports offers sent and
// skipped by reason, and the throughput. docs/EVALUATION.md quotes it:
//
//	go test -run TestGowallaEval -v ./offer/
func TestGowallaEval(t *testing.T) {
	if testing.Short() {
		t.Skip("the Gowalla replay is not short")
	}
	cs, venues := loadGowalla(t)
	slices.SortStableFunc(cs, func(a, b gowallaCheckIn) int { return a.at.Compare(b.at) })
	top := topVenues(cs, venues, 50)

	clk := &clock{t: cs[0].at}
	// Old data: decide on the check-ins' own clock, without the age guard.
	e := openEngine(t, Config{Now: clk.Now, MaxAge: -1}, nil, nil)
	ctx := context.Background()
	week := []string{"09:00-21:00"}
	for _, v := range top {
		name := v.name
		if len(name) > MaxNameBytes {
			name = name[:MaxNameBytes]
		}
		if _, err := e.PutFence(ctx, 0, Fence{
			Name: name, Tags: []string{"nyc"}, Geometry: pointGeo(v.lon, v.lat), RadiusM: 100, TimeZone: "America/New_York",
			Hours: Hours{"mon": week, "tue": week, "wed": week, "thu": week, "fri": week, "sat": week, "sun": {"11:00-19:00"}},
		}); err != nil {
			t.Fatalf("fence on %s: %v", v.name, err)
		}
	}
	if _, err := e.PutCampaign(ctx, 0, Campaign{
		Name: "welcome", FenceTags: []string{"nyc"},
		Offer:    Offer{Template: "Hi {{name}}, 10% off at {{store}} today: {{code}}", Code: "NYC10"},
		Schedule: Schedule{OpeningHoursOnly: true, QuietHours: "21:00-09:00"},
		Cap:      Cap{PerUser: 1, WindowHours: 7 * 24},
	}); err != nil {
		t.Fatal(err)
	}
	users := map[string]bool{}
	consented := 0
	for _, c := range cs {
		if users[c.user] {
			continue
		}
		users[c.user] = true
		if consents30(c.user) {
			consented++
			if _, err := e.PutConsent(ctx, "gowalla", c.user, ConsentRequest{Granted: true, Channel: "web form", Proof: "eval"}, "eval"); err != nil {
				t.Fatal(err)
			}
		}
	}

	recs := make([]intake.Record, len(cs))
	for i, c := range cs {
		recs[i] = intake.Record{Seq: int64(i + 1), Version: 1, Item: listener.CheckInItem(listener.CheckIn{
			Source: "gowalla", ID: strconv.Itoa(i + 1), CreatedAt: c.at, User: listener.CheckInUser{ID: c.user}, Lat: c.lat, Lon: c.lon,
		})}
	}
	// Matching alone, through the index.
	ix := e.cat.Load().index
	start := time.Now()
	var matched int
	var hits []*Fence
	for _, c := range cs {
		if hits = ix.Match(hits[:0], c.lat, c.lon); len(hits) > 0 {
			matched++
		}
	}
	matchSecs := time.Since(start).Seconds()

	// The whole engine: match, decide, commit, in batches of 512.
	start = time.Now()
	for i := 0; i < len(recs); i += 512 {
		batch := recs[i:min(len(recs), i+512)]
		clk.Set(cs[min(len(cs), i+512)-1].at)
		if err := e.process(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	engineSecs := time.Since(start).Seconds()

	ds := allDecisions(t, e)
	var sent int
	reasons := map[Reason]int{}
	for _, d := range ds {
		if d.Status == StatusSent {
			sent++
			if !consents30(d.UserID) {
				t.Errorf("offer %d sent to %s, who did not consent", d.ID, d.UserID)
			}
			continue
		}
		reasons[d.Reason]++
	}
	if sent == 0 {
		t.Fatal("no offer sent on real data: the setup is wrong")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "check-ins %d, users %d (consented %d), fences %d\n", len(cs), len(users), consented, len(top))
	fmt.Fprintf(&b, "check-ins inside a fence %d (%.1f%%), decisions %d, sent %d, skipped %d\n", matched, 100*float64(matched)/float64(len(cs)), len(ds), sent, len(ds)-sent)
	for _, r := range Reasons {
		if reasons[r] > 0 {
			fmt.Fprintf(&b, "  skipped %-18s %6d\n", r, reasons[r])
		}
	}
	fmt.Fprintf(&b, "matching only: %.0f check-ins/s; engine (match, decide, commit): %.0f check-ins/s\n", float64(len(cs))/matchSecs, float64(len(cs))/engineSecs)
	t.Log("\n" + b.String())
}
