package source

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff computes reconnect delays. With Step set the delay grows linearly
// (Initial, Initial+Step, ...); otherwise it doubles from Initial. It never
// exceeds Max. Jitter (0..1) takes up to that fraction off each delay, so
// that many clients do not reconnect in lock step. The zero value waits 1 s,
// doubling to 60 s, without jitter.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Step    time.Duration
	Jitter  float64

	attempt int
}

// Next returns the delay before the next attempt and counts it.
func (b *Backoff) Next() time.Duration {
	initial, maxD := b.Initial, b.Max
	if initial <= 0 {
		initial = time.Second
	}
	if maxD <= 0 {
		maxD = 60 * time.Second
	}
	var d time.Duration
	if b.Step > 0 {
		d = initial + time.Duration(b.attempt)*b.Step
	} else {
		d = initial << min(b.attempt, 30)
		if d <= 0 { // overflow
			d = maxD
		}
	}
	d = min(d, maxD)
	b.attempt++
	if b.Jitter > 0 {
		d -= time.Duration(rand.Float64() * b.Jitter * float64(d))
	}
	return d
}

// Attempts returns how many delays Next has given since the last Reset.
func (b *Backoff) Attempts() int { return b.attempt }

// Reset starts the sequence over, after a connection that worked.
func (b *Backoff) Reset() { b.attempt = 0 }

// Sleep waits d or until ctx is done, and returns ctx.Err() in that case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
