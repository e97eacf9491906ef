package desk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/vigie/vigie/desk/assign"
	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/internal/pause"
	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/router"
)

// SystemActor is the actor of the changes the desk makes by itself:
// automatic assignments, requeues of offline agents' tickets, escalations.
const SystemActor = "system"

// eventsFromDesk turns one of the desk's events into assignment engine
// events. Presence comes from the hub and activity from the agents'
// requests and websocket messages, not from the log.
func eventsFromDesk(ev Event) ([]assign.Event, error) {
	if ev.Type != EventTicketCreated && ev.Type != EventTicketUpdated {
		return nil, nil
	}
	td, err := decodeTicketData(ev)
	if err != nil {
		return nil, err
	}
	return assignEventsOf(ev, td), nil
}

// decodeTicketData decodes the payload of a ticket.created or
// ticket.updated event.
func decodeTicketData(ev Event) (*TicketData, error) {
	td, err := ev.TicketData()
	if err != nil {
		return nil, fmt.Errorf("decode event %d: %w", ev.Seq, err)
	}
	return td, nil
}

// assignEventsOf is eventsFromDesk on an event already decoded.
func assignEventsOf(ev Event, td *TicketData) []assign.Event {
	t := td.Ticket
	switch td.Change {
	case ChangeCreated:
		return []assign.Event{assign.TicketOpened{ID: t.ID, Queue: t.Queue, Priority: t.Priority, At: t.CreatedAt, Assignee: t.Assignee}}
	case ChangeReopened:
		return []assign.Event{assign.TicketOpened{ID: t.ID, Queue: t.Queue, Priority: t.Priority, At: ev.At, Assignee: t.Assignee}}
	case ChangeMessage:
		return []assign.Event{
			assign.TicketPriorityChanged{ID: t.ID, Priority: t.Priority, At: ev.At},
			assign.TicketPending{ID: t.ID, Pending: false, At: ev.At},
		}
	case ChangeReplied:
		if td.Actor == "" {
			return nil // an automatic acknowledgement
		}
		if t.Status == StatusResolved {
			return []assign.Event{assign.TicketClosed{ID: t.ID, At: ev.At}}
		}
		// A reply makes its author the assignee of an unowned ticket.
		return []assign.Event{
			assign.TicketAssigned{ID: t.ID, Agent: t.Assignee, At: ev.At},
			assign.TicketPending{ID: t.ID, Pending: t.Status == StatusPending, At: ev.At},
		}
	case ChangeAssigned:
		if td.Actor == SystemActor {
			return nil // the echo of the engine's own action
		}
		return []assign.Event{assign.TicketAssigned{ID: t.ID, Agent: t.Assignee, At: ev.At}}
	case ChangePriority:
		if td.Actor == SystemActor {
			return nil
		}
		return []assign.Event{assign.TicketPriorityChanged{ID: t.ID, Priority: t.Priority, At: ev.At}}
	case ChangeResolved:
		return []assign.Event{assign.TicketClosed{ID: t.ID, At: ev.At}}
	}
	return nil
}

// inbox carries events and queries to the engine goroutine. Senders never
// block (the hub must not wait on the engine, which may wait on the hub to
// broadcast), and nothing is dropped: the inbox grows instead, by at most a
// few entries per agent and request.
type inbox struct {
	mu     sync.Mutex
	items  []any // assign.Event or engineQuery
	notify chan struct{}
}

// engineQuery runs on the engine goroutine.
type engineQuery func(e *assign.Engine)

func newInbox() *inbox { return &inbox{notify: make(chan struct{}, 1)} }

func (b *inbox) put(v any) {
	b.mu.Lock()
	b.items = append(b.items, v)
	b.mu.Unlock()
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

func (b *inbox) take() []any {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.items
	b.items = nil
	return out
}

// presence tells the engine a user's first websocket opened or last one
// closed. Called by the hub goroutine.
func (d *Desk) presence(user string, p assign.Presence) {
	if user == "" {
		return
	}
	d.inbox.put(assign.AgentPresence{Agent: user, Presence: p, At: d.now()})
}

// activityEvery bounds how often one user's activity reaches the engine.
const activityEvery = time.Second

// Activity tells the assignment engine that an agent did something (a
// request, a websocket message): it keeps the agent online. Calls are cheap
// and throttled per user.
func (d *Desk) Activity(user string) {
	if user == "" {
		return
	}
	now := time.Now()
	d.activityMu.Lock()
	last, ok := d.lastActivity[user]
	if ok && now.Sub(last) < activityEvery {
		d.activityMu.Unlock()
		return
	}
	d.lastActivity[user] = now
	d.activityMu.Unlock()
	d.inbox.put(assign.AgentActivity{Agent: user, At: d.now()})
}

// runEngine owns the assignment engine and the SLA timers: it loads the
// agents and the unresolved tickets, then follows the event log, the inbox
// and the clock, and carries out the engine's actions through the desk.
// Failures to read or write are logged, counted and retried.
func (d *Desk) runEngine(ctx context.Context) error {
	var (
		eng    *assign.Engine
		cursor int64
		timers = newSLATimers()
	)
	for {
		var err error
		eng, cursor, err = d.startEngine(ctx, timers)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		d.engineFailed("start", err)
		if pause.For(ctx, time.Second) != nil {
			return nil
		}
	}
	d.engineUp.Store(true)
	defer d.engineUp.Store(false)
	ticker := time.NewTicker(d.cfg.Tick)
	defer ticker.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	closed := make(chan struct{})
	close(closed)
	// The loop's reads and writes are short, better finished than
	// interrupted: on a context that cannot end, their queries start no
	// goroutine to watch it (sqlite.Detached).
	work := sqlite.Detached(ctx)
	for {
		d.headMu.Lock()
		head, changed := d.head, d.changed
		d.headMu.Unlock()
		d.metrics.engineLag.Set(float64(head - cursor))
		ready := changed
		if head > cursor {
			ready = closed
		}
		var timerC <-chan time.Time
		if at, ok := timers.next(); ok {
			timer.Reset(max(at.Sub(d.now()), 0))
			timerC = timer.C
		}
		select {
		case <-ctx.Done():
			d.drainQueries(eng)
			return nil
		case <-ready:
			if head <= cursor {
				continue
			}
			next, err := d.follow(work, eng, timers, cursor)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				d.engineFailed("follow", err)
				pause.For(ctx, time.Second)
			}
			cursor = next
		case <-d.inbox.notify:
			for _, it := range d.inbox.take() {
				switch it := it.(type) {
				case engineQuery:
					it(eng)
				case assign.Event:
					d.perform(work, eng.Apply(it))
				}
			}
		case <-ticker.C:
			now := d.now()
			d.perform(work, eng.Apply(assign.Tick{At: now}))
			d.fireSLA(work, timers, now)
		case <-timerC:
			d.fireSLA(work, timers, d.now())
		}
	}
}

// drainQueries answers the queries still waiting when the loop stops.
func (d *Desk) drainQueries(eng *assign.Engine) {
	for _, it := range d.inbox.take() {
		if q, ok := it.(engineQuery); ok {
			q(eng)
		}
	}
}

func (d *Desk) engineFailed(stage string, err error) {
	d.metrics.engineErrors.Inc()
	d.log.Error("assignment_loop_failed", "stage", stage, "error", err)
}

// startEngine builds the engine from the agents table and the unresolved
// tickets, oldest first, and evaluates their SLA. It returns the log
// position to follow from: events after it may repeat what was loaded,
// which the engine ignores (a known ticket) or applies again harmlessly.
func (d *Desk) startEngine(ctx context.Context, timers *slaTimers) (*assign.Engine, int64, error) {
	eng, err := assign.New(d.cfg.Assignment)
	if err != nil {
		return nil, 0, err
	}
	cursor := d.LastSeq()
	now := d.now()
	agents, err := d.storedAgents(ctx)
	if err != nil {
		return nil, 0, err
	}
	var acts []assign.Action
	for _, a := range agents {
		acts = append(acts, eng.Apply(assign.AgentUpdated{Agent: a, At: now})...)
	}
	rows, err := d.db.R.QueryContext(ctx, "SELECT id, queue, priority, created_at, assignee, status FROM tickets WHERE status != 'resolved' ORDER BY id")
	if err != nil {
		return nil, 0, fmt.Errorf("read open tickets: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id, created int64
		var queue, prio, assignee, status string
		if err := rows.Scan(&id, &queue, &prio, &created, &assignee, &status); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("read open tickets: %w", err)
		}
		acts = append(acts, eng.Apply(assign.TicketOpened{ID: id, Queue: queue, Priority: router.Priority(prio), At: time.Unix(0, created).UTC(),
			Assignee: assignee, Pending: Status(status) == StatusPending})...)
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("read open tickets: %w", err)
	}
	d.perform(ctx, acts)
	if err := d.refreshSLA(ctx, timers, ids, now); err != nil {
		return nil, 0, err
	}
	return eng, cursor, nil
}

// follow reads a batch of events after cursor, feeds them to the engine,
// re-evaluates the SLA of the tickets they touch, and returns the new
// cursor. On error the cursor does not move past what was not applied.
func (d *Desk) follow(ctx context.Context, eng *assign.Engine, timers *slaTimers, cursor int64) (int64, error) {
	evs, err := d.ReadEvents(ctx, cursor, 500)
	if err != nil {
		return cursor, err
	}
	var touched []int64
	seen := map[int64]bool{}
	// A ticket whose only event here is its creation got its SLA fields in
	// the creating transaction: it only needs its timer, computed from that
	// event, with no read and no write (most of a burst).
	created := map[int64]Event{}
	// Each ticket event is decoded once, here, for the engine and the SLA.
	var decoded map[int64]*TicketData // by ticket, the creating event's payload
	// A ticket the batch leaves resolved has no clock running, and what
	// resolved it saved its SLA in the same transaction (slaWith): it only
	// loses its timer, with no read and no write (a bulk resolve).
	var closed map[int64]bool
	for _, ev := range evs {
		if ev.Type != EventTicketCreated && ev.Type != EventTicketUpdated {
			continue
		}
		td, err := decodeTicketData(ev)
		if err != nil {
			// A malformed event cannot become valid later: skip it.
			d.engineFailed("decode", err)
			continue
		}
		for _, ae := range assignEventsOf(ev, td) {
			d.perform(ctx, eng.Apply(ae))
		}
		if td.Change == ChangeSLA {
			continue // the loop's own echo
		}
		if id := td.Ticket.ID; id != 0 {
			if !seen[id] {
				seen[id] = true
				touched = append(touched, id)
				if ev.Type == EventTicketCreated {
					created[id] = ev
					if decoded == nil {
						decoded = map[int64]*TicketData{}
					}
					decoded[id] = td
				}
			} else {
				delete(created, id)
			}
			if td.Ticket.Status == StatusResolved {
				if closed == nil {
					closed = map[int64]bool{}
				}
				closed[id] = true
			} else {
				delete(closed, id)
			}
		}
	}
	if len(closed) > 0 {
		rest := touched[:0]
		for _, id := range touched {
			if closed[id] {
				timers.remove(id)
				continue
			}
			rest = append(rest, id)
		}
		touched = rest
	}
	if len(created) > 0 {
		now := d.now()
		rest := touched[:0]
		for _, id := range touched {
			ev, ok := created[id]
			if !ok {
				rest = append(rest, id)
				continue
			}
			td := decoded[id]
			st := sla.Evaluate(d.policies, slaChangesOf(ev.At, factsOf(td), nil), now)
			state, fr, res := slaOf(st)
			if state != td.Ticket.SLAStatus || !sameTime(fr, td.Ticket.FirstResponseDue) || !sameTime(res, td.Ticket.ResolutionDue) {
				rest = append(rest, id) // the clock moved on since: save and push it
				continue
			}
			if !st.Next.IsZero() {
				timers.set(id, st.Next)
			}
		}
		touched = rest
	}
	next := cursor
	if len(evs) > 0 {
		next = evs[len(evs)-1].Seq
	}
	if len(touched) > 0 {
		if err := d.refreshSLA(ctx, timers, touched, d.now()); err != nil {
			// The engine has the events; the SLA of these tickets will be
			// evaluated again by their timers or their next change.
			return next, err
		}
	}
	return next, nil
}

// fireSLA re-evaluates the tickets whose SLA timer is due.
func (d *Desk) fireSLA(ctx context.Context, timers *slaTimers, now time.Time) {
	ids := timers.due(now)
	if len(ids) == 0 {
		return
	}
	if err := d.refreshSLA(ctx, timers, ids, now); err != nil {
		d.engineFailed("sla", err)
		for _, id := range ids {
			if _, ok := timers.pos[id]; !ok {
				timers.set(id, now.Add(time.Second)) // try again soon
			}
		}
	}
}

// perform carries out the engine's actions through the desk, in order. An
// Unassign followed in the same batch by an Assign of the same ticket is a
// transfer: one assignment.
func (d *Desk) perform(ctx context.Context, acts []assign.Action) {
	reassigned := map[int64]bool{}
	for _, a := range acts {
		if as, ok := a.(assign.Assign); ok {
			reassigned[as.Ticket] = true
		}
	}
	for i := 0; i < len(acts); i++ {
		var err error
		var kind string
		switch a := acts[i].(type) {
		case assign.Assign:
			// A run of assignments (a burst of new tickets, an agent
			// coming online) commits in one transaction.
			j := i
			for j+1 < len(acts) {
				if _, ok := acts[j+1].(assign.Assign); !ok {
					break
				}
				j++
			}
			d.assignAll(ctx, acts[i:j+1])
			i = j
			continue
		case assign.Unassign:
			kind = "unassign"
			if reassigned[a.Ticket] {
				continue
			}
			_, err = d.Unassign(ctx, a.Ticket, SystemActor, a.Agent)
			if err == nil {
				d.log.Info("ticket_requeued", "ticket_id", a.Ticket, "agent", a.Agent, "reason", a.Reason)
			}
		case assign.Escalate:
			kind = "escalate"
			err = d.escalate(ctx, a)
		case assign.PresenceChanged:
			kind = "presence"
			d.log.Debug("agent_presence", "agent", a.Agent, "presence", a.Presence)
		default:
			continue
		}
		if err != nil {
			d.metrics.engineActions.WithLabelValues(kind, "failed").Inc()
			if !errors.Is(err, ErrConflict) && !errors.Is(err, ErrTicketNotFound) {
				d.log.Warn("assignment_action_failed", "action", kind, "error", err)
			}
			continue
		}
		d.metrics.engineActions.WithLabelValues(kind, "ok").Inc()
	}
}

// assignAll carries out assignments in one transaction; one that no longer
// fits its ticket (resolved meanwhile) is skipped.
func (d *Desk) assignAll(ctx context.Context, acts []assign.Action) {
	ok, failed := 0, 0
	_, err := d.tx(ctx, func(tx *sqlite.Tx, ev *eventBuf) error {
		ok, failed = 0, 0
		now := d.now()
		for _, a := range acts {
			as := a.(assign.Assign)
			t, err := d.ticket(ctx, tx, as.Ticket)
			if errors.Is(err, ErrTicketNotFound) || (err == nil && (t.Status == StatusResolved || t.Assignee == as.Agent)) {
				failed++
				continue
			}
			if err != nil {
				return err
			}
			t.Assignee, t.UpdatedAt = as.Agent, now
			if t.Status == StatusOpen {
				t.Status = StatusAssigned
			}
			if err := saveTicket(ctx, tx, &t); err != nil {
				return err
			}
			if err := ev.add(EventTicketUpdated, TopicTickets, t.Queue, t.ID, "", "", now, time.Time{}, TicketData{Ticket: t, Change: ChangeAssigned, Actor: SystemActor}); err != nil {
				return err
			}
			ok++
		}
		return nil
	})
	if err != nil {
		ok, failed = 0, len(acts)
		d.log.Warn("assignment_action_failed", "action", "assign", "tickets", len(acts), "error", err)
	}
	d.metrics.engineActions.WithLabelValues("assign", "ok").Add(float64(ok))
	d.metrics.engineActions.WithLabelValues("assign", "failed").Add(float64(failed))
	d.metrics.actions.WithLabelValues(string(ChangeAssigned)).Add(float64(ok))
}

// Unassign puts a ticket back in its queue, if agent still owns it (any
// assignee when agent is empty).
func (d *Desk) Unassign(ctx context.Context, id int64, actor, agent string) (Ticket, error) {
	t, _, err := d.update(ctx, id, actor, ChangeAssigned, func(tx *sqlite.Tx, t *Ticket, now time.Time) (*Message, error) {
		if t.Status == StatusResolved {
			return nil, fmt.Errorf("%w: ticket %d is resolved", ErrConflict, t.ID)
		}
		if t.Assignee == "" || (agent != "" && t.Assignee != agent) {
			return nil, fmt.Errorf("%w: ticket %d is not assigned to %q", ErrConflict, t.ID, agent)
		}
		t.Assignee = ""
		if t.Status == StatusAssigned {
			t.Status = StatusOpen
		}
		return nil, nil
	})
	return t, err
}

// SetPriority changes a ticket's priority.
func (d *Desk) SetPriority(ctx context.Context, id int64, actor string, p router.Priority) (Ticket, error) {
	if !p.Valid() {
		return Ticket{}, fmt.Errorf("%w: priority %q: want low, normal, high or urgent", ErrInvalid, p)
	}
	t, _, err := d.update(ctx, id, actor, ChangePriority, func(tx *sqlite.Tx, t *Ticket, now time.Time) (*Message, error) {
		if t.Priority == p {
			return nil, fmt.Errorf("%w: ticket %d is already %s", ErrConflict, t.ID, p)
		}
		t.Priority = p
		return nil, nil
	})
	return t, err
}

// EscalatedData is the payload of ticket.escalated: a ticket waited too
// long for an agent, and the supervisors' queue is told.
type EscalatedData struct {
	TicketID    int64           `json:"ticket_id"`
	Queue       string          `json:"queue"`
	OldPriority router.Priority `json:"old_priority"`
	NewPriority router.Priority `json:"new_priority"`
	// NotifyQueue is the supervisors' queue to notify.
	NotifyQueue   string  `json:"notify_queue"`
	WaitedSeconds float64 `json:"waited_seconds"`
}

// escalate raises a waiting ticket's priority (when it can go higher) and
// emits ticket.escalated, in one transaction. The event goes to the
// supervisors' queue.
func (d *Desk) escalate(ctx context.Context, a assign.Escalate) error {
	_, err := d.tx(ctx, func(tx *sqlite.Tx, ev *eventBuf) error {
		t, err := d.ticket(ctx, tx, a.Ticket)
		if err != nil {
			return err
		}
		if t.Status == StatusResolved {
			return fmt.Errorf("%w: ticket %d is resolved", ErrConflict, t.ID)
		}
		now := d.now()
		if a.NewPriority != t.Priority && a.NewPriority.Rank() > t.Priority.Rank() {
			t.Priority, t.UpdatedAt = a.NewPriority, now
			// Saved with the new priority's SLA targets.
			if t, err = d.saveChange(ctx, tx, ev, TicketData{Ticket: t, Change: ChangePriority, Actor: SystemActor}, now); err != nil {
				return err
			}
		}
		return ev.add(EventTicketEscalated, TopicTickets, a.NotifyQueue, t.ID, "", "", now, time.Time{}, EscalatedData{
			TicketID: t.ID, Queue: t.Queue, OldPriority: a.OldPriority, NewPriority: a.NewPriority,
			NotifyQueue: a.NotifyQueue, WaitedSeconds: a.Waited.Seconds(),
		})
	})
	if err == nil {
		d.log.Info("ticket_escalated", "ticket_id", a.Ticket, "queue", a.Queue, "priority", a.NewPriority, "notify_queue", a.NotifyQueue)
	}
	return err
}
