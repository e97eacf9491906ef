package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// Synthetic posts: short, in French or English, about a retail brand, with
// the usual noise (handles, hashtags, numbers). Word lists only: no data set.
var (
	frWords = strings.Fields(`commande colis livraison retard remboursement magasin caisse appli application
		service client conseiller attente semaine jours toujours encore jamais merci bravo super nul honte
		produit article taille prix promo carte fidélité retour échange facture paiement bancaire compte
		rembourser livré reçu cassé abîmé manquant perdu suivi numéro réponse message téléphone horaires
		ouvert fermé parking vendeur vendeuse accueil rapide lent problème souci aide urgent vraiment très
		je vous nous il elle ils mon ma mes votre depuis avec sans pour dans sur pas plus`)
	enWords = strings.Fields(`order parcel delivery late refund store checkout app service customer support
		agent waiting week days still again never thanks great awesome terrible shame product item size price
		sale card loyalty return exchange invoice payment bank account refunded delivered received broken
		damaged missing lost tracking number answer message phone hours open closed parking staff cashier
		quick slow problem issue help urgent really very i you we he she they my your since with without for
		in on not more`)
	benchSources = []string{"mastodon", "bluesky", "x", "instagram", "facebook", "rss"}
	benchIntents = []string{"complaint", "question", "praise", "purchase", "churn", "spam", "other"}
	benchQueues  = []string{"general", "billing", "delivery", "stores", "vip", "social"}
)

// synth builds synthetic mention and ticket events.
type synth struct {
	rnd     *rand.Rand
	n       int
	tickets int64
	queues  []string // by ticket id - 1
	start   time.Time
}

func newSynth(seed uint64) *synth {
	return &synth{rnd: rand.New(rand.NewPCG(seed, 7)), start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (s *synth) text(words []string) string {
	n := 8 + s.rnd.IntN(25)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch r := s.rnd.IntN(40); {
		case r == 0:
			b.WriteString("#" + words[s.rnd.IntN(len(words))])
		case r == 1:
			b.WriteString("@marque")
		case r == 2:
			b.WriteString(strconv.Itoa(s.rnd.IntN(10000)))
		default:
			b.WriteString(words[s.rnd.IntN(len(words))])
		}
	}
	return b.String()
}

// next returns the next mention, and the ticket it joins.
func (s *synth) next() (desk.MentionData, desk.TicketData) {
	s.n++
	lang, words := "fr", frWords
	switch r := s.rnd.IntN(10); {
	case r < 4:
		lang, words = "en", enWords
	case r == 9:
		lang = "es"
	}
	sent := s.rnd.Float64()*2 - 1
	label := "neutral"
	if sent < -0.05 {
		label = "negative"
	} else if sent > 0.05 {
		label = "positive"
	}
	aid := s.rnd.IntN(50_000)
	m := listener.Mention{
		Source: benchSources[s.rnd.IntN(len(benchSources))], ID: strconv.Itoa(10_000_000 + s.n),
		CreatedAt: s.start.Add(time.Duration(s.n) * 7 * time.Second),
		Author: listener.Author{ID: strconv.Itoa(aid), Handle: "@user" + strconv.Itoa(aid), Name: "User " + strconv.Itoa(aid),
			Followers: int64(s.rnd.ExpFloat64() * 2000)},
		Text: s.text(words), Lang: lang,
	}
	if s.rnd.IntN(10) == 0 {
		m.Geo = &listener.Geo{Lat: 43 + s.rnd.Float64()*8, Lon: -4 + s.rnd.Float64()*12}
	}
	q := benchQueues[s.rnd.IntN(len(benchQueues))]
	var tid int64
	follow := s.tickets > 0 && s.rnd.IntN(10) < 3
	if follow {
		tid = 1 + s.rnd.Int64N(s.tickets)
	} else {
		s.tickets++
		tid = s.tickets
		s.queues = append(s.queues, q)
	}
	tq := s.queues[tid-1]
	md := desk.MentionData{
		Mention: m, Version: 1, IntakeSeq: int64(s.n), ReceivedAt: m.CreatedAt.Add(time.Second),
		Enrichment: router.Enrichment{Lang: lang, LangConfidence: 0.9, Sentiment: sent, Label: label,
			Intent: benchIntents[s.rnd.IntN(len(benchIntents))], Influence: router.Influence(&m)},
		Decision: router.Decision{Queue: q, Priority: router.PriorityNormal, Rule: "r-" + q,
			Trace: []router.Step{{Rule: "r-" + q, Matched: true, Why: "text has \"" + q + "\""}}},
		TicketID: tid,
	}
	td := desk.TicketData{Ticket: desk.Ticket{ID: tid, Queue: tq, Status: desk.StatusOpen, Priority: router.PriorityNormal,
		Sentiment: sent, Lang: lang, Source: m.Source, Author: m.Author, CreatedAt: m.CreatedAt, UpdatedAt: m.CreatedAt,
		Routing: desk.Routing{Rule: md.Decision.Rule, Trace: md.Decision.Trace}, MessageCount: 1}, Change: desk.ChangeCreated}
	if follow {
		td.Change = desk.ChangeMessage
	}
	return md, td
}

// fill appends n mentions and their ticket events to log, as the desk
// would write them.
func (s *synth) fill(tb testing.TB, log *memLog, n int) {
	for range n {
		md, td := s.next()
		log.add(tb, desk.EventMentionReceived, md)
		typ := desk.EventTicketCreated
		if td.Change != desk.ChangeCreated {
			typ = desk.EventTicketUpdated
		}
		log.add(tb, typ, td)
	}
}

func benchMentions(def int) int {
	if s := os.Getenv("SEARCH_BENCH_MENTIONS"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return def
}

// BenchmarkIndexing measures the whole pipeline (events → feeder → index)
// against raw Bleve batch indexing of the same documents, in the same run,
// and reports both rates and their ratio. SEARCH_BENCH_MENTIONS sets the
// corpus size (default 20,000). Run with -benchtime=1x.
func BenchmarkIndexing(b *testing.B) {
	n := benchMentions(20_000)
	log := newMemLog()
	sy := newSynth(1)
	sy.fill(b, log, n)
	synthQueues := sy.queues
	cfg := Config{Path: "defaults"}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	perBatch := cfg.BatchEvents / 2 // two events per mention

	// The raw documents: what the pipeline writes, built beforehand.
	type doc struct {
		id     string
		fields map[string]any
	}
	docs := make([]doc, 0, n)
	for _, ev := range log.evs {
		if ev.Type != desk.EventMentionReceived {
			continue
		}
		var p mentionPayload
		if err := json.Unmarshal(ev.Data, &p); err != nil {
			b.Fatal(err)
		}
		rec := &Record{Mention: p.Mention, Version: p.Version, Enrichment: p.Enrichment, TicketID: p.TicketID,
			TicketState: TicketState{Queue: p.Decision.Queue, Priority: p.Decision.Priority, Status: desk.StatusOpen}}
		if p.TicketID <= int64(len(synthQueues)) {
			rec.Queue = synthQueues[p.TicketID-1]
		}
		src, _ := rec.source()
		docs = append(docs, doc{rec.Mention.Key(), rec.fields(src)})
	}

	var pipe, raw, pipeCPU, rawCPU time.Duration
	for i := range b.N {
		dir := b.TempDir()
		runPipe := func() {
			start, cpu := time.Now(), cpuTime()
			ix, err := Open(Config{Path: filepath.Join(dir, fmt.Sprint("pipe", i, ".bleve"))}, log, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ix.CatchUp(context.Background()); err != nil {
				b.Fatal(err)
			}
			if c, _ := ix.DocCount(); c != uint64(n) {
				b.Fatalf("pipeline indexed %d of %d", c, n)
			}
			_ = ix.Close()
			pipe += time.Since(start)
			pipeCPU += cpuTime() - cpu
		}
		runRaw := func() {
			start, cpu := time.Now(), cpuTime()
			path := filepath.Join(dir, fmt.Sprint("raw", i, ".bleve"))
			if err := create(path); err != nil {
				b.Fatal(err)
			}
			bi, err := bleve.OpenUsing(path, map[string]any{"unsafe_batch": true})
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < len(docs); i += perBatch {
				batch := bi.NewBatch()
				for _, d := range docs[i:min(i+perBatch, len(docs))] {
					if err := batch.Index(d.id, d.fields); err != nil {
						b.Fatal(err)
					}
				}
				if err := bi.Batch(batch); err != nil {
					b.Fatal(err)
				}
			}
			_ = bi.Close()
			raw += time.Since(start)
			rawCPU += cpuTime() - cpu
		}
		// Alternate the order: the machine is shared and its load drifts.
		if i%2 == 0 {
			runPipe()
			runRaw()
		} else {
			runRaw()
			runPipe()
		}
	}
	total := float64(n * b.N)
	b.ReportMetric(total/pipe.Seconds(), "mentions/s")
	b.ReportMetric(total/raw.Seconds(), "raw_mentions/s")
	b.ReportMetric(raw.Seconds()/pipe.Seconds(), "ratio")
	// CPU time is what the index costs the machine, and is steadier than
	// wall time when other processes share the cores.
	b.ReportMetric(total/pipeCPU.Seconds(), "mentions/cpu_s")
	b.ReportMetric(total/rawCPU.Seconds(), "raw_mentions/cpu_s")
	b.ReportMetric(rawCPU.Seconds()/pipeCPU.Seconds(), "cpu_ratio")
	b.ReportMetric(0, "ns/op")
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSearch measures search latency (p50, p99) over a mix of queries
// a monitor would type, with facets. SEARCH_BENCH_MENTIONS sets the index
// size (default 20,000; 100000 and 1000000 are the reference sizes, opt-in
// because building them takes minutes). Run with -benchtime=1x or more.
func BenchmarkSearch(b *testing.B) {
	n := benchMentions(20_000)
	dir := b.TempDir()
	log := newMemLog()
	s := newSynth(2)
	ix, err := Open(Config{Path: filepath.Join(dir, "search.bleve"), BatchEvents: 10_000, ReadEvents: 10_000}, log, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	// Fill in slices so the log stays small in memory.
	for done := 0; done < n; done += 50_000 {
		s.fill(b, log, min(50_000, n-done))
		if _, err := ix.CatchUp(context.Background()); err != nil {
			b.Fatal(err)
		}
		log.mu.Lock()
		for i := range log.evs {
			log.evs[i].Data = nil // read already; keep the Seqs
		}
		log.mu.Unlock()
	}
	requests := []Request{
		{Query: "remboursement"},
		{Query: "refund late", Facets: []string{"source", "sentiment"}},
		{Query: `"colis perdu"`},
		{Query: "+queue:billing +sentiment:<-0.5", Facets: []string{"intent"}},
		{Facets: []string{"source", "lang", "sentiment", "queue", "intent"}},
		{Query: "livr*", Sort: SortNewest},
		{Query: "service client", From: s.start.Add(24 * time.Hour), To: s.start.Add(30 * 24 * time.Hour)},
		{Query: "author_handle:@user42"},
		{Query: "app~1", Page: 3},
	}
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		for _, r := range requests {
			start := time.Now()
			if _, err := ix.Search(context.Background(), r); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(n), "mentions")
	b.ReportMetric(0, "ns/op")
}
