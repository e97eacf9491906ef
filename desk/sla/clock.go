package sla

import (
	"math"
	"math/bits"
	"sort"
	"time"

	"github.com/vigie/vigie/router"
)

// Kind says what happened to a ticket.
type Kind string

// The kinds of change Evaluate understands.
const (
	// KindCreated starts both clocks. Priority and Queue must be set.
	KindCreated Kind = "created"
	// KindCustomerMessage is a message from the customer: it resumes a
	// resolution clock paused on the customer, and reopens a resolved ticket.
	KindCustomerMessage Kind = "customer_message"
	// KindFirstReply and KindReplied are agent replies; the first of either
	// stops the first-response clock. A reply alone does not pause the
	// resolution clock: KindPending does.
	KindFirstReply Kind = "first_reply"
	KindReplied    Kind = "replied"
	// KindPending pauses the resolution clock: the ticket waits on the
	// customer.
	KindPending Kind = "pending"
	// KindResumed resumes a paused resolution clock.
	KindResumed Kind = "resumed"
	// KindResolved stops both clocks.
	KindResolved Kind = "resolved"
	// KindReopened resumes the resolution clock, and the first-response
	// clock when no agent has replied yet.
	KindReopened Kind = "reopened"
	// KindPriorityChanged and KindQueueChanged carry the new Priority or
	// Queue. Any change may carry them: see Change.
	KindPriorityChanged Kind = "priority_changed"
	KindQueueChanged    Kind = "queue_changed"
)

// Change is one step of a ticket's history.
type Change struct {
	At   time.Time
	Kind Kind
	// Priority and Queue are the ticket's after the change; empty means
	// unchanged. When they differ from the ticket's current ones, the new
	// policy applies from At (see the package documentation), before Kind.
	Priority router.Priority
	Queue    string
}

// State is where a clock stands.
type State string

// The states of a clock. StateAtRisk is only a summary (Status.State).
const (
	StateNone   State = "none"   // no target: the policy sets none
	StateActive State = "active" // running, within target
	StatePaused State = "paused" // waiting on the customer, or not started
	StateHit    State = "hit"    // stopped within target
	StateMissed State = "missed" // the target passed before the clock stopped
	StateAtRisk State = "at_risk"
)

// Clock is one SLA clock at an instant.
type Clock struct {
	State State `json:"state"`
	// Target is the business time allowed, under the policy in force.
	Target time.Duration `json:"target"`
	// Due is when the target is (or was) reached: for an active clock, when
	// it will breach if it keeps running; for a missed one, when it
	// breached; for a hit one, when it would have breached. Zero when paused
	// or without target.
	Due time.Time `json:"due"`
	// Elapsed is the business time the clock has run.
	Elapsed time.Duration `json:"elapsed"`
	// Remaining is the business time left before the target; negative once
	// missed (the overrun).
	Remaining time.Duration `json:"remaining"`
	// WarnAt is when an active clock is (or was) at risk: when Warning of its
	// budget is used. Zero unless active.
	WarnAt time.Time `json:"warn_at"`
}

// Status is a ticket's SLA at an instant.
type Status struct {
	FirstResponse Clock `json:"first_response"`
	Resolution    Clock `json:"resolution"`
	// BreachWarningAt is the earliest WarnAt of the active clocks; zero when
	// none is active.
	BreachWarningAt time.Time `json:"breach_warning_at"`
	// Next is the next instant after now at which the status changes by
	// itself (a clock becomes at risk or breaches): when to evaluate again.
	// Zero when nothing is running.
	Next time.Time `json:"next"`
	// State sums the two clocks up, worst first: missed, at_risk (an active
	// clock past its warning), active, paused, hit, none.
	State State `json:"state"`
}

// clock replays one SLA clock.
type clock struct {
	target  time.Duration
	left    time.Duration // budget left; negative once missed
	elapsed time.Duration
	running bool
	stopped bool // met or resolved; a paused clock is neither running nor stopped
	missed  bool
	// breach is when the budget ran out (when missed).
	breach time.Time
	// since is when the current running stretch, or the stop, began; left0
	// is left at that instant.
	since time.Time
	left0 time.Duration
	cal   *Calendar
	warn  float64
}

// advance runs the clock to t.
func (c *clock) advance(t time.Time) {
	if !c.running || !t.After(c.since) {
		return
	}
	seg := c.cal.BusinessDuration(c.since, t)
	c.elapsed += seg
	if c.target > 0 {
		if !c.missed && seg > c.left {
			c.missed = true
			c.breach = c.cal.Add(c.since, c.left)
		}
		c.left -= seg
	}
	c.mark(t)
}

// mark starts a new stretch at t.
func (c *clock) mark(t time.Time) { c.since, c.left0 = t, c.left }

func (c *clock) start(t time.Time) {
	if c.running {
		return
	}
	c.running, c.stopped = true, false
	c.mark(t)
}

func (c *clock) pause(t time.Time) {
	if !c.running {
		return
	}
	c.advance(t)
	c.running = false
	c.mark(t)
}

func (c *clock) stop(t time.Time) {
	c.pause(t)
	c.stopped = true
}

// retarget applies a new policy at t (after advance): the share of the
// budget used carries over.
func (c *clock) retarget(t time.Time, target time.Duration, cal *Calendar, warn float64) {
	c.advance(t)
	switch {
	case target == c.target:
	case target == 0:
		c.left = 0
	case c.target == 0:
		c.left = target // a fresh budget
	case c.left > 0:
		c.left = scale(c.left, target, c.target)
	}
	c.target, c.cal, c.warn = target, cal, warn
	c.mark(t)
}

// scale returns left*to/from without overflow, for 0 < left <= from.
func scale(left, to, from time.Duration) time.Duration {
	hi, lo := bits.Mul64(uint64(left), uint64(to))
	q, _ := bits.Div64(hi, lo, uint64(from))
	return time.Duration(q)
}

// at reports the clock at now. c is not advanced: its current stretch,
// from c.since, says when it is due and at risk.
func (c *clock) at(now time.Time) Clock {
	n := *c
	n.advance(now)
	out := Clock{Target: n.target, Elapsed: n.elapsed, Remaining: n.left}
	if c.target == 0 {
		out.State, out.Remaining = StateNone, 0
		return out
	}
	switch {
	case n.missed:
		out.State, out.Due = StateMissed, n.breach
	case c.running:
		out.State = StateActive
		out.Due = c.cal.Add(c.since, c.left0)
		warnLeft := c.target - time.Duration(math.Round(float64(c.target)*c.warn))
		if c.left0 > warnLeft {
			out.WarnAt = c.cal.Add(c.since, c.left0-warnLeft)
		} else {
			out.WarnAt = c.since
		}
	case c.stopped:
		out.State, out.Due = StateHit, c.cal.Add(c.since, c.left0)
	default:
		out.State = StatePaused
	}
	return out
}

// Evaluate replays a ticket's changes, in order of At (changes with equal
// instants keep their order), under the policies r gives, and returns its
// status at now. Changes before the first KindCreated and after now are
// ignored.
func Evaluate(r Resolver, changes []Change, now time.Time) Status {
	if !sort.SliceIsSorted(changes, func(i, j int) bool { return changes[i].At.Before(changes[j].At) }) {
		changes = append([]Change(nil), changes...)
		sort.SliceStable(changes, func(i, j int) bool { return changes[i].At.Before(changes[j].At) })
	}
	var fr, res clock
	var queue string
	var prio router.Priority
	created, replied, resolved := false, false, false
	for _, ch := range changes {
		if ch.At.After(now) {
			break
		}
		t := ch.At
		if !created {
			if ch.Kind != KindCreated {
				continue
			}
			created, queue, prio = true, ch.Queue, ch.Priority
			p := r.Policy(queue, prio)
			warn := p.Warning
			if warn == 0 {
				warn = DefaultWarning
			}
			fr = clock{target: p.FirstResponse, left: p.FirstResponse, cal: p.Calendar, warn: warn}
			res = clock{target: p.Resolution, left: p.Resolution, cal: p.Calendar, warn: warn}
			fr.start(t)
			res.start(t)
			continue
		}
		if (ch.Queue != "" && ch.Queue != queue) || (ch.Priority != "" && ch.Priority != prio) {
			if ch.Queue != "" {
				queue = ch.Queue
			}
			if ch.Priority != "" {
				prio = ch.Priority
			}
			p := r.Policy(queue, prio)
			warn := p.Warning
			if warn == 0 {
				warn = DefaultWarning
			}
			if !replied {
				fr.retarget(t, p.FirstResponse, p.Calendar, warn)
			}
			res.retarget(t, p.Resolution, p.Calendar, warn)
		}
		switch ch.Kind {
		case KindCustomerMessage, KindReopened:
			if resolved || ch.Kind == KindReopened {
				resolved = false
				if !replied {
					fr.start(t)
				}
			}
			res.start(t)
		case KindFirstReply, KindReplied:
			if !replied {
				replied = true
				fr.stop(t)
			}
		case KindPending:
			if !resolved {
				res.pause(t)
			}
		case KindResumed:
			if !resolved {
				res.start(t)
			}
		case KindResolved:
			resolved = true
			fr.stop(t)
			res.stop(t)
		}
	}
	if !created {
		return Status{FirstResponse: Clock{State: StateNone}, Resolution: Clock{State: StateNone}, State: StateNone}
	}
	st := Status{FirstResponse: fr.at(now), Resolution: res.at(now)}
	st.State = StateNone
	cals := [2]*Calendar{fr.cal, res.cal}
	for i, c := range [2]Clock{st.FirstResponse, st.Resolution} {
		s := c.State
		if s == StateActive {
			if st.BreachWarningAt.IsZero() || c.WarnAt.Before(st.BreachWarningAt) {
				st.BreachWarningAt = c.WarnAt
			}
			if !now.Before(c.WarnAt) {
				s = StateAtRisk
			}
			due := c.Due
			if !due.After(now) {
				// Due with nothing left: it breaches with the next business
				// instant.
				due = cals[i].Add(now, time.Nanosecond)
			}
			for _, next := range [2]time.Time{c.WarnAt, due} {
				if next.After(now) && (st.Next.IsZero() || next.Before(st.Next)) {
					st.Next = next
				}
			}
		}
		if rank(s) > rank(st.State) {
			st.State = s
		}
	}
	return st
}

// rank orders states from best to worst, for Status.State.
func rank(s State) int {
	switch s {
	case StateHit:
		return 1
	case StatePaused:
		return 2
	case StateActive:
		return 3
	case StateAtRisk:
		return 4
	case StateMissed:
		return 5
	}
	return 0
}
