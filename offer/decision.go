package offer

import "time"

// Status is a decision's outcome.
type Status string

// The outcomes of a decision.
const (
	StatusSent    Status = "sent"
	StatusSkipped Status = "skipped"
)

// Reason says why a decision skipped (empty for a sent offer).
type Reason string

// The reasons to skip, in the order the guards run.
const (
	// ReasonDuplicate: a repeated check-in inside a visit already decided,
	// with no dwell campaign newly due.
	ReasonDuplicate Reason = "duplicate"
	// ReasonNoCampaign: no active campaign targets the store for this
	// moment of the visit.
	ReasonNoCampaign Reason = "no_campaign"
	// ReasonStale: the check-in is older than Config.MaxAge.
	ReasonStale Reason = "stale"
	// ReasonNoConsent: the person never consented.
	ReasonNoConsent Reason = "no_consent"
	// ReasonConsentWithdrawn: the person withdrew consent.
	ReasonConsentWithdrawn Reason = "consent_withdrawn"
	// ReasonCappedUser: the global cap per person is reached.
	ReasonCappedUser Reason = "capped_user"
	// ReasonOutsideDates: outside the campaign's dates or weekdays.
	ReasonOutsideDates Reason = "outside_dates"
	// ReasonClosed: the store is closed and the campaign sends only in
	// opening hours.
	ReasonClosed Reason = "closed"
	// ReasonQuietHours: within the campaign's quiet hours in the person's
	// time zone.
	ReasonQuietHours Reason = "quiet_hours"
	// ReasonNotInSegment: the person is outside the campaign's audience.
	ReasonNotInSegment Reason = "not_in_segment"
	// ReasonCappedCampaign: the campaign's cap (per person or total) is
	// reached.
	ReasonCappedCampaign Reason = "capped_campaign"
)

// Reasons lists every reason, for metrics and validation.
var Reasons = []Reason{
	ReasonDuplicate, ReasonNoCampaign, ReasonStale, ReasonNoConsent, ReasonConsentWithdrawn,
	ReasonCappedUser, ReasonOutsideDates, ReasonClosed, ReasonQuietHours, ReasonNotInSegment,
	ReasonCappedCampaign,
}

// Transition is what a point did to a person's presence in a fence.
type Transition string

// The transitions a decision is taken on (an exit decides nothing).
const (
	TransitionEnter  Transition = "enter"
	TransitionInside Transition = "inside"
)

// Delivery is where a sent offer is on its way to the gateway.
type Delivery string

// The delivery states.
const (
	// DeliveryNone: a skipped decision, or no gateway configured.
	DeliveryNone Delivery = "none"
	// DeliveryQueued: waiting for its (next) webhook call.
	DeliveryQueued Delivery = "queued"
	// DeliveryDelivered: the gateway answered 2xx.
	DeliveryDelivered Delivery = "delivered"
	// DeliveryDead: failed MaxAttempts times, or refused for good (4xx):
	// the dead-letter list.
	DeliveryDead Delivery = "dead"
	// DeliveryCancelled: the person withdrew consent before the call.
	DeliveryCancelled Delivery = "cancelled"
)

// Decision is one decision of the engine: a person's point inside a fence,
// and whether an offer went out. A sent decision is an offer; its ID is the
// offer id, the Idempotency-Key of its webhook.
type Decision struct {
	ID int64 `json:"id"`
	// At is the point's time (the check-in's or mention's created_at); caps
	// and hours are computed on it.
	At time.Time `json:"at"`
	// DecidedAt is when the engine decided.
	DecidedAt time.Time `json:"decided_at"`
	// Seq is the intake record the point came from.
	Seq    int64  `json:"seq"`
	Source string `json:"source"`
	UserID string `json:"user_id"`
	Handle string `json:"handle,omitempty"`
	// Item is "checkin" or "mention"; ItemID its native id.
	Item       string     `json:"item"`
	ItemID     string     `json:"item_id"`
	FenceID    int64      `json:"fence_id"`
	Store      string     `json:"store"`
	Transition Transition `json:"transition"`
	CampaignID int64      `json:"campaign_id,omitempty"`
	Status     Status     `json:"status"`
	Reason     Reason     `json:"reason,omitempty"`
	// Text and Code are the offer sent (empty when skipped).
	Text        string     `json:"text,omitempty"`
	Code        string     `json:"code,omitempty"`
	Delivery    Delivery   `json:"delivery"`
	Attempts    int        `json:"attempts,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	RedeemedAt  *time.Time `json:"redeemed_at,omitempty"`
}

// Consent is a person's permission to receive offers, with its proof. A
// withdrawal keeps the record (Granted false, WithdrawnAt set) and its
// history.
type Consent struct {
	Source  string `json:"source"`
	UserID  string `json:"user_id"`
	Granted bool   `json:"granted"`
	// Channel is how consent was given ("web form", "sms keyword").
	Channel string `json:"channel,omitempty"`
	// Proof is free text proving it (form submission id, SMS text and
	// number, IP and time).
	Proof string `json:"proof,omitempty"`
	// Tags put the person in campaign segments.
	Tags []string `json:"tags,omitempty"`
	// TimeZone is the person's IANA zone, for quiet hours; empty: the
	// store's.
	TimeZone    string     `json:"time_zone,omitempty"`
	GrantedAt   *time.Time `json:"granted_at,omitempty"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
	// History is every change, oldest first (GET only).
	History []ConsentChange `json:"history,omitempty"`

	loc *time.Location
}

// ConsentChange is one entry of a consent's history.
type ConsentChange struct {
	At      time.Time `json:"at"`
	Granted bool      `json:"granted"`
	Channel string    `json:"channel,omitempty"`
	Proof   string    `json:"proof,omitempty"`
	// By is the Vigie user who recorded it.
	By string `json:"by,omitempty"`
}
