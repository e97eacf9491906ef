package sla

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// daySeconds is the length of a wall-clock day; an interval ending past it
// crosses midnight.
const daySeconds = 24 * 60 * 60

// span is one interval of business hours in seconds from the local midnight
// of the date it starts on: 0 <= start < daySeconds, start < end, and end is
// past daySeconds when the interval crosses midnight.
type span struct{ start, end int32 }

// date is a civil date, used as a map key.
type date struct {
	year  int32
	month time.Month
	day   int8
}

func dateOf(y int, m time.Month, d int) date { return date{int32(y), m, int8(d)} }

// Calendar says when business time runs. Build one with NewCalendar. A nil
// *Calendar is always open (24/7), as is the zero Calendar.
type Calendar struct {
	loc *time.Location
	// week holds the hours of each weekday, indexed by time.Weekday.
	week [7][]span
	// special holds the hours of holidays (none) and exceptions, by date.
	special map[date][]span
	// always is true for a 24/7 calendar without holidays nor exceptions:
	// business time is then real elapsed time.
	always bool
}

// NewCalendar checks cfg and builds its calendar.
func NewCalendar(cfg CalendarConfig) (*Calendar, error) {
	return cfg.compile()
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location {
	if c == nil || c.loc == nil {
		return time.UTC
	}
	return c.loc
}

func (c *Calendar) alwaysOpen() bool { return c == nil || c.loc == nil || c.always }

// spansOn returns the business hours of a date.
func (c *Calendar) spansOn(d date, wd time.Weekday) []span {
	if s, ok := c.special[d]; ok {
		return s
	}
	return c.week[wd]
}

// walk calls fn with the business intervals that may end after from, in
// order of their start, until fn returns false. Intervals may overlap when
// one crosses midnight into the next day's hours; callers merge them.
// It stops after maxDays days, a bound only a calendar without weekly hours
// could reach (NewCalendar refuses those).
func (c *Calendar) walk(from time.Time, fn func(s, e time.Time) bool) {
	y, m, d := from.In(c.loc).Date()
	// Start the day before: an interval from then may cross midnight.
	for i := -1; i < maxDays; i++ {
		noon := time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC)
		dy, dm, dd := noon.Date()
		for _, sp := range c.spansOn(dateOf(dy, dm, dd), noon.Weekday()) {
			s := instant(c.loc, dy, dm, dd, sp.start)
			e := instant(c.loc, dy, dm, dd, sp.end)
			if !e.After(s) {
				continue // swallowed by a daylight saving time gap
			}
			if !fn(s, e) {
				return
			}
		}
	}
}

// instant returns the first instant at which the wall clock in loc reads the
// date plus sec seconds or later. For a wall time that does not exist (the
// hour skipped when daylight saving time starts) it is the instant of the
// jump; for one that exists twice (the hour repeated when it ends), the
// first. time.Date leaves both cases unspecified.
func instant(loc *time.Location, y int, m time.Month, d int, sec int32) time.Time {
	t := time.Date(y, m, d, 0, 0, int(sec), 0, loc)
	if loc == time.UTC {
		return t
	}
	want := time.Date(y, m, d, 0, 0, int(sec), 0, time.UTC).Unix() // the wall time, as if in UTC
	_, off := t.Zone()
	got := t.Unix() + int64(off)
	start, end := t.ZoneBounds()
	switch {
	case got > want && !start.IsZero():
		return start // in a gap: t is past it, the jump is where its zone starts
	case got < want && !end.IsZero():
		return end // in a gap: t is before it
	case got == want && !start.IsZero():
		// An earlier occurrence in the previous zone period?
		_, prevOff := start.Add(-time.Second).Zone()
		if prev := want - int64(prevOff); prev < start.Unix() && prevOff > off {
			return time.Unix(prev, 0).In(loc)
		}
	}
	return t
}

// maxDays bounds a walk to a century: past the last holiday or exception,
// every week of a valid calendar has business hours, so only a question about
// more than a century of time could reach it.
const maxDays = 100 * 366

// BusinessDuration returns the business time between from and to: how much
// of [from, to) falls in business hours. It is 0 when to is not after from.
func (c *Calendar) BusinessDuration(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	if c.alwaysOpen() {
		return to.Sub(from)
	}
	var total time.Duration
	covered := from // business time before covered is counted
	c.walk(from, func(s, e time.Time) bool {
		if !s.Before(to) {
			return false
		}
		if s.Before(covered) {
			s = covered
		}
		if e.After(to) {
			e = to
		}
		if e.After(s) {
			total += e.Sub(s)
			covered = e
		}
		return true
	})
	return total
}

// Add returns the earliest instant at which d of business time has elapsed
// since from. Add(from, 0) is from; a negative d counts as 0.
func (c *Calendar) Add(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	if c.alwaysOpen() {
		return from.Add(d)
	}
	left := d
	covered := from
	var at time.Time
	found := false
	c.walk(from, func(s, e time.Time) bool {
		if s.Before(covered) {
			s = covered
		}
		if !e.After(s) {
			return true
		}
		if avail := e.Sub(s); avail < left {
			left -= avail
			covered = e
			return true
		}
		at, found = s.Add(left), true
		return false
	})
	if !found {
		// Unreachable for a calendar built by NewCalendar within maxDays.
		return from.Add(maxDays * 24 * time.Hour)
	}
	return at
}

// IsOpen reports whether t falls in business hours.
func (c *Calendar) IsOpen(t time.Time) bool {
	return c.BusinessDuration(t, t.Add(time.Nanosecond)) > 0
}

// parseClock parses "HH:MM" (00:00 to 24:00) into seconds from midnight.
func parseClock(s string) (int32, bool) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, false
	}
	if h[0] == '+' || h[0] == '-' || m[0] == '+' || m[0] == '-' {
		return 0, false
	}
	return int32(hh*3600 + mm*60), true
}

// parseSpans parses a day's intervals ("09:00-12:30") and checks that they
// do not overlap.
func parseSpans(ivs []string) ([]span, error) {
	out := make([]span, 0, len(ivs))
	for _, iv := range ivs {
		a, b, ok := strings.Cut(iv, "-")
		if !ok {
			return nil, fmt.Errorf("%q is not an interval (want HH:MM-HH:MM)", iv)
		}
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		start, ok := parseClock(a)
		if !ok {
			return nil, fmt.Errorf("%s is not a time (want HH:MM from 00:00 to 24:00)", strconv.Quote(a))
		}
		end, ok := parseClock(b)
		if !ok {
			return nil, fmt.Errorf("%s is not a time (want HH:MM from 00:00 to 24:00)", strconv.Quote(b))
		}
		switch {
		case start == daySeconds:
			return nil, fmt.Errorf("%q: an interval cannot start at 24:00", iv)
		case start == end:
			return nil, fmt.Errorf("%q: empty interval", iv)
		case end < start:
			end += daySeconds // crosses midnight
		}
		out = append(out, span{start, end})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	for i := 1; i < len(out); i++ {
		if out[i].start < out[i-1].end {
			return nil, fmt.Errorf("%s overlaps %s", formatSpan(out[i-1]), formatSpan(out[i]))
		}
	}
	return out, nil
}

func formatSpan(s span) string {
	return formatClock(s.start) + "-" + formatClock(s.end%daySeconds+boolInt(s.end == daySeconds)*daySeconds)
}

func formatClock(sec int32) string {
	return fmt.Sprintf("%02d:%02d", sec/3600, sec%3600/60)
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}
