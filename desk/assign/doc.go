// Package assign decides who answers which ticket: skills, capacity,
// presence and fairness, a real waiting queue ordered by priority then age,
// and escalation of tickets left waiting.
//
// The Engine is a deterministic state machine with no I/O, no goroutines and
// no clock of its own: Apply takes one Event (a ticket opened or closed, an
// agent online or idle, a Tick of time) and returns the Actions that follow
// (assign this ticket to that agent, escalate that one). The caller performs
// the actions (through the desk, which emits ticket.updated events) and
// serialises calls: an Engine is not safe for concurrent use. Time is what
// the events say: Apply moves the engine's clock to the latest At it sees.
//
// Rules, in order of precedence:
//   - Skills and capacity are always respected: an agent gets a ticket
//     automatically only for a queue among its skills, at the level the
//     ticket's priority requires, and while its load (open assigned tickets,
//     not counting those waiting on the customer unless Config.CountPending)
//     is under its capacity. Only online agents get tickets automatically.
//   - Per queue, ModeLeastLoaded gives a ticket to the eligible agent with
//     the fewest open tickets, then the longest without an assignment;
//     ModeRoundRobin to the eligible agent whose last assignment in that
//     queue is the oldest; ModeManual never assigns: agents pull (Next).
//   - When no eligible agent has room, a ticket waits. Waiting tickets are
//     served by priority (urgent, high, normal, low), then age (oldest
//     first), then id. As soon as capacity frees up (a ticket closed or
//     waiting on the customer, an agent online, a larger capacity), the
//     agent takes the best ticket it is eligible for. No ticket ever waits
//     while an eligible online agent has room.
//   - A ticket waiting longer than its queue's threshold for its priority is
//     raised one priority and an Escalate action names the supervisor queue
//     to notify; an urgent ticket gets one last notice.
//   - An agent idle (no AgentActivity) for Config.IdleTimeout becomes away
//     and gets nothing new. An agent offline keeps its tickets for
//     Config.OfflineGrace (a dropped connection, a laptop lid closed and
//     opened again should not reshuffle conversations), after which the
//     tickets it owns that need an answer go back to the queue with their
//     age (so they are served before younger ones), and may go to other
//     agents at once. Tickets waiting on the customer stay with their agent
//     until the customer writes again.
package assign
