package router

import (
	"github.com/vigie/vigie/intake"
)

// Priority orders tickets within a queue. The zero value is PriorityNormal.
type Priority string

// The priorities, lowest first.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Rank returns 0 for low up to 3 for urgent; an unknown priority ranks as
// normal.
func (p Priority) Rank() int {
	switch p {
	case PriorityLow:
		return 0
	case PriorityHigh:
		return 2
	case PriorityUrgent:
		return 3
	}
	return 1
}

// Valid reports whether p is one of the four priorities.
func (p Priority) Valid() bool {
	switch p {
	case PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent:
		return true
	}
	return false
}

// Enrichment is what the router understood of a mention.
type Enrichment struct {
	// Lang is the detected language (ISO 639-1), "und" when unknown.
	Lang           string  `json:"lang"`
	LangConfidence float64 `json:"lang_confidence"`
	// Sentiment is in [-1, 1]; Label is its band.
	Sentiment      float64  `json:"sentiment"`
	Label          string   `json:"label"`
	SentimentTerms []string `json:"sentiment_terms,omitempty"`
	// Intent is complaint, question, praise, purchase, churn, spam or other.
	Intent      string   `json:"intent"`
	IntentTerms []string `json:"intent_terms,omitempty"`
	// Influence is the author's 0-100 score (see Influence).
	Influence int `json:"influence"`
}

// Step is one rule's line in a decision's trace.
type Step struct {
	Rule    string `json:"rule"`
	Matched bool   `json:"matched"`
	Why     string `json:"why"`
}

// Decision is where a mention goes and why.
type Decision struct {
	Queue    string   `json:"queue"`
	Priority Priority `json:"priority"`
	Tags     []string `json:"tags,omitempty"`
	// Drop means no ticket: the mention is kept for search and KPIs only.
	Drop bool `json:"drop,omitempty"`
	// Skill is what an agent needs to take the ticket ("" for any).
	Skill string `json:"skill,omitempty"`
	// Alerts are the e-reputation alerts the rules raise for this mention.
	Alerts []string `json:"alerts,omitempty"`
	// AutoReply names the macro sent as an automatic acknowledgement.
	AutoReply string `json:"auto_reply,omitempty"`
	// Rule names the rule that chose the queue ("" for the default queue).
	Rule  string `json:"rule"`
	Trace []Step `json:"trace"`
}

// Routed is a log record with what the router made of it. Enrichment and
// Decision are zero for check-ins and tombstones.
type Routed struct {
	Record     intake.Record
	Enrichment Enrichment
	Decision   Decision
}
