package offer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Hours are a store's weekly opening hours, by weekday ("mon" … "sun"), each
// a list of local-time ranges "09:00-19:30" (start included, end excluded;
// "24:00" ends at midnight). A weekday absent from the map is a closed day.
// A nil Hours means always open. A range never crosses midnight: write
// "22:00-24:00" on one day and "00:00-02:00" on the next.
type Hours map[string][]string

// Exception overrides the weekly hours for one local date: Closed, or the
// given Hours instead.
type Exception struct {
	// Date is the local date, "2006-01-02".
	Date   string   `json:"date"`
	Closed bool     `json:"closed,omitempty"`
	Hours  []string `json:"hours,omitempty"`
	// Note says why ("Christmas", "late opening").
	Note string `json:"note,omitempty"`
}

// span is a range of minutes since local midnight, [from, to).
type span struct{ from, to int }

// weekdays maps the names Hours uses to time.Weekday.
var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// schedule is compiled opening hours.
type schedule struct {
	always bool
	week   [7][]span
	// exceptions by local date; an empty slice is a closed day.
	exceptions map[string][]span
}

// parseClock reads "HH:MM" (00:00 … 24:00) as minutes since midnight.
func parseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	var h, m int
	for i, c := range []byte(s) {
		if i == 2 {
			continue
		}
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not HH:MM", s)
		}
	}
	h = int(s[0]-'0')*10 + int(s[1]-'0')
	m = int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("%q is not a time of day (00:00 to 24:00)", s)
	}
	return h*60 + m, nil
}

// parseSpan reads "09:00-19:30", start before end.
func parseSpan(s string) (span, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return span{}, fmt.Errorf("%q is not a range like \"09:00-19:30\"", s)
	}
	from, err := parseClock(a)
	if err != nil {
		return span{}, err
	}
	to, err := parseClock(b)
	if err != nil {
		return span{}, err
	}
	if from == 24*60 || to <= from {
		return span{}, fmt.Errorf("%q: the end must be after the start on the same day (split a range that crosses midnight in two)", s)
	}
	return span{from, to}, nil
}

func parseSpans(ranges []string, field string) ([]span, error) {
	out := make([]span, 0, len(ranges))
	for i, r := range ranges {
		sp, err := parseSpan(r)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, sp)
	}
	slices.SortFunc(out, func(a, b span) int { return a.from - b.from })
	for i := 1; i < len(out); i++ {
		if out[i].from < out[i-1].to {
			return nil, fmt.Errorf("%s: ranges overlap", field)
		}
	}
	return out, nil
}

// compileSchedule checks hours and exceptions and compiles them.
func compileSchedule(h Hours, exc []Exception) (schedule, error) {
	var s schedule
	if h == nil {
		s.always = true
	}
	for day, ranges := range h {
		wd, ok := weekdays[day]
		if !ok {
			return schedule{}, fmt.Errorf("hours: %q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", day)
		}
		sp, err := parseSpans(ranges, "hours."+day)
		if err != nil {
			return schedule{}, err
		}
		s.week[wd] = sp
	}
	if len(exc) > 0 {
		s.exceptions = make(map[string][]span, len(exc))
	}
	for i, e := range exc {
		if _, err := time.Parse(time.DateOnly, e.Date); err != nil {
			return schedule{}, fmt.Errorf("exceptions[%d].date: %q is not a date like 2026-12-25", i, e.Date)
		}
		if _, dup := s.exceptions[e.Date]; dup {
			return schedule{}, fmt.Errorf("exceptions[%d].date: %s is listed twice", i, e.Date)
		}
		switch {
		case e.Closed && len(e.Hours) > 0:
			return schedule{}, fmt.Errorf("exceptions[%d]: closed and hours both given", i)
		case !e.Closed && len(e.Hours) == 0:
			return schedule{}, fmt.Errorf("exceptions[%d]: give either closed: true or hours", i)
		}
		sp, err := parseSpans(e.Hours, fmt.Sprintf("exceptions[%d].hours", i))
		if err != nil {
			return schedule{}, err
		}
		s.exceptions[e.Date] = sp
	}
	if s.always && len(exc) > 0 {
		return schedule{}, errors.New("exceptions: give weekly hours too (no hours means always open)")
	}
	return s, nil
}

// open reports whether the store is open at t, read on the wall clock of
// loc. Wall-clock reading makes DST transitions right by construction: on a
// spring-forward day 02:30 never happens, and on a fall-back day 01:30
// happens twice, open both times when 01:00-02:00 is in the hours.
func (s *schedule) open(t time.Time, loc *time.Location) bool {
	if s.always {
		return true
	}
	local := t.In(loc)
	spans, ok := s.exceptions[local.Format(time.DateOnly)]
	if !ok {
		spans = s.week[local.Weekday()]
	}
	return inSpans(spans, local.Hour()*60+local.Minute())
}

func inSpans(spans []span, minute int) bool {
	for _, sp := range spans {
		if minute >= sp.from && minute < sp.to {
			return true
		}
	}
	return false
}

// quiet is a daily range of quiet hours, which may cross midnight
// ("21:00-08:00"), start included, end excluded.
type quiet struct {
	set      bool
	from, to int
}

func parseQuiet(s string) (quiet, error) {
	if s == "" {
		return quiet{}, nil
	}
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return quiet{}, fmt.Errorf("%q is not a range like \"21:00-08:00\"", s)
	}
	from, err := parseClock(a)
	if err != nil {
		return quiet{}, err
	}
	to, err := parseClock(b)
	if err != nil {
		return quiet{}, err
	}
	if from == to || from == 24*60 {
		return quiet{}, fmt.Errorf("%q: an empty or whole-day range", s)
	}
	return quiet{set: true, from: from, to: to}, nil
}

// contains reports whether the local time t (in loc) falls in the quiet
// hours.
func (q quiet) contains(t time.Time, loc *time.Location) bool {
	if !q.set {
		return false
	}
	local := t.In(loc)
	m := local.Hour()*60 + local.Minute()
	if q.from < q.to {
		return m >= q.from && m < q.to
	}
	return m >= q.from || m < q.to
}
