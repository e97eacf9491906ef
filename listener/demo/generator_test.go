package demo

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/listener/listenertest"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0 }

func newGen(tb testing.TB, cfg Config) *Generator {
	tb.Helper()
	if cfg.Now == nil {
		cfg.Now = fixedNow
	}
	g, err := New(cfg, nil, nil)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return g
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"zero value is valid", Config{}, ""},
		{"negative rate", Config{Rate: -1}, "rate"},
		{"NaN rate", Config{Rate: math.NaN()}, "rate"},
		{"infinite check-in rate", Config{CheckInRate: math.Inf(1)}, "check-in rate"},
		{"tiny pool", Config{Authors: 10}, "authors"},
		{"unknown intent", Config{Mix: map[Intent]float64{"rant": 1}}, `unknown key "rant"`},
		{"negative weight", Config{Mix: map[Intent]float64{Complaint: -1, Praise: 1}}, "weight"},
		{"all zero", Config{Mix: map[Intent]float64{Complaint: 0}}, "all be zero"},
		{"unknown language", Config{Langs: map[string]float64{"pt": 1}}, `unknown key "pt"`},
		{"unknown source", Config{Sources: map[string]float64{"tiktok": 1}}, `unknown key "tiktok"`},
		{"share above 1", Config{GeoShare: 1.5}, "geo share"},
		{"too many follow-ups", Config{FollowUpShare: 0.8, EditShare: 0.2}, "too few"},
		{"burst longer than period", Config{Burst: Burst{Every: time.Minute, Length: 2 * time.Minute, Factor: 3}}, "burst length"},
		{"burst factor below 1", Config{Burst: Burst{Every: time.Minute, Length: time.Second, Factor: 0.5}}, "burst factor"},
		{"valid burst", Config{Burst: Burst{Every: time.Minute, Length: 10 * time.Second, Factor: 4}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			err := cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	var cfg Config
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Authors != 3000 || cfg.FollowUpShare != 0.15 || cfg.EditShare != 0.02 || cfg.Now == nil || len(cfg.Mix) != len(Intents) {
		t.Fatalf("defaults not filled: %+v", cfg)
	}
	neg := Config{FollowUpShare: -1, EditShare: -1}
	if err := neg.Validate(); err != nil || neg.FollowUpShare != 0 || neg.EditShare != 0 {
		t.Fatalf("negative shares should mean none: %v %+v", err, neg)
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a := newGen(t, Config{Seed: 42, Rate: 10})
	b := newGen(t, Config{Seed: 42, Rate: 10})
	c := newGen(t, Config{Seed: 43, Rate: 10})
	same := 0
	for i := range 3000 {
		ma, mb, mc := a.NextLabeled(), b.NextLabeled(), c.NextLabeled()
		if !reflect.DeepEqual(ma, mb) {
			t.Fatalf("mention %d differs with the same seed:\n%+v\n%+v", i, ma, mb)
		}
		if ma.Mention.Text == mc.Mention.Text {
			same++
		}
	}
	if same > 30 {
		t.Fatalf("%d of 3000 texts equal across different seeds", same)
	}
	for range 50 {
		if x, y := a.NextCheckIn(), b.NextCheckIn(); !reflect.DeepEqual(x, y) {
			t.Fatalf("check-ins differ with the same seed: %+v %+v", x, y)
		}
	}
}

// sample draws n labeled mentions from a default generator.
func sample(tb testing.TB, seed int64, n int) []Labeled {
	tb.Helper()
	g := newGen(tb, Config{Seed: seed, Rate: 20})
	out := make([]Labeled, n)
	for i := range out {
		out[i] = g.NextLabeled()
	}
	return out
}

func TestDistribution(t *testing.T) {
	t.Parallel()
	const n = 30_000
	ls := sample(t, 7, n)
	kinds := map[Kind]int{}
	intents := map[Intent]int{}
	langs := map[string]int{}
	newPosts := 0
	for _, l := range ls {
		kinds[l.Label.Kind]++
		if l.Label.Kind == KindNew {
			newPosts++
			intents[l.Label.Intent]++
			langs[l.Label.Lang]++
		}
	}
	near := func(name string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s: share %.3f, want %.3f ± %.3f", name, got, want, tol)
		}
	}
	near("follow-ups", float64(kinds[KindFollowUp])/n, 0.15, 0.02)
	near("edits", float64(kinds[KindEdit])/n, 0.02, 0.008)
	mix, total := DefaultMix(), 0.0
	for _, w := range mix {
		total += w
	}
	for _, i := range Intents {
		near("intent "+string(i), float64(intents[i])/float64(newPosts), mix[i]/total, 0.015)
	}
	if intents[Crisis] == 0 {
		t.Error("no crisis post in 30,000 mentions")
	}
	// Languages are drawn per author and authors post unevenly (Zipf), so
	// the share of posts strays further from the share of authors.
	for lang, w := range DefaultLangs() {
		tol := 0.08
		if w < 0.1 {
			tol = 0.04
		}
		near("lang "+lang, float64(langs[lang])/float64(newPosts), w, tol)
	}
}

func TestCustomMix(t *testing.T) {
	t.Parallel()
	g := newGen(t, Config{Seed: 1, Mix: map[Intent]float64{Praise: 1}, Langs: map[string]float64{"de": 1}, Sources: map[string]float64{"mastodon": 1}})
	for range 500 {
		l := g.NextLabeled()
		if l.Label.Intent != Praise || l.Label.Lang != "de" || l.Mention.Source != "mastodon" {
			t.Fatalf("got %+v from a praise-only, German-only, Mastodon-only mix", l.Label)
		}
	}
}

var handleRE = map[string]*regexp.Regexp{
	"mastodon":  regexp.MustCompile(`^@[a-z0-9_]+@[a-z0-9.-]+\.[a-z]+$`),
	"bluesky":   regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*\.bsky\.social$`),
	"x":         regexp.MustCompile(`^@[A-Za-z0-9_]+$`),
	"facebook":  regexp.MustCompile(`^$`),
	"instagram": regexp.MustCompile(`^[a-z0-9._]+$`),
}

var idRE = map[string]*regexp.Regexp{
	"mastodon":  regexp.MustCompile(`^[0-9]{17,19}$`),
	"bluesky":   regexp.MustCompile(`^at://did:plc:[a-z2-7]{24}/app\.bsky\.feed\.post/[2-7a-z]{13}$`),
	"x":         regexp.MustCompile(`^[0-9]{18,19}$`),
	"facebook":  regexp.MustCompile(`^` + veloraFacebookPage + `_[0-9]{15,}$`),
	"instagram": regexp.MustCompile(`^[0-9]{17}$`),
}

var urlPrefix = map[string]string{
	"mastodon": "https://", "bluesky": "https://bsky.app/profile/", "x": "https://x.com/",
	"facebook": "https://www.facebook.com/" + veloraFacebookPage + "/posts/", "instagram": "https://www.instagram.com/p/",
}

func TestMentionsAreRealistic(t *testing.T) {
	t.Parallel()
	ls := sample(t, 11, 20_000)
	byKey := map[string]listener.Mention{}   // first version of each post
	authorOf := map[string]listener.Author{} // author id → profile seen first
	texts := map[string]bool{}
	var newPosts, followUps, brandReplies, geo, influencers int
	var buf bytes.Buffer
	for i, l := range ls {
		m := l.Mention
		if err := listenertest.Valid(listener.MentionItem(m)); err != nil {
			t.Fatalf("mention %d invalid: %v\n%+v", i, err, m)
		}
		buf.Reset()
		if !handleRE[m.Source].MatchString(m.Author.Handle) {
			t.Errorf("%s handle %q has the wrong shape", m.Source, m.Author.Handle)
		}
		if !idRE[m.Source].MatchString(m.ID) {
			t.Errorf("%s id %q has the wrong shape", m.Source, m.ID)
		}
		if !strings.HasPrefix(m.URL, urlPrefix[m.Source]) {
			t.Errorf("%s url %q", m.Source, m.URL)
		}
		if m.Source == "mastodon" && !strings.HasSuffix(m.URL, "/"+m.ID) {
			t.Errorf("mastodon url %q does not end with the id %s", m.URL, m.ID)
		}
		low := strings.ToLower(m.Text)
		if l.Label.Kind == KindNew && !strings.Contains(low, "velora") && !strings.Contains(low, "zephyr") && !strings.Contains(low, "nova") {
			t.Errorf("text names no brand: %q", m.Text)
		}
		if m.CreatedAt.Location() != time.UTC || m.CreatedAt.Before(t0) {
			t.Errorf("created_at %v", m.CreatedAt)
		}
		if prev, ok := authorOf[m.Author.ID]; ok {
			if prev.Handle != m.Author.Handle || prev.Name != m.Author.Name || prev.Followers != m.Author.Followers {
				t.Errorf("author %s changed profile: %+v then %+v", m.Author.ID, prev, m.Author)
			}
		} else {
			authorOf[m.Author.ID] = m.Author
		}
		key := m.Key()
		switch l.Label.Kind {
		case KindEdit:
			orig, ok := byKey[key]
			if !ok {
				t.Fatalf("edit %d of unknown post %s", i, key)
			}
			if orig.Text == m.Text || !strings.HasPrefix(m.Text, strings.TrimSpace(orig.Text[:len(orig.Text)/2])) {
				t.Errorf("edit %s: text %q does not revise %q", key, m.Text, orig.Text)
			}
			if !orig.CreatedAt.Equal(m.CreatedAt) || orig.Author != m.Author || orig.ReplyTo != m.ReplyTo {
				t.Errorf("edit %s changed more than the text", key)
			}
			if !networks[m.Source].editKeepsID {
				t.Errorf("edit on %s, where an edit is a new post", m.Source)
			}
			continue
		case KindFollowUp:
			followUps++
			if m.ReplyTo == "" || m.Conversation == "" {
				t.Fatalf("follow-up %s without reply_to or conversation", key)
			}
			root, ok := byKey[m.Source+"/"+m.Conversation]
			if !ok || root.Author.ID != m.Author.ID {
				t.Fatalf("follow-up %s: conversation %s is not an earlier post of the same author", key, m.Conversation)
			}
			if parent, ok := byKey[m.Source+"/"+m.ReplyTo]; ok {
				if parent.Author.ID != m.Author.ID {
					t.Errorf("follow-up %s answers someone else's post", key)
				}
				if !parent.CreatedAt.Before(m.CreatedAt) {
					t.Errorf("follow-up %s is not after the post it answers", key)
				}
			} else {
				brandReplies++
			}
		case KindNew:
			newPosts++
			texts[m.Text] = true
			if m.ReplyTo != "" {
				t.Errorf("new post %s has reply_to", key)
			}
		}
		if _, dup := byKey[key]; dup {
			t.Fatalf("id %s reused by a post that is not an edit", key)
		}
		byKey[key] = m
		if m.Geo != nil {
			geo++
			if !networks[m.Source].geo {
				t.Errorf("geo on %s", m.Source)
			}
			if d := nearestStation(m.Geo.Lat, m.Geo.Lon); d > 2000 {
				t.Errorf("geo %+v is %.0f m from the nearest station", m.Geo, d)
			}
		}
		if m.Author.Followers >= 10_000 {
			influencers++
		}
	}
	if ratio := float64(len(texts)) / float64(newPosts); ratio < 0.97 {
		t.Errorf("only %.1f%% of new texts are distinct", 100*ratio)
	}
	if brandReplies == 0 || brandReplies == followUps {
		t.Errorf("%d of %d follow-ups answer a brand reply, want some but not all", brandReplies, followUps)
	}
	if geo == 0 || influencers == 0 {
		t.Errorf("geo posts %d, posts by influencers %d: want some of each", geo, influencers)
	}
}

func TestAuthorPool(t *testing.T) {
	t.Parallel()
	g := newGen(t, Config{Seed: 5})
	ids := map[string]bool{}
	handles := map[string]bool{}
	var inf, verifiedInf int
	for _, a := range g.people {
		if ids[a.Source+"/"+a.ID] {
			t.Fatalf("duplicate author id %s/%s", a.Source, a.ID)
		}
		ids[a.Source+"/"+a.ID] = true
		if a.Handle != "" {
			if handles[a.Handle] {
				t.Fatalf("duplicate handle %s", a.Handle)
			}
			handles[a.Handle] = true
		}
		if a.Influencer {
			inf++
			if a.Followers < 10_000 || a.Followers > 2_000_000 {
				t.Errorf("influencer with %d followers", a.Followers)
			}
			if a.Verified {
				verifiedInf++
			}
		} else if a.Followers >= 10_000 {
			t.Errorf("ordinary author with %d followers", a.Followers)
		}
	}
	if share := float64(inf) / float64(len(g.people)); share < 0.01 || share > 0.03 {
		t.Errorf("influencer share %.3f, want about 0.02", share)
	}
	if verifiedInf == 0 || verifiedInf == inf {
		t.Errorf("%d of %d influencers verified, want most but not all", verifiedInf, inf)
	}
	// Zipf-like activity: the busiest tenth of the people write much more
	// than a tenth of the posts, and the busiest one a small share.
	count := map[string]int{}
	for range 20_000 {
		l := g.NextLabeled()
		if !l.Label.Bot {
			count[l.Mention.Author.ID]++
		}
	}
	var top, all int
	for i, idx := range g.rank {
		c := count[g.people[idx].ID]
		all += c
		if i < len(g.rank)/10 {
			top += c
		}
	}
	if share := float64(top) / float64(all); share < 0.3 || share > 0.8 {
		t.Errorf("top 10%% of authors wrote %.2f of the posts", share)
	}
	if share := float64(count[g.people[g.rank[0]].ID]) / float64(all); share > 0.05 {
		t.Errorf("the busiest author wrote %.3f of the posts", share)
	}
}

func TestCheckIns(t *testing.T) {
	t.Parallel()
	g := newGen(t, Config{Seed: 3, CheckInRate: 0.5})
	users := map[string]bool{}
	for _, u := range g.CheckInUsers() {
		users[u.ID] = true
	}
	nearCount := 0
	const n = 2000
	prev := t0
	for range n {
		c := g.NextCheckIn()
		if err := listenertest.Valid(listener.CheckInItem(c)); err != nil {
			t.Fatalf("invalid check-in: %v", err)
		}
		if !users[c.User.ID] {
			t.Fatalf("check-in by %s, not in CheckInUsers", c.User.ID)
		}
		if c.CreatedAt.Before(prev) {
			t.Fatalf("check-ins out of order")
		}
		prev = c.CreatedAt
		d := nearestStation(c.Lat, c.Lon)
		if d < 500 {
			nearCount++
			if c.Venue == nil {
				t.Errorf("check-in near a station without a venue")
			}
		} else if d < 900 || d > 3100 {
			t.Errorf("check-in %.0f m from the nearest station: neither at it nor elsewhere in town", d)
		}
	}
	if share := float64(nearCount) / n; share < 0.85 || share > 0.95 {
		t.Errorf("%.2f of check-ins near a station, want about 0.9", share)
	}
	if mean := prev.Sub(t0).Seconds() / n; mean < 1.6 || mean > 2.4 {
		t.Errorf("mean virtual step %.2fs, want about 2s at 0.5/s", mean)
	}
}

func TestWriteNDJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteNDJSON(&buf, newGen(t, Config{Seed: 9}), 1000); err != nil {
		t.Fatal(err)
	}
	ok, rej, err := listener.DecodeMentions(buf.Bytes(), true)
	if err != nil || len(rej) != 0 || len(ok) != 1000 {
		t.Fatalf("decode: %d ok, rejections %v, err %v", len(ok), rej, err)
	}
	var first listener.Mention
	if err := json.Unmarshal(bytes.SplitN(buf.Bytes(), []byte("\n"), 2)[0], &first); err != nil {
		t.Fatal(err)
	}
	if want := newGen(t, Config{Seed: 9}).Next(); !reflect.DeepEqual(first, want) {
		t.Fatalf("first line %+v, want %+v", first, want)
	}
}

// nearestStation returns the distance in metres to the closest station.
func nearestStation(lat, lon float64) float64 {
	best := math.Inf(1)
	for _, s := range stations {
		dy := (lat - s.lat) * metresPerDegree
		dx := (lon - s.lon) * metresPerDegree * math.Cos(s.lat*math.Pi/180)
		best = min(best, math.Hypot(dx, dy))
	}
	return best
}

func BenchmarkNext(b *testing.B) {
	g := newGen(b, Config{Seed: 1, Rate: 100})
	b.ReportAllocs()
	for b.Loop() {
		g.Next()
	}
}

func BenchmarkWriteNDJSON(b *testing.B) {
	g := newGen(b, Config{Seed: 1, Rate: 100})
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WriteNDJSON(&buf, g, 1000); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1000, "bytes/mention")
}

// TestRestartDoesNotReuseIDs: the live demo restarts with the same seed (the
// same authors) later; its posts must not collide with the previous run's.
func TestRestartDoesNotReuseIDs(t *testing.T) {
	t.Parallel()
	first := newGen(t, Config{Seed: 1})
	later := newGen(t, Config{Seed: 1, Now: func() time.Time { return t0.Add(time.Hour) }})
	ids := map[string]bool{}
	for range 2000 {
		m := first.Next()
		ids[m.Key()] = true
	}
	for range 2000 {
		m := later.Next()
		if ids[m.Key()] {
			t.Fatalf("%s reused after a restart", m.Key())
		}
	}
}
