package search

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
)

// model generates a random but plausible event stream and keeps what the
// index must hold at the end of it.
type model struct {
	rnd     *rand.Rand
	log     *memLog
	tickets map[int64]*desk.Ticket
	docs    map[string]*modelDoc // alive mentions by key
	nextID  int
}

type modelDoc struct {
	id, author, text string
	version          int
	ticket           int64
}

var (
	modelQueues = []string{"general", "billing", "delivery"}
	modelWords  = []string{"colis", "retard", "remboursement", "merci", "panne", "refund", "late", "thanks", "broken", "store"}
)

func newModel(seed uint64, log *memLog) *model {
	return &model{rnd: rand.New(rand.NewPCG(seed, 1)), log: log, tickets: map[int64]*desk.Ticket{}, docs: map[string]*modelDoc{}}
}

func (m *model) text() string {
	n := 3 + m.rnd.IntN(5)
	s := ""
	for range n {
		s += modelWords[m.rnd.IntN(len(modelWords))] + " "
	}
	return s + strconv.Itoa(m.rnd.IntN(1000))
}

func (m *model) ticketEvent(tb testing.TB, t *desk.Ticket, typ desk.EventType, change desk.Change) {
	c := *t
	c.Tags = slices.Clone(t.Tags)
	m.log.add(tb, typ, desk.TicketData{Ticket: c, Change: change})
}

func (m *model) mention(tb testing.TB, d *modelDoc) {
	m.log.add(tb, desk.EventMentionReceived, mentionData(d.id, "fr", d.text, author(d.author), version(d.version), ticket(d.ticket), queue("guess")))
}

func (m *model) aliveKeys() []string {
	ks := make([]string, 0, len(m.docs))
	for k := range m.docs {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// step appends one action's events.
func (m *model) step(tb testing.TB) {
	r := m.rnd.IntN(100)
	switch {
	case r < 50 || len(m.docs) == 0: // a new mention: new ticket, or follow-up
		m.nextID++
		d := &modelDoc{id: "p" + strconv.Itoa(m.nextID), author: "a" + strconv.Itoa(m.rnd.IntN(12)), text: m.text(), version: 1}
		m.docs["mastodon/"+d.id] = d
		if len(m.tickets) > 0 && m.rnd.IntN(10) < 4 {
			d.ticket = int64(1 + m.rnd.IntN(len(m.tickets)))
			m.mention(tb, d)
			m.ticketEvent(tb, m.tickets[d.ticket], desk.EventTicketUpdated, desk.ChangeMessage)
			return
		}
		t := &desk.Ticket{ID: int64(len(m.tickets) + 1), Queue: modelQueues[m.rnd.IntN(3)], Status: desk.StatusOpen}
		if m.rnd.IntN(3) == 0 {
			t.Status, t.Assignee = desk.StatusAssigned, "auto"
		}
		m.tickets[t.ID] = t
		d.ticket = t.ID
		if m.rnd.IntN(2) == 0 {
			m.mention(tb, d)
			m.ticketEvent(tb, t, desk.EventTicketCreated, desk.ChangeCreated)
		} else {
			m.ticketEvent(tb, t, desk.EventTicketCreated, desk.ChangeCreated)
			m.mention(tb, d)
		}
	case r < 62: // an edit, with or without a ticket event after it
		ks := m.aliveKeys()
		d := m.docs[ks[m.rnd.IntN(len(ks))]]
		d.version++
		d.text = m.text()
		m.mention(tb, d)
		if m.rnd.IntN(2) == 0 {
			m.ticketEvent(tb, m.tickets[d.ticket], desk.EventTicketUpdated, desk.ChangeEdited)
		}
	case r < 85: // an agent changes a ticket
		if len(m.tickets) == 0 {
			return
		}
		t := m.tickets[int64(1+m.rnd.IntN(len(m.tickets)))]
		switch m.rnd.IntN(4) {
		case 0:
			t.Status, t.Assignee = desk.StatusAssigned, "agent"+strconv.Itoa(m.rnd.IntN(3))
		case 1:
			t.Status = desk.StatusResolved
		case 2:
			t.Tags = append(slices.Clone(t.Tags), "t"+strconv.Itoa(m.rnd.IntN(5)))
		case 3:
			t.Queue = modelQueues[m.rnd.IntN(3)]
		}
		m.ticketEvent(tb, t, desk.EventTicketUpdated, desk.ChangeAssigned)
	case r < 95: // a post deleted
		ks := m.aliveKeys()
		k := ks[m.rnd.IntN(len(ks))]
		m.log.add(tb, desk.EventMentionDeleted, desk.DeletedData{Source: "mastodon", ID: m.docs[k].id})
		delete(m.docs, k)
	default: // an author erased
		a := "a" + strconv.Itoa(m.rnd.IntN(12))
		m.log.add(tb, desk.EventMentionDeleted, desk.DeletedData{Source: "mastodon", AuthorID: a})
		for k, d := range m.docs {
			if d.author == a {
				delete(m.docs, k)
			}
		}
	}
}

// check compares the index with the model.
func (m *model) check(tb testing.TB, ix *Index) {
	tb.Helper()
	got := map[string]Hit{}
	for page := 1; ; page++ {
		res := mustSearch(tb, ix, Request{Size: MaxSize, Page: page, Sort: SortNewest})
		for _, h := range res.Hits {
			if _, dup := got[h.Key]; dup {
				tb.Fatalf("%s twice", h.Key)
			}
			got[h.Key] = h
		}
		if len(res.Hits) < MaxSize {
			break
		}
	}
	if n, _ := ix.DocCount(); n != uint64(len(m.docs)) || len(got) != len(m.docs) {
		tb.Errorf("index holds %d documents (%d found), model %d", n, len(got), len(m.docs))
	}
	bad := 0
	for k, d := range m.docs {
		h, ok := got[k]
		t := m.tickets[d.ticket]
		switch {
		case !ok:
			tb.Errorf("%s missing", k)
		case h.Text != d.text || h.Version != d.version || h.TicketID != d.ticket:
			tb.Errorf("%s = v%d %q ticket %d, want v%d %q ticket %d", k, h.Version, h.Text, h.TicketID, d.version, d.text, d.ticket)
		case h.Queue != t.Queue || h.Status != t.Status || h.Assignee != t.Assignee || !slices.Equal(h.Tags, t.Tags):
			tb.Errorf("%s (ticket %d) state = %+v, want %s %s %q %v", k, d.ticket, h.TicketState, t.Queue, t.Status, t.Assignee, t.Tags)
		default:
			continue
		}
		if bad++; bad > 10 {
			tb.Fatal("too many differences")
		}
	}
}

func TestFeederMatchesModel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		seed     uint64
		batch    int
		cache    int
		restarts bool
	}{
		{"one event per batch", 1, 1, 0, false},
		{"small batches", 2, 7, 0, false},
		{"large batches", 3, 500, 0, false},
		{"tiny ticket cache", 4, 13, 4, false},
		{"restarts between batches", 5, 11, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			log := newMemLog()
			m := newModel(tc.seed, log)
			tune := func(c *Config) { c.BatchEvents, c.ReadEvents, c.TicketCache = tc.batch, tc.batch, tc.cache }
			ix := openTest(t, log, dir, tune)
			for round := range 8 {
				for range 60 {
					m.step(t)
				}
				if tc.restarts && round%2 == 1 {
					if err := ix.Close(); err != nil {
						t.Fatal(err)
					}
					ix = openTest(t, log, dir, tune)
				}
				catchUp(t, ix)
				m.check(t, ix)
			}
		})
	}
}

// TestCrashResume kills a process while it feeds the index and checks that
// the index reopens at a consistent point and catches up exactly.
func TestCrashResume(t *testing.T) {
	if os.Getenv("SEARCH_CRASH_DIR") != "" {
		crashHelper()
		return
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashResume$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SEARCH_CRASH_DIR="+dir)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	log := newMemLog()
	m := newModel(42, log)
	for range crashEvents {
		m.step(t)
	}
	ix := openTest(t, log, dir)
	c, err := ix.Cursor()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reopened at cursor %d of %d events", c, log.LastSeq())
	catchUp(t, ix)
	m.check(t, ix)
}

const crashEvents = 3000

// crashHelper feeds the model's events to the index at SEARCH_CRASH_DIR
// and exits abruptly while Run is writing.
func crashHelper() {
	log := newMemLog()
	m := newModel(42, log)
	tb := &testing.T{}
	for range crashEvents / 2 {
		m.step(tb)
	}
	ix, err := Open(Config{Path: os.Getenv("SEARCH_CRASH_DIR") + "/search.bleve", BatchEvents: 50, MaxDelay: time.Millisecond}, log, nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() { _ = ix.Run(context.Background()) }()
	for ix.written.Load() < crashEvents/3 {
		time.Sleep(time.Millisecond)
	}
	for log.LastSeq() < int64(crashEvents) {
		m.step(tb)
	}
	for ix.written.Load() < 2*crashEvents/3 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
	os.Exit(3)
}
