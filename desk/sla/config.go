package sla

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigie/vigie/router"
)

// Config is the SLA configuration: named calendars, a default policy and
// per-queue policies. It reads from YAML or JSON:
//
//	calendars:
//	  office:
//	    time_zone: Europe/Paris
//	    hours:
//	      monday: ["09:00-12:30", "13:30-18:00"]
//	      friday: ["09:00-18:00", "22:00-02:00"]
//	    holidays: ["2026-12-25"]
//	    exceptions:
//	      "2026-12-24": ["09:00-12:00"]
//	  always: {always_open: true}
//	default:
//	  calendar: office
//	  targets:
//	    urgent: {first_response: 30m, resolution: 4h}
//	    normal: {first_response: 2h, resolution: 24h}
//	queues:
//	  vip: {calendar: always, warning: 0.5}
type Config struct {
	// Calendars are the business-hours calendars, by name.
	Calendars map[string]CalendarConfig `yaml:"calendars" json:"calendars"`
	// Default applies to every queue, and fills what a queue's policy leaves
	// out.
	Default PolicyConfig `yaml:"default" json:"default"`
	// Queues holds per-queue policies, by queue name.
	Queues map[string]PolicyConfig `yaml:"queues" json:"queues"`
}

// PolicyConfig is the SLA policy of a queue. Zero fields take the default
// policy's values.
type PolicyConfig struct {
	// Calendar names the calendar business time is counted on. In the
	// default policy, empty means always open in UTC.
	Calendar string `yaml:"calendar" json:"calendar"`
	// Warning is the share of a target after which a clock is at risk,
	// strictly between 0 and 1. In the default policy, 0 means 0.8.
	Warning float64 `yaml:"warning" json:"warning"`
	// Targets holds the targets by priority (low, normal, high, urgent).
	// A priority without a target has no SLA.
	Targets map[router.Priority]TargetConfig `yaml:"targets" json:"targets"`
}

// TargetConfig holds the targets of one priority, in business time. A zero
// target is taken from the default policy, or means no target there.
type TargetConfig struct {
	FirstResponse Duration `yaml:"first_response" json:"first_response"`
	Resolution    Duration `yaml:"resolution" json:"resolution"`
}

// Duration is a time.Duration written as "90m" or "4h30m" in YAML and JSON.
type Duration time.Duration

// UnmarshalText parses a duration such as "1h30m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (want e.g. 30m or 4h)", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// CalendarConfig describes a business-hours calendar.
type CalendarConfig struct {
	// TimeZone is an IANA zone name ("Europe/Paris"); empty means UTC.
	TimeZone string `yaml:"time_zone" json:"time_zone"`
	// AlwaysOpen makes every day 00:00-24:00 (holidays and exceptions still
	// apply). It excludes Hours.
	AlwaysOpen bool `yaml:"always_open" json:"always_open"`
	// Hours lists the business intervals of each weekday ("monday" to
	// "sunday"), as "HH:MM-HH:MM"; an interval ending before it starts
	// crosses midnight ("22:00-02:00"), 24:00 ends a day. A weekday left out
	// is closed.
	Hours map[string][]string `yaml:"hours" json:"hours"`
	// Holidays lists closed dates, as "2006-01-02".
	Holidays []string `yaml:"holidays" json:"holidays"`
	// Exceptions gives special hours on dates ("2006-01-02"); an empty list
	// closes the date.
	Exceptions map[string][]string `yaml:"exceptions" json:"exceptions"`
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// Validate checks the calendar; errors name the field at fault, as in
// "hours: monday: "25:00" is not a time".
func (c *CalendarConfig) Validate() error {
	_, err := c.compile()
	return err
}

// firstYear and lastYear bound the dates a calendar accepts: far enough for
// any holiday list, near enough to catch typos such as 20266-12-25.
const (
	firstYear = 1970
	lastYear  = 2200
)

func (c *CalendarConfig) compile() (*Calendar, error) {
	cal := &Calendar{special: map[date][]span{}}
	switch c.TimeZone {
	case "":
		cal.loc = time.UTC
	case "Local":
		return nil, errors.New(`time_zone: "Local" depends on the machine; name the zone, e.g. Europe/Paris`)
	default:
		loc, err := time.LoadLocation(c.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("time_zone: %q is not a known IANA time zone", c.TimeZone)
		}
		cal.loc = loc
	}
	if c.AlwaysOpen {
		if len(c.Hours) > 0 {
			return nil, errors.New("always_open and hours exclude each other")
		}
		for wd := range cal.week {
			cal.week[wd] = []span{{0, daySeconds}}
		}
	} else {
		days := make([]string, 0, len(c.Hours))
		for name := range c.Hours {
			days = append(days, name)
		}
		sort.Strings(days)
		open := false
		for _, name := range days {
			wd, ok := weekdays[strings.ToLower(name)]
			if !ok {
				return nil, fmt.Errorf("hours: %q is not a weekday (want monday to sunday)", name)
			}
			if cal.week[wd] != nil {
				return nil, fmt.Errorf("hours: %s given twice", strings.ToLower(name))
			}
			spans, err := parseSpans(c.Hours[name])
			if err != nil {
				return nil, fmt.Errorf("hours: %s: %w", strings.ToLower(name), err)
			}
			cal.week[wd] = spans
			open = open || len(spans) > 0
		}
		if !open {
			return nil, errors.New("hours: no business hours in the week (set hours, or always_open: true)")
		}
	}
	for i, h := range c.Holidays {
		d, err := parseDate(h)
		if err != nil {
			return nil, fmt.Errorf("holidays[%d]: %w", i, err)
		}
		cal.special[d] = []span{}
	}
	dates := make([]string, 0, len(c.Exceptions))
	for k := range c.Exceptions {
		dates = append(dates, k)
	}
	sort.Strings(dates)
	for _, k := range dates {
		d, err := parseDate(k)
		if err != nil {
			return nil, fmt.Errorf("exceptions: %w", err)
		}
		if _, dup := cal.special[d]; dup {
			return nil, fmt.Errorf("exceptions: %s is also a holiday (or given twice)", k)
		}
		spans, err := parseSpans(c.Exceptions[k])
		if err != nil {
			return nil, fmt.Errorf("exceptions: %s: %w", k, err)
		}
		cal.special[d] = spans
	}
	cal.always = c.AlwaysOpen && len(cal.special) == 0
	return cal, nil
}

func parseDate(s string) (date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return date{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD)", s)
	}
	if t.Year() < firstYear || t.Year() > lastYear {
		return date{}, fmt.Errorf("%q: year out of range %d-%d", s, firstYear, lastYear)
	}
	return dateOf(t.Date()), nil
}

// Validate fills defaults and checks the configuration: every calendar, that
// policies name known calendars and priorities, warnings in (0, 1), and
// targets not negative. Errors name the field at fault.
func (c *Config) Validate() error {
	_, err := c.compile()
	return err
}

// ParseConfig reads a Config from YAML or JSON (a JSON document is YAML),
// refusing unknown fields, and validates it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("sla config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) compile() (*Policies, error) {
	p := &Policies{calendars: map[string]*Calendar{}, queues: map[string]policySet{}}
	names := make([]string, 0, len(c.Calendars))
	for n := range c.Calendars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		cc := c.Calendars[n]
		cal, err := cc.compile()
		if err != nil {
			return nil, fmt.Errorf("sla config: calendars: %s: %w", n, err)
		}
		p.calendars[n] = cal
	}
	if c.Default.Warning == 0 {
		c.Default.Warning = DefaultWarning
	}
	def, err := p.policySet(c.Default, policySet{})
	if err != nil {
		return nil, fmt.Errorf("sla config: default: %w", err)
	}
	p.def = def
	queues := make([]string, 0, len(c.Queues))
	for q := range c.Queues {
		queues = append(queues, q)
	}
	sort.Strings(queues)
	for _, q := range queues {
		if q == "" {
			return nil, errors.New("sla config: queues: empty queue name")
		}
		ps, err := p.policySet(c.Queues[q], def)
		if err != nil {
			return nil, fmt.Errorf("sla config: queues: %s: %w", q, err)
		}
		p.queues[q] = ps
	}
	return p, nil
}

// DefaultWarning is the share of a target after which a clock is at risk
// when the configuration does not say: 80%, the usual "breach warning".
const DefaultWarning = 0.8

// policySet builds a queue's policies over parent.
func (p *Policies) policySet(pc PolicyConfig, parent policySet) (policySet, error) {
	ps := parent
	if pc.Calendar != "" {
		cal, ok := p.calendars[pc.Calendar]
		if !ok {
			return ps, fmt.Errorf("calendar: %q is not defined under calendars", pc.Calendar)
		}
		ps.calendar = cal
	}
	if pc.Warning != 0 {
		if math.IsNaN(pc.Warning) || pc.Warning <= 0 || pc.Warning >= 1 {
			return ps, fmt.Errorf("warning: %v must be between 0 and 1 (e.g. 0.8 for 80%%)", pc.Warning)
		}
		ps.warning = pc.Warning
	}
	prios := make([]string, 0, len(pc.Targets))
	for pr := range pc.Targets {
		prios = append(prios, string(pr))
	}
	sort.Strings(prios)
	for _, name := range prios {
		pr := router.Priority(name)
		if !pr.Valid() {
			return ps, fmt.Errorf("targets: %q is not a priority (want low, normal, high or urgent)", name)
		}
		t := pc.Targets[pr]
		if t.FirstResponse < 0 {
			return ps, fmt.Errorf("targets: %s: first_response: %v is negative", name, time.Duration(t.FirstResponse))
		}
		if t.Resolution < 0 {
			return ps, fmt.Errorf("targets: %s: resolution: %v is negative", name, time.Duration(t.Resolution))
		}
		cur := &ps.targets[pr.Rank()]
		if t.FirstResponse != 0 {
			cur[0] = time.Duration(t.FirstResponse)
		}
		if t.Resolution != 0 {
			cur[1] = time.Duration(t.Resolution)
		}
	}
	return ps, nil
}
