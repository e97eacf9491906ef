package crm

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/desk"
)

// TestSurveySent: a ticket resolved in a queue with a template gets its
// survey message, with the signed link, queued in the desk's outbox as a
// message from no person (no first response), once, even when the CRM
// restarts between queuing it and recording it; a queue without template
// gets none.
func TestSurveySent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, surveyConfig())
	e.feed(post{source: "x", id: "1", author: "ana", queue: "support"}, post{source: "x", id: "2", author: "bob", queue: "billing"})
	page, err := e.desk.Tickets(e.ctx, desk.Filter{Limit: 10})
	if err != nil || len(page.Tickets) != 2 {
		t.Fatalf("tickets: %v %+v", err, page)
	}
	for _, tk := range page.Tickets {
		if _, err := e.desk.Resolve(e.ctx, tk.ID, "alice"); err != nil {
			t.Fatal(err)
		}
	}
	e.catchUp()
	ana, err := e.desk.Tickets(e.ctx, desk.Filter{Author: "x/ana", Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	tid := ana.Tickets[0].ID
	if n, err := e.crm.SendSurveys(e.ctx); err != nil || n != 1 {
		t.Fatalf("send surveys: %d, %v; want 1", n, err)
	}
	msg, err := e.crm.SurveyMessage(e.ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	outbound := func(id int64) []desk.Message {
		t.Helper()
		tk, err := e.desk.Ticket(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if tk.FirstResponseAt != nil || tk.Status != desk.StatusResolved {
			t.Errorf("ticket %d after its survey: first response %v, status %s", id, tk.FirstResponseAt, tk.Status)
		}
		var out []desk.Message
		for _, m := range tk.Messages {
			if m.Direction == desk.Outbound {
				out = append(out, m)
			}
		}
		return out
	}
	sent := outbound(tid)
	if len(sent) != 1 || sent[0].Text != msg.Text || !strings.Contains(sent[0].Text, "csat?t="+msg.Token) || sent[0].Agent != "" {
		t.Fatalf("survey message in the desk %+v, want %q", sent, msg.Text)
	}
	for _, tk := range page.Tickets {
		if tk.ID != tid && len(outbound(tk.ID)) != 0 {
			t.Errorf("ticket %d of a queue without template got a message", tk.ID)
		}
	}
	// The desk's ticket.updated for the survey is read back: no new survey,
	// nothing more to send.
	e.catchUp()
	if n, err := e.crm.SendSurveys(e.ctx); err != nil || n != 0 {
		t.Fatalf("send surveys again: %d, %v; want 0", n, err)
	}

	// A crash after the desk queued the message but before the CRM
	// recorded it: after a restart, the same key queues nothing new.
	if _, err := e.crm.db.Exec(e.ctx, "UPDATE surveys SET send_status='pending' WHERE ticket_id=?", tid); err != nil {
		t.Fatal(err)
	}
	e.crm.Close()
	cfg := surveyConfig()
	cfg.Path, cfg.Now = e.crm.cfg.Path, e.clock.Now
	c, err := Open(e.ctx, cfg, e.desk, e.desk, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e.crm = c
	if n, err := c.SendSurveys(e.ctx); err != nil || n != 1 {
		t.Fatalf("send surveys after the restart: %d, %v; want 1", n, err)
	}
	if got := outbound(tid); len(got) != 1 {
		t.Errorf("%d survey messages after the restart, want 1", len(got))
	}
	var status string
	if err := c.db.R.QueryRowContext(e.ctx, "SELECT send_status FROM surveys WHERE ticket_id=?", tid).Scan(&status); err != nil || status != sendSent {
		t.Errorf("send status %q (%v), want sent", status, err)
	}
}

// TestSurveyExpiredUnsent: a survey that could not be sent before it
// expired is not sent late.
func TestSurveyExpiredUnsent(t *testing.T) {
	t.Parallel()
	cfg := surveyConfig()
	cfg.SurveyTTL = time.Hour
	e := newEnv(t, cfg)
	e.feed(post{source: "x", id: "1", author: "ana", queue: "support"})
	page, _ := e.desk.Tickets(e.ctx, desk.Filter{Limit: 1})
	if _, err := e.desk.Resolve(e.ctx, page.Tickets[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	e.catchUp()
	e.clock.Add(2 * time.Hour)
	if n, err := e.crm.SendSurveys(e.ctx); err != nil || n != 1 {
		t.Fatalf("send surveys: %d, %v", n, err)
	}
	tk, _ := e.desk.Ticket(e.ctx, page.Tickets[0].ID)
	if len(tk.Messages) != 1 {
		t.Errorf("%d messages: an expired survey was sent", len(tk.Messages))
	}
}
