package crm

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestNormalise(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in, want string
		f              func(string) string
	}{
		{"mastodon handle", "@Ana_Lopez@social.example", "analopez", handleKey},
		{"bluesky hosted handle", "ana-lopez.bsky.social", "analopez", handleKey},
		{"x handle", "@AnaLopez", "analopez", handleKey},
		{"accents", "@Zoë", "zoe", handleKey},
		{"too short", "@jo", "", handleKey},
		{"custom domain kept whole", "ana.example.com", "anaexamplecom", handleKey},
		{"full name", "  Ana   López 🌻", "ana lopez", nameKey},
		{"single word is no evidence", "Ana", "", nameKey},
		{"url", "https://www.Twitter.com/AnaLopez/", "x.com/analopez", urlKey},
		{"url without path", "https://example.com", "", urlKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f(tc.in); got != tc.want {
				t.Errorf("%q → %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := profileURL("mastodon", "@ana@social.example"); got != "https://social.example/@ana" {
		t.Errorf("mastodon profile URL %q", got)
	}
}

// TestSuggestionsNeverMerge: the same person on three networks gives three
// profiles and suggestions, and stays three profiles however much Vigie
// sees, until an agent links; linking merges timelines, unlinking splits
// them again.
func TestSuggestionsNeverMerge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.feed(
		post{source: "mastodon", id: "m1", author: "101", handle: "@ana_lopez@social.example", name: "Ana López", intent: "complaint", sentiment: -0.6, influence: 30},
		post{source: "bluesky", id: "b1", author: "did:plc:ana", handle: "ana-lopez.bsky.social", name: "Ana Lopez", intent: "praise", sentiment: 0.8, influence: 55},
		post{source: "x", id: "x1", author: "9", handle: "@al_travels", name: "AL", text: "also here: https://bsky.app/profile/ana-lopez.bsky.social", influence: 10},
		post{source: "x", id: "x2", author: "10", handle: "@bob", name: "Bob Stone"},
	)
	if n := e.profileCount(); n != 4 {
		t.Fatalf("%d profiles, want 4 (one per identity)", n)
	}
	masto := e.profileOf("mastodon", "101")
	sugg, err := e.crm.Suggestions(e.ctx, masto.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(sugg) != 1 || sugg[0].Identity.Source != "bluesky" || !slices.Equal(sugg[0].Reasons, []Reason{ReasonHandle, ReasonName}) {
		t.Fatalf("suggestions for the mastodon profile: %+v, want bluesky by handle and name", sugg)
	}
	bsky := e.profileOf("bluesky", "did:plc:ana")
	sugg, err = e.crm.Suggestions(e.ctx, bsky.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sugg {
		got = append(got, s.Identity.Source+"/"+s.Identity.AuthorID+":"+strings.Join(reasonStrings(s.Reasons), ","))
	}
	// Handle and name (0.6 + 0.3) outweigh a profile link alone (0.8).
	want := []string{"mastodon/101:handle,name", "x/9:profile_link"}
	if !slices.Equal(got, want) {
		t.Fatalf("suggestions for the bluesky profile: %v, want %v (best first)", got, want)
	}
	// More posts come: still nothing merged.
	e.clock.Add(time.Hour)
	e.feed(post{source: "mastodon", id: "m2", author: "101", handle: "@ana_lopez@social.example", name: "Ana López", intent: "complaint", sentiment: -0.2})
	if n := e.profileCount(); n != 4 {
		t.Fatalf("%d profiles after more posts, want 4: suggestions must never merge by themselves", n)
	}

	// An agent links bluesky and x into the mastodon profile.
	p, err := e.crm.Link(e.ctx, masto.ID, "bluesky", "did:plc:ana", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if p, err = e.crm.Link(e.ctx, masto.ID, "x", "9", "alice"); err != nil {
		t.Fatal(err)
	}
	if len(p.Identities) != 3 || p.Influence != 55 || p.Complaints != 2 || p.Praise != 1 || p.Mentions != 4 {
		t.Fatalf("linked profile: %d identities, influence %d, complaints %d, praise %d, mentions %d", len(p.Identities), p.Influence, p.Complaints, p.Praise, p.Mentions)
	}
	for _, i := range p.Identities {
		if want := map[string]string{"mastodon": "", "bluesky": "alice", "x": "alice"}[i.Source]; i.LinkedBy != want {
			t.Errorf("%s linked by %q, want %q", i.Source, i.LinkedBy, want)
		}
	}
	if n := e.profileCount(); n != 2 {
		t.Fatalf("%d profiles after linking, want 2", n)
	}
	if _, err := e.crm.Profile(e.ctx, bsky.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the emptied profile: %v, want it gone", err)
	}
	tl, err := e.crm.Timeline(e.ctx, masto.ID, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for _, it := range tl {
		if it.Kind == KindMention {
			sources[it.Source] = true
		}
	}
	if len(sources) != 3 {
		t.Fatalf("merged timeline has mentions from %v, want three networks", sources)
	}
	if len(p.Sentiment) != 1 || p.Sentiment[0].Mentions != 4 {
		t.Errorf("sentiment history %+v", p.Sentiment)
	}
	if s, _ := e.crm.Suggestions(e.ctx, masto.ID); len(s) != 0 {
		t.Errorf("suggestions after linking: %+v, want none", s)
	}

	// Unlink: the identity gets its own profile, its posts go with it.
	left, newID, err := e.crm.Unlink(e.ctx, masto.ID, "bluesky", "did:plc:ana", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Identities) != 2 || left.Mentions != 3 {
		t.Fatalf("after unlink: %d identities, %d mentions", len(left.Identities), left.Mentions)
	}
	back, err := e.crm.Profile(e.ctx, newID)
	if err != nil || len(back.Identities) != 1 || back.Identities[0].Source != "bluesky" || back.Mentions != 1 {
		t.Fatalf("the unlinked profile: %+v, %v", back, err)
	}
	// The last identity cannot be unlinked; unknown identities are 404.
	if _, _, err := e.crm.Unlink(e.ctx, newID, "bluesky", "did:plc:ana", "alice"); !errors.Is(err, ErrConflict) {
		t.Errorf("unlinking the last identity: %v, want a conflict", err)
	}
	if _, err := e.crm.Link(e.ctx, masto.ID, "x", "nobody", "alice"); !errors.Is(err, ErrNotFound) {
		t.Errorf("linking an unknown identity: %v, want not found", err)
	}
}

func reasonStrings(rs []Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

func TestCRMIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.feed(post{source: "x", id: "1", author: "a"}, post{source: "x", id: "2", author: "b"}, post{source: "mastodon", id: "3", author: "c"})
	a, b, c := e.profileOf("x", "a"), e.profileOf("x", "b"), e.profileOf("mastodon", "c")
	if _, err := e.crm.SetCRMID(e.ctx, a.ID, "C-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.SetCRMID(e.ctx, b.ID, "C-1"); !errors.Is(err, ErrConflict) {
		t.Fatalf("a CRM id on two profiles: %v, want a conflict", err)
	}
	if _, err := e.crm.SetCRMID(e.ctx, b.ID, "C-2"); err != nil {
		t.Fatal(err)
	}
	// Linking two profiles with different CRM ids is refused; with one,
	// the id comes along.
	if _, err := e.crm.Link(e.ctx, a.ID, "x", "b", "alice"); !errors.Is(err, ErrConflict) {
		t.Fatalf("merging two CRM customers: %v, want a conflict", err)
	}
	if _, err := e.crm.SetCRMID(e.ctx, c.ID, "C-3"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.crm.SetCRMID(e.ctx, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	p, err := e.crm.Link(e.ctx, a.ID, "mastodon", "c", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if p.CRMID != "C-3" {
		t.Errorf("CRM id after the merge %q, want C-3", p.CRMID)
	}
	page, err := e.crm.Profiles(e.ctx, ProfileFilter{CRMID: "C-3"})
	if err != nil || len(page.Profiles) != 1 || page.Profiles[0].ID != a.ID {
		t.Fatalf("profiles with crm_id C-3: %+v, %v", page, err)
	}
	for _, bad := range []string{" C-1", "C\n1", strings.Repeat("x", 200)} {
		if _, err := e.crm.SetCRMID(e.ctx, a.ID, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("crm id %q: %v, want invalid", bad, err)
		}
	}
}

func TestImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.feed(post{source: "x", id: "1", author: "a"}, post{source: "x", id: "2", author: "b"})
	if _, err := e.crm.SetCRMID(e.ctx, e.profileOf("x", "b").ID, "C-9"); err != nil {
		t.Fatal(err)
	}
	csv := "\ufeffsource,author_id,crm_id\n" +
		"x,a,C-1\n" + // linked
		"x,a,C-1\n" + // unchanged
		"x,b,C-2\n" + // b has C-9 already
		"mastodon,new,C-9\n" + // C-9 is b's
		"mastodon,new2,C-3\n" + // a new identity, linked
		"x,,C-4\n" + // no author
		"x,a\n" + // two fields
		"x,\"unterminated,C-5\n"
	res, err := e.crm.Import(e.ctx, strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if res.Linked != 2 || res.Unchanged != 1 {
		t.Errorf("linked %d, unchanged %d, want 2 and 1", res.Linked, res.Unchanged)
	}
	var lines []int
	for _, le := range res.Errors {
		lines = append(lines, le.Line)
	}
	if !slices.Equal(lines, []int{4, 5, 7, 8, 9}) { // the header is line 1
		t.Errorf("refused lines %v (%+v), want 4, 5, 7, 8, 9", lines, res.Errors)
	}
	if p := e.profileOf("mastodon", "new2"); p.CRMID != "C-3" {
		t.Errorf("imported identity: crm id %q", p.CRMID)
	}
	if _, err := e.crm.ProfileByIdentity(e.ctx, "mastodon", "new"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a refused line created an identity: %v", err)
	}
	if _, err := e.crm.Import(e.ctx, strings.NewReader("a,b\n")); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad header: %v, want invalid", err)
	}
}

func FuzzImport(f *testing.F) {
	f.Add("source,author_id,crm_id\nx,a,C-1\n")
	f.Add("source,author_id,crm_id\nx,\"a\nb\",C\n,,\n")
	f.Add("\ufeffsource,author_id,crm_id\r\nx,a,C-1,extra\r\n")
	e := newEnv(f, Config{})
	f.Fuzz(func(t *testing.T, in string) {
		res, err := e.crm.Import(e.ctx, strings.NewReader(in))
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("import: %v (only invalid input may fail)", err)
		}
		if err == nil && res.Errors == nil {
			t.Fatal("nil errors list")
		}
	})
}

func TestErasure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Config{})
	e.feed(
		post{source: "x", id: "1", author: "a", handle: "@ana_lopez", intent: "complaint"},
		post{source: "mastodon", id: "2", author: "m", handle: "@ana_lopez@social.example"},
		post{source: "x", id: "3", author: "solo"},
	)
	a := e.profileOf("x", "a")
	if _, err := e.crm.Link(e.ctx, a.ID, "mastodon", "m", "alice"); err != nil {
		t.Fatal(err)
	}
	solo := e.profileOf("x", "solo")
	e.erase("x", "a")
	p, err := e.crm.Profile(e.ctx, a.ID)
	if err != nil {
		t.Fatalf("the profile keeps its other identity: %v", err)
	}
	if len(p.Identities) != 1 || p.Mentions != 1 || p.Tickets != 1 || p.Complaints != 0 {
		t.Fatalf("after erasing x/a: %d identities, %d mentions, %d tickets, %d complaints", len(p.Identities), p.Mentions, p.Tickets, p.Complaints)
	}
	e.erase("x", "solo")
	if _, err := e.crm.Profile(e.ctx, solo.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a profile without identity: %v, want deleted", err)
	}
	for _, table := range []string{"mentions", "tickets", "identity_links", "identities"} {
		var n int
		if err := e.crm.db.R.QueryRow("SELECT COUNT(*) FROM " + table + " WHERE author_id IN ('a','solo')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s still holds %d rows of erased people", table, n)
		}
	}
}
