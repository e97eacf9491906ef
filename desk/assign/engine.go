package assign

import (
	"fmt"
	"sort"
	"time"

	"github.com/vigie/vigie/router"
)

// urgent is the highest priority rank.
const urgent = 3

// priorities by rank.
var priorities = [4]router.Priority{router.PriorityLow, router.PriorityNormal, router.PriorityHigh, router.PriorityUrgent}

type ticket struct {
	id      int64
	queue   *queue
	rank    int // priority rank
	opened  time.Time
	agent   *agent // nil while waiting
	pending bool
	// waitFrom is when the ticket entered the queue, or was last raised;
	// deadline is when it escalates (zero: never).
	waitFrom time.Time
	deadline time.Time
	notified bool   // the last notice of an urgent ticket went out
	pos      [2]int // positions in the waiting and deadline heaps; -1 when out
}

type agent struct {
	name     string
	skills   map[string]int
	queues   []*queue // the queues of skills, by name
	capacity int
	presence Presence
	autoAway bool // away because idle, not by hand
	active   time.Time
	offline  time.Time // since when offline
	load     int       // tickets counted toward capacity
	tickets  map[int64]*ticket
	// lastAt and lastSeq order agents by their last assignment; rr holds,
	// per queue, the sequence number of the agent's last automatic
	// assignment there.
	lastAt  time.Time
	lastSeq uint64
	rr      map[*queue]uint64
}

type queue struct {
	name     string
	set      queueSettings
	waiting  [4]theap // by priority rank
	agents   []*agent // with the skill, by name
	nWaiting int
}

// Engine assigns tickets. Build it with New; it is not safe for concurrent
// use.
type Engine struct {
	cfg      Config
	def      queueSettings
	settings map[string]queueSettings
	now      time.Time
	seq      uint64
	tickets  map[int64]*ticket
	agents   map[string]*agent
	byName   []*agent // every agent, by name
	queues   map[string]*queue
	deadline theap
	out      []Action
}

// New validates cfg and returns an engine with no agents and no tickets.
func New(cfg Config) (*Engine, error) {
	def, qs, err := cfg.compile()
	if err != nil {
		return nil, err
	}
	return &Engine{
		cfg: cfg, def: def, settings: qs,
		tickets:  map[int64]*ticket{},
		agents:   map[string]*agent{},
		queues:   map[string]*queue{},
		deadline: theap{kind: byDeadline},
	}, nil
}

// Now returns the engine's clock: the latest instant an event carried.
func (e *Engine) Now() time.Time { return e.now }

// Apply feeds one event to the engine and returns the actions that follow,
// in the order the caller must perform them. The returned slice is the
// caller's.
func (e *Engine) Apply(ev Event) []Action {
	e.out = nil
	switch ev := ev.(type) {
	case TicketOpened:
		e.advance(ev.At)
		e.opened(ev)
	case TicketAssigned:
		e.advance(ev.At)
		e.assigned(ev)
	case TicketClosed:
		e.advance(ev.At)
		e.closed(ev)
	case TicketPriorityChanged:
		e.advance(ev.At)
		e.priorityChanged(ev)
	case TicketQueueChanged:
		e.advance(ev.At)
		e.queueChanged(ev)
	case TicketPending:
		e.advance(ev.At)
		e.pendingChanged(ev)
	case AgentUpdated:
		e.advance(ev.At)
		e.agentUpdated(ev)
	case AgentRemoved:
		e.advance(ev.At)
		e.agentRemoved(ev)
	case AgentPresence:
		e.advance(ev.At)
		e.presence(ev)
	case AgentActivity:
		e.advance(ev.At)
		e.activity(ev)
	case Tick:
		e.advance(ev.At)
		e.tick()
	}
	return e.out
}

func (e *Engine) advance(t time.Time) {
	if t.After(e.now) {
		e.now = t
	}
}

func (e *Engine) queue(name string) *queue {
	q, ok := e.queues[name]
	if !ok {
		set, ok := e.settings[name]
		if !ok {
			set = e.def
		}
		q = &queue{name: name, set: set}
		for i := range q.waiting {
			q.waiting[i].kind = byAge
		}
		e.queues[name] = q
	}
	return q
}

// agent returns the named agent, creating it offline and without skills.
func (e *Engine) agent(name string) *agent {
	a, ok := e.agents[name]
	if !ok {
		a = &agent{name: name, presence: Offline, offline: e.now, tickets: map[int64]*ticket{}, rr: map[*queue]uint64{}}
		e.agents[name] = a
		i := sort.Search(len(e.byName), func(i int) bool { return e.byName[i].name >= name })
		e.byName = append(e.byName, nil)
		copy(e.byName[i+1:], e.byName[i:])
		e.byName[i] = a
	}
	return a
}

// counts reports whether t counts toward its agent's load.
func (e *Engine) counts(t *ticket) bool { return !t.pending || e.cfg.CountPending }

// eligible reports whether a can get t automatically now.
func (a *agent) eligible(t *ticket) bool {
	if a.presence != Online || a.load >= a.capacity {
		return false
	}
	return a.level(t.queue) >= t.queue.set.minLevel[t.rank]
}

func (a *agent) level(q *queue) int {
	l, ok := a.skills[q.name]
	if !ok {
		return 0
	}
	return max(l, 1)
}

// pick chooses the agent for t by its queue's mode, or nil.
func (e *Engine) pick(t *ticket) *agent {
	q := t.queue
	var best *agent
	for _, a := range q.agents {
		if !a.eligible(t) {
			continue
		}
		if best == nil {
			best = a
			continue
		}
		switch q.set.mode {
		case ModeRoundRobin:
			if a.rr[q] < best.rr[q] {
				best = a
			}
		default:
			switch {
			case a.load != best.load:
				if a.load < best.load {
					best = a
				}
			case !a.lastAt.Equal(best.lastAt):
				if a.lastAt.Before(best.lastAt) {
					best = a
				}
			case a.lastSeq < best.lastSeq:
				best = a
			}
		}
	}
	return best
}

// place finds an agent for a waiting ticket that is in no heap, or queues it.
func (e *Engine) place(t *ticket) {
	if t.queue.set.mode != ModeManual {
		if a := e.pick(t); a != nil {
			e.give(t, a)
			return
		}
	}
	e.enqueue(t)
}

func (e *Engine) enqueue(t *ticket) {
	q := t.queue
	q.waiting[t.rank].push(t)
	q.nWaiting++
	t.deadline = time.Time{}
	if d := q.set.escalate[t.rank]; d > 0 && !(t.rank == urgent && t.notified) {
		t.deadline = t.waitFrom.Add(d)
		e.deadline.push(t)
	}
}

// dequeue takes a waiting ticket out of the heaps.
func (e *Engine) dequeue(t *ticket) {
	t.queue.waiting[t.rank].remove(t)
	t.queue.nWaiting--
	if t.pos[byDeadline] >= 0 {
		e.deadline.remove(t)
	}
}

// give assigns a ticket out of the heaps to a, and says so.
func (e *Engine) give(t *ticket, a *agent) {
	e.attach(t, a)
	a.rr[t.queue] = a.lastSeq
	e.out = append(e.out, Assign{Ticket: t.id, Agent: a.name, Queue: t.queue.name})
}

// attach records that a owns t.
func (e *Engine) attach(t *ticket, a *agent) {
	t.agent = a
	a.tickets[t.id] = t
	if e.counts(t) {
		a.load++
	}
	e.seq++
	a.lastAt, a.lastSeq = e.now, e.seq
}

// detach takes t from its agent.
func (e *Engine) detach(t *ticket) *agent {
	a := t.agent
	delete(a.tickets, t.id)
	if e.counts(t) {
		a.load--
	}
	t.agent = nil
	return a
}

// fill gives a the best waiting tickets it is eligible for, while it has
// room.
func (e *Engine) fill(a *agent) {
	for a.presence == Online && a.load < a.capacity {
		var best *ticket
		for _, q := range a.queues {
			if q.nWaiting == 0 || q.set.mode == ModeManual {
				continue
			}
			if t := a.head(q); t != nil && (best == nil || better(t, best)) {
				best = t
			}
		}
		if best == nil {
			return
		}
		e.dequeue(best)
		e.give(best, a)
	}
}

// head returns the best ticket of q that a has the level for.
func (a *agent) head(q *queue) *ticket {
	lvl := a.level(q)
	for r := urgent; r >= 0; r-- {
		if q.waiting[r].len() > 0 && lvl >= q.set.minLevel[r] {
			return q.waiting[r].top()
		}
	}
	return nil
}

// better orders waiting tickets: priority, then age, then id.
func better(a, b *ticket) bool {
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	if !a.opened.Equal(b.opened) {
		return a.opened.Before(b.opened)
	}
	return a.id < b.id
}

func (e *Engine) opened(ev TicketOpened) {
	if _, known := e.tickets[ev.ID]; known {
		return
	}
	at := ev.At
	if at.IsZero() {
		at = e.now
	}
	t := &ticket{id: ev.ID, queue: e.queue(ev.Queue), rank: ev.Priority.Rank(), opened: at, waitFrom: e.now, pending: ev.Pending, pos: [2]int{-1, -1}}
	e.tickets[t.id] = t
	if ev.Assignee != "" {
		e.attach(t, e.agent(ev.Assignee))
		return
	}
	e.place(t)
}

func (e *Engine) assigned(ev TicketAssigned) {
	t, ok := e.tickets[ev.ID]
	if !ok || (t.agent != nil && t.agent.name == ev.Agent) {
		return
	}
	var freed *agent
	if t.agent != nil {
		freed = e.detach(t)
	} else if ev.Agent != "" {
		e.dequeue(t)
	} else {
		return // unassigning a waiting ticket: nothing changes
	}
	if ev.Agent == "" {
		t.waitFrom = e.now
		e.place(t)
	} else {
		e.attach(t, e.agent(ev.Agent))
	}
	if freed != nil {
		e.fill(freed)
	}
}

func (e *Engine) closed(ev TicketClosed) {
	t, ok := e.tickets[ev.ID]
	if !ok {
		return
	}
	delete(e.tickets, t.id)
	if t.agent == nil {
		e.dequeue(t)
		return
	}
	e.fill(e.detach(t))
}

func (e *Engine) priorityChanged(ev TicketPriorityChanged) {
	t, ok := e.tickets[ev.ID]
	if !ok || t.rank == ev.Priority.Rank() {
		return
	}
	if t.agent != nil {
		t.rank = ev.Priority.Rank()
		return
	}
	e.dequeue(t)
	t.rank = ev.Priority.Rank()
	e.place(t)
}

func (e *Engine) queueChanged(ev TicketQueueChanged) {
	t, ok := e.tickets[ev.ID]
	if !ok || t.queue.name == ev.Queue {
		return
	}
	q := e.queue(ev.Queue)
	if a := t.agent; a != nil {
		t.queue = q
		if a.level(q) > 0 {
			return // the agent serves the new queue too
		}
		e.detach(t)
		e.out = append(e.out, Unassign{Ticket: t.id, Agent: a.name, Reason: ReasonQueueChanged})
		t.waitFrom = e.now
		e.place(t)
		e.fill(a)
		return
	}
	e.dequeue(t)
	t.queue = q
	t.waitFrom = e.now
	e.place(t)
}

func (e *Engine) pendingChanged(ev TicketPending) {
	t, ok := e.tickets[ev.ID]
	if !ok || t.pending == ev.Pending {
		return
	}
	a := t.agent
	if a != nil && e.counts(t) {
		a.load--
	}
	t.pending = ev.Pending
	if a != nil && e.counts(t) {
		a.load++
	}
	if a != nil {
		e.fill(a)
	}
}

func (e *Engine) agentUpdated(ev AgentUpdated) {
	s := ev.Agent
	if s.Validate() != nil {
		return // the caller validates settings before storing them
	}
	a := e.agent(s.Name)
	for _, q := range a.queues {
		q.agents = removeAgent(q.agents, a)
	}
	a.skills = make(map[string]int, len(s.Skills))
	a.queues = a.queues[:0]
	for name, l := range s.Skills {
		a.skills[name] = l
		q := e.queue(name)
		a.queues = append(a.queues, q)
		i := sort.Search(len(q.agents), func(i int) bool { return q.agents[i].name >= a.name })
		q.agents = append(q.agents, nil)
		copy(q.agents[i+1:], q.agents[i:])
		q.agents[i] = a
	}
	sort.Slice(a.queues, func(i, j int) bool { return a.queues[i].name < a.queues[j].name })
	a.capacity = s.Capacity
	e.fill(a)
}

func removeAgent(s []*agent, a *agent) []*agent {
	for i, x := range s {
		if x == a {
			copy(s[i:], s[i+1:])
			s[len(s)-1] = nil
			return s[:len(s)-1]
		}
	}
	return s
}

func (e *Engine) agentRemoved(ev AgentRemoved) {
	a, ok := e.agents[ev.Agent]
	if !ok {
		return
	}
	for _, q := range a.queues {
		q.agents = removeAgent(q.agents, a)
	}
	delete(e.agents, a.name)
	e.byName = removeAgent(e.byName, a)
	e.requeue(a, true, ReasonAgentRemoved)
}

// requeue takes from a its tickets (all, or only those it must answer) and
// places them again, best first.
func (e *Engine) requeue(a *agent, all bool, reason string) {
	var ts []*ticket
	for _, t := range a.tickets {
		if all || !t.pending {
			ts = append(ts, t)
		}
	}
	sort.Slice(ts, func(i, j int) bool { return better(ts[i], ts[j]) })
	for _, t := range ts {
		e.detach(t)
		e.out = append(e.out, Unassign{Ticket: t.id, Agent: a.name, Reason: reason})
	}
	for _, t := range ts {
		t.waitFrom = e.now
		e.place(t)
	}
}

func (e *Engine) presence(ev AgentPresence) {
	a := e.agent(ev.Agent)
	switch ev.Presence {
	case Online:
		a.active = e.now
		a.autoAway = false
		if a.presence != Online {
			a.presence = Online
			e.fill(a)
		}
	case Away:
		a.presence, a.autoAway = Away, false
	case Offline:
		if a.presence != Offline {
			a.presence, a.offline, a.autoAway = Offline, e.now, false
		}
	}
}

func (e *Engine) activity(ev AgentActivity) {
	a, ok := e.agents[ev.Agent]
	if !ok {
		return
	}
	a.active = e.now
	if a.presence == Away && a.autoAway {
		a.presence, a.autoAway = Online, false
		e.out = append(e.out, PresenceChanged{Agent: a.name, Presence: Online})
		e.fill(a)
	}
}

func (e *Engine) tick() {
	idle := time.Duration(e.cfg.IdleTimeout)
	grace := time.Duration(e.cfg.OfflineGrace)
	for _, a := range e.byName {
		switch {
		case a.presence == Online && e.now.Sub(a.active) >= idle:
			a.presence, a.autoAway = Away, true
			e.out = append(e.out, PresenceChanged{Agent: a.name, Presence: Away})
		case a.presence == Offline && grace >= 0 && e.now.Sub(a.offline) >= grace && len(a.tickets) > 0:
			e.requeue(a, false, ReasonAgentOffline)
		}
	}
	for {
		t := e.deadline.top()
		if t == nil || t.deadline.After(e.now) {
			return
		}
		e.escalate(t)
	}
}

// escalate raises a waiting ticket past its deadline.
func (e *Engine) escalate(t *ticket) {
	at := t.deadline
	waited := at.Sub(t.waitFrom)
	e.dequeue(t)
	old := t.rank
	if t.rank < urgent {
		t.rank++
	} else {
		t.notified = true
	}
	t.waitFrom = at
	e.out = append(e.out, Escalate{Ticket: t.id, Queue: t.queue.name, OldPriority: priorities[old], NewPriority: priorities[t.rank], NotifyQueue: t.queue.set.supervisor, Waited: waited})
	e.place(t)
}

// Next returns the ticket agent should pull: the best waiting ticket, in
// any queue it serves (manual ones included), at a level it has, if it has
// room. The caller assigns it and reports it with TicketAssigned.
func (e *Engine) Next(agent string) (int64, bool) {
	a, ok := e.agents[agent]
	if !ok || a.load >= a.capacity {
		return 0, false
	}
	var best *ticket
	for _, q := range a.queues {
		if t := a.head(q); t != nil && (best == nil || better(t, best)) {
			best = t
		}
	}
	if best == nil {
		return 0, false
	}
	return best.id, true
}

// Waiting is a ticket in a queue, as Queue lists it.
type Waiting struct {
	ID       int64           `json:"id"`
	Priority router.Priority `json:"priority"`
	Opened   time.Time       `json:"opened"`
	// Since is when it entered the queue or was last escalated.
	Since time.Time `json:"since"`
	// EscalatesAt is zero when it will not escalate.
	EscalatesAt time.Time `json:"escalates_at"`
}

// Queue lists the waiting tickets of a queue, in the order they will be
// served.
func (e *Engine) Queue(name string) []Waiting {
	q, ok := e.queues[name]
	if !ok {
		return nil
	}
	ts := make([]*ticket, 0, q.nWaiting)
	for r := range q.waiting {
		ts = append(ts, q.waiting[r].items...)
	}
	sort.Slice(ts, func(i, j int) bool { return better(ts[i], ts[j]) })
	out := make([]Waiting, len(ts))
	for i, t := range ts {
		out[i] = Waiting{ID: t.id, Priority: priorities[t.rank], Opened: t.opened, Since: t.waitFrom, EscalatesAt: t.deadline}
	}
	return out
}

// AgentState is an agent as the engine sees it.
type AgentState struct {
	Name     string         `json:"name"`
	Skills   map[string]int `json:"skills"`
	Capacity int            `json:"capacity"`
	Presence Presence       `json:"presence"`
	// Load counts the open tickets it owns that count toward capacity;
	// Tickets lists every ticket it owns.
	Load    int     `json:"load"`
	Tickets []int64 `json:"tickets"`
	// LastActivity and LastAssigned are zero when unknown.
	LastActivity time.Time `json:"last_activity"`
	LastAssigned time.Time `json:"last_assigned"`
}

// Agents lists every agent the engine knows, by name.
func (e *Engine) Agents() []AgentState {
	out := make([]AgentState, 0, len(e.byName))
	for _, a := range e.byName {
		st := AgentState{Name: a.name, Skills: map[string]int{}, Capacity: a.capacity, Presence: a.presence, Load: a.load,
			Tickets: make([]int64, 0, len(a.tickets)), LastActivity: a.active, LastAssigned: a.lastAt}
		for q, l := range a.skills {
			st.Skills[q] = l
		}
		for id := range a.tickets {
			st.Tickets = append(st.Tickets, id)
		}
		sort.Slice(st.Tickets, func(i, j int) bool { return st.Tickets[i] < st.Tickets[j] })
		out = append(out, st)
	}
	return out
}

// Counts returns how many tickets wait and how many are assigned.
func (e *Engine) Counts() (waiting, assigned int) {
	for _, t := range e.tickets {
		if t.agent == nil {
			waiting++
		} else {
			assigned++
		}
	}
	return waiting, assigned
}

// check verifies the engine's invariants; tests call it after every event.
func (e *Engine) check() error {
	for id, t := range e.tickets {
		if t.id != id {
			return fmt.Errorf("ticket %d filed under %d", t.id, id)
		}
		if t.agent == nil {
			if t.pos[byAge] < 0 || t.queue.waiting[t.rank].items[t.pos[byAge]] != t {
				return fmt.Errorf("waiting ticket %d not in its queue %s at rank %d", id, t.queue.name, t.rank)
			}
			if (t.pos[byDeadline] >= 0) != !t.deadline.IsZero() {
				return fmt.Errorf("ticket %d deadline %v but heap position %d", id, t.deadline, t.pos[byDeadline])
			}
			if t.queue.set.mode != ModeManual {
				for _, a := range t.queue.agents {
					if a.eligible(t) {
						return fmt.Errorf("ticket %d waits in %s while %s has room (load %d of %d)", id, t.queue.name, a.name, a.load, a.capacity)
					}
				}
			}
			continue
		}
		if t.pos != [2]int{-1, -1} {
			return fmt.Errorf("assigned ticket %d still in a heap: %v", id, t.pos)
		}
		if t.agent.tickets[id] != t {
			return fmt.Errorf("ticket %d assigned to %s, who does not hold it", id, t.agent.name)
		}
		if e.agents[t.agent.name] != t.agent {
			return fmt.Errorf("ticket %d assigned to unknown agent %s", id, t.agent.name)
		}
	}
	n := 0
	for _, q := range e.queues {
		c := 0
		for r := range q.waiting {
			for i, t := range q.waiting[r].items {
				if e.tickets[t.id] != t || t.agent != nil || t.rank != r || t.queue != q || t.pos[byAge] != i {
					return fmt.Errorf("queue %s rank %d holds stale ticket %d", q.name, r, t.id)
				}
			}
			c += q.waiting[r].len()
		}
		if c != q.nWaiting {
			return fmt.Errorf("queue %s counts %d waiting, holds %d", q.name, q.nWaiting, c)
		}
		n += c
	}
	for i, t := range e.deadline.items {
		if e.tickets[t.id] != t || t.agent != nil || t.pos[byDeadline] != i {
			return fmt.Errorf("deadline heap holds stale ticket %d", t.id)
		}
	}
	for _, a := range e.agents {
		load := 0
		for id, t := range a.tickets {
			if e.tickets[id] != t || t.agent != a {
				return fmt.Errorf("agent %s holds stale ticket %d", a.name, id)
			}
			if e.counts(t) {
				load++
			}
		}
		if load != a.load {
			return fmt.Errorf("agent %s load %d, holds %d counted tickets", a.name, a.load, load)
		}
	}
	w, _ := e.Counts()
	if w != n {
		return fmt.Errorf("%d tickets waiting, queues hold %d", w, n)
	}
	return nil
}
