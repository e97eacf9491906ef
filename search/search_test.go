package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/internal/yield/yieldtest"
)

func TestAnalysisPerLanguage(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	log.add(t, desk.EventMentionReceived, mentionData("fr1", "fr", "Je veux être remboursé de ma commande, l'application plante"))
	log.add(t, desk.EventMentionReceived, mentionData("fr2", "fr", "Colis livré en retard, les élèves attendent"))
	log.add(t, desk.EventMentionReceived, mentionData("en1", "en", "I want a refund for my orders, the app's broken"))
	log.add(t, desk.EventMentionReceived, mentionData("es1", "es", "Quiero un reembolso de mi pedido"))
	ix := openTest(t, log, "")
	catchUp(t, ix)

	tests := []struct {
		name string
		q    string
		want []string
	}{
		// bleve's fr analyser (light stemmer) reduces both to "rembours".
		{"fr verb finds participle", "rembourser", []string{"mastodon/fr1"}},
		{"fr noun finds participle", "remboursement", []string{"mastodon/fr1"}},
		{"fr elision", "application", []string{"mastodon/fr1"}},
		{"fr plural and accents folded", "eleve", []string{"mastodon/fr2"}},
		{"fr participle variants", "livrée", []string{"mastodon/fr2"}},
		// The light stemmer does not join a noun to its verb in general.
		{"fr livraison is not livré", "livraison", nil},
		// bleve's en analyser applies Porter stemming.
		{"en past tense", "refunded", []string{"mastodon/en1"}},
		{"en plural", "order", []string{"mastodon/en1"}},
		{"en possessive", "app", []string{"mastodon/en1"}},
		{"other languages: standard analyser, exact words", "reembolso", []string{"mastodon/es1"}},
		{"standard analyser does not stem", "reembolsos", nil},
		{"text field searches every language", "text:refunds", []string{"mastodon/en1"}},
		{"phrase", `"quiero un reembolso"`, []string{"mastodon/es1"}},
		{"wildcard on stems", "rembours*", []string{"mastodon/fr1"}},
		{"keyword field", "lang:fr", []string{"mastodon/fr1", "mastodon/fr2"}},
		{"author name", "ana", []string{"mastodon/en1", "mastodon/es1", "mastodon/fr1", "mastodon/fr2"}},
		{"must and must not", "+lang:fr -eleve", []string{"mastodon/fr1"}},
		{"either language", "remboursé refund", []string{"mastodon/en1", "mastodon/fr1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustSearch(t, ix, Request{Query: tt.q})
			got := keys(res)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) || int(res.Total) != len(tt.want) {
				t.Errorf("q=%q: got %v (total %d), want %v", tt.q, got, res.Total, tt.want)
			}
		})
	}
}

func TestHitContent(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	d := mentionData("42", "fr", "Toujours pas de remboursement <b>après</b> trois semaines", ticket(7), geo(48.85, 2.35), sentiment(-0.6, "negative"), intent("complaint"))
	log.add(t, desk.EventMentionReceived, d)
	log.add(t, desk.EventTicketCreated, ticketData(7, "billing", desk.StatusOpen, "", "refund"))
	ix := openTest(t, log, "")
	catchUp(t, ix)

	res := mustSearch(t, ix, Request{Query: "rembourser"})
	if len(res.Hits) != 1 {
		t.Fatalf("hits = %v", keys(res))
	}
	h := res.Hits[0]
	if h.Key != "mastodon/42" || h.ID != "42" || h.Source != "mastodon" || h.Text != d.Mention.Text ||
		h.TicketID != 7 || h.Queue != "billing" || h.Status != desk.StatusOpen || !slices.Equal(h.Tags, []string{"refund"}) ||
		h.Enrichment.Sentiment != -0.6 || h.Enrichment.Intent != "complaint" || h.Author.Handle != "@ana@social.example" ||
		h.Geo == nil || h.Geo.Lat != 48.85 || !h.CreatedAt.Equal(d.Mention.CreatedAt) || h.Version != 1 || h.Score <= 0 {
		t.Errorf("hit = %+v", h)
	}
	frags := h.Highlights["text"]
	if len(frags) != 1 || !strings.Contains(frags[0], "<mark>remboursement</mark>") || !strings.Contains(frags[0], "&lt;b&gt;après") {
		t.Errorf("highlights = %q, want the stem's word marked and the text escaped", frags)
	}
	for _, q := range []string{"queue:billing", "status:open", "tags:refund", "ticket_id:7", "intent:complaint", "sentiment:<-0.5", "author_handle:\"@ana@social.example\""} {
		if res := mustSearch(t, ix, Request{Query: q}); res.Total != 1 {
			t.Errorf("q=%s: total %d, want 1", q, res.Total)
		}
	}
}

func TestFacets(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	add := func(id, lang string, opts ...mentionOpt) {
		log.add(t, desk.EventMentionReceived, mentionData(id, lang, "le service client "+id, opts...))
	}
	add("1", "fr", sentiment(-0.5, "negative"), queue("billing"), intent("complaint"))
	add("2", "fr", sentiment(-0.05, "neutral"), queue("billing"), intent("question"))
	add("3", "en", sentiment(0.05, "neutral"), queue("general"), source("bluesky"), intent("question"))
	add("4", "en", sentiment(0.06, "positive"), queue("general"), source("bluesky"), intent("praise"))
	add("5", "de", sentiment(0.9, "positive"), queue("general"), source("x"), intent("question"))
	ix := openTest(t, log, "")
	catchUp(t, ix)

	res := mustSearch(t, ix, Request{Facets: []string{"source", "lang", "sentiment", "queue", "intent", "label"}})
	want := map[string][]FacetValue{
		"source":    {{"bluesky", 2}, {"mastodon", 2}, {"x", 1}},
		"lang":      {{"en", 2}, {"fr", 2}, {"de", 1}},
		"sentiment": {{"negative", 1}, {"neutral", 2}, {"positive", 2}},
		"queue":     {{"general", 3}, {"billing", 2}},
		"intent":    {{"question", 3}, {"complaint", 1}, {"praise", 1}},
		"label":     {{"neutral", 2}, {"positive", 2}, {"negative", 1}},
	}
	for name, w := range want {
		got := res.Facets[name].Values
		// Bleve orders equal counts by term; compare as sets per count.
		sortFacet(got)
		sortFacet(w)
		if !slices.Equal(got, w) {
			t.Errorf("facet %s = %v, want %v", name, got, w)
		}
	}
	if len(res.Facets) != len(want) {
		t.Errorf("facets %v, want %d", res.Facets, len(want))
	}
	// Facets count the hits of the query only.
	res = mustSearch(t, ix, Request{Query: "lang:fr", Facets: []string{"sentiment"}})
	if got := res.Facets["sentiment"].Values; !slices.Equal(got, []FacetValue{{"negative", 1}, {"neutral", 1}, {"positive", 0}}) {
		t.Errorf("sentiment of fr = %v", got)
	}
	// A missing value is counted as missing.
	res = mustSearch(t, ix, Request{Facets: []string{"status"}})
	if f := res.Facets["status"]; f.Missing != 5 || len(f.Values) != 0 {
		t.Errorf("status facet without tickets = %+v", f)
	}
}

func sortFacet(v []FacetValue) {
	slices.SortFunc(v, func(a, b FacetValue) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Value, b.Value)
	})
}

func TestFromToPagingSort(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	for i := range 25 {
		text := "panne réseau"
		if i%5 == 0 {
			text = "panne panne panne réseau encore une panne"
		}
		log.add(t, desk.EventMentionReceived, mentionData(fmt.Sprintf("m%02d", i), "fr", text, at(baseTime.Add(time.Duration(i)*time.Hour))))
	}
	ix := openTest(t, log, "")
	catchUp(t, ix)

	var all []string
	for page := 1; page <= 3; page++ {
		res := mustSearch(t, ix, Request{Size: 10, Page: page, Sort: SortNewest})
		if res.Total != 25 {
			t.Fatalf("total = %d", res.Total)
		}
		all = append(all, keys(res)...)
	}
	if len(all) != 25 || all[0] != "mastodon/m24" || all[24] != "mastodon/m00" {
		t.Fatalf("newest first over 3 pages = %v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i] >= all[i-1] {
			t.Fatalf("not newest first at %d: %v", i, all)
		}
	}
	// from is inclusive, to exclusive.
	res := mustSearch(t, ix, Request{From: baseTime.Add(2 * time.Hour), To: baseTime.Add(5 * time.Hour)})
	if got := keys(res); !slices.Equal(got, []string{"mastodon/m04", "mastodon/m03", "mastodon/m02"}) {
		t.Errorf("from/to = %v", got)
	}
	res = mustSearch(t, ix, Request{From: baseTime.Add(23 * time.Hour)})
	if res.Total != 2 {
		t.Errorf("from only: total %d", res.Total)
	}
	res = mustSearch(t, ix, Request{To: baseTime.Add(1 * time.Hour)})
	if got := keys(res); !slices.Equal(got, []string{"mastodon/m00"}) {
		t.Errorf("to only = %v", got)
	}
	// Relevance puts the posts that say "panne" most first.
	res = mustSearch(t, ix, Request{Query: "panne", Size: 5})
	if res.Total != 25 {
		t.Fatalf("total = %d", res.Total)
	}
	for _, h := range res.Hits {
		if !strings.Contains(h.Text, "encore") {
			t.Errorf("relevance: %s (%q, score %f) in the top 5", h.Key, h.Text, h.Score)
		}
	}
	// Relevance ties are broken by date.
	if got := keys(res); got[0] != "mastodon/m20" {
		t.Errorf("relevance order = %v", got)
	}
	newest := mustSearch(t, ix, Request{Query: "panne", Size: 1, Sort: SortNewest})
	if got := keys(newest); !slices.Equal(got, []string{"mastodon/m24"}) {
		t.Errorf("newest with a query = %v", got)
	}
	// The last page may be short; beyond it is empty.
	res = mustSearch(t, ix, Request{Size: 10, Page: 3})
	if len(res.Hits) != 5 {
		t.Errorf("last page has %d hits", len(res.Hits))
	}
	res = mustSearch(t, ix, Request{Size: 10, Page: 4})
	if len(res.Hits) != 0 || res.Total != 25 {
		t.Errorf("beyond the last page: %d hits, total %d", len(res.Hits), res.Total)
	}
}

func TestEditsReplace(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	log.add(t, desk.EventMentionReceived, mentionData("1", "fr", "colis perdu", ticket(3)))
	log.add(t, desk.EventTicketCreated, ticketData(3, "delivery", desk.StatusOpen, ""))
	ix := openTest(t, log, "")
	catchUp(t, ix)
	// An edit in a later batch, and two edits in one batch.
	log.add(t, desk.EventMentionReceived, mentionData("1", "en", "parcel lost", version(2), ticket(3)))
	catchUp(t, ix)
	log.add(t, desk.EventMentionReceived, mentionData("1", "en", "parcel found", version(3), ticket(3)))
	log.add(t, desk.EventMentionReceived, mentionData("1", "en", "parcel found, thanks", version(4), ticket(3)))
	catchUp(t, ix)

	if n, _ := ix.DocCount(); n != 1 {
		t.Errorf("doc count = %d, want 1", n)
	}
	for q, want := range map[string]uint64{"colis": 0, "lost": 0, "thanks": 1, "lang:fr": 0} {
		if res := mustSearch(t, ix, Request{Query: q}); res.Total != want {
			t.Errorf("q=%s total %d, want %d", q, res.Total, want)
		}
	}
	h := mustSearch(t, ix, Request{}).Hits[0]
	if h.Version != 4 || h.Text != "parcel found, thanks" || h.Queue != "delivery" || h.Status != desk.StatusOpen {
		t.Errorf("edited hit = %+v", h)
	}
}

func TestDeletions(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	add := func(id, authorID, src string) {
		log.add(t, desk.EventMentionReceived, mentionData(id, "fr", "bonjour "+id, author(authorID), source(src)))
	}
	add("1", "a1", "mastodon")
	add("2", "a1", "mastodon")
	add("3", "a2", "mastodon")
	add("4", "a1", "bluesky") // same author id on another network: another person
	add("5", "a2", "mastodon")
	ix := openTest(t, log, "")
	catchUp(t, ix)

	// In one batch: a post deleted, a new post by a1 then a1 erased (both
	// go), then a1 posts again (kept), a2's post deleted then edited back
	// (an edit after a deletion is a new post).
	add("6", "a1", "mastodon")
	log.add(t, desk.EventMentionDeleted, desk.DeletedData{Source: "mastodon", ID: "3"})
	log.add(t, desk.EventMentionDeleted, desk.DeletedData{Source: "mastodon", AuthorID: "a1", Reason: "erasure"})
	add("7", "a1", "mastodon")
	log.add(t, desk.EventMentionDeleted, desk.DeletedData{Source: "mastodon", ID: "5"})
	add("5", "a2", "mastodon")
	catchUp(t, ix)

	got := keys(mustSearch(t, ix, Request{Size: 100}))
	slices.Sort(got)
	if want := []string{"bluesky/4", "mastodon/5", "mastodon/7"}; !slices.Equal(got, want) {
		t.Errorf("after deletions: %v, want %v", got, want)
	}
	// Deleting what is not there is harmless.
	log.add(t, desk.EventMentionDeleted, desk.DeletedData{Source: "mastodon", ID: "nope"})
	log.add(t, desk.EventMentionDeleted, desk.DeletedData{Source: "x", AuthorID: "nobody"})
	log.add(t, desk.EventMentionDeleted, desk.DeletedData{Source: "bluesky", AuthorID: "a1"})
	catchUp(t, ix)
	got = keys(mustSearch(t, ix, Request{Size: 100}))
	slices.Sort(got)
	if want := []string{"mastodon/5", "mastodon/7"}; !slices.Equal(got, want) {
		t.Errorf("after more deletions: %v, want %v", got, want)
	}
}

func TestTicketChangesPropagate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := newMemLog()
	// Ticket 1: mention first, then the ticket; ticket 2: the other way
	// round.
	log.add(t, desk.EventMentionReceived, mentionData("1", "fr", "premier message", ticket(1), queue("guess")))
	log.add(t, desk.EventTicketCreated, ticketData(1, "billing", desk.StatusAssigned, "alice"))
	log.add(t, desk.EventTicketCreated, ticketData(2, "general", desk.StatusOpen, ""))
	log.add(t, desk.EventMentionReceived, mentionData("2", "fr", "autre ticket", ticket(2)))
	ix := openTest(t, log, dir, func(c *Config) { c.BatchEvents = 1 }) // every event its own batch
	catchUp(t, ix)
	check := func(q string, want ...string) {
		t.Helper()
		got := keys(mustSearch(t, ix, Request{Query: q}))
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("q=%s: %v, want %v", q, got, want)
		}
	}
	check("queue:billing", "mastodon/1")
	check("queue:guess")
	check("assignee:alice", "mastodon/1")
	check("status:open", "mastodon/2")

	// A follow-up joins ticket 1; then it is resolved and tagged, in a
	// later batch than the documents.
	log.add(t, desk.EventMentionReceived, mentionData("3", "fr", "relance", ticket(1)))
	upd := ticketData(1, "billing", desk.StatusAssigned, "alice")
	upd.Change = desk.ChangeMessage
	log.add(t, desk.EventTicketUpdated, upd)
	catchUp(t, ix)
	check("assignee:alice", "mastodon/1", "mastodon/3")
	log.add(t, desk.EventTicketUpdated, ticketData(1, "billing", desk.StatusResolved, "alice", "vip"))
	catchUp(t, ix)
	check("status:resolved", "mastodon/1", "mastodon/3")
	check("tags:vip", "mastodon/1", "mastodon/3")
	check("status:open", "mastodon/2")

	// After a restart the feeder knows no ticket: it finds the documents by
	// ticket id.
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix = openTest(t, log, dir)
	log.add(t, desk.EventTicketUpdated, ticketData(1, "billing", desk.StatusOpen, "", "vip", "reopened"))
	log.add(t, desk.EventTicketUpdated, ticketData(2, "escalation", desk.StatusAssigned, "bob"))
	catchUp(t, ix)
	check("status:open", "mastodon/1", "mastodon/3")
	check("tags:reopened", "mastodon/1", "mastodon/3")
	check("queue:escalation", "mastodon/2")
	check("assignee:alice")
	if n, _ := ix.DocCount(); n != 3 {
		t.Errorf("doc count = %d", n)
	}
}

func TestBadEventsAreSkipped(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	log.addRaw(desk.EventMentionReceived, `{"mention": 12}`)
	log.addRaw(desk.EventMentionReceived, `{"mention": {"source": "x"}}`)
	log.addRaw(desk.EventTicketUpdated, `{"ticket": {"id": 0}}`)
	log.addRaw(desk.EventMentionDeleted, `{"source": "x"}`)
	log.addRaw(desk.EventPresence, `{}`)
	log.add(t, desk.EventMentionReceived, mentionData("ok", "en", "fine"))
	ix := openTest(t, log, "")
	catchUp(t, ix)
	if res := mustSearch(t, ix, Request{}); !slices.Equal(keys(res), []string{"mastodon/ok"}) {
		t.Errorf("hits = %v", keys(res))
	}
	if c, _ := ix.Cursor(); c != 6 {
		t.Errorf("cursor = %d, want 6", c)
	}
}

func TestRunFollowsTheLog(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	ix := openTest(t, log, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ix.Run(ctx) }()

	for i := range 3 {
		log.add(t, desk.EventMentionReceived, mentionData(fmt.Sprint(i), "en", "live post"))
	}
	waitFor(t, func() bool { return mustSearch(t, ix, Request{}).Total == 3 })
	log.add(t, desk.EventMentionReceived, mentionData("late", "en", "later post"))
	waitFor(t, func() bool { return mustSearch(t, ix, Request{Query: "later"}).Total == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if c, _ := ix.Cursor(); c != 4 {
		t.Errorf("cursor = %d", c)
	}
}

func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunYieldsBeforeWriting(t *testing.T) {
	t.Parallel()
	log := newMemLog()
	hold := yieldtest.NewHold()
	defer hold.Release()
	ix := openTest(t, log, "", func(c *Config) { c.Yield = hold.Yield })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ix.Run(ctx) }()

	log.add(t, desk.EventMentionReceived, mentionData("held", "en", "held post"))
	hold.WaitEntered(t)
	time.Sleep(100 * time.Millisecond) // time to write, were it not held
	if c, _ := ix.Cursor(); c != 0 {
		t.Fatalf("cursor = %d while the hot path is busy, want 0", c)
	}
	hold.Release()
	waitFor(t, func() bool { return mustSearch(t, ix, Request{}).Total == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}
