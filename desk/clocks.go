package desk

import (
	"container/heap"
	"context"
	"fmt"
	"time"

	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/internal/jsonx"
	"github.com/vigie/vigie/internal/sqlite"
	"github.com/vigie/vigie/router"
)

// now is the desk's clock, in UTC.
func (d *Desk) now() time.Time { return d.cfg.Now().UTC() }

// changesFromDesk turns a ticket's events (ticket.created and
// ticket.updated, in seq order) into SLA changes. Every change carries the
// ticket's priority and queue, so that a new policy applies from when they
// changed.
func changesFromDesk(events []Event) ([]sla.Change, error) {
	var out []sla.Change
	for _, ev := range events {
		if ev.Type != EventTicketCreated && ev.Type != EventTicketUpdated {
			continue
		}
		var f slaFacts
		if err := jsonx.Unmarshal(ev.Data, &f); err != nil {
			return nil, fmt.Errorf("decode event %d: %w", ev.Seq, err)
		}
		out = slaChangesOf(ev.At, &f, out)
	}
	return out, nil
}

// slaFacts is what the SLA clocks read of a ticket event (TicketData).
// Decoding only this, not the whole ticket and message, takes about 30 %
// off replaying a ticket's events, and a fifth of the allocations
// (BenchmarkReplaySLA).
type slaFacts struct {
	Ticket struct {
		Queue    string          `json:"queue"`
		Status   Status          `json:"status"`
		Priority router.Priority `json:"priority"`
	} `json:"ticket"`
	Change Change `json:"change"`
	Actor  string `json:"actor"`
}

// factsOf returns the SLA facts of a decoded ticket event.
func factsOf(td *TicketData) *slaFacts {
	f := &slaFacts{Change: td.Change, Actor: td.Actor}
	f.Ticket.Queue, f.Ticket.Status, f.Ticket.Priority = td.Ticket.Queue, td.Ticket.Status, td.Ticket.Priority
	return f
}

// slaChangesOf appends the SLA changes of one ticket event, at at, to out.
func slaChangesOf(at time.Time, td *slaFacts, out []sla.Change) []sla.Change {
	c := sla.Change{At: at, Priority: td.Ticket.Priority, Queue: td.Ticket.Queue}
	switch td.Change {
	case ChangeCreated:
		c.Kind = sla.KindCreated
	case ChangeMessage:
		c.Kind = sla.KindCustomerMessage
	case ChangeReopened:
		c.Kind = sla.KindReopened
	case ChangeReplied:
		if td.Actor == "" {
			// An automatic acknowledgement: no person answered yet.
			c.Kind = sla.KindPriorityChanged
			break
		}
		c.Kind = sla.KindReplied
		switch td.Ticket.Status {
		case StatusPending:
			out = append(out, c)
			c.Kind = sla.KindPending
		case StatusResolved: // a macro that replies and resolves
			out = append(out, c)
			c.Kind = sla.KindResolved
		}
	case ChangeResolved:
		c.Kind = sla.KindResolved
	default:
		// assigned, note, delivery, edited, deleted, priority, sla: no
		// effect on the clocks, but a priority or queue they carry
		// applies.
		c.Kind = sla.KindPriorityChanged
	}
	out = append(out, c)
	return out
}

// slaOf returns the ticket fields of an SLA status.
func slaOf(st sla.Status) (state sla.State, firstDue, resDue *time.Time) {
	due := func(c sla.Clock) *time.Time {
		if c.Due.IsZero() {
			return nil
		}
		t := c.Due.UTC()
		return &t
	}
	return st.State, due(st.FirstResponse), due(st.Resolution)
}

// initialSLA sets the SLA fields of a ticket being created.
func (d *Desk) initialSLA(t *Ticket) {
	st := sla.Evaluate(d.policies, []sla.Change{{At: t.CreatedAt, Kind: sla.KindCreated, Priority: t.Priority, Queue: t.Queue}}, t.CreatedAt)
	t.SLAStatus, t.FirstResponseDue, t.ResolutionDue = slaOf(st)
}

// ticketSLA replays a ticket's events and evaluates its SLA at now.
func (d *Desk) ticketSLA(ctx context.Context, id int64, now time.Time) (sla.Status, error) {
	changes, err := d.slaChanges(ctx, d.db.R, id)
	if err != nil {
		return sla.Status{}, err
	}
	return sla.Evaluate(d.policies, changes, now), nil
}

// slaChanges reads a ticket's stored events, through q, as SLA changes.
func (d *Desk) slaChanges(ctx context.Context, q querier, id int64) ([]sla.Change, error) {
	rows, err := q.QueryContext(ctx, "SELECT seq, type, at, data FROM events WHERE ticket_id=? AND ticket_id != 0 AND type IN ('ticket.created', 'ticket.updated') ORDER BY seq", id)
	if err != nil {
		return nil, fmt.Errorf("read events of ticket %d: %w", id, err)
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		var e Event
		var typ string
		var at int64
		var data []byte
		if err := rows.Scan(&e.Seq, &typ, &at, &data); err != nil {
			return nil, fmt.Errorf("read events of ticket %d: %w", id, err)
		}
		e.Type, e.At, e.Data = EventType(typ), time.Unix(0, at).UTC(), data
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events of ticket %d: %w", id, err)
	}
	changes, err := changesFromDesk(evs)
	if err != nil {
		return nil, fmt.Errorf("ticket %d: %w", id, err)
	}
	return changes, nil
}

// slaWith sets the SLA fields of td's ticket to its status at now, after
// its stored events and then td, the change being made in tx. A person's
// action saves its own effect on the SLA (a resolve stops the clocks) in
// its own transaction and event: the assignment loop then finds nothing to
// save, and agents see one frame, not the action's and then the loop's.
func (d *Desk) slaWith(ctx context.Context, tx *sqlite.Tx, td *TicketData, now time.Time) error {
	changes, err := d.slaChanges(ctx, tx, td.Ticket.ID)
	if err != nil {
		return err
	}
	changes = slaChangesOf(now, factsOf(td), changes)
	td.Ticket.SLAStatus, td.Ticket.FirstResponseDue, td.Ticket.ResolutionDue = slaOf(sla.Evaluate(d.policies, changes, now))
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// refreshSLA evaluates the SLA of tickets at now, saves those whose status
// or due times changed with a ticket.updated (change "sla") each, and keeps
// the timers of open tickets. It evaluates and saves slaChunk changes at a
// time, and steps aside (Config.Yield) between two chunks.
func (d *Desk) refreshSLA(ctx context.Context, timers *slaTimers, ids []int64, now time.Time) error {
	var changed []slaUpdate
	for len(ids) > 0 {
		changed = changed[:0]
		for len(ids) > 0 && len(changed) < slaChunk {
			id := ids[0]
			ids = ids[1:]
			t, err := d.ticket(ctx, d.db.R, id)
			if err != nil {
				return err
			}
			st, err := d.ticketSLA(ctx, id, now)
			if err != nil {
				return err
			}
			if t.Status == StatusResolved || st.Next.IsZero() {
				timers.remove(id)
			} else {
				timers.set(id, st.Next)
			}
			state, fr, res := slaOf(st)
			if state != t.SLAStatus || !sameTime(fr, t.FirstResponseDue) || !sameTime(res, t.ResolutionDue) {
				changed = append(changed, slaUpdate{id, state, fr, res, t.UpdatedAt})
			}
		}
		if len(changed) == 0 {
			continue
		}
		if err := d.saveSLA(ctx, changed, now); err != nil {
			return err
		}
		if len(ids) > 0 && d.cfg.Yield != nil {
			d.cfg.Yield(ctx)
		}
	}
	return nil
}

// slaChunk bounds the SLA changes saved in one transaction. A backlog that
// crosses its targets together (tickets opened in the same minutes, or a
// restart after a long stop) changes thousands at once; in one transaction
// that held the desk's writer, and so the router's batches, for hundreds
// of milliseconds. A chunk takes about as long as a router batch.
const slaChunk = 128

// slaUpdate is one ticket's new SLA status and due times, evaluated on
// the ticket as it was at updated.
type slaUpdate struct {
	id      int64
	state   sla.State
	fr, res *time.Time
	updated time.Time
}

// saveSLA saves SLA changes, with a ticket.updated (change "sla") each. They
// are derived from the events and the clock, and evaluated again for every
// open ticket at start, so they are committed like the router's batches:
// durable across a crash of the process, fsynced with the next action of a
// person.
func (d *Desk) saveSLA(ctx context.Context, changed []slaUpdate, now time.Time) error {
	_, err := d.txSync(ctx, sqlite.SyncNormal, func(tx *sqlite.Tx, ev *eventBuf) error {
		for _, u := range changed {
			t, err := d.ticket(ctx, tx, u.id)
			if err != nil {
				return err
			}
			if !t.UpdatedAt.Equal(u.updated) {
				// Changed since: the change saved its own SLA (an agent's
				// action), or its event brings the ticket back here.
				continue
			}
			t.SLAStatus, t.FirstResponseDue, t.ResolutionDue = u.state, u.fr, u.res
			if _, err := tx.ExecContext(ctx, "UPDATE tickets SET sla_status=?, first_response_due=?, resolution_due=? WHERE id=?",
				string(u.state), nanos(u.fr), nanos(u.res), u.id); err != nil {
				return fmt.Errorf("save SLA of ticket %d: %w", u.id, err)
			}
			if err := ev.add(EventTicketUpdated, TopicTickets, t.Queue, t.ID, "", t.Source+"/"+t.Author.ID, now, time.Time{}, TicketData{Ticket: t, Change: ChangeSLA}); err != nil {
				return err
			}
			d.metrics.slaChanges.WithLabelValues(string(u.state)).Inc()
		}
		return nil
	})
	return err
}

// slaTimers holds, for open tickets, when their SLA status next changes by
// itself: a min-heap on the instant, indexed by ticket.
type slaTimers struct {
	items []slaTimer
	pos   map[int64]int
}

type slaTimer struct {
	id int64
	at time.Time
}

func newSLATimers() *slaTimers { return &slaTimers{pos: map[int64]int{}} }

func (h *slaTimers) Len() int           { return len(h.items) }
func (h *slaTimers) Less(i, j int) bool { return h.items[i].at.Before(h.items[j].at) }
func (h *slaTimers) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.pos[h.items[i].id], h.pos[h.items[j].id] = i, j
}
func (h *slaTimers) Push(x any) {
	t := x.(slaTimer)
	h.pos[t.id] = len(h.items)
	h.items = append(h.items, t)
}
func (h *slaTimers) Pop() any {
	t := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	delete(h.pos, t.id)
	return t
}

func (h *slaTimers) set(id int64, at time.Time) {
	if i, ok := h.pos[id]; ok {
		h.items[i].at = at
		heap.Fix(h, i)
		return
	}
	heap.Push(h, slaTimer{id, at})
}

func (h *slaTimers) remove(id int64) {
	if i, ok := h.pos[id]; ok {
		heap.Remove(h, i)
	}
}

// next returns the earliest instant, if any.
func (h *slaTimers) next() (time.Time, bool) {
	if len(h.items) == 0 {
		return time.Time{}, false
	}
	return h.items[0].at, true
}

// due takes out the tickets whose instant has come.
func (h *slaTimers) due(now time.Time) []int64 {
	var out []int64
	for len(h.items) > 0 && !h.items[0].at.After(now) {
		out = append(out, heap.Pop(h).(slaTimer).id)
	}
	return out
}
