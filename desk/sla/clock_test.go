package sla_test

import (
	"math/rand"
	"testing"
	"time"

	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/router"
)

// testPolicies: support runs on office hours (Mon-Fri 09:00-17:00 UTC),
// vip around the clock with a 15m first response, low priority has no SLA.
func testPolicies(tb testing.TB) *sla.Policies {
	tb.Helper()
	cfg, err := sla.ParseConfig([]byte(`
calendars:
  office: {hours: {monday: ["09:00-17:00"], tuesday: ["09:00-17:00"], wednesday: ["09:00-17:00"], thursday: ["09:00-17:00"], friday: ["09:00-17:00"]}}
  always: {always_open: true}
default:
  calendar: office
  targets:
    normal: {first_response: 2h, resolution: 8h}
    high: {first_response: 1h, resolution: 4h}
    urgent: {first_response: 30m, resolution: 2h}
queues:
  vip: {calendar: always, targets: {normal: {first_response: 15m}}}
`))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := sla.NewPolicies(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	pol := testPolicies(t)
	u := func(s string) time.Time { return at(t, time.UTC, s) }
	created := func(s string) sla.Change {
		return sla.Change{At: u(s), Kind: sla.KindCreated, Queue: "support", Priority: router.PriorityNormal}
	}
	ch := func(s string, k sla.Kind) sla.Change { return sla.Change{At: u(s), Kind: k} }
	// 2026-11-16 is a Monday.
	tests := []struct {
		name    string
		changes []sla.Change
		now     string
		fr, res sla.Clock
		state   sla.State
		warnAt  string
		next    string
	}{
		{
			name:    "running on a Monday morning",
			changes: []sla.Change{created("2026-11-16 09:00")},
			now:     "2026-11-16 10:00",
			fr:      sla.Clock{State: sla.StateActive, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: time.Hour, Remaining: time.Hour, WarnAt: u("2026-11-16 10:36")},
			res:     sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-16 17:00"), Elapsed: time.Hour, Remaining: 7 * time.Hour, WarnAt: u("2026-11-16 15:24")},
			state:   sla.StateActive, warnAt: "2026-11-16 10:36", next: "2026-11-16 10:36",
		},
		{
			name:    "at risk",
			changes: []sla.Change{created("2026-11-16 09:00")},
			now:     "2026-11-16 10:40",
			fr:      sla.Clock{State: sla.StateActive, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: 100 * time.Minute, Remaining: 20 * time.Minute, WarnAt: u("2026-11-16 10:36")},
			res:     sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-16 17:00"), Elapsed: 100 * time.Minute, Remaining: 380 * time.Minute, WarnAt: u("2026-11-16 15:24")},
			state:   sla.StateAtRisk, warnAt: "2026-11-16 10:36", next: "2026-11-16 11:00",
		},
		{
			name:    "created on Friday evening, answered, waiting on the customer over the weekend",
			changes: []sla.Change{created("2026-11-20 16:00"), ch("2026-11-20 16:30", sla.KindFirstReply), ch("2026-11-20 16:30", sla.KindPending)},
			now:     "2026-11-23 12:00",
			fr:      sla.Clock{State: sla.StateHit, Target: 2 * time.Hour, Due: u("2026-11-23 10:00"), Elapsed: 30 * time.Minute, Remaining: 90 * time.Minute},
			res:     sla.Clock{State: sla.StatePaused, Target: 8 * time.Hour, Elapsed: 30 * time.Minute, Remaining: 450 * time.Minute},
			state:   sla.StatePaused,
		},
		{
			name: "pause and resume",
			changes: []sla.Change{created("2026-11-16 09:00"), ch("2026-11-16 10:00", sla.KindReplied), ch("2026-11-16 10:00", sla.KindPending),
				ch("2026-11-17 09:00", sla.KindCustomerMessage)},
			now:   "2026-11-17 12:00",
			fr:    sla.Clock{State: sla.StateHit, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: time.Hour, Remaining: time.Hour},
			res:   sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-17 16:00"), Elapsed: 4 * time.Hour, Remaining: 4 * time.Hour, WarnAt: u("2026-11-17 14:24")},
			state: sla.StateActive, warnAt: "2026-11-17 14:24", next: "2026-11-17 14:24",
		},
		{
			name:    "first response missed while running",
			changes: []sla.Change{created("2026-11-16 09:00")},
			now:     "2026-11-16 11:30:07",
			fr:      sla.Clock{State: sla.StateMissed, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: 150*time.Minute + 7*time.Second, Remaining: -30*time.Minute - 7*time.Second},
			res:     sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-16 17:00"), Elapsed: 150*time.Minute + 7*time.Second, Remaining: 330*time.Minute - 7*time.Second, WarnAt: u("2026-11-16 15:24")},
			state:   sla.StateMissed, warnAt: "2026-11-16 15:24", next: "2026-11-16 15:24",
		},
		{
			name:    "replied exactly at due is a hit",
			changes: []sla.Change{created("2026-11-16 09:00"), ch("2026-11-16 11:00", sla.KindReplied), ch("2026-11-16 11:00", sla.KindResolved)},
			now:     "2026-11-18 00:00",
			fr:      sla.Clock{State: sla.StateHit, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: 2 * time.Hour},
			res:     sla.Clock{State: sla.StateHit, Target: 8 * time.Hour, Due: u("2026-11-16 17:00"), Elapsed: 2 * time.Hour, Remaining: 6 * time.Hour},
			state:   sla.StateHit,
		},
		{
			name:    "one second late stays missed after the reply",
			changes: []sla.Change{created("2026-11-16 09:00"), ch("2026-11-16 11:00:01", sla.KindReplied)},
			now:     "2026-11-16 12:00",
			fr:      sla.Clock{State: sla.StateMissed, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: 2*time.Hour + time.Second, Remaining: -time.Second},
			res:     sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-16 17:00"), Elapsed: 3 * time.Hour, Remaining: 5 * time.Hour, WarnAt: u("2026-11-16 15:24")},
			state:   sla.StateMissed, warnAt: "2026-11-16 15:24", next: "2026-11-16 15:24",
		},
		{
			name: "raised to urgent halfway: half of the urgent budget is left",
			changes: []sla.Change{created("2026-11-16 09:00"), ch("2026-11-16 09:30", sla.KindReplied),
				{At: u("2026-11-16 13:00"), Kind: sla.KindPriorityChanged, Priority: router.PriorityUrgent}},
			now:   "2026-11-16 13:00",
			fr:    sla.Clock{State: sla.StateHit, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: 30 * time.Minute, Remaining: 90 * time.Minute},
			res:   sla.Clock{State: sla.StateActive, Target: 2 * time.Hour, Due: u("2026-11-16 14:00"), Elapsed: 4 * time.Hour, Remaining: time.Hour, WarnAt: u("2026-11-16 13:36")},
			state: sla.StateActive, warnAt: "2026-11-16 13:36", next: "2026-11-16 13:36",
		},
		{
			name: "moved to a 24/7 queue on Friday evening",
			changes: []sla.Change{{At: u("2026-11-20 16:00"), Kind: sla.KindCreated, Queue: "support", Priority: router.PriorityNormal},
				{At: u("2026-11-20 16:30"), Kind: sla.KindQueueChanged, Queue: "vip"}},
			now:   "2026-11-20 16:30",
			fr:    sla.Clock{State: sla.StateActive, Target: 15 * time.Minute, Due: u("2026-11-20 16:41:15"), Elapsed: 30 * time.Minute, Remaining: 11*time.Minute + 15*time.Second, WarnAt: u("2026-11-20 16:38:15")},
			res:   sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-21 00:00"), Elapsed: 30 * time.Minute, Remaining: 450 * time.Minute, WarnAt: u("2026-11-20 22:24")},
			state: sla.StateActive, warnAt: "2026-11-20 16:38:15", next: "2026-11-20 16:38:15",
		},
		{
			name: "resolved while pending, reopened the next day",
			changes: []sla.Change{created("2026-11-16 09:00"), ch("2026-11-16 10:00", sla.KindReplied), ch("2026-11-16 10:00", sla.KindPending),
				ch("2026-11-16 11:00", sla.KindResolved), ch("2026-11-17 09:00", sla.KindReopened)},
			now:   "2026-11-17 10:00",
			fr:    sla.Clock{State: sla.StateHit, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: time.Hour, Remaining: time.Hour},
			res:   sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-17 16:00"), Elapsed: 2 * time.Hour, Remaining: 6 * time.Hour, WarnAt: u("2026-11-17 14:24")},
			state: sla.StateActive, warnAt: "2026-11-17 14:24", next: "2026-11-17 14:24",
		},
		{
			name: "resolved without a reply, the customer writes again",
			changes: []sla.Change{created("2026-11-16 09:00"), ch("2026-11-16 09:20", sla.KindResolved),
				ch("2026-11-16 14:00", sla.KindCustomerMessage)},
			now:   "2026-11-16 14:10",
			fr:    sla.Clock{State: sla.StateActive, Target: 2 * time.Hour, Due: u("2026-11-16 15:40"), Elapsed: 30 * time.Minute, Remaining: 90 * time.Minute, WarnAt: u("2026-11-16 15:16")},
			res:   sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-17 13:40"), Elapsed: 30 * time.Minute, Remaining: 450 * time.Minute, WarnAt: u("2026-11-17 12:04")},
			state: sla.StateActive, warnAt: "2026-11-16 15:16", next: "2026-11-16 15:16",
		},
		{
			name: "low has no SLA until raised to high, which starts a fresh budget",
			changes: []sla.Change{{At: u("2026-11-16 09:00"), Kind: sla.KindCreated, Queue: "support", Priority: router.PriorityLow},
				{At: u("2026-11-16 12:00"), Kind: sla.KindCustomerMessage, Priority: router.PriorityHigh}},
			now:   "2026-11-16 12:30",
			fr:    sla.Clock{State: sla.StateActive, Target: time.Hour, Due: u("2026-11-16 13:00"), Elapsed: 210 * time.Minute, Remaining: 30 * time.Minute, WarnAt: u("2026-11-16 12:48")},
			res:   sla.Clock{State: sla.StateActive, Target: 4 * time.Hour, Due: u("2026-11-16 16:00"), Elapsed: 210 * time.Minute, Remaining: 210 * time.Minute, WarnAt: u("2026-11-16 15:12")},
			state: sla.StateActive, warnAt: "2026-11-16 12:48", next: "2026-11-16 12:48",
		},
		{
			name:    "low priority: no SLA",
			changes: []sla.Change{{At: u("2026-11-16 09:00"), Kind: sla.KindCreated, Queue: "support", Priority: router.PriorityLow}},
			now:     "2026-11-20 09:00",
			fr:      sla.Clock{State: sla.StateNone, Elapsed: 32 * time.Hour},
			res:     sla.Clock{State: sla.StateNone, Elapsed: 32 * time.Hour},
			state:   sla.StateNone,
		},
		{
			name:    "nothing before creation counts, nor after now",
			changes: []sla.Change{ch("2026-11-16 08:00", sla.KindPending), created("2026-11-16 09:00"), ch("2026-11-16 12:00", sla.KindResolved)},
			now:     "2026-11-16 09:30",
			fr:      sla.Clock{State: sla.StateActive, Target: 2 * time.Hour, Due: u("2026-11-16 11:00"), Elapsed: 30 * time.Minute, Remaining: 90 * time.Minute, WarnAt: u("2026-11-16 10:36")},
			res:     sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-16 17:00"), Elapsed: 30 * time.Minute, Remaining: 450 * time.Minute, WarnAt: u("2026-11-16 15:24")},
			state:   sla.StateActive, warnAt: "2026-11-16 10:36", next: "2026-11-16 10:36",
		},
		{
			name:    "due at closing time with nothing left: breaches at the next opening",
			changes: []sla.Change{created("2026-11-20 09:00"), ch("2026-11-20 10:00", sla.KindReplied)},
			now:     "2026-11-21 10:00",
			fr:      sla.Clock{State: sla.StateHit, Target: 2 * time.Hour, Due: u("2026-11-20 11:00"), Elapsed: time.Hour, Remaining: time.Hour},
			res:     sla.Clock{State: sla.StateActive, Target: 8 * time.Hour, Due: u("2026-11-20 17:00"), Elapsed: 8 * time.Hour, WarnAt: u("2026-11-20 15:24")},
			state:   sla.StateAtRisk, warnAt: "2026-11-20 15:24", next: "2026-11-23 09:00:00.000000001",
		},
		{
			name:    "no creation: no status",
			changes: []sla.Change{ch("2026-11-16 08:00", sla.KindCustomerMessage)},
			now:     "2026-11-16 09:30",
			fr:      sla.Clock{State: sla.StateNone},
			res:     sla.Clock{State: sla.StateNone},
			state:   sla.StateNone,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := sla.Evaluate(pol, tt.changes, u(tt.now))
			checkClock(t, "first response", got.FirstResponse, tt.fr)
			checkClock(t, "resolution", got.Resolution, tt.res)
			if got.State != tt.state {
				t.Errorf("state %s, want %s", got.State, tt.state)
			}
			var warnAt, next time.Time
			if tt.warnAt != "" {
				warnAt = u(tt.warnAt)
			}
			if tt.next != "" {
				var err error
				if next, err = time.Parse("2006-01-02 15:04:05.999999999", tt.next); err != nil {
					next = u(tt.next)
				}
			}
			if !got.BreachWarningAt.Equal(warnAt) {
				t.Errorf("BreachWarningAt %v, want %v", got.BreachWarningAt, warnAt)
			}
			if !got.Next.Equal(next) {
				t.Errorf("Next %v, want %v", got.Next, next)
			}
		})
	}
}

func checkClock(tb testing.TB, name string, got, want sla.Clock) {
	tb.Helper()
	if got.State != want.State || got.Target != want.Target || !got.Due.Equal(want.Due) || got.Elapsed != want.Elapsed ||
		got.Remaining != want.Remaining || !got.WarnAt.Equal(want.WarnAt) {
		tb.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
	}
}

// TestEvaluateUnsorted: changes are replayed in order of time whatever the
// order given, equal instants keeping theirs.
func TestEvaluateUnsorted(t *testing.T) {
	t.Parallel()
	pol := testPolicies(t)
	u := func(s string) time.Time { return at(t, time.UTC, s) }
	sorted := []sla.Change{
		{At: u("2026-11-16 09:00"), Kind: sla.KindCreated, Queue: "support", Priority: router.PriorityNormal},
		{At: u("2026-11-16 10:00"), Kind: sla.KindReplied}, {At: u("2026-11-16 10:00"), Kind: sla.KindPending},
		{At: u("2026-11-16 15:00"), Kind: sla.KindCustomerMessage},
	}
	shuffled := []sla.Change{sorted[3], sorted[1], sorted[0], sorted[2]}
	now := u("2026-11-16 16:00")
	if a, b := sla.Evaluate(pol, sorted, now), sla.Evaluate(pol, shuffled, now); a != b {
		t.Fatalf("sorted %+v\nshuffled %+v", a, b)
	}
	if shuffled[0].Kind != sla.KindCustomerMessage {
		t.Fatal("Evaluate reordered its input")
	}
}

// TestEvaluateAgainstMinuteSimulation replays random histories on office
// hours and checks the resolution clock against a minute by minute
// simulation: elapsed business minutes while running, missed once they pass
// the target.
func TestEvaluateAgainstMinuteSimulation(t *testing.T) {
	t.Parallel()
	pol := testPolicies(t)
	office, _ := pol.Calendar("office")
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	kinds := []sla.Kind{sla.KindCustomerMessage, sla.KindReplied, sla.KindPending, sla.KindResumed, sla.KindResolved, sla.KindReopened}
	for i := 0; i < 200; i++ {
		t0 := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Intn(7*24*60)) * time.Minute)
		changes := []sla.Change{{At: t0, Kind: sla.KindCreated, Queue: "support", Priority: router.PriorityNormal}}
		tt := t0
		for j := r.Intn(8); j > 0; j-- {
			tt = tt.Add(time.Duration(r.Intn(16*60)) * time.Minute)
			changes = append(changes, sla.Change{At: tt, Kind: kinds[r.Intn(len(kinds))]})
		}
		now := tt.Add(time.Duration(r.Intn(24*60)) * time.Minute)

		// The simulation.
		running, resolved := true, false
		var elapsed time.Duration
		missed := false
		next := 1
		for m := t0; m.Before(now); m = m.Add(time.Minute) {
			for next < len(changes) && !changes[next].At.After(m) {
				switch changes[next].Kind {
				case sla.KindCustomerMessage, sla.KindReopened:
					running, resolved = true, false
				case sla.KindPending:
					if !resolved {
						running = false
					}
				case sla.KindResumed:
					if !resolved {
						running = true
					}
				case sla.KindResolved:
					running, resolved = false, true
				}
				next++
			}
			if running && office.IsOpen(m) {
				elapsed += time.Minute
				if elapsed > 8*time.Hour {
					missed = true
				}
			}
		}
		got := sla.Evaluate(pol, changes, now).Resolution
		if got.Elapsed != elapsed || (got.State == sla.StateMissed) != missed || (!missed && got.Remaining != 8*time.Hour-elapsed) {
			t.Fatalf("changes %+v now %v: got %+v, simulation elapsed %v missed %v", changes, now, got, elapsed, missed)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	pol := testPolicies(b)
	u := func(s string) time.Time { return at(b, time.UTC, s) }
	changes := []sla.Change{
		{At: u("2026-11-16 09:00"), Kind: sla.KindCreated, Queue: "support", Priority: router.PriorityNormal},
		{At: u("2026-11-16 10:00"), Kind: sla.KindReplied}, {At: u("2026-11-16 10:00"), Kind: sla.KindPending},
		{At: u("2026-11-17 15:00"), Kind: sla.KindCustomerMessage, Priority: router.PriorityHigh},
		{At: u("2026-11-18 10:00"), Kind: sla.KindReplied}, {At: u("2026-11-18 10:00"), Kind: sla.KindPending},
		{At: u("2026-11-18 11:00"), Kind: sla.KindCustomerMessage},
	}
	now := u("2026-11-18 12:00")
	b.ReportAllocs()
	for b.Loop() {
		sla.Evaluate(pol, changes, now)
	}
}
