package search

import (
	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// Hit is one mention found: the latest version of the post, what the router
// made of it, and where its ticket stands.
type Hit struct {
	// Key is the document id, the mention's "source/id".
	Key string `json:"key"`
	Record
	// Score is the relevance score (0 when sorted by date only).
	Score float64 `json:"score"`
	// Highlights are HTML fragments of the text (escaped, the matched terms
	// in <mark>), under "text" whatever the language field.
	Highlights map[string][]string `json:"highlights,omitempty"`
}

// Record is what one document holds: the mention's latest version, its
// enrichment, and its ticket's state as last seen on the event stream.
type Record struct {
	listener.Mention
	Version    int               `json:"version"`
	Enrichment router.Enrichment `json:"enrichment"`
	TicketID   int64             `json:"ticket_id,omitempty"`
	TicketState
}

// TicketState is the part of a ticket copied onto each of its mentions.
type TicketState struct {
	Queue    string          `json:"queue,omitempty"`
	Status   desk.Status     `json:"status,omitempty"`
	Assignee string          `json:"assignee,omitempty"`
	Priority router.Priority `json:"priority,omitempty"`
	Tags     []string        `json:"tags,omitempty"`
}

func (s *TicketState) equal(o *TicketState) bool {
	if s.Queue != o.Queue || s.Status != o.Status || s.Assignee != o.Assignee ||
		s.Priority != o.Priority || len(s.Tags) != len(o.Tags) {
		return false
	}
	for i := range s.Tags {
		if s.Tags[i] != o.Tags[i] {
			return false
		}
	}
	return true
}
