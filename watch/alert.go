package watch

import (
	"time"

	"github.com/vigie/vigie/desk"
)

// The event types the watch publishes on desk.TopicAlerts. Each carries an
// AlertEvent.
const (
	EventAlertRaised   desk.EventType = "alert.raised"
	EventAlertUpdated  desk.EventType = "alert.updated"
	EventAlertResolved desk.EventType = "alert.resolved"
	EventAlertAcked    desk.EventType = "alert.acked"
)

// Detector names what raised an alert.
type Detector string

// The detectors.
const (
	DetectorVolume     Detector = "volume"     // mentions of a scope spike
	DetectorNegative   Detector = "negative"   // negative mentions spike, in count and share
	DetectorInfluencer Detector = "influencer" // an influential author complains
	DetectorCrisis     Detector = "crisis"     // crisis words appear
	DetectorTerms      Detector = "terms"      // a word's frequency jumps
)

// Severity is how urgent an alert is.
type Severity string

// The severities, least urgent first.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Rank orders severities: 0 for info up to 2 for critical, -1 if unknown.
func (s Severity) Rank() int {
	switch s {
	case SeverityInfo:
		return 0
	case SeverityWarning:
		return 1
	case SeverityCritical:
		return 2
	}
	return -1
}

// Valid reports whether s is one of the severities.
func (s Severity) Valid() bool { return s.Rank() >= 0 }

// Status is where an alert stands.
type Status string

// The alert statuses.
const (
	StatusOpen     Status = "open"     // triggering or not yet resolved, nobody acknowledged it
	StatusAcked    Status = "acked"    // someone is on it; it still updates and resolves
	StatusResolved Status = "resolved" // the metric was back to normal for Noise.ResolveAfter evaluations
)

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	return s == StatusOpen || s == StatusAcked || s == StatusResolved
}

// Change says what happened to an alert.
type Change string

// The alert changes. Escalated and reopened are updates (alert.updated
// events) worth telling a webhook about.
const (
	ChangeRaised    Change = "raised"
	ChangeUpdated   Change = "updated"
	ChangeEscalated Change = "escalated" // the severity rose
	ChangeReopened  Change = "reopened"  // triggered again within the cooldown after resolving
	ChangeAcked     Change = "acked"
	ChangeResolved  Change = "resolved"
)

func (c Change) valid() bool {
	switch c {
	case ChangeRaised, ChangeUpdated, ChangeEscalated, ChangeReopened, ChangeAcked, ChangeResolved:
		return true
	}
	return false
}

// eventType returns the event a change is published as.
func (c Change) eventType() desk.EventType {
	switch c {
	case ChangeRaised:
		return EventAlertRaised
	case ChangeAcked:
		return EventAlertAcked
	case ChangeResolved:
		return EventAlertResolved
	}
	return EventAlertUpdated
}

// Alert is one ongoing or past alert. Repeated triggers of its Key update
// it; it is never raised twice while open.
type Alert struct {
	ID  int64  `json:"id"`
	Key string `json:"key"`
	// Detector and Scope say what is watched ("all", "queue:complaints",
	// "tag:refund", "topic:velora", "author:twitter/42", "crisis:boycott",
	// "term:refund").
	Detector Detector `json:"detector"`
	Scope    string   `json:"scope"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	// Title is one line for a list or a notification.
	Title string `json:"title"`
	// RaisedAt, UpdatedAt, AckedAt and ResolvedAt are wall-clock times of
	// the watch's clock: time to acknowledge is AckedAt - RaisedAt.
	RaisedAt   time.Time  `json:"raised_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	AckedAt    *time.Time `json:"acked_at"`
	AckedBy    string     `json:"acked_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at"`
	// Triggers counts the evaluations that triggered it; Updates the
	// alert.updated events pushed.
	Triggers int `json:"triggers"`
	Updates  int `json:"updates"`
	// Peak is the highest observed value.
	Peak float64 `json:"peak"`
	// Explanation is the latest trigger's.
	Explanation Explanation `json:"explanation"`
}

// active reports whether the alert is open or acknowledged.
func (a *Alert) active() bool { return a.Status == StatusOpen || a.Status == StatusAcked }

// Explanation says why an alert triggered, in figures.
type Explanation struct {
	// Metric is what was measured: "mentions", "negative_mentions",
	// "negative_posts_by_influencer", "crisis_posts" or "posts_with_term".
	Metric string `json:"metric"`
	// WindowStart and WindowEnd bound the evaluated window, in event time.
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// Baseline is what normal looked like (nil for per-post detectors).
	Baseline *Baseline `json:"baseline,omitempty"`
	// Threshold is what Observed had to reach.
	Threshold float64 `json:"threshold"`
	Observed  float64 `json:"observed"`
	// Share and BaselineShare are the negative share (negative spikes).
	Share         *float64 `json:"share,omitempty"`
	BaselineShare *float64 `json:"baseline_share,omitempty"`
	// Reason says it in one English sentence, without people's content.
	Reason string `json:"reason"`
	// Matched lists the words that matched (crisis words, the term).
	Matched    []string      `json:"matched,omitempty"`
	TopTerms   []TermCount   `json:"top_terms"`
	TopAuthors []AuthorCount `json:"top_authors"`
	Samples    []Sample      `json:"samples"`
}

// Baseline summarises the samples a window was compared with.
type Baseline struct {
	// Kind is "seasonal" (same time of day, previous days) or "recent"
	// (the windows just before, while history is short).
	Kind    string  `json:"kind"`
	Samples int     `json:"samples"`
	Median  float64 `json:"median"`
	Mean    float64 `json:"mean"`
	MAD     float64 `json:"mad"`
	// Sigma is the spread used for severity: max(1.4826·MAD, √λ, 1),
	// λ the larger of median and mean.
	Sigma float64 `json:"sigma"`
}

// TermCount is a word and the posts of the window that use it; Lift is
// how many times more than the baseline predicts.
type TermCount struct {
	Term  string  `json:"term"`
	Count int     `json:"count"`
	Lift  float64 `json:"lift"`
}

// AuthorCount is an author and their posts in the window.
type AuthorCount struct {
	Source    string `json:"source"`
	AuthorID  string `json:"author_id"`
	Handle    string `json:"handle,omitempty"`
	Influence int    `json:"influence"`
	Count     int    `json:"count"`
}

// Sample is one post behind an alert. Excerpt is people's content: it is
// kept in the alert record and served by the API, never logged, published
// on the event log nor sent to webhooks, and erased with the post.
type Sample struct {
	Source    string    `json:"source"`
	ID        string    `json:"id"`
	URL       string    `json:"url,omitempty"`
	AuthorID  string    `json:"author_id"`
	Handle    string    `json:"handle,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Sentiment float64   `json:"sentiment"`
	Influence int       `json:"influence"`
	Excerpt   string    `json:"excerpt,omitempty"`
}

// AlertEvent is the payload of the alert.* events and of JSON webhooks.
// Its alert carries no excerpts.
type AlertEvent struct {
	Alert  Alert  `json:"alert"`
	Change Change `json:"change"`
	// Actor is who acknowledged (alert.acked).
	Actor string `json:"actor,omitempty"`
	// TimeToAckSeconds is AckedAt - RaisedAt (alert.acked).
	TimeToAckSeconds *float64 `json:"time_to_ack_seconds,omitempty"`
}

// public returns a copy without people's content.
func (a Alert) public() Alert {
	ex := a.Explanation
	ex.Samples = make([]Sample, len(a.Explanation.Samples))
	for i, s := range a.Explanation.Samples {
		s.Excerpt = ""
		ex.Samples[i] = s
	}
	a.Explanation = ex
	return a
}
