// Package sla computes service-level clocks: business-hours calendars and
// the first-response and resolution clocks of a ticket, replayed from the
// ticket's history.
//
// It is pure logic: no I/O, no goroutines, no wall clock. Every function
// takes the instants it needs, so that a ticket's status can be recomputed
// from its events at any time and gives the same answer.
//
// # Calendars
//
// A Calendar says when business time runs: weekly hours in an IANA time
// zone (several intervals a day, an interval may cross midnight), holidays
// (closed dates) and exceptions (special hours on a date), or always open.
// An interval belongs to the date it starts on: "22:00-02:00" on Friday runs
// into Saturday even when Saturday is a holiday, and a holiday on Friday
// removes it. Hours are wall-clock times, so a day that loses or gains an
// hour to daylight saving time has one hour less or more of business time.
// BusinessDuration and Calendar.Add are exact to the nanosecond and inverse:
// BusinessDuration(t, Add(t, d)) == d for every d >= 0.
//
// # Clocks
//
// Evaluate replays a ticket's Changes. The first-response clock runs from
// creation to the first agent reply; the resolution clock runs from creation
// to resolution and pauses while the ticket waits on the customer. A reopened
// ticket's clocks resume where they stopped (time spent resolved does not
// count). When the priority or the queue changes, the new policy applies from
// then on, in proportion: the share of the budget already used carries over.
// A normal ticket (8h to resolve) escalated to urgent (2h) after 4h of
// business time has used half of its budget, so 1h is left. A change never
// makes a clock breach on the spot, and a breached clock stays breached.
//
// Everything here is safe for concurrent use once built: Calendar and
// Policies are immutable.
package sla
