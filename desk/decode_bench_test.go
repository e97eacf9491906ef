package desk

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/vigie/vigie/internal/jsonx"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// BenchmarkDecodeMentionData compares the sinks' decoding of a typical
// mention.received payload with encoding/json, with jsonx, and with
// DecodePayload (jsonx skipping the routing trace), in one run.
func BenchmarkDecodeMentionData(b *testing.B) {
	md := MentionData{
		Mention: listener.Mention{Source: "mastodon", ID: "1234567890", URL: "https://mastodon.social/@lea/1234567890", CreatedAt: time.Now(),
			Author: listener.Author{ID: "lea", Handle: "@lea@mastodon.social", Name: "Léa Martin", Followers: 1234},
			Text:   "Toujours aucune réponse pour mon remboursement, ça fait trois semaines que j'attends #velora @velora", Lang: "fr", Conversation: "abc"},
		Version: 1, IntakeSeq: 42, ReceivedAt: time.Now(),
		Enrichment: router.Enrichment{Lang: "fr", LangConfidence: 0.93, Sentiment: -0.62, Label: "negative", SentimentTerms: []string{"toujours aucune réponse", "remboursement"}, Intent: "complaint", IntentTerms: []string{"remboursement"}, Influence: 41},
		Decision: router.Decision{Queue: "refunds", Priority: "high", Tags: []string{"refund", "fr"}, Rule: "refunds-fr", Trace: []router.Step{
			{Rule: "spam", Why: "no match"}, {Rule: "refunds-fr", Matched: true, Why: "text matches remboursement; sentiment -0.62 < -0.3"}, {Rule: "vip", Why: "influence 41 < 70"}}},
		TicketID: 77,
	}
	data, err := json.Marshal(md)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		fn   func([]byte, any) error
	}{{"encoding/json", json.Unmarshal}, {"jsonx", jsonx.Unmarshal}, {"DecodePayload", DecodePayload}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				var got MentionData
				if err := c.fn(data, &got); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sampleTicketEvent is a typical ticket.updated payload: a ticket with its
// routing trace and an inbound message.
func sampleTicketEvent(change Change, actor string, status Status) []byte {
	now := time.Now().UTC()
	td := TicketData{
		Ticket: Ticket{ID: 77, Queue: "refunds", Status: status, Priority: router.PriorityHigh, Sentiment: -0.62, Intent: "complaint", Lang: "fr", Source: "mastodon",
			Author:       listener.Author{ID: "lea", Handle: "@lea@mastodon.social", Name: "Léa Martin", Followers: 1234},
			Conversation: "abc", CreatedAt: now, UpdatedAt: now, Assignee: "ann", Tags: []string{"refund", "fr"}, MessageCount: 2,
			Routing: Routing{Rule: "refunds-fr", Trace: []router.Step{{Rule: "spam", Why: "no match"}, {Rule: "refunds-fr", Matched: true, Why: "text matches remboursement; sentiment -0.62 < -0.3"}}}},
		Change: change, Actor: actor,
		Message: &Message{TicketID: 77, Direction: Inbound, Source: "mastodon", NativeID: "1234567890", Version: 1, Text: "Toujours aucune réponse pour mon remboursement, ça fait trois semaines que j'attends #velora @velora", CreatedAt: now},
	}
	data, _ := json.Marshal(td)
	return data
}

// TestSLAFactsMatchTheWholeEvent: the SLA's lean reading of a ticket event
// gives the changes the whole decoded event gives.
func TestSLAFactsMatchTheWholeEvent(t *testing.T) {
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		change Change
		actor  string
		status Status
	}{{ChangeCreated, "", StatusOpen}, {ChangeReplied, "ann", StatusPending}, {ChangeReplied, "", StatusOpen}, {ChangeReplied, "ann", StatusResolved},
		{ChangeResolved, "ann", StatusResolved}, {ChangeReopened, "", StatusOpen}, {ChangePriority, SystemActor, StatusOpen}, {ChangeMessage, "", StatusAssigned}} {
		ev := Event{Seq: 1, Type: EventTicketUpdated, At: at, Data: sampleTicketEvent(c.change, c.actor, c.status)}
		lean, err := changesFromDesk([]Event{ev})
		if err != nil {
			t.Fatal(err)
		}
		td, err := decodeTicketData(ev)
		if err != nil {
			t.Fatal(err)
		}
		whole := slaChangesOf(at, factsOf(td), nil)
		if !reflect.DeepEqual(lean, whole) || len(lean) == 0 || lean[0].Priority != router.PriorityHigh || lean[0].Queue != "refunds" {
			t.Errorf("%s by %q (%s): lean %+v, whole %+v", c.change, c.actor, c.status, lean, whole)
		}
	}
}

// BenchmarkReplaySLA compares reading a ticket event for its SLA whole
// (decodeTicketData) and lean (slaFacts), in one run.
func BenchmarkReplaySLA(b *testing.B) {
	ev := Event{Seq: 1, Type: EventTicketUpdated, At: time.Now(), Data: sampleTicketEvent(ChangeMessage, "", StatusOpen)}
	b.Run("whole", func(b *testing.B) {
		for b.Loop() {
			td, err := decodeTicketData(ev)
			if err != nil {
				b.Fatal(err)
			}
			_ = slaChangesOf(ev.At, factsOf(td), nil)
		}
	})
	b.Run("lean", func(b *testing.B) {
		for b.Loop() {
			if _, err := changesFromDesk([]Event{ev}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
