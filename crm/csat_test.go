package crm

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/desk"
)

func surveyConfig() Config {
	return Config{Surveys: map[string]Survey{
		"support": {Text: "How did we do? {link}", URL: "https://brand.example/csat?t={token}"},
	}}
}

// resolved feeds a customer post, has alice answer and resolve it, and
// returns the ticket id.
func (e *env) resolved(id, author, queue string) int64 {
	e.t.Helper()
	e.feed(post{source: "x", id: id, author: author, queue: queue})
	page, err := e.desk.Tickets(e.ctx, desk.Filter{Author: "x/" + author, Limit: 1})
	if err != nil || len(page.Tickets) == 0 {
		e.t.Fatalf("ticket of %s: %v", author, err)
	}
	tid := page.Tickets[0].ID
	if _, _, err := e.desk.Reply(e.ctx, tid, "alice", "sorry about that"); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.desk.Resolve(e.ctx, tid, "alice"); err != nil {
		e.t.Fatal(err)
	}
	e.catchUp()
	return tid
}

func TestCSAT(t *testing.T) {
	t.Parallel()
	e := newEnv(t, surveyConfig())
	tid := e.resolved("1", "ana", "support")
	other := e.resolved("2", "bob", "billing") // no template: no survey
	if _, err := e.crm.SurveyMessage(e.ctx, other); !errors.Is(err, ErrNotFound) {
		t.Fatalf("survey in a queue without template: %v", err)
	}
	msg, err := e.crm.SurveyMessage(e.ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(msg.Text, "How did we do? https://brand.example/csat?t=") || !strings.HasSuffix(msg.Link, msg.Token) {
		t.Fatalf("survey message %+v", msg)
	}

	// Bad tokens: forged, tampered.
	for _, tok := range []string{"nope", msg.Token[:len(msg.Token)-2] + "AA", e.crm.token(999, t0.Add(time.Hour))[:10]} {
		if _, err := e.crm.Rate(e.ctx, tok, RatingRequest{Rating: 5}); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("token %q: %v, want unauthorized", tok, err)
		}
	}
	if _, err := e.crm.Rate(e.ctx, msg.Token, RatingRequest{Rating: 6}); !errors.Is(err, ErrInvalid) {
		t.Errorf("rating 6: %v, want invalid", err)
	}
	r, err := e.crm.Rate(e.ctx, msg.Token, RatingRequest{Rating: 4, Comment: " quick answer "})
	if err != nil {
		t.Fatal(err)
	}
	if r.TicketID != tid || r.Agent != "alice" || r.Queue != "support" || r.Comment != "quick answer" {
		t.Errorf("rating %+v", r)
	}
	if _, err := e.crm.Rate(e.ctx, msg.Token, RatingRequest{Rating: 1}); !errors.Is(err, ErrGone) {
		t.Errorf("a second answer: %v, want gone (single use)", err)
	}
	e.catchUp()

	// csat.rated reached the desk's log, tagged with the person.
	evs, err := e.desk.ReadEvents(e.ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var offered, rated int
	for _, ev := range evs {
		switch ev.Type {
		case EventCSATOffered:
			offered++
			if strings.Contains(string(ev.Data), msg.Token) {
				t.Error("csat.offered carries the token: every agent would see it")
			}
		case EventCSATRated:
			rated++
			var got Rating
			if err := json.Unmarshal(ev.Data, &got); err != nil || got.Rating != 4 || got.TicketID != tid {
				t.Errorf("csat.rated %s", ev.Data)
			}
		}
	}
	if offered != 1 || rated != 1 {
		t.Fatalf("%d csat.offered and %d csat.rated in the desk's log, want 1 and 1", offered, rated)
	}
	p := e.profileOf("x", "ana")
	if p.Satisfaction.Responses != 1 || *p.Satisfaction.Score != 1 {
		t.Errorf("satisfaction %+v", p.Satisfaction)
	}

	// Another survey, answered 2 (not positive), one left unanswered, one
	// expired: score 1/2, response rate 2/3 in support.
	t2 := e.resolved("3", "cat", "support")
	m2, _ := e.crm.SurveyMessage(e.ctx, t2)
	if _, err := e.crm.Rate(e.ctx, m2.Token, RatingRequest{Rating: 2}); err != nil {
		t.Fatal(err)
	}
	t3 := e.resolved("4", "dan", "support")
	m3, _ := e.crm.SurveyMessage(e.ctx, t3)
	e.clock.Add(8 * 24 * time.Hour)
	if _, err := e.crm.Rate(e.ctx, m3.Token, RatingRequest{Rating: 5}); !errors.Is(err, ErrGone) {
		t.Errorf("an expired survey: %v, want gone", err)
	}
	rep, err := e.crm.CSAT(e.ctx, t0.Add(-time.Hour), e.clock.Now(), "queue")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Buckets) != 1 || rep.Buckets[0].Key != "support" {
		t.Fatalf("buckets %+v", rep.Buckets)
	}
	b := rep.Buckets[0]
	if b.Offered != 3 || b.Responses != 2 || b.Positive != 1 || *b.Score != 0.5 || *b.ResponseRate != 2.0/3 || *b.Average != 3 {
		t.Errorf("support bucket %+v", b)
	}
	byAgent, err := e.crm.CSAT(e.ctx, t0.Add(-time.Hour), e.clock.Now(), "agent")
	if err != nil || len(byAgent.Buckets) != 1 || byAgent.Buckets[0].Key != "alice" {
		t.Errorf("by agent %+v, %v", byAgent, err)
	}
	if _, err := e.crm.CSAT(e.ctx, t0, e.clock.Now(), "source"); !errors.Is(err, ErrInvalid) {
		t.Errorf("by source: %v, want invalid", err)
	}

	// A CRM rebuilt from the desk's log gets its ratings back, and offers
	// no stale survey again.
	if _, err := e.crm.db.Exec(e.ctx, "DELETE FROM tickets; DELETE FROM surveys; DELETE FROM outbox; UPDATE state SET value=0 WHERE name='cursor'"); err != nil {
		t.Fatal(err)
	}
	e.crm.cursor.Store(0)
	e.catchUp()
	if p := e.profileOf("x", "ana"); p.Satisfaction.Responses != 1 {
		t.Errorf("after a rebuild: %+v", p.Satisfaction)
	}
	var queued int
	e.crm.db.R.QueryRow("SELECT COUNT(*) FROM surveys").Scan(&queued)
	if queued != 0 {
		t.Errorf("a rebuild offered %d expired surveys again", queued)
	}
}

func TestCSATErasure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, surveyConfig())
	tid := e.resolved("1", "ana", "support")
	msg, err := e.crm.SurveyMessage(e.ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	e.erase("x", "ana")
	if _, err := e.crm.Rate(e.ctx, msg.Token, RatingRequest{Rating: 5}); !errors.Is(err, ErrGone) {
		t.Errorf("answering an erased person's survey: %v, want gone", err)
	}
}
