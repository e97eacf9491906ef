// Package yield lets background work step aside while latency-sensitive
// work is waiting.
//
// Go schedules goroutines without priorities. On a machine with few cores,
// a sink's batch (a Bleve segment, a CRM transaction) and a mention on its
// way to an agent's screen queue for the same CPUs, and a burst of posts is
// accepted only as fast as the intake gets a core. The hot path never waits
// on a Gate: it only reports, through the busy function, whether it has work
// waiting. Background stages call their wait function before each batch. It
// returns at once when the hot path is idle, otherwise as soon as it is, or
// after a bounded delay: background work is postponed, never starved.
package yield

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// poll is how often a waiting stage asks again whether the hot path is busy.
// The hot path signals nothing, so it pays nothing for the gate.
const poll = 2 * time.Millisecond

// Gate decides when background stages may go on.
type Gate struct {
	busy     func() bool
	max      time.Duration
	waited   *prometheus.CounterVec
	timeouts *prometheus.CounterVec
}

// New returns a Gate. busy reports whether latency-sensitive work is
// waiting; it is called often and must be cheap (atomic loads). max bounds
// one wait (at least one poll).
func New(busy func() bool, max time.Duration, reg prometheus.Registerer) *Gate {
	g := &Gate{
		busy: busy,
		max:  max,
		waited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_yield_seconds_total",
			Help: "Time background stages spent stepping aside for the hot path, by stage.",
		}, []string{"stage"}),
		timeouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_yield_timeouts_total",
			Help: "Waits that ended because they reached the longest wait, the hot path still busy, by stage.",
		}, []string{"stage"}),
	}
	if reg != nil {
		reg.MustRegister(g.waited, g.timeouts)
	}
	return g
}

// For returns the wait function of one background stage, named in the
// metrics. It blocks while the hot path is busy, at most the Gate's longest
// wait, and returns early when ctx ends (the caller sees ctx.Err()).
func (g *Gate) For(stage string) func(context.Context) {
	waited, timeouts := g.waited.WithLabelValues(stage), g.timeouts.WithLabelValues(stage)
	return func(ctx context.Context) {
		if !g.busy() {
			return
		}
		start := time.Now()
		defer func() { waited.Add(time.Since(start).Seconds()) }()
		t := time.NewTicker(poll)
		defer t.Stop()
		limit := time.NewTimer(max(g.max, poll))
		defer limit.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-limit.C:
				timeouts.Inc()
				return
			case <-t.C:
				if !g.busy() {
					return
				}
			}
		}
	}
}
