package assign

import (
	"time"

	"github.com/vigie/vigie/router"
)

// Presence is whether an agent can take tickets now.
type Presence string

// The presences.
const (
	Online  Presence = "online"  // connected and active: gets tickets
	Away    Presence = "away"    // connected but idle, or set away by hand
	Offline Presence = "offline" // no connection
)

// Event is something the engine must know. The events are the types of this
// package whose names start with Ticket, Agent, and Tick.
type Event interface{ event() }

// TicketOpened says a ticket needs an agent: a new ticket, a reopened one,
// or one restored at startup. With Assignee set, the ticket is already owned
// (a reopened or restored ticket); Pending says it waits on the customer.
// A ticket the engine already knows is ignored.
type TicketOpened struct {
	ID       int64
	Queue    string
	Priority router.Priority
	// At is when the ticket was opened: its age in the queue counts from it.
	At       time.Time
	Assignee string
	Pending  bool
}

// TicketAssigned says a ticket was assigned outside the engine: an agent
// pulled it, or a supervisor moved it. An empty Agent unassigns it, and it
// goes back to the queue.
type TicketAssigned struct {
	ID    int64
	Agent string
	At    time.Time
}

// TicketClosed says a ticket was resolved or deleted.
type TicketClosed struct {
	ID int64
	At time.Time
}

// TicketPriorityChanged says a ticket's priority changed.
type TicketPriorityChanged struct {
	ID       int64
	Priority router.Priority
	At       time.Time
}

// TicketQueueChanged says a ticket moved to another queue. If its agent does
// not serve that queue, the ticket is unassigned and queued there.
type TicketQueueChanged struct {
	ID    int64
	Queue string
	At    time.Time
}

// TicketPending says whether a ticket waits on the customer (an agent
// replied) or needs an agent again (the customer wrote).
type TicketPending struct {
	ID      int64
	Pending bool
	At      time.Time
}

// AgentUpdated creates or updates an agent's settings. An agent the engine
// has not seen starts offline.
type AgentUpdated struct {
	Agent Agent
	At    time.Time
}

// AgentRemoved says an agent left the desk: its tickets go back to their
// queues at once.
type AgentRemoved struct {
	Agent string
	At    time.Time
}

// AgentPresence says an agent connected (Online), disconnected (Offline)
// or set itself away by hand (Away).
type AgentPresence struct {
	Agent    string
	Presence Presence
	At       time.Time
}

// AgentActivity says an agent did something (typed, clicked, replied): it
// keeps the agent online, and brings back one the engine made away.
type AgentActivity struct {
	Agent string
	At    time.Time
}

// Tick moves time forward: idle agents become away, offline agents past
// their grace lose the tickets they must answer, waiting tickets past their
// threshold escalate. Send one every few seconds.
type Tick struct {
	At time.Time
}

func (TicketOpened) event()          {}
func (TicketAssigned) event()        {}
func (TicketClosed) event()          {}
func (TicketPriorityChanged) event() {}
func (TicketQueueChanged) event()    {}
func (TicketPending) event()         {}
func (AgentUpdated) event()          {}
func (AgentRemoved) event()          {}
func (AgentPresence) event()         {}
func (AgentActivity) event()         {}
func (Tick) event()                  {}

// Action is something the caller must do, in order.
type Action interface{ action() }

// Assign gives Ticket to Agent.
type Assign struct {
	Ticket int64
	Agent  string
	Queue  string
}

// Unassign takes Ticket from Agent and puts it back in its queue; an
// Assign of the same ticket to someone else may follow in the same batch.
type Unassign struct {
	Ticket int64
	Agent  string
	// Reason is "agent_offline", "agent_removed" or "queue_changed".
	Reason string
}

// Escalate raises a waiting ticket's priority (NewPriority equals
// OldPriority for an urgent ticket, which can go no higher) and asks to
// notify the supervisor queue NotifyQueue.
type Escalate struct {
	Ticket      int64
	Queue       string
	OldPriority router.Priority
	NewPriority router.Priority
	NotifyQueue string
	// Waited is how long the ticket had waited at this priority.
	Waited time.Duration
}

// PresenceChanged says the engine changed an agent's presence (idle agents
// become away, and online again when active).
type PresenceChanged struct {
	Agent    string
	Presence Presence
}

func (Assign) action()          {}
func (Unassign) action()        {}
func (Escalate) action()        {}
func (PresenceChanged) action() {}

// The reasons of Unassign.
const (
	ReasonAgentOffline = "agent_offline"
	ReasonAgentRemoved = "agent_removed"
	ReasonQueueChanged = "queue_changed"
)
