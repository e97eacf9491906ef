package offer

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// TriggerKind says which moment of a visit fires a campaign.
type TriggerKind string

// The triggers.
const (
	// TriggerEnter fires on the first check-in inside the fence of a visit.
	TriggerEnter TriggerKind = "enter"
	// TriggerDwell fires once a visit, on a check-in at least DwellMinutes
	// after the visit's first one.
	TriggerDwell TriggerKind = "dwell"
)

// Limits on a campaign.
const (
	// MaxTemplateBytes bounds an offer's text: four concatenated SMS.
	MaxTemplateBytes = 640
	// MaxCampaignFences bounds the fence ids one campaign lists (tags
	// cover more).
	MaxCampaignFences = 10_000
)

// Campaign says which offer goes to whom, at which stores, and when.
type Campaign struct {
	// ID is assigned on creation.
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Paused campaigns send nothing; the zero value is active.
	Paused bool `json:"paused,omitempty"`
	// Priority orders the campaigns of one store: the lowest first; ties by
	// id. A visit gets the first campaign whose every condition holds.
	Priority int `json:"priority,omitempty"`
	// Fences and FenceTags select the stores: a fence listed by id, or one
	// carrying any of the tags. At least one of them is required.
	Fences    []int64   `json:"fences,omitempty"`
	FenceTags []string  `json:"fence_tags,omitempty"`
	Offer     Offer     `json:"offer"`
	Audience  Audience  `json:"audience"`
	Trigger   Trigger   `json:"trigger"`
	Schedule  Schedule  `json:"schedule"`
	Cap       Cap       `json:"cap"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	quiet   quiet
	days    [7]bool // all false: every day
	hasDays bool
}

// Offer is what the customer receives: a text template with the variables
// {{name}} (the person's name, else their handle, else FallbackName),
// {{store}} (the fence's name) and {{code}} (Code).
type Offer struct {
	Template     string `json:"template"`
	Code         string `json:"code,omitempty"`
	FallbackName string `json:"fallback_name,omitempty"`
}

// Audience narrows a campaign to a segment of the consenting people. The
// zero value is everyone who consented.
type Audience struct {
	// MinInfluence (0-100) requires an influence score at least this high,
	// known from the person's mentions (router.Influence).
	MinInfluence int `json:"min_influence,omitempty"`
	// Tags requires one of these tags on the person (given with consent).
	Tags []string `json:"tags,omitempty"`
}

// Trigger says when in a visit the offer fires. The zero value is "enter".
type Trigger struct {
	Kind         TriggerKind `json:"kind,omitempty"`
	DwellMinutes int         `json:"dwell_minutes,omitempty"`
}

// Schedule says when a campaign may send. The zero value is always.
type Schedule struct {
	// StartAt and EndAt bound the campaign: [StartAt, EndAt).
	StartAt *time.Time `json:"start_at,omitempty"`
	EndAt   *time.Time `json:"end_at,omitempty"`
	// Days lists the weekdays (mon … sun, the store's local date) it runs;
	// empty means every day.
	Days []string `json:"days,omitempty"`
	// OpeningHoursOnly sends only while the store is open.
	OpeningHoursOnly bool `json:"opening_hours_only,omitempty"`
	// QuietHours ("21:00-08:00", may cross midnight) are hours of the
	// person's day when nothing is sent; read in the time zone they gave
	// with consent, else the store's.
	QuietHours string `json:"quiet_hours,omitempty"`
}

// Cap bounds how often a campaign reaches one person, and in all.
type Cap struct {
	// PerUser offers per person per window; zero means 1.
	PerUser int `json:"per_user,omitempty"`
	// WindowHours is the window of PerUser; zero means the campaign's
	// whole life (PerUser offers per person, ever).
	WindowHours int `json:"window_hours,omitempty"`
	// Total bounds the offers the campaign sends in all; zero is no bound.
	Total int `json:"total,omitempty"`
}

// forever stands for a window without end: longer than any campaign.
const forever = 100 * 365 * 24 * time.Hour

func (c *Cap) perUser() int {
	if c.PerUser == 0 {
		return 1
	}
	return c.PerUser
}

func (c *Cap) window() time.Duration {
	if c.WindowHours == 0 {
		return forever
	}
	return time.Duration(c.WindowHours) * time.Hour
}

var templateVar = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// compile validates c and precomputes what decisions read. Its errors wrap
// ErrInvalid and name the field.
func (c *Campaign) compile() error {
	if err := checkName("name", c.Name, true); err != nil {
		return err
	}
	if len(c.Fences) == 0 && len(c.FenceTags) == 0 {
		return fmt.Errorf("%w: fences, fence_tags: give fence ids or tags (or both)", ErrInvalid)
	}
	if len(c.Fences) > MaxCampaignFences {
		return fmt.Errorf("%w: fences: more than %d ids (use fence_tags)", ErrInvalid, MaxCampaignFences)
	}
	for i, id := range c.Fences {
		if id <= 0 {
			return fmt.Errorf("%w: fences[%d]: %d is not a fence id", ErrInvalid, i, id)
		}
	}
	if err := checkTags("fence_tags", c.FenceTags); err != nil {
		return err
	}
	if err := checkTemplate(c.Offer.Template); err != nil {
		return err
	}
	if err := checkName("offer.code", c.Offer.Code, false); err != nil {
		return err
	}
	if usesVar(c.Offer.Template, "code") && c.Offer.Code == "" {
		return fmt.Errorf("%w: offer.code: the template uses {{code}} but no code is given", ErrInvalid)
	}
	if err := checkName("offer.fallback_name", c.Offer.FallbackName, false); err != nil {
		return err
	}
	if c.Audience.MinInfluence < 0 || c.Audience.MinInfluence > 100 {
		return fmt.Errorf("%w: audience.min_influence: %d is outside 0-100", ErrInvalid, c.Audience.MinInfluence)
	}
	if err := checkTags("audience.tags", c.Audience.Tags); err != nil {
		return err
	}
	switch c.Trigger.Kind {
	case "":
		c.Trigger.Kind = TriggerEnter
		fallthrough
	case TriggerEnter:
		if c.Trigger.DwellMinutes != 0 {
			return fmt.Errorf("%w: trigger.dwell_minutes: only a dwell trigger has one", ErrInvalid)
		}
	case TriggerDwell:
		if c.Trigger.DwellMinutes < 1 || c.Trigger.DwellMinutes > 24*60 {
			return fmt.Errorf("%w: trigger.dwell_minutes: %d is outside 1-1440", ErrInvalid, c.Trigger.DwellMinutes)
		}
	default:
		return fmt.Errorf("%w: trigger.kind: %q is not enter or dwell", ErrInvalid, c.Trigger.Kind)
	}
	s := &c.Schedule
	if s.StartAt != nil && s.EndAt != nil && !s.EndAt.After(*s.StartAt) {
		return fmt.Errorf("%w: schedule.end_at: must be after start_at", ErrInvalid)
	}
	c.days, c.hasDays = [7]bool{}, len(s.Days) > 0
	for i, d := range s.Days {
		wd, ok := weekdays[d]
		if !ok {
			return fmt.Errorf("%w: schedule.days[%d]: %q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", ErrInvalid, i, d)
		}
		c.days[wd] = true
	}
	q, err := parseQuiet(s.QuietHours)
	if err != nil {
		return fmt.Errorf("%w: schedule.quiet_hours: %w", ErrInvalid, err)
	}
	c.quiet = q
	if c.Cap.PerUser < 0 || c.Cap.WindowHours < 0 || c.Cap.Total < 0 {
		return fmt.Errorf("%w: cap: values must not be negative", ErrInvalid)
	}
	if c.Cap.WindowHours > 24*366 {
		return fmt.Errorf("%w: cap.window_hours: more than a year (use 0 for the campaign's whole life)", ErrInvalid)
	}
	return nil
}

func checkTemplate(t string) error {
	switch {
	case strings.TrimSpace(t) == "":
		return fmt.Errorf("%w: offer.template: required", ErrInvalid)
	case len(t) > MaxTemplateBytes:
		return fmt.Errorf("%w: offer.template: longer than %d bytes", ErrInvalid, MaxTemplateBytes)
	}
	for _, m := range templateVar.FindAllStringSubmatch(t, -1) {
		switch m[1] {
		case "name", "store", "code":
		default:
			return fmt.Errorf("%w: offer.template: unknown variable {{%s}} (known: {{name}}, {{store}}, {{code}})", ErrInvalid, m[1])
		}
	}
	rest := templateVar.ReplaceAllString(t, "")
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return fmt.Errorf("%w: offer.template: unbalanced {{ or }}", ErrInvalid)
	}
	return nil
}

func usesVar(t, name string) bool {
	for _, m := range templateVar.FindAllStringSubmatch(t, -1) {
		if m[1] == name {
			return true
		}
	}
	return false
}

// render fills the offer's template.
func (o *Offer) render(name, store string) string {
	if name == "" {
		name = o.FallbackName
	}
	return templateVar.ReplaceAllStringFunc(o.Template, func(v string) string {
		switch strings.TrimSpace(strings.Trim(v, "{}")) {
		case "name":
			return name
		case "store":
			return store
		case "code":
			return o.Code
		}
		return v
	})
}

// appliesTo reports whether the campaign selects fence f.
func (c *Campaign) appliesTo(f *Fence) bool {
	for _, id := range c.Fences {
		if id == f.ID {
			return true
		}
	}
	return hasAnyTag(f.Tags, c.FenceTags)
}

// inDates reports whether t is within the campaign's dates and days (the
// days read on the store's calendar).
func (c *Campaign) inDates(t time.Time, store *time.Location) bool {
	s := &c.Schedule
	if s.StartAt != nil && t.Before(*s.StartAt) {
		return false
	}
	if s.EndAt != nil && !t.Before(*s.EndAt) {
		return false
	}
	return !c.hasDays || c.days[t.In(store).Weekday()]
}
