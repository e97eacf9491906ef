package watch

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
)

var day0 = time.Date(2030, 3, 2, 0, 0, 0, 0, time.UTC)

// A calm baseline, then a burst: exactly one volume alert, raised at the
// first window end after the burst starts, updated while it lasts, resolved
// after it.
func TestBurstRaisesUpdatesResolves(t *testing.T) {
	for _, tc := range []struct {
		name     string
		days     int
		baseline string
	}{
		{"recent baseline", 0, "recent"},
		{"seasonal baseline", 4, "seasonal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig(t)
			cfg.Scopes = []string{}
			h := newHarness(t, cfg)
			rng := rand.New(rand.NewPCG(1, 2))
			burstAt := day0.Add(time.Duration(tc.days)*24*time.Hour + 2*time.Hour)
			h.feed(traffic(rng, day0, burstAt, constant(2), "calm")...)
			if n := len(h.published("")); n != 0 {
				t.Fatalf("calm traffic raised %d alert events: %+v", n, h.published(""))
			}
			h.feed(traffic(rng, burstAt, burstAt.Add(10*time.Minute), constant(30), "burst")...)
			h.feed(traffic(rng, burstAt.Add(10*time.Minute), burstAt.Add(40*time.Minute), constant(2), "after")...)

			evs := h.published(DetectorVolume)
			if got := countChanges(evs, ChangeRaised); got != 1 {
				t.Fatalf("raised %d volume alerts, want 1: %+v", got, evs)
			}
			if others := len(h.published("")) - len(evs); others != 0 {
				t.Errorf("%d events from other detectors: %+v", others, h.published(""))
			}
			raised := evs[0]
			if raised.Change != ChangeRaised {
				t.Fatalf("first event %s, want raised", raised.Change)
			}
			ex := raised.Alert.Explanation
			if want := burstAt.Add(time.Minute); !ex.WindowEnd.Equal(want) {
				t.Errorf("raised for the window ending %v, want %v (one step after the burst began)", ex.WindowEnd, want)
			}
			if ex.Baseline == nil || ex.Baseline.Kind != tc.baseline {
				t.Errorf("baseline %+v, want kind %s", ex.Baseline, tc.baseline)
			}
			if ex.Observed < ex.Threshold || ex.Metric != "mentions" || ex.Reason == "" || len(ex.Samples) == 0 || len(ex.TopAuthors) == 0 {
				t.Errorf("explanation incomplete: %+v", ex)
			}
			for _, s := range ex.Samples {
				if s.Excerpt != "" {
					t.Errorf("published sample carries an excerpt: %+v", s)
				}
			}
			if countChanges(evs, ChangeUpdated)+countChanges(evs, ChangeEscalated) == 0 {
				t.Errorf("no update while the burst lasted: %+v", evs)
			}
			last := evs[len(evs)-1]
			if last.Change != ChangeResolved {
				t.Fatalf("last event %s, want resolved", last.Change)
			}
			if last.Alert.ID != raised.Alert.ID || last.Alert.Status != StatusResolved || last.Alert.ResolvedAt == nil {
				t.Errorf("resolved event %+v", last.Alert)
			}
			// The stored alert has the excerpts.
			a, err := h.w.Alert(t.Context(), raised.Alert.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Explanation.Samples) == 0 || a.Explanation.Samples[0].Excerpt == "" {
				t.Errorf("stored alert lost its excerpts: %+v", a.Explanation.Samples)
			}
		})
	}
}

// A day/night rhythm alone, over several days, raises nothing.
func TestDayNightRhythmIsQuiet(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	rng := rand.New(rand.NewPCG(7, 8))
	rhythm := func(at time.Time) float64 {
		h := float64(at.Hour()) + float64(at.Minute())/60
		return 0.3 + 6*(1-math.Cos(2*math.Pi*(h-4)/24))/2 // 0.3/min at 4:00, 6.3/min at 16:00
	}
	h.feed(traffic(rng, day0, day0.Add(6*24*time.Hour), rhythm, "d")...)
	if evs := h.published(""); len(evs) != 0 {
		for _, ev := range evs {
			t.Errorf("%s %s: %s", ev.Change, ev.Alert.Title, ev.Alert.Explanation.Reason)
		}
	}
}

// An influencer's complaint raises an influencer alert.
func TestInfluencerComplaint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testConfig(t))
	rng := rand.New(rand.NewPCG(3, 4))
	at := day0.Add(3 * time.Hour)
	h.feed(traffic(rng, day0, at, constant(1), "calm")...)
	h.feed(
		mk{at: at.Add(10 * time.Second), id: "big1", author: "star", text: "Three hours stuck on a Velora train, no information, disgraceful", sentiment: -0.8, label: "negative", influence: 72}.data(),
		mk{at: at.Add(20 * time.Second), id: "small1", author: "nobody", text: "My train is late again, awful", sentiment: -0.6, label: "negative", influence: 20}.data(),
	)
	h.feed(traffic(rng, at.Add(time.Minute), at.Add(30*time.Minute), constant(1), "after")...)
	evs := h.published(DetectorInfluencer)
	if countChanges(evs, ChangeRaised) != 1 {
		t.Fatalf("influencer alerts: %+v", evs)
	}
	a := evs[0].Alert
	if a.Key != "influencer:mastodon/star" || a.Severity != SeverityWarning || a.Explanation.Observed != 72 {
		t.Errorf("alert %+v", a)
	}
	if len(a.Explanation.Samples) != 1 || a.Explanation.Samples[0].ID != "big1" {
		t.Errorf("samples %+v, want the influencer's post only", a.Explanation.Samples)
	}
	if !a.Explanation.WindowEnd.Equal(at.Add(time.Minute)) {
		t.Errorf("window end %v, want within a minute of the post", a.Explanation.WindowEnd)
	}
	if countChanges(evs, ChangeResolved) != 1 {
		t.Errorf("not resolved: %+v", evs)
	}
}

// Crisis words raise a crisis alert once: a second wave within the
// cooldown reopens it rather than raising another.
func TestCrisisWordsRaiseOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, testConfig(t))
	rng := rand.New(rand.NewPCG(5, 6))
	at := day0.Add(5 * time.Hour)
	h.feed(traffic(rng, day0, at, constant(1), "calm")...)
	h.feed(mk{at: at.Add(5 * time.Second), id: "c1", author: "a1", text: "Je lance un #BOYCOTT de Vélora après ce scandale", sentiment: -0.5, label: "negative", lang: "fr"}.data())
	h.feed(traffic(rng, at.Add(time.Minute), at.Add(20*time.Minute), constant(1), "mid")...)
	h.feed(mk{at: at.Add(20 * time.Minute), id: "c2", author: "a2", text: "boycotting velora from now on", sentiment: -0.4, label: "negative"}.data())
	h.feed(traffic(rng, at.Add(21*time.Minute), at.Add(50*time.Minute), constant(1), "after")...)
	evs := h.published(DetectorCrisis)
	if countChanges(evs, ChangeRaised) != 1 {
		t.Fatalf("crisis alerts raised: %d, want 1: %+v", countChanges(evs, ChangeRaised), evs)
	}
	if countChanges(evs, ChangeReopened) != 1 || countChanges(evs, ChangeResolved) != 2 {
		t.Errorf("want one reopening and two resolutions: %+v", evs)
	}
	a := evs[0].Alert
	if a.Key != "crisis:boycott*" || len(a.Explanation.Matched) == 0 || !strings.HasPrefix(a.Explanation.Matched[0], "boycott") {
		t.Errorf("alert %+v", a)
	}
	for _, ev := range evs {
		if ev.Alert.ID != a.ID {
			t.Errorf("event for another alert %d", ev.Alert.ID)
		}
	}
}

// A negative wave raises a negative-sentiment alert with the shares.
func TestNegativeSpike(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Scopes = []string{}
	h := newHarness(t, cfg)
	rng := rand.New(rand.NewPCG(9, 10))
	at := day0.Add(2 * time.Hour)
	h.feed(traffic(rng, day0, at, constant(3), "calm")...)
	var wave []desk.MentionData
	for i := 0; i < 20; i++ {
		wave = append(wave, mk{at: at.Add(time.Duration(i) * 9 * time.Second), id: "n" + string(rune('a'+i)), author: "angry" + string(rune('a'+i)),
			text: "Train cancelled again, terrible service", sentiment: -0.7, label: "negative"}.data())
	}
	wave = append(wave, traffic(rng, at, at.Add(3*time.Minute), constant(3), "mix")...)
	sortByTime(wave)
	h.feed(wave...)
	h.feed(traffic(rng, at.Add(3*time.Minute), at.Add(30*time.Minute), constant(3), "after")...)
	evs := h.published(DetectorNegative)
	if countChanges(evs, ChangeRaised) != 1 {
		t.Fatalf("negative alerts: %+v", evs)
	}
	ex := evs[0].Alert.Explanation
	if ex.Share == nil || ex.BaselineShare == nil || *ex.Share < 0.3 || *ex.BaselineShare != 0 {
		t.Errorf("shares %v %v", ex.Share, ex.BaselineShare)
	}
	terms := map[string]bool{}
	for _, tc := range ex.TopTerms {
		terms[tc.Term] = true
	}
	if !terms["cancelled"] || !terms["terrible"] {
		t.Errorf("top terms %+v, want the wave's words", ex.TopTerms)
	}
}

// A new word used by many authors emerges.
func TestEmergingTerm(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	h := newHarness(t, cfg)
	rng := rand.New(rand.NewPCG(11, 12))
	at := day0.Add(6 * time.Hour)
	h.feed(traffic(rng, day0, at, constant(2), "calm")...)
	var wave []desk.MentionData
	for i := 0; i < 10; i++ {
		wave = append(wave, mk{at: at.Add(time.Duration(i) * 20 * time.Second), id: "t" + string(rune('a'+i)), author: "p" + string(rune('a'+i)),
			text: "Is the heatwave why the air conditioning stopped? #heatwave", sentiment: 0}.data())
	}
	h.feed(wave...)
	h.feed(traffic(rng, at.Add(4*time.Minute), at.Add(30*time.Minute), constant(2), "after")...)
	evs := h.published(DetectorTerms)
	keys := map[string]bool{}
	for _, ev := range evs {
		if ev.Change == ChangeRaised {
			keys[ev.Alert.Key] = true
			if ev.Alert.Severity != SeverityInfo {
				t.Errorf("term alert severity %s", ev.Alert.Severity)
			}
		}
	}
	if !keys["term:heatwave"] {
		t.Errorf("term alerts %v, want term:heatwave", keys)
	}
	for k := range keys {
		if k == "term:the" || k == "term:why" {
			t.Errorf("stopword alerted: %s", k)
		}
	}
}

func TestTermsSkipHandlesLinksStopwords(t *testing.T) {
	t.Parallel()
	got := terms("@VeloraHelp the train to Paris is LATE again https://t.co/xyz #Grève", stopwordSet(nil), 3)
	want := []string{"train", "paris", "late", "greve"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("terms = %v, want %v", got, want)
	}
}

func TestRobust(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                string
		xs                  []float64
		med, mad, sigmaWant float64
	}{
		{"flat zero", []float64{0, 0, 0}, 0, 0, 1},
		{"poisson floor", []float64{100, 100, 100, 100}, 100, 0, 10},
		{"spread", []float64{1, 2, 3, 4, 100}, 3, 1, 1.7320508075688772},
		{"mad wins", []float64{10, 20, 30, 40, 50}, 30, 10, 14.826},
	} {
		t.Run(tc.name, func(t *testing.T) {
			med, mad, sigma := robust(append([]float64(nil), tc.xs...))
			if med != tc.med || mad != tc.mad || math.Abs(sigma-tc.sigmaWant) > 1e-9 {
				t.Errorf("robust(%v) = %v, %v, %v; want %v, %v, %v", tc.xs, med, mad, sigma, tc.med, tc.mad, tc.sigmaWant)
			}
		})
	}
}

// TestClosedHourGivesBackItsRoom: when an hour closes, the words said once
// go, and so does the room they took. Each of a day's hours keeps its
// words; emptied in place, an hour's map would keep the table of all of
// them (most said once) until its slot comes round again a day later.
func TestClosedHourGivesBackItsRoom(t *testing.T) {
	words := make([]string, 300_000)
	for i := range words {
		words[i] = fmt.Sprintf("w%06d", i)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	tb := newTermBaseline(24)
	before := heap()
	tb.add(1, words)
	tb.add(1, words[:10]) // ten words said twice
	tb.add(2, nil)        // hour 1 closes
	retained := int64(heap()) - int64(before)
	docs, df := tb.stats(2, []string{words[0], words[9], words[10]})
	if docs != 2 || df[0] != 2 || df[1] != 2 || df[2] != 0 {
		t.Errorf("hour 1 after it closed: %d posts, counts %v; want 2 posts, [2 2 0]", docs, df)
	}
	if retained > 2<<20 {
		t.Errorf("a closed hour keeping 10 words holds %d KiB; want its words' room given back", retained>>10)
	}
	runtime.KeepAlive(tb)
	runtime.KeepAlive(words)
}
