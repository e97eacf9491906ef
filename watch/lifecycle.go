package watch

import (
	"sort"
	"time"
)

// tracked is an alert the lifecycle follows: open, acknowledged, or
// resolved within the cooldown (it may reopen).
type tracked struct {
	alert Alert
	// quiet counts the evaluations without a trigger since the last one.
	quiet int
	// lastPush is the window end (minute) of the last alert.updated pushed;
	// pushWindow and pushCount rate-limit them per hour of event time.
	lastPush   int64
	pushWindow int64
	pushCount  int
	// resolvedMinute is the window end at which it resolved.
	resolvedMinute int64
	dirty          bool
}

// change is one thing that happened to an alert, to publish and send.
type change struct {
	t    *tracked
	snap Alert // the alert as it was right after the change
	kind Change
	// push says whether to publish it (an update may be folded).
	push bool
	// actor is who acknowledged.
	actor string
}

// lifecycle groups triggers into alerts: one ongoing alert per key, updated
// while it triggers, resolved after Noise.ResolveAfter quiet evaluations,
// reopened rather than raised again within Noise.Cooldown. It is not safe
// for concurrent use.
type lifecycle struct {
	cfg   *Config
	byKey map[string]*tracked
}

func newLifecycle(cfg *Config) *lifecycle {
	return &lifecycle{cfg: cfg, byKey: map[string]*tracked{}}
}

func (l *lifecycle) record(t *tracked, kind Change, push bool) change {
	t.dirty = true
	return change{t: t, snap: t.alert, kind: kind, push: push}
}

// apply processes the triggers of the window ending at end; now is the
// watch's clock.
func (l *lifecycle) apply(end int64, now time.Time, trig []trigger) []change {
	var out []change
	fired := map[string]bool{}
	n := l.cfg.Noise
	for i := range trig {
		tg := &trig[i]
		fired[tg.key] = true
		t := l.byKey[tg.key]
		switch {
		case t != nil && t.alert.active():
			a := &t.alert
			t.quiet = 0
			a.Triggers++
			a.Explanation = tg.ex
			a.Title = tg.title
			a.UpdatedAt = now
			if tg.ex.Observed > a.Peak {
				a.Peak = tg.ex.Observed
			}
			escalated := tg.severity.Rank() > a.Severity.Rank()
			if escalated {
				a.Severity = tg.severity
			}
			if end-t.pushWindow >= 60 {
				t.pushWindow, t.pushCount = end, 0
			}
			due := end-t.lastPush >= int64(n.UpdateEvery/time.Minute) && t.pushCount < n.MaxUpdatesPerHour
			push := escalated || due
			if push {
				a.Updates++
				t.lastPush = end
				t.pushCount++
			}
			kind := ChangeUpdated
			if escalated {
				kind = ChangeEscalated
			}
			out = append(out, l.record(t, kind, push))
		case t != nil && end-t.resolvedMinute <= int64(n.Cooldown/time.Minute):
			// Triggered again soon after resolving: the same alert reopens.
			a := &t.alert
			a.Status, a.ResolvedAt, a.AckedAt, a.AckedBy = StatusOpen, nil, nil, ""
			a.Triggers++
			a.Updates++
			a.Explanation, a.Title, a.UpdatedAt = tg.ex, tg.title, now
			a.Severity = tg.severity
			a.Peak = max(a.Peak, tg.ex.Observed)
			t.quiet, t.lastPush = 0, end
			out = append(out, l.record(t, ChangeReopened, true))
		default:
			t = &tracked{alert: Alert{
				Key: tg.key, Detector: tg.detector, Scope: tg.scope, Severity: tg.severity, Status: StatusOpen,
				Title: tg.title, RaisedAt: now, UpdatedAt: now, Triggers: 1, Peak: tg.ex.Observed, Explanation: tg.ex,
			}, lastPush: end, pushWindow: end}
			l.byKey[tg.key] = t
			out = append(out, l.record(t, ChangeRaised, true))
		}
	}
	keys := make([]string, 0, len(l.byKey))
	for k := range l.byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t := l.byKey[k]
		if fired[k] {
			continue
		}
		if !t.alert.active() {
			if end-t.resolvedMinute > int64(n.Cooldown/time.Minute) {
				delete(l.byKey, k) // past the cooldown: a new trigger raises a new alert
			}
			continue
		}
		t.quiet++
		if t.quiet >= n.ResolveAfter {
			a := &t.alert
			resolved := now
			a.Status, a.ResolvedAt, a.UpdatedAt = StatusResolved, &resolved, now
			t.resolvedMinute = end
			out = append(out, l.record(t, ChangeResolved, true))
		}
	}
	return out
}

// byID finds a tracked alert.
func (l *lifecycle) byID(id int64) *tracked {
	for _, t := range l.byKey {
		if t.alert.ID == id {
			return t
		}
	}
	return nil
}

// scrub removes a deleted post (id set) or an author's posts from the
// explanations of the tracked alerts.
func (l *lifecycle) scrub(source, id, authorID string) {
	for _, t := range l.byKey {
		if scrubExplanation(&t.alert.Explanation, source, id, authorID) {
			t.dirty = true
		}
	}
}

// scrubExplanation removes a post or an author from an explanation and
// reports whether anything changed.
func scrubExplanation(ex *Explanation, source, id, authorID string) bool {
	changed := false
	samples := ex.Samples[:0]
	for _, s := range ex.Samples {
		if s.Source == source && ((id != "" && s.ID == id) || (id == "" && s.AuthorID == authorID)) {
			changed = true
			continue
		}
		samples = append(samples, s)
	}
	ex.Samples = samples
	if id == "" {
		authors := ex.TopAuthors[:0]
		for _, a := range ex.TopAuthors {
			if a.Source == source && a.AuthorID == authorID {
				changed = true
				continue
			}
			authors = append(authors, a)
		}
		ex.TopAuthors = authors
	}
	return changed
}
