package assign_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/desk/assign"
	"github.com/vigie/vigie/router"
)

// eventsFromDesk is how the desk turns one of its events into engine
// events. It lives here so that it is compiled and tested against the
// desk's real types; the desk copies it (the desk imports assign, so assign
// cannot import the desk). Presence comes from the hub (AgentPresence when
// an agent's first connection opens or its last one closes) and activity
// from the agent's requests and websocket messages (AgentActivity).
func eventsFromDesk(ev desk.Event) ([]assign.Event, error) {
	if ev.Type != desk.EventTicketCreated && ev.Type != desk.EventTicketUpdated {
		return nil, nil
	}
	var td desk.TicketData
	if err := json.Unmarshal(ev.Data, &td); err != nil {
		return nil, err
	}
	t := td.Ticket
	switch td.Change {
	case desk.ChangeCreated:
		return []assign.Event{assign.TicketOpened{ID: t.ID, Queue: t.Queue, Priority: t.Priority, At: t.CreatedAt}}, nil
	case desk.ChangeReopened:
		return []assign.Event{assign.TicketOpened{ID: t.ID, Queue: t.Queue, Priority: t.Priority, At: ev.At, Assignee: t.Assignee}}, nil
	case desk.ChangeMessage:
		return []assign.Event{
			assign.TicketPriorityChanged{ID: t.ID, Priority: t.Priority, At: ev.At},
			assign.TicketPending{ID: t.ID, Pending: false, At: ev.At},
		}, nil
	case desk.ChangeReplied:
		// A reply makes its author the assignee of an unowned ticket.
		return []assign.Event{
			assign.TicketAssigned{ID: t.ID, Agent: t.Assignee, At: ev.At},
			assign.TicketPending{ID: t.ID, Pending: t.Status == desk.StatusPending, At: ev.At},
		}, nil
	case desk.ChangeAssigned:
		// Also the echo of the engine's own Assign actions: a no-op then.
		return []assign.Event{assign.TicketAssigned{ID: t.ID, Agent: t.Assignee, At: ev.At}}, nil
	case desk.ChangeResolved:
		return []assign.Event{assign.TicketClosed{ID: t.ID, At: ev.At}}, nil
	}
	return nil, nil
}

func TestEventsFromDesk(t *testing.T) {
	t.Parallel()
	e, err := assign.New(assign.Config{IdleTimeout: assign.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
	for _, n := range []string{"ann", "bob"} {
		e.Apply(assign.AgentUpdated{Agent: assign.Agent{Name: n, Skills: map[string]int{"support": 1}, Capacity: 1}, At: t0})
		e.Apply(assign.AgentPresence{Agent: n, Presence: assign.Online, At: t0})
	}
	feed := func(at time.Time, typ desk.EventType, change desk.Change, tk desk.Ticket) []assign.Action {
		t.Helper()
		data, err := json.Marshal(desk.TicketData{Ticket: tk, Change: change})
		if err != nil {
			t.Fatal(err)
		}
		evs, err := eventsFromDesk(desk.Event{Type: typ, At: at, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		var out []assign.Action
		for _, ev := range evs {
			out = append(out, e.Apply(ev)...)
		}
		return out
	}
	tk := func(id int64, status desk.Status, assignee string) desk.Ticket {
		return desk.Ticket{ID: id, Queue: "support", Priority: router.PriorityNormal, Status: status, Assignee: assignee, CreatedAt: t0}
	}
	if acts := feed(t0, desk.EventTicketCreated, desk.ChangeCreated, tk(1, desk.StatusOpen, "")); !reflect.DeepEqual(acts, []assign.Action{assign.Assign{Ticket: 1, Agent: "ann", Queue: "support"}}) {
		t.Fatalf("created: %v", acts)
	}
	// The desk persists the Assign: its echo changes nothing.
	if acts := feed(t0, desk.EventTicketUpdated, desk.ChangeAssigned, tk(1, desk.StatusAssigned, "ann")); len(acts) != 0 {
		t.Fatalf("echo: %v", acts)
	}
	feed(t0, desk.EventTicketCreated, desk.ChangeCreated, tk(2, desk.StatusOpen, "")) // bob
	feed(t0, desk.EventTicketCreated, desk.ChangeCreated, tk(3, desk.StatusOpen, "")) // waits
	acts := feed(t0.Add(time.Minute), desk.EventTicketUpdated, desk.ChangeReplied, tk(1, desk.StatusPending, "ann"))
	if !reflect.DeepEqual(acts, []assign.Action{assign.Assign{Ticket: 3, Agent: "ann", Queue: "support"}}) {
		t.Fatalf("ann replied, 1 waits on the customer, she takes 3: %v", acts)
	}
	// The customer answers on 1: ann is over capacity but keeps it; nothing
	// new for her until she is under it again.
	feed(t0.Add(2*time.Minute), desk.EventTicketUpdated, desk.ChangeMessage, tk(1, desk.StatusAssigned, "ann"))
	feed(t0.Add(3*time.Minute), desk.EventTicketCreated, desk.ChangeCreated, tk(4, desk.StatusOpen, ""))
	if acts := feed(t0.Add(4*time.Minute), desk.EventTicketUpdated, desk.ChangeResolved, tk(3, desk.StatusResolved, "ann")); len(acts) != 0 {
		t.Fatalf("ann still holds 1: %v", acts)
	}
	if acts := feed(t0.Add(5*time.Minute), desk.EventTicketUpdated, desk.ChangeResolved, tk(1, desk.StatusResolved, "ann")); !reflect.DeepEqual(acts, []assign.Action{assign.Assign{Ticket: 4, Agent: "ann", Queue: "support"}}) {
		t.Fatalf("ann free: %v", acts)
	}
	// Reopened within the window: back to ann, who owns it, even over
	// capacity.
	if acts := feed(t0.Add(6*time.Minute), desk.EventTicketUpdated, desk.ChangeReopened, tk(1, desk.StatusAssigned, "ann")); len(acts) != 0 {
		t.Fatalf("reopened: %v", acts)
	}
	for _, a := range e.Agents() {
		if a.Name == "ann" && !reflect.DeepEqual(a.Tickets, []int64{1, 4}) {
			t.Fatalf("ann holds %v", a.Tickets)
		}
	}
}
