package desk

import (
	"encoding/json"
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
