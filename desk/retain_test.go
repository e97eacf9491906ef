package desk

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/listener"
)

// TestRetainExpiresOldContentKeepsFacts: a sweep blanks the text and the
// author of what was posted before the cutoff, in messages, events and
// tickets, keeps every fact KPIs count, leaves younger content alone,
// publishes retention.applied, and does nothing twice.
func TestRetainExpiresOldContentKeepsFacts(t *testing.T) {
	d := openTestDesk(t, HubConfig{})
	f := &feeder{t: t, d: d}
	ctx := context.Background()
	f.apply(f.mention("1", "ana", "old secret complaint", "", 1), f.mention("2", "bob", "old secret too", "", 1))
	young := f.mention("3", "cy", "young words", "", 1)
	m := young.Record.Item.Mention
	m.CreatedAt = time.Now().Add(time.Hour).UTC()
	young.Record.Item = listener.MentionItem(*m)
	ts := tickets(t, d)
	if _, _, err := d.Reply(ctx, ts[len(ts)-1].ID, "alice", "old secret reply"); err != nil {
		t.Fatal(err)
	}
	f.apply(young)
	// The reply goes out through the outbox in the background, and its
	// delivery rewrites the ticket: let it land before the sweep, so that
	// one sweep is the whole story (a delivery racing a sweep is expired
	// by the next one).
	replied := ts[len(ts)-1].ID
	deadline := time.Now().Add(10 * time.Second)
	for {
		full, err := d.Ticket(ctx, replied)
		if err != nil {
			t.Fatal(err)
		}
		sent := false
		for _, msg := range full.Messages {
			sent = sent || (msg.Direction == Outbound && msg.Delivery == DeliverySent)
		}
		if sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the reply was never delivered")
		}
		time.Sleep(5 * time.Millisecond)
	}
	before := map[int64]Ticket{}
	for _, tk := range tickets(t, d) {
		before[tk.ID] = tk
	}

	cutoff := time.Now().Add(time.Minute)
	res, err := d.Retain(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 3 || res.Events == 0 || res.Tickets != 2 {
		t.Fatalf("Retain = %+v", res)
	}
	for _, tk := range tickets(t, d) {
		b := before[tk.ID]
		if tk.Queue != b.Queue || tk.Status != b.Status || tk.Sentiment != b.Sentiment || tk.Priority != b.Priority ||
			!tk.CreatedAt.Equal(b.CreatedAt) || (tk.FirstResponseAt == nil) != (b.FirstResponseAt == nil) || tk.Author.ID != b.Author.ID {
			t.Fatalf("ticket %d facts changed:\n%+v\n%+v", tk.ID, b, tk)
		}
		full, _ := d.Ticket(ctx, tk.ID)
		for _, msg := range full.Messages {
			young := strings.Contains(msg.Text, "young")
			if !young && (msg.Text != expired || (msg.Author != nil && msg.Author.Name != "")) {
				t.Fatalf("old message not expired: %+v", msg)
			}
		}
		if tk.Author.ID == "cy" && tk.Author.Name == "" {
			t.Fatalf("a young ticket lost its author: %+v", tk.Author)
		}
	}
	evs, _ := d.ReadEvents(ctx, 0, 1000)
	var applied int
	for _, e := range evs {
		if strings.Contains(string(e.Data), "secret") || strings.Contains(string(e.Data), "Ana ana") {
			t.Fatalf("event %d still holds old content: %s", e.Seq, e.Data)
		}
		if e.Type == EventRetentionApplied {
			applied++
			var rd RetentionData
			if err := json.Unmarshal(e.Data, &rd); err != nil || !rd.Before.Equal(cutoff.UTC()) {
				t.Fatalf("retention.applied %s (%v)", e.Data, err)
			}
		}
	}
	if applied != 1 {
		t.Fatalf("%d retention.applied events", applied)
	}
	again, err := d.Retain(ctx, cutoff)
	if err != nil || again.Messages != 0 || again.Events != 0 || again.Tickets != 0 {
		t.Fatalf("second sweep %+v, %v", again, err)
	}
}
