package demo

import (
	"context"
	"errors"
	"time"

	"github.com/vigie/vigie/listener"
)

// maxLag is how far behind its schedule Run may fall (a consumer slower than
// the rate) before it skips ahead: catching up more would flood the pipeline
// with a burst nobody asked for.
const maxLag = time.Second

// ErrNoRate is returned by Run when neither Rate nor CheckInRate is positive.
var ErrNoRate = errors.New("demo: rate and check-in rate are both zero: nothing to run")

// Run emits mentions (and check-ins when CheckInRate > 0) on out at the
// configured rates until ctx is done, then returns ctx.Err(). It never closes
// out, and every send also watches ctx.Done().
//
// Arrival times are scheduled from the start of Run, each from the previous
// scheduled time (not from when the previous send completed), so the rate
// does not drift; a consumer more than a second behind makes Run skip ahead.
// Items are stamped with Config.Now().
func (g *Generator) Run(ctx context.Context, out chan<- listener.Item) error {
	if g.cfg.Rate <= 0 && g.cfg.CheckInRate <= 0 {
		return ErrNoRate
	}
	start := time.Now()
	never := start.Add(100 * 365 * 24 * time.Hour)
	nextM, nextC := never, never
	g.mu.Lock()
	if g.cfg.Rate > 0 {
		nextM = start.Add(expStep(g.pace, g.rateAt(start, start)))
	}
	if g.cfg.CheckInRate > 0 {
		nextC = start.Add(expStep(g.pace, g.cfg.CheckInRate))
	}
	g.mu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		due := nextM
		if nextC.Before(due) {
			due = nextC
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-timer.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		now := time.Now()
		var it listener.Item
		g.mu.Lock()
		if nextM.Compare(nextC) <= 0 {
			burst := g.inBurst(start, nextM)
			it = listener.MentionItem(g.mention(g.stamp(), burst).Mention)
			nextM = nextM.Add(expStep(g.pace, g.rateAt(start, nextM)))
			if now.Sub(nextM) > maxLag {
				nextM = now
				g.metrics.pacingResets.Inc()
			}
		} else {
			it = listener.CheckInItem(g.checkIn(g.stamp()))
			nextC = nextC.Add(expStep(g.pace, g.cfg.CheckInRate))
			if now.Sub(nextC) > maxLag {
				nextC = now
				g.metrics.pacingResets.Inc()
			}
		}
		g.mu.Unlock()
		select {
		case out <- it:
			if it.Kind == listener.KindCheckIn {
				g.metrics.checkIns.Inc() // counted once emitted, not when drawn
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// stamp returns Config.Now() in UTC, to the millisecond as most networks give
// it. g.mu is held.
func (g *Generator) stamp() time.Time {
	return g.cfg.Now().UTC().Truncate(time.Millisecond)
}

// inBurst reports whether t falls in a burst: the last Burst.Length of every
// Burst.Every since start.
func (g *Generator) inBurst(start, t time.Time) bool {
	b := g.cfg.Burst
	if b.Every <= 0 {
		return false
	}
	return t.Sub(start)%b.Every >= b.Every-b.Length
}

// rateAt is the mention rate in force at t.
func (g *Generator) rateAt(start, t time.Time) float64 {
	if g.inBurst(start, t) {
		return g.cfg.Rate * g.cfg.Burst.Factor
	}
	return g.cfg.Rate
}
