package desk

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestSystemReply: a message from no person on a resolved ticket is posted
// through the outbox once per key, and counts as no response.
func TestSystemReply(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	sb := NewSandbox()
	d.SetReplier(sb)
	f := &feeder{t: t, d: d}
	f.apply(f.mention("1", "ana", "train late", "", 1))
	ctx := context.Background()
	id := tickets(t, d)[0].ID
	if _, err := d.Resolve(ctx, id, "alice"); err != nil {
		t.Fatal(err)
	}
	m, queued, err := d.SystemReply(ctx, id, "How did we do? https://brand.example/csat?t=x", "vigie-csat-1")
	if err != nil || !queued || m.Agent != "" || m.Direction != Outbound {
		t.Fatalf("system reply: %+v %v %v", m, queued, err)
	}
	again, queued, err := d.SystemReply(ctx, id, "How did we do? https://brand.example/csat?t=x", "vigie-csat-1")
	if err != nil || queued || again.ID != m.ID {
		t.Fatalf("the same key again: %+v %v %v", again, queued, err)
	}
	tk, err := d.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != StatusResolved || tk.FirstResponseAt != nil || tk.Assignee != "" || len(tk.Messages) != 2 {
		t.Errorf("after the system reply: status %s, first response %v, assignee %q, %d messages", tk.Status, tk.FirstResponseAt, tk.Assignee, len(tk.Messages))
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sb.Posts()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	posts := sb.Posts()
	if len(posts) != 1 || posts[0].InReplyTo != "1" || posts[0].IdempotencyKey != "vigie-csat-1" {
		t.Fatalf("posted %+v", posts)
	}
	// Its event has no actor: no one responded.
	evs, err := d.ReadEvents(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	replies := 0
	for _, ev := range evs {
		var td TicketData
		if ev.Type != EventTicketUpdated || json.Unmarshal(ev.Data, &td) != nil || td.Change != ChangeReplied {
			continue
		}
		replies++
		if td.Actor != "" || td.Ticket.FirstResponseAt != nil {
			t.Errorf("system reply event %+v", td)
		}
	}
	if replies != 1 {
		t.Errorf("%d reply events, want 1", replies)
	}
	if _, _, err := d.SystemReply(ctx, 999, "hello", "k"); err == nil {
		t.Error("a system reply to an unknown ticket was accepted")
	}
	if _, _, err := d.SystemReply(ctx, id, "hello", ""); err == nil {
		t.Error("a system reply without key was accepted")
	}
}
