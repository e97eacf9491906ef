package desk

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/internal/jsonx"
	"github.com/vigie/vigie/listener"
	"github.com/vigie/vigie/router"
)

// Status is where a ticket stands.
type Status string

// The ticket statuses.
const (
	StatusOpen     Status = "open"     // waiting for an agent
	StatusAssigned Status = "assigned" // an agent owns it
	StatusPending  Status = "pending"  // answered, waiting on the customer
	StatusResolved Status = "resolved"
)

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusOpen, StatusAssigned, StatusPending, StatusResolved:
		return true
	}
	return false
}

// Direction says who a message is from.
type Direction string

// The message directions.
const (
	Inbound  Direction = "in"   // a post by the customer
	Outbound Direction = "out"  // a reply by an agent, posted to the network
	Note     Direction = "note" // an internal note, never posted
)

// Delivery is the fate of an outbound reply.
type Delivery string

// The delivery states of a reply.
const (
	DeliveryPending Delivery = "pending"
	DeliverySent    Delivery = "sent"
	DeliveryFailed  Delivery = "failed"
)

// Message is one post in a ticket's conversation.
type Message struct {
	ID        int64     `json:"id"`
	TicketID  int64     `json:"ticket_id"`
	Direction Direction `json:"direction"`
	Source    string    `json:"source"`
	// NativeID is the post's id on its network: the mention's for inbound
	// messages, the platform's for a reply once posted.
	NativeID string `json:"native_id,omitempty"`
	Version  int    `json:"version,omitempty"`
	// Author is set on inbound messages; Agent on replies and notes.
	Author    *listener.Author `json:"author,omitempty"`
	Agent     string           `json:"agent,omitempty"`
	Text      string           `json:"text"`
	URL       string           `json:"url,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	// Delivery and Error describe an outbound reply.
	Delivery Delivery `json:"delivery,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Enrichment is set on inbound messages.
	Enrichment *router.Enrichment `json:"enrichment,omitempty"`
}

// Routing is why a ticket is in its queue.
type Routing struct {
	Rule  string        `json:"rule"`
	Trace []router.Step `json:"trace"`
}

// Ticket is one customer conversation to answer.
type Ticket struct {
	ID       int64           `json:"id"`
	Queue    string          `json:"queue"`
	Status   Status          `json:"status"`
	Priority router.Priority `json:"priority"`
	// Sentiment is the latest inbound message's, in [-1, 1].
	Sentiment float64         `json:"sentiment"`
	Intent    string          `json:"intent"`
	Lang      string          `json:"lang"`
	Source    string          `json:"source"`
	Author    listener.Author `json:"author"`
	// Conversation is the thread key on the source: follow-ups from the same
	// author in it join this ticket while it is not resolved.
	Conversation    string     `json:"conversation"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	FirstResponseAt *time.Time `json:"first_response_at"`
	ResolvedAt      *time.Time `json:"resolved_at"`
	Assignee        string     `json:"assignee"`
	Tags            []string   `json:"tags"`
	Routing         Routing    `json:"routing"`
	// Messages is filled when one ticket is read, and left out of lists and
	// events.
	Messages []Message `json:"messages,omitempty"`
	// MessageCount counts inbound and outbound messages (not notes).
	MessageCount int `json:"message_count"`
	// SLAStatus sums the ticket's SLA clocks up, worst first: missed,
	// at_risk, active, paused, hit, none. It goes live (a ticket.updated
	// with change "sla") when it changes.
	SLAStatus sla.State `json:"sla_status"`
	// FirstResponseDue and ResolutionDue are when the clocks breach (or
	// breached, or would have); null while paused or without a target.
	FirstResponseDue *time.Time `json:"first_response_due"`
	ResolutionDue    *time.Time `json:"resolution_due"`
}

// EventType names what changed.
type EventType string

// The event types. Every persisted event has a sequence number.
const (
	EventMentionReceived EventType = "mention.received"
	EventMentionDeleted  EventType = "mention.deleted"
	EventTicketCreated   EventType = "ticket.created"
	EventTicketUpdated   EventType = "ticket.updated"
	EventTicketEscalated EventType = "ticket.escalated"
	EventPresence        EventType = "presence" // live only, never persisted
)

// Topic groups event types for websocket subscriptions.
type Topic string

// The topics a websocket client can subscribe to.
const (
	TopicTickets  Topic = "tickets"
	TopicMentions Topic = "mentions"
	TopicAlerts   Topic = "alerts"
	TopicOffers   Topic = "offers"
	TopicKPIs     Topic = "kpis"
	TopicPresence Topic = "presence"
)

// Event is one change, as stored in the event log and sent on the websocket.
type Event struct {
	Seq   int64           `json:"seq"`
	Type  EventType       `json:"type"`
	At    time.Time       `json:"at"`
	Topic Topic           `json:"-"`
	Queue string          `json:"-"` // the ticket's queue, for filtering
	Data  json.RawMessage `json:"data"`

	// arrived is when the mention behind this event reached this process,
	// for the pipeline latency histogram; zero when unknown.
	arrived time.Time
	// shared is the payload decoded once for every reader of an event from
	// the desk's in-memory tail (MentionData, TicketData); nil for events
	// read from the database, which each reader decodes itself.
	shared *sharedPayload
}

// sharedPayload is an event's payload, decoded at most once.
type sharedPayload struct {
	once    sync.Once
	mention *MentionData
	ticket  *TicketData
	err     error
}

// MentionData returns the payload of a mention.received event, decoded as
// DecodePayload does. The sinks that follow the log read the same events:
// an event from the desk's memory is decoded once for all of them, so the
// value may be shared and must never be changed.
func (e *Event) MentionData() (*MentionData, error) {
	if e.Type != EventMentionReceived {
		return nil, fmt.Errorf("event %d is a %s, not a %s", e.Seq, e.Type, EventMentionReceived)
	}
	if e.shared == nil {
		var md MentionData
		if err := DecodePayload(e.Data, &md); err != nil {
			return nil, err
		}
		return &md, nil
	}
	e.shared.decode(e)
	return e.shared.mention, e.shared.err
}

// TicketData returns the payload of a ticket.created or ticket.updated
// event, decoded as DecodePayload does; like MentionData, the value may be
// shared and must never be changed.
func (e *Event) TicketData() (*TicketData, error) {
	if e.Type != EventTicketCreated && e.Type != EventTicketUpdated {
		return nil, fmt.Errorf("event %d is a %s, not a ticket event", e.Seq, e.Type)
	}
	if e.shared == nil {
		var td TicketData
		if err := DecodePayload(e.Data, &td); err != nil {
			return nil, err
		}
		return &td, nil
	}
	e.shared.decode(e)
	return e.shared.ticket, e.shared.err
}

func (p *sharedPayload) decode(e *Event) {
	p.once.Do(func() {
		if e.Type == EventMentionReceived {
			var md MentionData
			if p.err = DecodePayload(e.Data, &md); p.err == nil {
				p.mention = &md
			}
			return
		}
		var td TicketData
		if p.err = DecodePayload(e.Data, &td); p.err == nil {
			p.ticket = &td
		}
	})
}

// Change says what a ticket.updated event changed.
type Change string

// The ticket changes.
const (
	ChangeCreated  Change = "created"
	ChangeMessage  Change = "message"  // a follow-up from the customer joined
	ChangeEdited   Change = "edited"   // the customer edited a post
	ChangeDeleted  Change = "deleted"  // a post was deleted on the network
	ChangeAssigned Change = "assigned" // assignee changed
	ChangeReplied  Change = "replied"  // an agent replied
	ChangeDelivery Change = "delivery" // a reply was posted, or failed
	ChangeNote     Change = "note"
	ChangeResolved Change = "resolved"
	ChangeReopened Change = "reopened"
	ChangePriority Change = "priority" // the priority changed (an escalation)
	ChangeSLA      Change = "sla"      // the SLA status or a due time changed
)

// TicketData is the payload of ticket.created and ticket.updated.
type TicketData struct {
	Ticket  Ticket   `json:"ticket"`
	Change  Change   `json:"change"`
	Actor   string   `json:"actor,omitempty"` // the agent, or "" for the customer or the system
	Message *Message `json:"message,omitempty"`
}

// MentionData is the payload of mention.received: everything Vigie knows of
// one mention version. Search and archive build their rows from it.
type MentionData struct {
	Mention    listener.Mention  `json:"mention"`
	Version    int               `json:"version"`
	IntakeSeq  int64             `json:"intake_seq"`
	ReceivedAt time.Time         `json:"received_at"`
	Enrichment router.Enrichment `json:"enrichment"`
	Decision   router.Decision   `json:"decision"`
	// TicketID is the ticket the mention joined (0 when dropped).
	TicketID int64 `json:"ticket_id"`
}

// DeletedData is the payload of mention.deleted: one post (ID set) or every
// post of an author (ID empty) must disappear from every store.
type DeletedData struct {
	Source   string `json:"source"`
	ID       string `json:"id,omitempty"`
	AuthorID string `json:"author_id,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// DecodePayload decodes an event's payload for a sink. It is
// jsonx.Unmarshal, except that routing traces (the console's "why is this
// here") are skipped, not decoded: no sink reads them, and they are most of
// a mention's or a ticket's allocations.
func DecodePayload(data []byte, v any) error { return payloadDecoder.Unmarshal(data, v) }

var payloadDecoder = jsonx.NewDecoder(jsonx.Skip[[]router.Step]())
