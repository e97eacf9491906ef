package sla_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/router"
)

// changesFromDesk is how the desk turns a ticket's events (ticket.created
// and ticket.updated, in seq order) into SLA changes. It lives here so that
// it is compiled and tested against the desk's real types; the desk copies
// it (the desk imports sla, so sla cannot import the desk).
func changesFromDesk(events []desk.Event) ([]sla.Change, error) {
	var out []sla.Change
	for _, ev := range events {
		if ev.Type != desk.EventTicketCreated && ev.Type != desk.EventTicketUpdated {
			continue
		}
		var td desk.TicketData
		if err := json.Unmarshal(ev.Data, &td); err != nil {
			return nil, err
		}
		c := sla.Change{At: ev.At, Priority: td.Ticket.Priority, Queue: td.Ticket.Queue}
		switch td.Change {
		case desk.ChangeCreated:
			c.Kind = sla.KindCreated
		case desk.ChangeMessage:
			c.Kind = sla.KindCustomerMessage
		case desk.ChangeReopened:
			c.Kind = sla.KindReopened
		case desk.ChangeReplied:
			c.Kind = sla.KindReplied
			if td.Ticket.Status == desk.StatusPending {
				out = append(out, c)
				c.Kind = sla.KindPending
			}
		case desk.ChangeResolved:
			c.Kind = sla.KindResolved
		default:
			// assigned, note, delivery, edited, deleted: no effect on the
			// clocks, but a priority or queue they carry applies.
			c.Kind = sla.KindPriorityChanged
		}
		out = append(out, c)
	}
	return out, nil
}

func TestChangesFromDesk(t *testing.T) {
	t.Parallel()
	u := func(s string) time.Time { return at(t, time.UTC, s) }
	ticket := desk.Ticket{ID: 7, Queue: "support", Priority: router.PriorityNormal, Status: desk.StatusOpen}
	var events []desk.Event
	add := func(typ desk.EventType, when string, change desk.Change, edit func(*desk.Ticket)) {
		if edit != nil {
			edit(&ticket)
		}
		data, err := json.Marshal(desk.TicketData{Ticket: ticket, Change: change})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, desk.Event{Seq: int64(len(events) + 1), Type: typ, At: u(when), Data: data})
	}
	// Monday 2026-11-16, office hours 09:00-17:00.
	add(desk.EventTicketCreated, "2026-11-16 09:00", desk.ChangeCreated, nil)
	add(desk.EventTicketUpdated, "2026-11-16 09:10", desk.ChangeAssigned, func(t *desk.Ticket) { t.Assignee, t.Status = "ann", desk.StatusAssigned })
	add(desk.EventTicketUpdated, "2026-11-16 10:00", desk.ChangeReplied, func(t *desk.Ticket) { t.Status = desk.StatusPending })
	add(desk.EventTicketUpdated, "2026-11-16 10:00", desk.ChangeDelivery, nil)
	add(desk.EventTicketUpdated, "2026-11-16 16:00", desk.ChangeMessage, func(t *desk.Ticket) {
		t.Status, t.Priority = desk.StatusAssigned, router.PriorityHigh // an angrier follow-up
	})
	add(desk.EventTicketUpdated, "2026-11-16 16:30", desk.ChangeNote, nil)
	changes, err := changesFromDesk(events)
	if err != nil {
		t.Fatal(err)
	}
	st := sla.Evaluate(testPolicies(t), changes, u("2026-11-16 16:30"))
	// First response in 1h of 2h. Resolution: 1h ran before the reply;
	// paused until 16:00; raised to high (4h) at 16:00 with 7/8 of the 8h
	// budget left, so 3h30 left then, 3h after 30 minutes.
	want := sla.Status{
		FirstResponse: sla.Clock{State: sla.StateHit, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: time.Hour, Remaining: time.Hour},
		Resolution:    sla.Clock{State: sla.StateActive, Target: 4 * time.Hour, Due: u("2026-11-17 11:30"), Elapsed: 90 * time.Minute, Remaining: 3 * time.Hour, WarnAt: u("2026-11-17 10:42")},
	}
	checkClock(t, "first response", st.FirstResponse, want.FirstResponse)
	checkClock(t, "resolution", st.Resolution, want.Resolution)
}
