package assign

import (
	"fmt"
	"math/rand"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/vigie/vigie/router"
)

var t0 = time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)

// sim drives an engine and checks, after every event, the engine's own
// invariants and a shadow record built only from the actions: no ticket is
// assigned twice, none is lost.
type sim struct {
	tb       testing.TB
	e        *Engine
	now      time.Time
	open     map[int64]bool   // tickets opened and not closed
	owner    map[int64]string // from the actions and TicketAssigned
	assigns  map[string]int   // automatic assignments per agent
	nextID   int64
	escalate []Escalate
}

func newSim(tb testing.TB, cfg Config) *sim {
	tb.Helper()
	e, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &sim{tb: tb, e: e, now: t0, open: map[int64]bool{}, owner: map[int64]string{}, assigns: map[string]int{}}
}

func (s *sim) apply(ev Event) []Action {
	s.tb.Helper()
	switch ev := ev.(type) {
	case TicketOpened:
		s.open[ev.ID] = true
		if ev.Assignee != "" {
			s.owner[ev.ID] = ev.Assignee
		}
	case TicketClosed:
		delete(s.open, ev.ID)
		delete(s.owner, ev.ID)
	case TicketAssigned:
		if s.open[ev.ID] {
			if ev.Agent == "" {
				delete(s.owner, ev.ID)
			} else {
				s.owner[ev.ID] = ev.Agent
			}
		}
	case AgentRemoved:
		// its tickets come back as Unassign actions
	}
	acts := s.e.Apply(ev)
	for _, a := range acts {
		switch a := a.(type) {
		case Assign:
			if !s.open[a.Ticket] {
				s.tb.Fatalf("after %T%+v: assigned ticket %d, which is not open", ev, ev, a.Ticket)
			}
			if o, ok := s.owner[a.Ticket]; ok {
				s.tb.Fatalf("after %T%+v: ticket %d assigned to %s, already %s's", ev, ev, a.Ticket, a.Agent, o)
			}
			s.owner[a.Ticket] = a.Agent
			s.assigns[a.Agent]++
		case Unassign:
			if s.owner[a.Ticket] != a.Agent {
				s.tb.Fatalf("after %T%+v: unassigned ticket %d from %s, owner %q", ev, ev, a.Ticket, a.Agent, s.owner[a.Ticket])
			}
			delete(s.owner, a.Ticket)
		case Escalate:
			s.escalate = append(s.escalate, a)
		}
	}
	if err := s.e.check(); err != nil {
		s.tb.Fatalf("after %T%+v: %v", ev, ev, err)
	}
	waiting, assigned := s.e.Counts()
	if waiting+assigned != len(s.open) || assigned != len(s.owner) {
		s.tb.Fatalf("after %T%+v: engine has %d waiting and %d assigned, shadow %d open and %d owned", ev, ev, waiting, assigned, len(s.open), len(s.owner))
	}
	for id, o := range s.owner {
		if t := s.e.tickets[id]; t == nil || t.agent == nil || t.agent.name != o {
			s.tb.Fatalf("after %T%+v: ticket %d is %s's in the shadow, not in the engine", ev, ev, id, o)
		}
	}
	return acts
}

func (s *sim) at(d time.Duration) time.Time { s.now = t0.Add(d); return s.now }

func (s *sim) openTicket(queue string, p router.Priority) (int64, []Action) {
	s.nextID++
	return s.nextID, s.apply(TicketOpened{ID: s.nextID, Queue: queue, Priority: p, At: s.now})
}

func (s *sim) agent(name string, capacity int, skills map[string]int) {
	s.apply(AgentUpdated{Agent: Agent{Name: name, Skills: skills, Capacity: capacity}, At: s.now})
	s.apply(AgentPresence{Agent: name, Presence: Online, At: s.now})
}

func (s *sim) loads(names ...string) []int {
	out := make([]int, len(names))
	for i, n := range names {
		out[i] = s.e.agents[n].load
	}
	return out
}

func assigned(acts []Action) []string {
	var out []string
	for _, a := range acts {
		switch a := a.(type) {
		case Assign:
			out = append(out, fmt.Sprintf("%d>%s", a.Ticket, a.Agent))
		case Unassign:
			out = append(out, fmt.Sprintf("%d<%s", a.Ticket, a.Agent))
		}
	}
	return out
}

func TestLeastLoaded(t *testing.T) {
	t.Parallel()
	s := newSim(t, Config{})
	sk := map[string]int{"support": 1}
	s.agent("ann", 2, sk)
	s.agent("bob", 2, sk)
	s.agent("cid", 2, sk)
	var got []string
	for i := 0; i < 7; i++ {
		s.at(time.Duration(i) * time.Minute)
		_, acts := s.openTicket("support", router.PriorityNormal)
		got = append(got, assigned(acts)...)
	}
	want := []string{"1>ann", "2>bob", "3>cid", "4>ann", "5>bob", "6>cid"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("assignments %v, want %v", got, want)
	}
	// Ticket 7 waits; bob frees a slot and takes it.
	s.at(10 * time.Minute)
	if acts := s.apply(TicketClosed{ID: 2, At: s.now}); !reflect.DeepEqual(assigned(acts), []string{"7>bob"}) {
		t.Fatalf("after closing 2: %v", assigned(acts))
	}
	// Nothing waits: closing two of ann's makes her the least loaded.
	s.apply(TicketClosed{ID: 1, At: s.now})
	s.apply(TicketClosed{ID: 4, At: s.now})
	_, acts := s.openTicket("support", router.PriorityNormal)
	if !reflect.DeepEqual(assigned(acts), []string{"8>ann"}) {
		t.Fatalf("new ticket: %v, want ann", assigned(acts))
	}
	// Equal loads: the one assigned longest ago goes first. Each holds one
	// ticket now (ann 8 and bob 7 got theirs at 10m, cid 6 at 5m): cid.
	s.apply(TicketClosed{ID: 3, At: s.now})
	s.apply(TicketClosed{ID: 5, At: s.now})
	s.at(11 * time.Minute)
	_, acts = s.openTicket("support", router.PriorityNormal)
	if !reflect.DeepEqual(assigned(acts), []string{"9>cid"}) {
		t.Fatalf("tie: %v, want cid", assigned(acts))
	}
}

func TestRoundRobin(t *testing.T) {
	t.Parallel()
	s := newSim(t, Config{Default: QueueConfig{Mode: ModeRoundRobin}})
	sk := map[string]int{"support": 1}
	s.agent("ann", 10, sk)
	s.agent("bob", 10, sk)
	s.agent("cid", 10, sk)
	var got []string
	for i := 0; i < 4; i++ {
		_, acts := s.openTicket("support", router.PriorityNormal)
		got = append(got, assigned(acts)...)
	}
	// Closing ann's ticket does not make her next: the turn goes on.
	s.apply(TicketClosed{ID: 1, At: s.now})
	s.apply(TicketClosed{ID: 4, At: s.now})
	for i := 0; i < 3; i++ {
		_, acts := s.openTicket("support", router.PriorityNormal)
		got = append(got, assigned(acts)...)
	}
	want := []string{"1>ann", "2>bob", "3>cid", "4>ann", "5>bob", "6>cid", "7>ann"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("assignments %v, want %v", got, want)
	}
	// An agent joining goes first (never had a turn), then the rotation.
	s.agent("dee", 10, sk)
	_, acts := s.openTicket("support", router.PriorityNormal)
	_, acts2 := s.openTicket("support", router.PriorityNormal)
	if got := append(assigned(acts), assigned(acts2)...); !reflect.DeepEqual(got, []string{"8>dee", "9>bob"}) {
		t.Fatalf("after dee joins: %v", got)
	}
}

// TestQueueOrder: with everyone full, tickets are served by priority then
// age, across the queues an agent serves.
func TestQueueOrder(t *testing.T) {
	t.Parallel()
	s := newSim(t, Config{})
	s.agent("ann", 1, map[string]int{"support": 1, "billing": 1})
	busy, _ := s.openTicket("support", router.PriorityNormal)
	order := []struct {
		queue string
		p     router.Priority
	}{{"support", router.PriorityLow}, {"billing", router.PriorityNormal}, {"support", router.PriorityUrgent}, {"billing", router.PriorityHigh}, {"support", router.PriorityNormal}, {"billing", router.PriorityUrgent}}
	ids := map[int64]int{}
	for i, o := range order {
		s.at(time.Duration(i+1) * time.Minute)
		id, acts := s.openTicket(o.queue, o.p)
		if len(acts) != 0 {
			t.Fatalf("ann is full, yet %v", acts)
		}
		ids[id] = i
	}
	var served []int
	cur := busy
	for range order {
		acts := s.apply(TicketClosed{ID: cur, At: s.now})
		if len(acts) != 1 {
			t.Fatalf("closing %d: %v", cur, acts)
		}
		cur = acts[0].(Assign).Ticket
		served = append(served, ids[cur])
	}
	// urgent (3), urgent (6), high (4), normal (2, older), normal (5), low (1)
	if want := []int{2, 5, 3, 1, 4, 0}; !reflect.DeepEqual(served, want) {
		t.Fatalf("served %v, want %v", served, want)
	}
}

func TestSkillsAndLevels(t *testing.T) {
	t.Parallel()
	s := newSim(t, Config{Queues: map[string]QueueConfig{"vip": {MinLevel: map[router.Priority]int{router.PriorityUrgent: 2}}}})
	s.agent("junior", 5, map[string]int{"vip": 1})
	s.agent("other", 5, map[string]int{"support": 3})
	urgentID, acts := s.openTicket("vip", router.PriorityUrgent)
	if len(acts) != 0 {
		t.Fatalf("urgent vip ticket went to %v; only level 2 may take it", acts)
	}
	if _, acts := s.openTicket("vip", router.PriorityNormal); !reflect.DeepEqual(assigned(acts), []string{"2>junior"}) {
		t.Fatalf("normal vip ticket: %v", assigned(acts))
	}
	// A senior joins: the urgent ticket goes to her at once.
	s.apply(AgentUpdated{Agent: Agent{Name: "senior", Skills: map[string]int{"vip": 2}, Capacity: 1}, At: s.now})
	if acts := s.apply(AgentPresence{Agent: "senior", Presence: Online, At: s.now}); !reflect.DeepEqual(assigned(acts), []string{fmt.Sprintf("%d>senior", urgentID)}) {
		t.Fatalf("senior online: %v", assigned(acts))
	}
	// Capacity 0: never assigned automatically.
	s.apply(AgentUpdated{Agent: Agent{Name: "junior", Skills: map[string]int{"vip": 1}, Capacity: 0}, At: s.now})
	if _, acts := s.openTicket("vip", router.PriorityNormal); len(acts) != 0 {
		t.Fatalf("full agents, yet %v", acts)
	}
}

func TestManualQueue(t *testing.T) {
	t.Parallel()
	s := newSim(t, Config{Queues: map[string]QueueConfig{"press": {Mode: ModeManual}}})
	s.agent("ann", 2, map[string]int{"press": 1})
	a, acts := s.openTicket("press", router.PriorityNormal)
	s.at(time.Minute)
	b, acts2 := s.openTicket("press", router.PriorityHigh)
	if len(acts)+len(acts2) != 0 {
		t.Fatalf("manual queue assigned: %v %v", acts, acts2)
	}
	if id, ok := s.e.Next("ann"); !ok || id != b {
		t.Fatalf("Next = %d, %v; want the high one, %d", id, ok, b)
	}
	s.apply(TicketAssigned{ID: b, Agent: "ann", At: s.now})
	if id, ok := s.e.Next("ann"); !ok || id != a {
		t.Fatalf("Next = %d, %v; want %d", id, ok, a)
	}
	if q := s.e.Queue("press"); len(q) != 1 || q[0].ID != a {
		t.Fatalf("queue %+v", q)
	}
	if _, ok := s.e.Next("nobody"); ok {
		t.Fatal("Next for an unknown agent")
	}
}

func TestIdleAndAway(t *testing.T) {
	t.Parallel()
	s := newSim(t, Config{IdleTimeout: Duration(5 * time.Minute)})
	sk := map[string]int{"support": 1}
	s.agent("ann", 3, sk)
	s.agent("bob", 3, sk)
	s.at(4 * time.Minute)
	s.apply(AgentActivity{Agent: "bob", At: s.now})
	s.at(5 * time.Minute)
	acts := s.apply(Tick{At: s.now})
	if !reflect.DeepEqual(acts, []Action{PresenceChanged{Agent: "ann", Presence: Away}}) {
		t.Fatalf("tick: %v", acts)
	}
	_, acts = s.openTicket("support", router.PriorityNormal)
	_, acts2 := s.openTicket("support", router.PriorityNormal)
	if got := append(assigned(acts), assigned(acts2)...); !reflect.DeepEqual(got, []string{"1>bob", "2>bob"}) {
		t.Fatalf("with ann away: %v", got)
	}
	// Manual away is not undone by activity; idle away is.
	s.apply(AgentPresence{Agent: "bob", Presence: Away, At: s.now})
	s.apply(AgentActivity{Agent: "bob", At: s.now})
	id, acts := s.openTicket("support", router.PriorityNormal)
	if len(acts) != 0 {
		t.Fatalf("everyone away, yet %v", acts)
	}
	acts = s.apply(AgentActivity{Agent: "ann", At: s.now})
	want := []Action{PresenceChanged{Agent: "ann", Presence: Online}, Assign{Ticket: id, Agent: "ann", Queue: "support"}}
	if !reflect.DeepEqual(acts, want) {
		t.Fatalf("ann active again: %v, want %v", acts, want)
	}
}

// TestOfflineGrace: an agent who drops keeps its tickets for the grace
// period; after it, the tickets that need an answer go to others, oldest
// first, and those waiting on the customer stay.
func TestOfflineGrace(t *testing.T) {
	t.Parallel()
	s := newSim(t, Config{OfflineGrace: Duration(10 * time.Minute), IdleTimeout: Duration(time.Hour)})
	sk := map[string]int{"support": 1}
	s.agent("ann", 3, sk)
	s.openTicket("support", router.PriorityNormal) // 1 ann
	s.agent("bob", 1, sk)
	s.at(time.Minute)
	s.openTicket("support", router.PriorityNormal) // 2 bob
	s.openTicket("support", router.PriorityHigh)   // 3 ann
	s.openTicket("support", router.PriorityLow)    // 4 ann
	s.apply(TicketPending{ID: 4, Pending: true, At: s.now})

	// A short drop changes nothing.
	s.at(2 * time.Minute)
	s.apply(AgentPresence{Agent: "ann", Presence: Offline, At: s.now})
	s.at(9 * time.Minute)
	if acts := s.apply(Tick{At: s.now}); len(acts) != 0 {
		t.Fatalf("within grace: %v", acts)
	}
	s.apply(AgentPresence{Agent: "ann", Presence: Online, At: s.now})
	s.at(30 * time.Minute)
	if acts := s.apply(Tick{At: s.now}); len(acts) != 0 {
		t.Fatalf("back online: %v", acts)
	}

	// A long one: 1 and 3 go back, 3 (high) first; bob is full until 2
	// closes, cid takes one at once.
	s.apply(AgentPresence{Agent: "ann", Presence: Offline, At: s.now})
	s.agent("cid", 1, sk)
	s.at(40 * time.Minute)
	acts := s.apply(Tick{At: s.now})
	if want := []string{"3<ann", "1<ann", "3>cid"}; !reflect.DeepEqual(assigned(acts), want) {
		t.Fatalf("after grace: %v, want %v", assigned(acts), want)
	}
	if acts := s.apply(TicketClosed{ID: 2, At: s.now}); !reflect.DeepEqual(assigned(acts), []string{"1>bob"}) {
		t.Fatalf("bob frees up: %v", assigned(acts))
	}
	// The pending ticket stayed; when the customer writes back it goes too.
	if o := s.owner[4]; o != "ann" {
		t.Fatalf("pending ticket 4 owned by %q", o)
	}
	s.apply(TicketPending{ID: 4, Pending: false, At: s.now})
	s.apply(TicketClosed{ID: 3, At: s.now})
	s.at(41 * time.Minute)
	if acts := s.apply(Tick{At: s.now}); !reflect.DeepEqual(assigned(acts), []string{"4<ann", "4>cid"}) {
		t.Fatalf("customer wrote back: %v", assigned(acts))
	}
}

func TestEscalation(t *testing.T) {
	t.Parallel()
	cfg := Config{
		IdleTimeout: Duration(2 * time.Hour),
		Default:     QueueConfig{Supervisor: "leads", EscalateAfter: map[router.Priority]Duration{router.PriorityNormal: Duration(10 * time.Minute), router.PriorityHigh: Duration(5 * time.Minute), router.PriorityUrgent: Duration(2 * time.Minute)}},
	}
	s := newSim(t, cfg)
	s.agent("ann", 1, map[string]int{"support": 1})
	s.openTicket("support", router.PriorityNormal) // ann busy
	id, _ := s.openTicket("support", router.PriorityNormal)
	low, _ := s.openTicket("support", router.PriorityLow) // low never escalates here
	for _, m := range []int{9, 10, 12, 15, 16, 17, 18, 60} {
		s.at(time.Duration(m) * time.Minute)
		s.apply(Tick{At: s.now})
	}
	want := []Escalate{
		{Ticket: id, Queue: "support", OldPriority: router.PriorityNormal, NewPriority: router.PriorityHigh, NotifyQueue: "leads", Waited: 10 * time.Minute},
		{Ticket: id, Queue: "support", OldPriority: router.PriorityHigh, NewPriority: router.PriorityUrgent, NotifyQueue: "leads", Waited: 5 * time.Minute},
		{Ticket: id, Queue: "support", OldPriority: router.PriorityUrgent, NewPriority: router.PriorityUrgent, NotifyQueue: "leads", Waited: 2 * time.Minute},
	}
	if !reflect.DeepEqual(s.escalate, want) {
		t.Fatalf("escalations\n got %+v\nwant %+v", s.escalate, want)
	}
	// Ticks far apart escalate the same: one tick at 60m does it all.
	s2 := newSim(t, cfg)
	s2.agent("ann", 1, map[string]int{"support": 1})
	s2.openTicket("support", router.PriorityNormal)
	s2.openTicket("support", router.PriorityNormal)
	s2.openTicket("support", router.PriorityLow)
	s2.at(time.Hour)
	s2.apply(Tick{At: s2.now})
	if !reflect.DeepEqual(s2.escalate, want) {
		t.Fatalf("one late tick\n got %+v\nwant %+v", s2.escalate, want)
	}
	if q := s.e.Queue("support"); len(q) != 2 || q[0].ID != id || q[0].Priority != router.PriorityUrgent || q[1].ID != low {
		t.Fatalf("queue %+v", q)
	}
	// Assigned tickets do not escalate.
	if acts := s.apply(TicketClosed{ID: 1, At: s.now}); !reflect.DeepEqual(assigned(acts), []string{fmt.Sprintf("%d>ann", id)}) {
		t.Fatalf("%v", acts)
	}
}

func TestRestoreAndTransfers(t *testing.T) {
	t.Parallel()
	s := newSim(t, Config{OfflineGrace: Duration(10 * time.Minute), IdleTimeout: Duration(time.Hour)})
	// At startup: settings, then tickets as they stand, then presence.
	s.apply(AgentUpdated{Agent: Agent{Name: "ann", Skills: map[string]int{"support": 1}, Capacity: 2}, At: s.now})
	s.apply(AgentUpdated{Agent: Agent{Name: "bob", Skills: map[string]int{"support": 1, "billing": 1}, Capacity: 2}, At: s.now})
	s.apply(TicketOpened{ID: 10, Queue: "support", At: t0.Add(-time.Hour), Assignee: "ann"})
	s.apply(TicketOpened{ID: 11, Queue: "support", At: t0.Add(-time.Hour)})
	s.nextID = 11
	if acts := s.apply(AgentPresence{Agent: "ann", Presence: Online, At: s.now}); !reflect.DeepEqual(assigned(acts), []string{"11>ann"}) {
		t.Fatalf("ann online: %v", assigned(acts))
	}
	s.apply(AgentPresence{Agent: "bob", Presence: Online, At: s.now})
	// A supervisor moves 11 to bob: ann gets room, nothing waits.
	s.apply(TicketAssigned{ID: 11, Agent: "bob", At: s.now})
	if got := s.loads("ann", "bob"); !reflect.DeepEqual(got, []int{1, 1}) {
		t.Fatalf("loads %v", got)
	}
	// 10 moves to billing: ann does not serve it, so bob gets it.
	acts := s.apply(TicketQueueChanged{ID: 10, Queue: "billing", At: s.now})
	if want := []string{"10<ann", "10>bob"}; !reflect.DeepEqual(assigned(acts), want) {
		t.Fatalf("transfer: %v, want %v", assigned(acts), want)
	}
	// Unassigning puts it back; bob is least loaded among those who serve
	// billing... he is the only one, and has room again.
	acts = s.apply(TicketAssigned{ID: 10, Agent: "", At: s.now})
	if want := []string{"10>bob"}; !reflect.DeepEqual(assigned(acts), want) {
		t.Fatalf("unassign: %v", assigned(acts))
	}
	// Bob leaves the desk: his tickets go back, ann takes 11.
	acts = s.apply(AgentRemoved{Agent: "bob", At: s.now})
	if want := []string{"10<bob", "11<bob", "11>ann"}; !reflect.DeepEqual(assigned(acts), want) {
		t.Fatalf("removed: %v, want %v", assigned(acts), want)
	}
	if q := s.e.Queue("billing"); len(q) != 1 || q[0].ID != 10 {
		t.Fatalf("billing queue %+v", q)
	}
	// Events about unknown tickets change nothing.
	for _, ev := range []Event{TicketClosed{ID: 99}, TicketAssigned{ID: 99, Agent: "ann"}, TicketPriorityChanged{ID: 99, Priority: router.PriorityHigh}, TicketPending{ID: 99, Pending: true}, AgentActivity{Agent: "ghost"}} {
		if acts := s.apply(ev); len(acts) != 0 {
			t.Fatalf("%T: %v", ev, acts)
		}
	}
}

// TestBurstFairness opens bursts larger than the total capacity: loads
// among agents with the same skills never differ by more than one while
// tickets arrive, every agent ends full, the rest waits, and every closure
// while tickets wait refills the agent at once.
func TestBurstFairness(t *testing.T) {
	t.Parallel()
	for _, mode := range []Mode{ModeLeastLoaded, ModeRoundRobin} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			seed := time.Now().UnixNano()
			t.Logf("seed %d", seed)
			r := rand.New(rand.NewSource(seed))
			s := newSim(t, Config{Default: QueueConfig{Mode: mode}, IdleTimeout: Duration(24 * time.Hour)})
			var names []string
			for i := 0; i < 7; i++ {
				n := fmt.Sprintf("agent%d", i)
				names = append(names, n)
				s.agent(n, 4, map[string]int{"support": 1})
			}
			prios := []router.Priority{router.PriorityLow, router.PriorityNormal, router.PriorityHigh, router.PriorityUrgent}
			for i := 0; i < 100; i++ {
				s.at(time.Duration(i) * time.Second)
				s.openTicket("support", prios[r.Intn(4)])
				checkSpread(t, s, names, 1)
			}
			for _, n := range names {
				if l := s.e.agents[n].load; l != 4 {
					t.Fatalf("%s load %d, want 4", n, l)
				}
			}
			if w, _ := s.e.Counts(); w != 100-28 {
				t.Fatalf("%d waiting, want %d", w, 72)
			}
			// Close random assigned tickets while the backlog lasts.
			for w, _ := s.e.Counts(); w > 0; w, _ = s.e.Counts() {
				id := randomOwned(r, s)
				acts := s.apply(TicketClosed{ID: id, At: s.now})
				if len(acts) != 1 {
					t.Fatalf("closing %d with a backlog: %v", id, acts)
				}
				checkSpread(t, s, names, 0)
			}
		})
	}
}

func checkSpread(tb testing.TB, s *sim, names []string, max int) {
	tb.Helper()
	loads := s.loads(names...)
	sort.Ints(loads)
	if loads[len(loads)-1]-loads[0] > max {
		tb.Fatalf("loads %v differ by more than %d", loads, max)
	}
}

func randomOwned(r *rand.Rand, s *sim) int64 {
	ids := make([]int64, 0, len(s.owner))
	for id := range s.owner {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids[r.Intn(len(ids))]
}

// TestRandomSimulation throws random events at an engine with several
// queues, levels, manual queues and escalation, and checks after each one
// that no ticket is lost or assigned twice, that no ticket waits while an
// eligible agent has room, and that least-loaded assignments go to an agent
// with the fewest open tickets among those eligible; round robin, with
// capacity to spare, hands out turns that differ by at most one.
func TestRandomSimulation(t *testing.T) {
	t.Parallel()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	cfg := Config{
		IdleTimeout:  Duration(3 * time.Minute),
		OfflineGrace: Duration(5 * time.Minute),
		Default:      QueueConfig{EscalateAfter: map[router.Priority]Duration{router.PriorityLow: Duration(20 * time.Minute), router.PriorityNormal: Duration(10 * time.Minute), router.PriorityHigh: Duration(5 * time.Minute), router.PriorityUrgent: Duration(3 * time.Minute)}},
		Queues: map[string]QueueConfig{
			"vip":   {Mode: ModeRoundRobin, MinLevel: map[router.Priority]int{router.PriorityUrgent: 2, router.PriorityHigh: 2}},
			"press": {Mode: ModeManual},
		},
	}
	queues := []string{"support", "billing", "vip", "press"}
	prios := []router.Priority{router.PriorityLow, router.PriorityNormal, router.PriorityHigh, router.PriorityUrgent}
	presences := []Presence{Online, Online, Online, Away, Offline}
	for round := 0; round < 20; round++ {
		s := newSim(t, cfg)
		var names []string
		for i := 0; i < 6; i++ {
			n := fmt.Sprintf("a%d", i)
			names = append(names, n)
			sk := map[string]int{}
			for _, q := range queues {
				if r.Intn(2) == 0 {
					sk[q] = 1 + r.Intn(2)
				}
			}
			s.agent(n, r.Intn(4), sk)
		}
		elapsed := time.Duration(0)
		for step := 0; step < 400; step++ {
			elapsed += time.Duration(r.Intn(40)) * time.Second
			s.at(elapsed)
			var ev Event
			switch k := r.Intn(20); {
			case k < 6:
				s.nextID++
				ev = TicketOpened{ID: s.nextID, Queue: queues[r.Intn(len(queues))], Priority: prios[r.Intn(4)], At: s.now}
			case k < 9 && len(s.open) > 0:
				ev = TicketClosed{ID: randomOpen(r, s), At: s.now}
			case k < 10 && len(s.open) > 0:
				ev = TicketPriorityChanged{ID: randomOpen(r, s), Priority: prios[r.Intn(4)], At: s.now}
			case k < 11 && len(s.open) > 0:
				ev = TicketQueueChanged{ID: randomOpen(r, s), Queue: queues[r.Intn(len(queues))], At: s.now}
			case k < 12 && len(s.open) > 0:
				ev = TicketPending{ID: randomOpen(r, s), Pending: r.Intn(2) == 0, At: s.now}
			case k < 13 && len(s.open) > 0:
				agent := ""
				if r.Intn(3) > 0 {
					agent = names[r.Intn(len(names))]
				}
				ev = TicketAssigned{ID: randomOpen(r, s), Agent: agent, At: s.now}
			case k < 15:
				ev = AgentPresence{Agent: names[r.Intn(len(names))], Presence: presences[r.Intn(len(presences))], At: s.now}
			case k < 17:
				ev = AgentActivity{Agent: names[r.Intn(len(names))], At: s.now}
			case k < 18:
				n := names[r.Intn(len(names))]
				sk := map[string]int{}
				for _, q := range queues {
					if r.Intn(2) == 0 {
						sk[q] = 1 + r.Intn(2)
					}
				}
				ev = AgentUpdated{Agent: Agent{Name: n, Skills: sk, Capacity: r.Intn(5)}, At: s.now}
			default:
				ev = Tick{At: s.now}
			}
			before := snapshot(s.e)
			acts := s.apply(ev)
			// A lone least-loaded assignment from a new ticket goes to an
			// eligible agent with the fewest open tickets.
			if op, ok := ev.(TicketOpened); ok && len(acts) == 1 && s.e.queue(op.Queue).set.mode == ModeLeastLoaded {
				a := acts[0].(Assign)
				tk := s.e.tickets[a.Ticket]
				for _, other := range before {
					if other.eligibleFor(tk) && other.load < before[a.Agent].load {
						t.Fatalf("ticket %d went to %s (load %d) while %s had load %d", a.Ticket, a.Agent, before[a.Agent].load, other.name, other.load)
					}
				}
			}
		}
		// Close everything: every ticket comes out exactly once.
		for len(s.open) > 0 {
			s.apply(TicketClosed{ID: randomOpen(r, s), At: s.now})
		}
		if w, a := s.e.Counts(); w+a != 0 {
			t.Fatalf("%d waiting, %d assigned after closing everything", w, a)
		}
	}
}

type agentSnap struct {
	name     string
	load     int
	capacity int
	online   bool
	skills   map[string]int
}

func (a agentSnap) eligibleFor(t *ticket) bool {
	l, ok := a.skills[t.queue.name]
	return ok && a.online && a.load < a.capacity && max(l, 1) >= t.queue.set.minLevel[t.rank]
}

func snapshot(e *Engine) map[string]agentSnap {
	out := map[string]agentSnap{}
	for _, a := range e.agents {
		out[a.name] = agentSnap{name: a.name, load: a.load, capacity: a.capacity, online: a.presence == Online, skills: a.skills}
	}
	return out
}

func randomOpen(r *rand.Rand, s *sim) int64 {
	ids := make([]int64, 0, len(s.open))
	for id := range s.open {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids[r.Intn(len(ids))]
}

// TestRoundRobinTurns: with capacity to spare and random closures, agents
// that stay online get turns that differ by at most one.
func TestRoundRobinTurns(t *testing.T) {
	t.Parallel()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	s := newSim(t, Config{Default: QueueConfig{Mode: ModeRoundRobin}, IdleTimeout: Duration(24 * time.Hour)})
	names := []string{"ann", "bob", "cid", "dee", "eve"}
	for _, n := range names {
		s.agent(n, 1000, map[string]int{"support": 1})
	}
	for i := 0; i < 500; i++ {
		if r.Intn(3) == 0 && len(s.owner) > 0 {
			s.apply(TicketClosed{ID: randomOwned(r, s), At: s.now})
			continue
		}
		s.openTicket("support", router.PriorityNormal)
		var turns []int
		for _, n := range names {
			turns = append(turns, s.assigns[n])
		}
		sort.Ints(turns)
		if turns[len(turns)-1]-turns[0] > 1 {
			t.Fatalf("turns %v", turns)
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	run := func() []Action {
		r := rand.New(rand.NewSource(42))
		e, _ := New(Config{})
		var all []Action
		for i := 0; i < 20; i++ {
			all = append(all, e.Apply(AgentUpdated{Agent: Agent{Name: fmt.Sprintf("a%d", i), Skills: map[string]int{"q": 1, "r": 1}, Capacity: 3}})...)
			all = append(all, e.Apply(AgentPresence{Agent: fmt.Sprintf("a%d", i), Presence: Online, At: t0})...)
		}
		for i := 0; i < 500; i++ {
			q := "q"
			if r.Intn(2) == 0 {
				q = "r"
			}
			all = append(all, e.Apply(TicketOpened{ID: int64(i), Queue: q, At: t0.Add(time.Duration(i) * time.Second)})...)
			if r.Intn(2) == 0 {
				all = append(all, e.Apply(TicketClosed{ID: int64(r.Intn(i + 1))})...)
			}
		}
		return all
	}
	if a, b := run(), run(); !reflect.DeepEqual(a, b) {
		t.Fatal("two runs of the same events gave different actions")
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(`
idle_timeout: 2m
default: {mode: least_loaded, supervisor: leads, escalate_after: {normal: 1h}}
queues:
  vip: {mode: round_robin, min_level: {urgent: 2}, escalate_after: {urgent: 5m}}
  press: {mode: manual}
`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	vip := e.queue("vip").set
	if vip.mode != ModeRoundRobin || vip.supervisor != "leads" || vip.minLevel != [4]int{1, 1, 1, 2} || vip.escalate != [4]time.Duration{0, time.Hour, 0, 5 * time.Minute} {
		t.Fatalf("vip settings %+v", vip)
	}
	if other := e.queue("other").set; other.mode != ModeLeastLoaded || other.escalate[1] != time.Hour {
		t.Fatalf("default settings %+v", other)
	}
	if time.Duration(cfg.OfflineGrace) != 10*time.Minute || time.Duration(cfg.IdleTimeout) != 2*time.Minute {
		t.Fatalf("durations %v %v", cfg.OfflineGrace, cfg.IdleTimeout)
	}
	bad := []struct{ yaml, want string }{
		{`default: {mode: random}`, `default: mode: "random" is not a mode`},
		{`queues: {vip: {min_level: {urgent: 11}}}`, `queues: vip: min_level: urgent: 11 is not a level`},
		{`queues: {vip: {escalate_after: {critical: 1m}}}`, `"critical" is not a priority`},
		{`queues: {vip: {escalate_after: {high: 0s}}}`, `must be positive`},
		{`idle_timeout: -1m`, `idle_timeout: -1m0s is negative`},
		{`idle_timeout: soon`, `"soon" is not a duration`},
		{`idle: 1m`, `field idle not found`},
	}
	for _, b := range bad {
		_, err := ParseConfig([]byte(b.yaml))
		if err == nil || !contains(err.Error(), b.want) {
			t.Errorf("ParseConfig(%s) = %v, want %q", b.yaml, err, b.want)
		}
	}
	for _, a := range []Agent{{}, {Name: "x", Capacity: -1}, {Name: "x", Skills: map[string]int{"q": 11}}, {Name: "x", Skills: map[string]int{"": 1}}} {
		if a.Validate() == nil {
			t.Errorf("agent %+v accepted", a)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// BenchmarkApply measures events per second with 100 agents and 10,000
// waiting tickets: each iteration opens a ticket (it waits), closes an
// assigned one (its agent takes the head of the queue), and every 100
// iterations a tick runs the idle, grace and escalation checks.
func BenchmarkApply(b *testing.B) {
	e, err := New(Config{IdleTimeout: Duration(time.Hour), Default: QueueConfig{EscalateAfter: map[router.Priority]Duration{router.PriorityLow: Duration(time.Hour), router.PriorityNormal: Duration(time.Hour)}}})
	if err != nil {
		b.Fatal(err)
	}
	queues := []string{"q0", "q1", "q2", "q3", "q4"}
	for i := 0; i < 100; i++ {
		name := fmt.Sprintf("agent%03d", i)
		e.Apply(AgentUpdated{Agent: Agent{Name: name, Skills: map[string]int{queues[i%5]: 1, queues[(i+1)%5]: 1}, Capacity: 5}, At: t0})
		e.Apply(AgentPresence{Agent: name, Presence: Online, At: t0})
	}
	now := t0
	id := int64(0)
	var owned []int64
	open := func() {
		id++
		now = now.Add(time.Millisecond)
		for _, a := range e.Apply(TicketOpened{ID: id, Queue: queues[id%5], Priority: router.Priority([]string{"low", "normal", "high"}[id%3]), At: now}) {
			owned = append(owned, a.(Assign).Ticket)
		}
	}
	for i := 0; i < 10_500; i++ {
		open()
	}
	if w, _ := e.Counts(); w != 10_000 {
		b.Fatalf("%d waiting, want 10,000", w)
	}
	r := rand.New(rand.NewSource(1))
	b.ReportAllocs()
	b.ResetTimer()
	events := 0
	for i := 0; b.Loop(); i++ {
		open()
		k := r.Intn(len(owned))
		victim := owned[k]
		owned[k] = owned[len(owned)-1]
		owned = owned[:len(owned)-1]
		for _, a := range e.Apply(TicketClosed{ID: victim, At: now}) {
			if as, ok := a.(Assign); ok {
				owned = append(owned, as.Ticket)
			}
		}
		events += 2
		if i%100 == 0 {
			e.Apply(Tick{At: now})
			events++
		}
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// FuzzParseConfig: the parser never panics, and what it accepts builds an
// engine.
func FuzzParseConfig(f *testing.F) {
	f.Add(`idle_timeout: 2m
default: {mode: least_loaded, supervisor: leads, escalate_after: {normal: 1h}}
queues: {vip: {mode: round_robin, min_level: {urgent: 2}}, press: {mode: manual}}`)
	f.Add(`{"offline_grace": "-1s", "count_pending": true}`)
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := ParseConfig([]byte(doc))
		if err != nil {
			return
		}
		e, err := New(cfg)
		if err != nil {
			t.Fatalf("ParseConfig accepted what New refuses: %v", err)
		}
		e.Apply(AgentUpdated{Agent: Agent{Name: "a", Skills: map[string]int{"vip": 1}, Capacity: 1}, At: t0})
		e.Apply(AgentPresence{Agent: "a", Presence: Online, At: t0})
		e.Apply(TicketOpened{ID: 1, Queue: "vip", Priority: router.PriorityUrgent, At: t0})
		e.Apply(Tick{At: t0.Add(24 * time.Hour)})
		if err := e.check(); err != nil {
			t.Fatal(err)
		}
	})
}
