package desk

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk/assign"
	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/router"
)

// fakeClock is the desk's clock in these tests: it moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// openWiredDesk opens a desk with cfg on a fake clock that ticks every few
// milliseconds of real time.
func openWiredDesk(t testing.TB, cfg Config) (*testDesk, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	cfg.Path, cfg.Now, cfg.Tick = filepath.Join(t.TempDir(), "desk.db"), clock.Now, 5*time.Millisecond
	reg := prometheus.NewRegistry()
	d, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	td := &testDesk{Desk: d, reg: reg, cancel: cancel, done: make(chan struct{})}
	go func() { d.Run(ctx); close(td.done) }()
	t.Cleanup(func() { cancel(); <-td.done; d.Close() })
	return td, clock
}

func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func getTicket(t testing.TB, d *testDesk, id int64) Ticket {
	t.Helper()
	tk, err := d.Ticket(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// newTicket creates a ticket through Apply, as the router does.
func newTicket(t testing.TB, f *feeder, id string) int64 {
	t.Helper()
	f.apply(f.mention(id, "author-"+id, "my parcel is lost", "", 1))
	p, err := f.d.Tickets(context.Background(), Filter{Author: "x/author-" + id})
	if err != nil || len(p.Tickets) != 1 {
		t.Fatalf("author's tickets: %v %v", p.Tickets, err)
	}
	return p.Tickets[0].ID
}

// connectAs opens a fake websocket for user.
func connectAs(t testing.TB, d *testDesk, user string, topics ...Topic) *fakeWS {
	t.Helper()
	ws := newFakeWS()
	go d.hub.serve(ws, Client{User: user, Topics: topics})
	t.Cleanup(func() { ws.Close() })
	return ws
}

func agentState(t testing.TB, d *testDesk, name string) AgentView {
	t.Helper()
	as, err := d.Agents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range as {
		if a.Name == name {
			return a
		}
	}
	return AgentView{}
}

func TestSLAFirstResponseHit(t *testing.T) {
	d, clock := openWiredDesk(t, Config{})
	f := &feeder{t: t, d: d}
	created := clock.Now()
	id := newTicket(t, f, "1")
	tk := getTicket(t, d, id)
	if tk.SLAStatus != sla.StateActive || tk.FirstResponseDue == nil || !tk.FirstResponseDue.Equal(created.Add(time.Hour)) ||
		tk.ResolutionDue == nil || !tk.ResolutionDue.Equal(created.Add(24*time.Hour)) {
		t.Fatalf("new ticket: %s first due %v resolution due %v", tk.SLAStatus, tk.FirstResponseDue, tk.ResolutionDue)
	}
	clock.Add(10 * time.Minute)
	if _, _, err := d.Reply(context.Background(), id, "ann", "we are on it"); err != nil {
		t.Fatal(err)
	}
	// Answered in 10 minutes: first response hit, resolution paused on the
	// customer.
	eventually(t, "SLA paused after the reply", func() bool { return getTicket(t, d, id).SLAStatus == sla.StatePaused })
	st, err := d.ticketSLA(context.Background(), id, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.FirstResponse.State != sla.StateHit || st.FirstResponse.Elapsed != 10*time.Minute || st.Resolution.State != sla.StatePaused {
		t.Fatalf("after the reply: %+v", st)
	}
	if tk := getTicket(t, d, id); tk.ResolutionDue != nil || !tk.FirstResponseDue.Equal(created.Add(time.Hour)) {
		t.Fatalf("due times after the reply: first %v resolution %v", tk.FirstResponseDue, tk.ResolutionDue)
	}
}

func TestSLAAutoAcknowledgementIsNoFirstResponse(t *testing.T) {
	at := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	ticket := Ticket{ID: 1, Queue: "q", Priority: router.PriorityNormal, Status: StatusOpen}
	ev := func(seq int64, typ EventType, min int, change Change, actor string, status Status) Event {
		tk := ticket
		tk.Status = status
		data, _ := json.Marshal(TicketData{Ticket: tk, Change: change, Actor: actor})
		return Event{Seq: seq, Type: typ, At: at.Add(time.Duration(min) * time.Minute), Data: data}
	}
	tests := []struct {
		name   string
		events []Event
		first  sla.State
		res    sla.State
	}{
		{"auto acknowledgement", []Event{ev(1, EventTicketCreated, 0, ChangeCreated, "", StatusOpen), ev(2, EventTicketUpdated, 0, ChangeReplied, "", StatusOpen)}, sla.StateMissed, sla.StateActive},
		{"agent reply", []Event{ev(1, EventTicketCreated, 0, ChangeCreated, "", StatusOpen), ev(2, EventTicketUpdated, 5, ChangeReplied, "ann", StatusPending)}, sla.StateHit, sla.StatePaused},
		{"reply and resolve", []Event{ev(1, EventTicketCreated, 0, ChangeCreated, "", StatusOpen), ev(2, EventTicketUpdated, 5, ChangeReplied, "ann", StatusResolved)}, sla.StateHit, sla.StateHit},
	}
	pol, err := sla.NewPolicies(sla.Config{Default: sla.PolicyConfig{Targets: DefaultSLATargets}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			changes, err := changesFromDesk(tc.events)
			if err != nil {
				t.Fatal(err)
			}
			st := sla.Evaluate(pol, changes, at.Add(2*time.Hour))
			if st.FirstResponse.State != tc.first || st.Resolution.State != tc.res {
				t.Fatalf("first response %s, resolution %s; want %s, %s", st.FirstResponse.State, st.Resolution.State, tc.first, tc.res)
			}
		})
	}
}

// slaFrames reads frames until a ticket.updated with change sla and the
// given status for ticket id, and returns the SLA statuses seen on the way.
func slaFrames(t testing.TB, ws *fakeWS, id int64, want sla.State) []sla.State {
	t.Helper()
	var seen []sla.State
	for {
		e := ws.next(t)
		if e.Type != EventTicketUpdated {
			continue
		}
		var td TicketData
		if err := json.Unmarshal(e.Data, &td); err != nil {
			t.Fatal(err)
		}
		if td.Change != ChangeSLA || td.Ticket.ID != id {
			continue
		}
		seen = append(seen, td.Ticket.SLAStatus)
		if td.Ticket.SLAStatus == want {
			return seen
		}
	}
}

func TestSLAMissedGoesLive(t *testing.T) {
	d, clock := openWiredDesk(t, Config{})
	ws := connectAs(t, d, "ann", TopicTickets)
	waitConnected(t, d, 1)
	f := &feeder{t: t, d: d}
	id := newTicket(t, f, "1")
	// 80% of the hour to first response: at risk.
	clock.Add(49 * time.Minute)
	if seen := slaFrames(t, ws, id, sla.StateAtRisk); len(seen) != 1 {
		t.Fatalf("statuses before at_risk: %v", seen)
	}
	clock.Add(12 * time.Minute)
	if seen := slaFrames(t, ws, id, sla.StateMissed); len(seen) != 1 {
		t.Fatalf("statuses before missed: %v", seen)
	}
	p, err := d.Tickets(context.Background(), Filter{SLA: sla.StateMissed})
	if err != nil || len(p.Tickets) != 1 || p.Tickets[0].ID != id {
		t.Fatalf("missed tickets: %v %v", p.Tickets, err)
	}
	if p, _ := d.Tickets(context.Background(), Filter{SLA: sla.StateAtRisk}); len(p.Tickets) != 0 {
		t.Fatalf("at-risk tickets: %v", p.Tickets)
	}
	// Time passing without change emits nothing more.
	clock.Add(time.Hour)
	time.Sleep(50 * time.Millisecond)
	for {
		select {
		case b := <-ws.out:
			if strings.Contains(string(b), `"change":"sla"`) {
				t.Fatalf("an SLA frame without a change: %s", b)
			}
			continue
		default:
		}
		break
	}
}

func TestSLAPendingPausesResolution(t *testing.T) {
	d, clock := openWiredDesk(t, Config{})
	f := &feeder{t: t, d: d}
	id := newTicket(t, f, "1")
	clock.Add(5 * time.Minute)
	if _, _, err := d.Reply(context.Background(), id, "ann", "could you send the tracking number?"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "paused", func() bool { return getTicket(t, d, id).SLAStatus == sla.StatePaused })
	// Two days on the customer: nothing breaches.
	clock.Add(48 * time.Hour)
	time.Sleep(30 * time.Millisecond)
	st, err := d.ticketSLA(context.Background(), id, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.Resolution.State != sla.StatePaused || st.Resolution.Elapsed != 5*time.Minute || getTicket(t, d, id).SLAStatus != sla.StatePaused {
		t.Fatalf("after 48h pending: %+v", st.Resolution)
	}
	// The customer answers: the clock resumes with 5 minutes used.
	msgs := getTicket(t, d, id).Messages
	f.apply(f.mention("2", "author-1", "here it is", msgs[len(msgs)-1].NativeID, 1))
	resumed := clock.Now()
	eventually(t, "active again", func() bool { return getTicket(t, d, id).SLAStatus == sla.StateActive })
	if due := getTicket(t, d, id).ResolutionDue; due == nil || !due.Equal(resumed.Add(24*time.Hour-5*time.Minute)) {
		t.Fatalf("resolution due %v, want %v", due, resumed.Add(24*time.Hour-5*time.Minute))
	}
}

func leastLoaded(grace time.Duration) assign.Config {
	return assign.Config{
		IdleTimeout:  assign.Duration(time.Hour),
		OfflineGrace: assign.Duration(grace),
		Default:      assign.QueueConfig{Mode: assign.ModeLeastLoaded},
	}
}

func putAgents(t testing.TB, d *testDesk, capacity int, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := d.PutAgent(context.Background(), assign.Agent{Name: n, Skills: map[string]int{"complaints": 1}, Capacity: capacity}); err != nil {
			t.Fatal(err)
		}
	}
}

func assigned(t testing.TB, d *testDesk, agent string) []Ticket {
	t.Helper()
	p, err := d.Tickets(context.Background(), Filter{Assignee: agent, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return p.Tickets
}

func TestAssignLeastLoadedAcrossOnlineAgents(t *testing.T) {
	d, _ := openWiredDesk(t, Config{Assignment: leastLoaded(time.Minute)})
	putAgents(t, d, 10, "ann", "bob", "cid") // cid never connects
	connectAs(t, d, "ann", TopicTickets)
	connectAs(t, d, "bob", TopicTickets)
	eventually(t, "ann and bob online", func() bool {
		return agentState(t, d, "ann").Presence == assign.Online && agentState(t, d, "bob").Presence == assign.Online
	})
	f := &feeder{t: t, d: d}
	const n = 7
	for i := range n {
		newTicket(t, f, string(rune('a'+i)))
	}
	eventually(t, "every ticket assigned", func() bool { return len(assigned(t, d, "ann"))+len(assigned(t, d, "bob")) == n })
	a, b := len(assigned(t, d, "ann")), len(assigned(t, d, "bob"))
	if a-b > 1 || b-a > 1 || len(assigned(t, d, "cid")) != 0 {
		t.Fatalf("loads: ann %d, bob %d, cid %d", a, b, len(assigned(t, d, "cid")))
	}
	for _, tk := range append(assigned(t, d, "ann"), assigned(t, d, "bob")...) {
		if tk.Status != StatusAssigned {
			t.Fatalf("ticket %d: %s", tk.ID, tk.Status)
		}
	}
	if v := agentState(t, d, "ann"); v.Load != a || !v.Configured || v.LastAssigned == nil {
		t.Fatalf("ann's workload view: %+v", v)
	}
}

func TestAssignOfflineAgentTicketsRequeueAfterGrace(t *testing.T) {
	d, clock := openWiredDesk(t, Config{Assignment: leastLoaded(time.Minute)})
	putAgents(t, d, 10, "ann", "bob")
	ann := connectAs(t, d, "ann", TopicTickets)
	eventually(t, "ann online", func() bool { return agentState(t, d, "ann").Presence == assign.Online })
	f := &feeder{t: t, d: d}
	newTicket(t, f, "a")
	newTicket(t, f, "b")
	eventually(t, "ann has both", func() bool { return len(assigned(t, d, "ann")) == 2 })

	ann.Close() // the laptop lid closes
	eventually(t, "ann offline", func() bool { return agentState(t, d, "ann").Presence == assign.Offline })
	clock.Add(30 * time.Second)
	time.Sleep(30 * time.Millisecond)
	if got := len(assigned(t, d, "ann")); got != 2 {
		t.Fatalf("within the grace ann holds %d tickets, want 2", got)
	}
	clock.Add(time.Minute)
	eventually(t, "ann's tickets back in the queue", func() bool { return len(assigned(t, d, "ann")) == 0 })
	p, err := d.Tickets(context.Background(), Filter{Status: StatusOpen})
	if err != nil || len(p.Tickets) != 2 {
		t.Fatalf("open tickets: %v %v", p.Tickets, err)
	}
	// bob comes: he gets them.
	connectAs(t, d, "bob", TopicTickets)
	eventually(t, "bob has both", func() bool { return len(assigned(t, d, "bob")) == 2 })
}

func TestAssignEscalation(t *testing.T) {
	d, clock := openWiredDesk(t, Config{Assignment: assign.Config{
		Default: assign.QueueConfig{Supervisor: "leads", EscalateAfter: map[router.Priority]assign.Duration{router.PriorityNormal: assign.Duration(10 * time.Minute)}},
	}})
	ws := connectAs(t, d, "lead", TopicTickets)
	waitConnected(t, d, 1)
	f := &feeder{t: t, d: d}
	id := newTicket(t, f, "1")
	clock.Add(11 * time.Minute)
	for {
		e := ws.next(t)
		if e.Type != EventTicketEscalated {
			continue
		}
		var ed EscalatedData
		if err := json.Unmarshal(e.Data, &ed); err != nil {
			t.Fatal(err)
		}
		if ed.TicketID != id || ed.NotifyQueue != "leads" || ed.OldPriority != router.PriorityNormal || ed.NewPriority != router.PriorityHigh || ed.WaitedSeconds != 600 {
			t.Fatalf("escalation: %+v", ed)
		}
		break
	}
	tk := getTicket(t, d, id)
	if tk.Priority != router.PriorityHigh || tk.Assignee != "" || tk.Status != StatusOpen {
		t.Fatalf("escalated ticket: %s %q %s", tk.Priority, tk.Assignee, tk.Status)
	}
	// The SLA follows the new priority (30m to first response for high):
	// 11 of 60 minutes used, so 30*(49/60) = 24m30s left.
	eventually(t, "SLA retargeted", func() bool {
		due := getTicket(t, d, id).FirstResponseDue
		return due != nil && due.Equal(clock.Now().Add(24*time.Minute+30*time.Second))
	})
}

func TestManualByDefaultAndAgentsAPI(t *testing.T) {
	d, clock := openWiredDesk(t, Config{})
	ctx := context.Background()
	putAgents(t, d, 5, "ann")
	ws := connectAs(t, d, "ann", TopicTickets)
	eventually(t, "ann online", func() bool { return agentState(t, d, "ann").Presence == assign.Online })
	f := &feeder{t: t, d: d}
	id := newTicket(t, f, "1")
	if _, err := d.Assign(ctx, id, "ann", ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ann's load", func() bool { return agentState(t, d, "ann").Load == 1 })
	// No assignment configured: offline agents keep their tickets.
	ws.Close()
	eventually(t, "ann offline", func() bool { return agentState(t, d, "ann").Presence == assign.Offline })
	clock.Add(24 * time.Hour)
	time.Sleep(30 * time.Millisecond)
	if tk := getTicket(t, d, id); tk.Assignee != "ann" {
		t.Fatalf("assignee %q after a day offline, want ann kept", tk.Assignee)
	}
	for _, bad := range []assign.Agent{{Name: "x", Capacity: -1}, {Name: "x", Skills: map[string]int{"q": 11}}, {Name: ""}} {
		if _, err := d.PutAgent(ctx, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("PutAgent(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	if err := d.DeleteAgent(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete unknown agent: %v", err)
	}
	if err := d.DeleteAgent(ctx, "ann"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ann's ticket requeued on removal", func() bool { return getTicket(t, d, id).Assignee == "" })
}

func TestDeskConfigFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, err string
		check           func(t *testing.T, c Config)
	}{
		{name: "absent", yaml: "", check: func(t *testing.T, c Config) {
			if c.Assignment.Default.Mode != assign.ModeManual || c.Assignment.OfflineGrace >= 0 {
				t.Fatalf("defaults: %+v", c.Assignment)
			}
			if c.SLA.Default.Targets[router.PriorityUrgent].FirstResponse != sla.Duration(15*time.Minute) {
				t.Fatalf("sla defaults: %+v", c.SLA.Default)
			}
		}},
		{name: "both", yaml: `
sla:
  calendars: {office: {time_zone: Europe/Paris, hours: {monday: ["09:00-18:00"]}}}
  default: {calendar: office, targets: {normal: {first_response: 2h, resolution: 24h}}}
assignment:
  default: {mode: least_loaded}
  queues: {press: {mode: manual}}
`, check: func(t *testing.T, c Config) {
			if c.Assignment.Default.Mode != assign.ModeLeastLoaded || c.Assignment.OfflineGrace != assign.Duration(10*time.Minute) {
				t.Fatalf("assignment: %+v", c.Assignment)
			}
			if c.SLA.Default.Calendar != "office" || len(c.SLA.Default.Targets) != 1 {
				t.Fatalf("sla: %+v", c.SLA.Default)
			}
		}},
		{name: "assignment only keeps the default mode manual", yaml: "assignment: {offline_grace: 5m}\n", check: func(t *testing.T, c Config) {
			if c.Assignment.Default.Mode != assign.ModeManual || c.Assignment.OfflineGrace != assign.Duration(5*time.Minute) {
				t.Fatalf("assignment: %+v", c.Assignment)
			}
		}},
		{name: "unknown section", yaml: "slas: {}\n", err: "field slas not found"},
		{name: "unknown field", yaml: "sla: {defaults: {}}\n", err: "field defaults not found"},
		{name: "bad zone", yaml: "sla: {calendars: {x: {time_zone: Mars/Olympus}}}\n", err: "not a known IANA time zone"},
		{name: "bad mode", yaml: "assignment: {default: {mode: random}}\n", err: "is not a mode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := Config{Path: "x.db"}
			err := c.parseFile([]byte(tc.yaml))
			if err == nil {
				err = c.Validate()
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestTicketsByAuthorAndBadFilters(t *testing.T) {
	d, _ := openWiredDesk(t, Config{})
	f := &feeder{t: t, d: d}
	f.apply(f.mention("1", "ana", "one", "", 1))
	f.apply(f.mention("2", "ana", "two", "", 1))
	f.apply(f.mention("3", "bob", "three", "", 1))
	p, err := d.Tickets(context.Background(), Filter{Author: "x/ana"})
	if err != nil || len(p.Tickets) != 2 {
		t.Fatalf("ana's tickets: %d %v", len(p.Tickets), err)
	}
	for _, f := range []Filter{{Author: "ana"}, {Author: "x/"}, {SLA: "late"}} {
		if _, err := d.Tickets(context.Background(), f); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", f, err)
		}
	}
}

// BenchmarkEngineFollow measures the loop behind ingestion: b.N tickets
// created in batches of 100, each evaluated for its SLA and assigned
// automatically (one write transaction per assignment).
func BenchmarkEngineFollow(b *testing.B) {
	d, _ := openWiredDesk(b, Config{Assignment: leastLoaded(time.Minute)})
	putAgents(b, d, 1<<30, "ann")
	connectAs(b, d, "ann", TopicTickets)
	eventually(b, "ann online", func() bool { return agentState(b, d, "ann").Presence == assign.Online })
	f := &feeder{t: b, d: d}
	count := func() (n int) {
		if err := d.db.R.QueryRow("SELECT COUNT(*) FROM tickets WHERE assignee='ann'").Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	b.ResetTimer()
	for i := 0; i < b.N; {
		var batch []router.Routed
		for j := 0; j < 100 && i < b.N; j, i = j+1, i+1 {
			batch = append(batch, f.mention("m"+strconv.Itoa(i), "a"+strconv.Itoa(i), "lost parcel", "", 1))
		}
		f.apply(batch...)
	}
	deadline := time.Now().Add(time.Minute)
	for count() < b.N {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d assigned", count(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSLABacklogSavedInChunks: when a backlog crosses its targets at once
// (here at start, after a stop longer than the first-response target), its
// SLA changes are saved slaChunk at a time, and the desk steps aside
// (Config.Yield) between two chunks, so that the router's batches are not
// held up behind one long transaction.
func TestSLABacklogSavedInChunks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "desk.db")
	clock := newFakeClock()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := Open(ctx, Config{Path: path, Now: clock.Now}, logger, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	f := &feeder{t: t, d: &testDesk{Desk: d}}
	const n = 2*slaChunk + 10
	var batch []router.Routed
	for i := range n {
		batch = append(batch, f.mention(strconv.Itoa(i), "author-"+strconv.Itoa(i), "my parcel is lost", "", 1))
	}
	f.apply(batch...)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Past 80 % of the hour to first response: every ticket is at risk.
	clock.Add(49 * time.Minute)

	var (
		mu     sync.Mutex
		yields []int64 // the desk's last event at each step aside
		dp     *Desk
	)
	yield := func(context.Context) {
		mu.Lock()
		yields = append(yields, dp.LastSeq())
		mu.Unlock()
	}
	d, err = Open(ctx, Config{Path: path, Now: clock.Now, Tick: time.Hour, Yield: yield}, logger, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	dp = d // before Run: the engine, which yields, starts there
	base := d.LastSeq()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { d.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; d.Close() })
	eventually(t, "every ticket at risk", func() bool {
		p, err := d.Tickets(ctx, Filter{SLA: sla.StateAtRisk, Limit: 500})
		return err == nil && len(p.Tickets) == n
	})
	if got := d.LastSeq(); got != base+n {
		t.Fatalf("%d events after the refresh, want one a ticket (%d)", got-base, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int64{base + slaChunk, base + 2*slaChunk}; !slices.Equal(yields, want) {
		t.Fatalf("stepped aside with the desk at events %v, want %v: after each chunk of %d but the last", yields, want, slaChunk)
	}
}

// openClockedDesk opens a desk on a clock the test moves, its loops not
// running: the test calls them.
func openClockedDesk(t *testing.T) (*Desk, *fakeClock, *feeder) {
	t.Helper()
	clock := newFakeClock()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := Open(context.Background(), Config{Path: filepath.Join(t.TempDir(), "desk.db"), Now: clock.Now}, logger, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, clock, &feeder{t: t, d: &testDesk{Desk: d}}
}

// TestActionsSaveTheirSLA: a reply, a resolve, a bulk resolve and an
// escalation save their effect on the SLA in their own transaction and
// event, so that the loop that follows them has nothing left to save: one
// frame for the agents, not the action's and then the loop's.
func TestActionsSaveTheirSLA(t *testing.T) {
	ctx := context.Background()
	d, clock, f := openClockedDesk(t)
	created := clock.Now()
	f.apply(f.mention("1", "ana", "my parcel is lost", "", 1), f.mention("2", "bob", "my parcel is lost", "", 1),
		f.mention("3", "cyd", "my parcel is lost", "", 1), f.mention("4", "dan", "my parcel is lost", "", 1))
	by := map[string]int64{}
	for _, tk := range tickets(t, f.d) {
		by[tk.Conversation] = tk.ID
	}
	clock.Add(5 * time.Minute)
	if err := d.escalate(ctx, assign.Escalate{Ticket: by["4"], OldPriority: router.PriorityNormal, NewPriority: router.PriorityUrgent}); err != nil {
		t.Fatal(err)
	}
	clock.Add(5 * time.Minute)
	replied, _, err := d.Reply(ctx, by["1"], "ann", "we are on it")
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := d.Resolve(ctx, by["2"], "ann")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ResolveMany(ctx, []int64{by["3"]}, "ann"); err != nil {
		t.Fatal(err)
	}
	if replied.SLAStatus != sla.StatePaused || resolved.SLAStatus != sla.StateHit {
		t.Fatalf("answered: the reply's ticket is %s (want paused), the resolve's %s (want hit)", replied.SLAStatus, resolved.SLAStatus)
	}
	escalated := getTicket(t, f.d, by["4"])
	if escalated.FirstResponseDue == nil || !escalated.FirstResponseDue.Before(created.Add(20*time.Minute)) {
		t.Fatalf("escalated to urgent (15 minutes) from normal (an hour): first response due %v", escalated.FirstResponseDue)
	}
	for conv, id := range by {
		st, err := d.ticketSLA(ctx, id, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		tk := getTicket(t, f.d, id)
		if state, fr, res := slaOf(st); tk.SLAStatus != state || !sameTime(tk.FirstResponseDue, fr) || !sameTime(tk.ResolutionDue, res) {
			t.Errorf("ticket %s saved %s %v %v, its events say %s %v %v", conv, tk.SLAStatus, tk.FirstResponseDue, tk.ResolutionDue, state, fr, res)
		}
	}
	head := d.LastSeq()
	if err := d.refreshSLA(ctx, newSLATimers(), slices.Collect(maps.Values(by)), clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := d.LastSeq() - head; n != 0 {
		t.Fatalf("the loop saved %d SLA changes after the actions, want none", n)
	}

	// The loop following all of it: resolved tickets lose their timers,
	// but for one the customer reopened after the resolve, in the same
	// batch of events.
	f.apply(f.mention("5", "cyd", "still lost", "3", 1))
	if tk := getTicket(t, f.d, by["3"]); tk.Status != StatusOpen {
		t.Fatalf("ticket 3 after the follow-up: %s, want open (reopened)", tk.Status)
	}
	eng, err := assign.New(assign.Config{})
	if err != nil {
		t.Fatal(err)
	}
	timers := newSLATimers()
	for _, id := range by {
		timers.set(id, clock.Now().Add(time.Minute))
	}
	if _, err := d.follow(ctx, eng, timers, 0); err != nil {
		t.Fatal(err)
	}
	var timed []string
	for conv, id := range by {
		if _, ok := timers.pos[id]; ok {
			timed = append(timed, conv)
		}
	}
	slices.Sort(timed)
	// 1: answered, its resolution paused on the customer, no clock running;
	// 2: resolved; 3: reopened; 4: escalated, waiting.
	if want := []string{"3", "4"}; !slices.Equal(timed, want) {
		t.Fatalf("tickets with a timer after following: %v, want %v", timed, want)
	}
}

// TestSLALoopDoesNotUndoAnAction: the loop evaluates a ticket's SLA
// outside its transaction. An agent who resolves the ticket meanwhile saves
// the resolved SLA; the loop's change, evaluated on the open ticket, must
// not overwrite it.
func TestSLALoopDoesNotUndoAnAction(t *testing.T) {
	ctx := context.Background()
	d, clock, f := openClockedDesk(t)
	f.apply(f.mention("1", "ana", "my parcel is lost", "", 1))
	open := tickets(t, f.d)[0]
	clock.Add(2 * time.Hour) // past the first response's target: missed
	st, err := d.ticketSLA(ctx, open.ID, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	state, fr, res := slaOf(st)
	if state == open.SLAStatus {
		t.Fatalf("the clock moved on and the SLA is still %s: nothing for the loop to save", state)
	}
	evaluated := slaUpdate{open.ID, state, fr, res, open.UpdatedAt}

	clock.Add(time.Second)
	resolved, err := d.Resolve(ctx, open.ID, "ann")
	if err != nil {
		t.Fatal(err)
	}
	head := d.LastSeq()
	if err := d.saveSLA(ctx, []slaUpdate{evaluated}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := d.LastSeq() - head; n != 0 {
		t.Errorf("the loop saved %d events on a ticket resolved since its evaluation, want none", n)
	}
	if tk := getTicket(t, f.d, open.ID); tk.SLAStatus != resolved.SLAStatus || !sameTime(tk.ResolutionDue, resolved.ResolutionDue) {
		t.Errorf("ticket's SLA %s (resolution due %v) after the loop's save, want the resolve's %s (%v)",
			tk.SLAStatus, tk.ResolutionDue, resolved.SLAStatus, resolved.ResolutionDue)
	}

	// Evaluated on the ticket as it is, the same kind of change is saved.
	if err := d.saveSLA(ctx, []slaUpdate{{open.ID, sla.StateMissed, fr, res, resolved.UpdatedAt}}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if tk := getTicket(t, f.d, open.ID); tk.SLAStatus != sla.StateMissed || d.LastSeq() != head+1 {
		t.Errorf("a current change: ticket's SLA %s and %d events, want missed and one", tk.SLAStatus, d.LastSeq()-head)
	}
}

// routeInBackground has a router apply 6 posts every 10 ms to f's desk, as
// at 600/s, until the returned stop, which gives the batches' durations,
// sorted. With count set, a batch counts when count is true as it starts
// or as it ends.
func routeInBackground(b *testing.B, f *feeder, count func() bool) (stop func() []time.Duration) {
	done := make(chan struct{})
	routed := make(chan []time.Duration)
	go func() {
		var took []time.Duration
		tk := time.NewTicker(10 * time.Millisecond)
		defer tk.Stop()
		for n := 0; ; {
			select {
			case <-done:
				slices.Sort(took)
				routed <- took
				return
			case <-tk.C:
			}
			var rs []router.Routed
			for range 6 {
				n++
				id := "p" + strconv.Itoa(n)
				rs = append(rs, f.mention(id, id, "lost parcel", "", 1))
			}
			start, counts := time.Now(), count == nil || count()
			if err := f.d.Apply(context.Background(), rs); err != nil {
				b.Error(err)
			}
			if counts || count() {
				took = append(took, time.Since(start))
			}
		}
	}()
	return func() []time.Duration {
		close(done)
		return <-routed
	}
}

// BenchmarkAgentActions: 64 agents act at once (a note each, on tickets of
// their own) while the router applies a batch of posts every 10 ms. It
// reports the actions a second and the router's batch p99: what the
// agents' fsyncs cost the posts on their way.
func BenchmarkAgentActions(b *testing.B) {
	d := openTestDesk(b, HubConfig{})
	f := &feeder{t: b, d: d}
	const agents = 64
	var batch []router.Routed
	for i := range agents {
		batch = append(batch, f.mention("t"+strconv.Itoa(i), "a"+strconv.Itoa(i), "lost parcel", "", 1))
	}
	f.apply(batch...)
	ids := make([]int64, 0, agents)
	for _, tk := range tickets(b, d) {
		ids = append(ids, tk.ID)
	}
	ctx := context.Background()
	stopRouter := routeInBackground(b, f, nil)
	var next atomic.Int64
	b.SetParallelism(agents / runtime.GOMAXPROCS(0))
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		id := ids[int(next.Add(1)-1)%len(ids)]
		for pb.Next() {
			if _, _, err := d.AddNote(ctx, id, "ann", "called the customer back"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	elapsed := time.Since(start)
	took := stopRouter()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "actions/s")
	if len(took) > 0 {
		b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "router-p99-ms")
	}
}

// BenchmarkBulkResolve resolves 500 tickets in one call while the router
// applies 6 posts every 10 ms, as at 600/s, with the bulk action in chunks
// of resolveChunk and in one transaction: the router's batches wait for
// the desk's lock meanwhile.
func BenchmarkBulkResolve(b *testing.B) {
	for _, bench := range []struct {
		name  string
		chunk int
	}{{"router-alone", 0}, {"chunks", resolveChunk}, {"one-transaction", MaxBulk}} {
		b.Run(bench.name, func(b *testing.B) {
			d := openTestDesk(b, HubConfig{})
			d.bulkChunk = bench.chunk
			f := &feeder{t: b, d: d}
			ctx := context.Background()
			var resolving atomic.Bool // the router's batches count while a bulk call runs
			stopRouter := routeInBackground(b, f, resolving.Load)
			var calls time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				var batch []router.Routed
				for j := range MaxBulk {
					n := strconv.Itoa(i) + "-" + strconv.Itoa(j)
					batch = append(batch, f.mention("b"+n, "b"+n, "spam", "", 1))
				}
				head := d.LastSeq()
				f.apply(batch...)
				evs, err := d.ReadEvents(ctx, head, 10*MaxBulk)
				if err != nil {
					b.Fatal(err)
				}
				var ids []int64
				for _, ev := range evs {
					if ev.Type == EventTicketCreated {
						var td TicketData
						if err := json.Unmarshal(ev.Data, &td); err != nil {
							b.Fatal(err)
						}
						if strings.HasPrefix(td.Ticket.Conversation, "b") {
							ids = append(ids, td.Ticket.ID)
						}
					}
				}
				if len(ids) != MaxBulk {
					b.Fatalf("%d tickets to resolve, want %d", len(ids), MaxBulk)
				}
				b.StartTimer()
				resolving.Store(true)
				start := time.Now()
				if bench.chunk == 0 { // the baseline: as long, without the call
					time.Sleep(80 * time.Millisecond)
					resolving.Store(false)
					continue
				}
				out, err := d.ResolveMany(ctx, ids, "ann")
				calls += time.Since(start)
				resolving.Store(false)
				if err != nil || len(out.Done) != MaxBulk {
					b.Fatalf("ResolveMany: %d done, %v", len(out.Done), err)
				}
			}
			took := stopRouter()
			if bench.chunk > 0 {
				b.ReportMetric(float64(calls.Milliseconds())/float64(b.N), "ms/call")
			}
			if len(took) > 0 {
				b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "router-p99-ms")
				b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "router-max-ms")
			}
		})
	}
}
