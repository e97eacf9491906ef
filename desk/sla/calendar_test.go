package sla_test

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/desk/sla"
)

func newCal(tb testing.TB, cfg sla.CalendarConfig) *sla.Calendar {
	tb.Helper()
	c, err := sla.NewCalendar(cfg)
	if err != nil {
		tb.Fatalf("NewCalendar: %v", err)
	}
	return c
}

func zone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// at parses "2006-01-02 15:04" in loc.
func at(tb testing.TB, loc *time.Location, s string) time.Time {
	tb.Helper()
	layout := "2006-01-02 15:04"
	if len(s) > len(layout) {
		layout = "2006-01-02 15:04:05"
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		tb.Fatalf("parse %q: %v", s, err)
	}
	return t
}

var weekdays = []string{"monday", "tuesday", "wednesday", "thursday", "friday"}

func officeHours(zoneName string, hours ...string) sla.CalendarConfig {
	cfg := sla.CalendarConfig{TimeZone: zoneName, Hours: map[string][]string{}}
	for _, d := range weekdays {
		cfg.Hours[d] = hours
	}
	return cfg
}

func TestBusinessDurationAndAdd(t *testing.T) {
	t.Parallel()
	nightShift := officeHours("UTC", "09:00-17:00")
	nightShift.Hours["friday"] = []string{"09:00-17:00", "22:00-02:00"}
	overlapping := sla.CalendarConfig{Hours: map[string][]string{"friday": {"22:00-02:00"}, "saturday": {"00:00-03:00"}}}
	christmas := officeHours("Europe/Paris", "09:00-12:00", "14:00-18:00")
	christmas.Holidays = []string{"2026-12-25"}
	christmas.Exceptions = map[string][]string{"2026-12-24": {"09:00-11:00"}, "2026-12-26": {"10:00-12:00"}}
	holidayAfterNight := nightShift
	holidayAfterNight.Holidays = []string{"2026-11-21"} // Saturday: Friday's night still runs into it
	holidayOnNight := nightShift
	holidayOnNight.Holidays = []string{"2026-11-20"} // Friday: its night is gone
	alwaysParis := sla.CalendarConfig{TimeZone: "Europe/Paris", AlwaysOpen: true, Holidays: []string{"2030-01-01"}}
	sundayNY := sla.CalendarConfig{TimeZone: "America/New_York", Hours: map[string][]string{"sunday": {"01:00-04:00"}, "monday": {"01:00-04:00"}}}
	gapEdge := sla.CalendarConfig{TimeZone: "Europe/Paris", Hours: map[string][]string{"sunday": {"02:30-05:00", "22:00-23:00"}}}
	repeatedEdge := sla.CalendarConfig{TimeZone: "Europe/Paris", Hours: map[string][]string{"sunday": {"00:00-02:30", "22:00-23:00"}}}

	tests := []struct {
		name     string
		cfg      sla.CalendarConfig
		zone     string
		from, to string
		want     time.Duration
	}{
		{"within a day", officeHours("UTC", "09:00-17:00"), "UTC", "2026-11-18 10:00", "2026-11-18 16:30", 6*time.Hour + 30*time.Minute},
		{"over a weekend", officeHours("UTC", "09:00-17:00"), "UTC", "2026-11-20 16:00", "2026-11-23 10:00", 2 * time.Hour},
		{"from a closed night", officeHours("UTC", "09:00-17:00"), "UTC", "2026-11-18 20:00", "2026-11-19 09:00:01", time.Second},
		{"whole week", officeHours("UTC", "09:00-17:00"), "UTC", "2026-11-16 00:00", "2026-11-23 00:00", 40 * time.Hour},
		{"lunch break", christmas, "Europe/Paris", "2026-11-18 11:00", "2026-11-18 15:00", 2 * time.Hour},
		{"crossing midnight", nightShift, "UTC", "2026-11-20 21:00", "2026-11-21 03:00", 4 * time.Hour},
		{"inside a crossing interval", nightShift, "UTC", "2026-11-21 01:00", "2026-11-23 09:30", time.Hour + 30*time.Minute},
		{"crossing interval merged with next day", overlapping, "UTC", "2026-11-20 00:00", "2026-11-22 00:00", 5 * time.Hour},
		{"holiday after a night shift keeps it", holidayAfterNight, "UTC", "2026-11-20 16:00", "2026-11-21 12:00", 5 * time.Hour},
		{"holiday on a night shift drops it", holidayOnNight, "UTC", "2026-11-19 16:00", "2026-11-21 12:00", time.Hour},
		{"christmas eve exception, holiday, boxing day exception", christmas, "Europe/Paris", "2026-12-24 00:00", "2026-12-27 00:00", 4 * time.Hour},
		{"24/7 over spring forward", alwaysParis, "Europe/Paris", "2026-03-28 12:00", "2026-03-29 12:00", 23 * time.Hour},
		{"24/7 over fall back", alwaysParis, "Europe/Paris", "2026-10-24 12:00", "2026-10-25 12:00", 25 * time.Hour},
		{"spring forward inside hours", sundayNY, "America/New_York", "2026-03-08 00:00", "2026-03-08 12:00", 2 * time.Hour},
		{"fall back inside hours", sundayNY, "America/New_York", "2026-11-01 00:00", "2026-11-01 12:00", 4 * time.Hour},
		{"normal Sunday", sundayNY, "America/New_York", "2026-03-15 00:00", "2026-03-15 12:00", 3 * time.Hour},
		// 02:30 does not exist on 2026-03-29 in Paris: the hours start at the
		// jump (03:00 CEST), so 02:30-05:00 lasts 2h.
		{"start in the skipped hour", gapEdge, "Europe/Paris", "2026-03-29 00:00", "2026-03-29 12:00", 2 * time.Hour},
		// 02:30 exists twice on 2026-10-25 in Paris: the first one ends the
		// hours, so 00:00-02:30 lasts 2h30.
		{"end in the repeated hour", repeatedEdge, "Europe/Paris", "2026-10-25 00:00", "2026-10-25 12:00", 2*time.Hour + 30*time.Minute},
		{"empty range", officeHours("UTC", "09:00-17:00"), "UTC", "2026-11-18 10:00", "2026-11-18 10:00", 0},
		{"reversed range", officeHours("UTC", "09:00-17:00"), "UTC", "2026-11-18 12:00", "2026-11-18 10:00", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cal := newCal(t, tt.cfg)
			loc := zone(t, tt.zone)
			from, to := at(t, loc, tt.from), at(t, loc, tt.to)
			if got := cal.BusinessDuration(from, to); got != tt.want {
				t.Fatalf("BusinessDuration(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
			if tt.want > 0 {
				end := cal.Add(from, tt.want)
				if end.After(to) {
					t.Fatalf("Add(%s, %v) = %v, after %s", tt.from, tt.want, end.In(loc), tt.to)
				}
				if got := cal.BusinessDuration(from, end); got != tt.want {
					t.Fatalf("BusinessDuration(from, Add(from, %v)) = %v", tt.want, got)
				}
			}
		})
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	paris := zone(t, "Europe/Paris")
	office := newCal(t, officeHours("Europe/Paris", "09:00-12:00", "14:00-18:00"))
	tests := []struct {
		name string
		from string
		d    time.Duration
		want string
	}{
		{"zero is from, even when closed", "2026-11-21 03:00", 0, "2026-11-21 03:00"},
		{"negative is from", "2026-11-18 10:00", -time.Hour, "2026-11-18 10:00"},
		{"same morning", "2026-11-18 09:00", 2 * time.Hour, "2026-11-18 11:00"},
		{"ends exactly at noon, not after lunch", "2026-11-18 09:00", 3 * time.Hour, "2026-11-18 12:00"},
		{"over lunch", "2026-11-18 11:00", 2 * time.Hour, "2026-11-18 15:00"},
		{"over the weekend", "2026-11-20 17:00", 2 * time.Hour, "2026-11-23 10:00"},
		{"from a Saturday", "2026-11-21 15:00", time.Second, "2026-11-23 09:00:01"},
		{"a week of business time", "2026-11-16 09:00", 35 * time.Hour, "2026-11-20 18:00"},
		{"into the fall-back week", "2026-10-23 17:00", 2 * time.Hour, "2026-10-26 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := office.Add(at(t, paris, tt.from), tt.d)
			if want := at(t, paris, tt.want); !got.Equal(want) {
				t.Fatalf("Add(%s, %v) = %v, want %v", tt.from, tt.d, got.In(paris), want)
			}
		})
	}
	var nilCal *sla.Calendar
	from := at(t, paris, "2026-10-24 12:00")
	if got := nilCal.Add(from, 24*time.Hour); !got.Equal(from.Add(24 * time.Hour)) {
		t.Fatalf("nil calendar Add = %v", got)
	}
	if got := nilCal.BusinessDuration(from, from.Add(time.Hour)); got != time.Hour {
		t.Fatalf("nil calendar BusinessDuration = %v", got)
	}
}

// randomCalendar builds a calendar with minute-precise intervals that may
// cross midnight, random holidays and exceptions in 2026-2027. With edges
// false, no interval boundary falls between 01:00 and 04:00, where daylight
// saving time jumps, so that wallOpen agrees with it.
func randomCalendar(r *rand.Rand, zoneName string, edges bool) sla.CalendarConfig {
	cfg := sla.CalendarConfig{TimeZone: zoneName, Hours: map[string][]string{}, Exceptions: map[string][]string{}}
	minute := func() int {
		for {
			m := r.Intn(24 * 60)
			if edges || m < 60 || m >= 4*60 {
				return m
			}
		}
	}
	day := func() []string {
		n := r.Intn(3)
		var marks []int
		for i := 0; i < 2*n; i++ {
			marks = append(marks, minute())
		}
		// Sorted distinct marks pair up into disjoint intervals; sometimes
		// the last one wraps past midnight.
		sortInts(marks)
		var out []string
		for i := 0; i+1 < len(marks); i += 2 {
			if marks[i] == marks[i+1] {
				continue
			}
			out = append(out, fmt.Sprintf("%02d:%02d-%02d:%02d", marks[i]/60, marks[i]%60, marks[i+1]/60, marks[i+1]%60))
		}
		if len(out) == 1 && r.Intn(3) == 0 {
			a, b, _ := strings.Cut(out[0], "-")
			out[0] = b + "-" + a // wraps past midnight
		}
		return out
	}
	for _, d := range []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} {
		if r.Intn(5) > 0 {
			cfg.Hours[d] = day()
		}
	}
	cfg.Hours["wednesday"] = []string{"10:00-11:00"} // some hours every week
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := r.Intn(12); i > 0; i-- {
		cfg.Holidays = append(cfg.Holidays, start.AddDate(0, 0, r.Intn(700)).Format(time.DateOnly))
	}
	for i := r.Intn(8); i > 0; i-- {
		d := start.AddDate(0, 0, r.Intn(700)).Format(time.DateOnly)
		if !contains(cfg.Holidays, d) {
			cfg.Exceptions[d] = day()
		}
	}
	return cfg
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

var propertyZones = []string{"UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"}

// TestAddInverse checks, over random calendars, instants and durations, that
// BusinessDuration(t, Add(t, d)) == d, that Add is the earliest such instant,
// and that BusinessDuration adds up over a split range.
func TestAddInverse(t *testing.T) {
	t.Parallel()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 300; i++ {
		zn := propertyZones[r.Intn(len(propertyZones))]
		cfg := randomCalendar(r, zn, true)
		cal := newCal(t, cfg)
		for j := 0; j < 20; j++ {
			from := base.Add(time.Duration(r.Int63n(int64(600 * 24 * time.Hour))))
			if r.Intn(2) == 0 {
				from = from.Truncate(time.Minute)
			}
			d := time.Duration(r.Int63n(int64(120 * time.Hour)))
			if r.Intn(2) == 0 {
				d = d.Truncate(time.Second)
			}
			end := cal.Add(from, d)
			if got := cal.BusinessDuration(from, end); got != d {
				t.Fatalf("calendar %+v: BusinessDuration(%v, Add(%v, %v) = %v) = %v", cfg, from, from, d, end, got)
			}
			if d > 0 {
				if got := cal.BusinessDuration(from, end.Add(-time.Nanosecond)); got >= d {
					t.Fatalf("calendar %+v: Add(%v, %v) = %v is not the earliest", cfg, from, d, end)
				}
			}
			mid := from.Add(time.Duration(r.Int63n(int64(end.Sub(from)) + 1)))
			if a, b, all := cal.BusinessDuration(from, mid), cal.BusinessDuration(mid, end), cal.BusinessDuration(from, end); a+b != all {
				t.Fatalf("calendar %+v: split at %v: %v + %v != %v", cfg, mid, a, b, all)
			}
		}
	}
}

// TestBusinessDurationOracle compares BusinessDuration with a minute by
// minute count done another way: reading each minute's wall clock.
func TestBusinessDurationOracle(t *testing.T) {
	t.Parallel()
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	nonzero := 0
	for i := 0; i < 40; i++ {
		zn := propertyZones[r.Intn(len(propertyZones))]
		cfg := randomCalendar(r, zn, zn == "UTC" || zn == "Asia/Kolkata")
		cal := newCal(t, cfg)
		loc := zone(t, zn)
		// Ranges around the DST changes of 2026 in both hemispheres.
		starts := []time.Time{
			time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 27, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 4, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 10, 23, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.Intn(700)),
		}
		from := starts[r.Intn(len(starts))].Add(time.Duration(r.Intn(24*60)) * time.Minute)
		to := from.Add(time.Duration(r.Intn(5*24*60)) * time.Minute)
		want := time.Duration(0)
		for m := from; m.Before(to); m = m.Add(time.Minute) {
			if wallOpen(t, cfg, m.In(loc)) {
				want += time.Minute
			}
		}
		if got := cal.BusinessDuration(from, to); got != want {
			t.Fatalf("calendar %+v: BusinessDuration(%v, %v) = %v, minute count %v", cfg, from, to, got, want)
		}
		if want > 0 {
			nonzero++
		}
	}
	if nonzero < 10 {
		t.Fatalf("only %d of 40 ranges had business time: the comparison proves little", nonzero)
	}
}

// wallOpen says whether the minute starting at t (local) is in business
// hours, from the configuration's strings.
func wallOpen(tb testing.TB, cfg sla.CalendarConfig, t time.Time) bool {
	tb.Helper()
	minute := t.Hour()*60 + t.Minute()
	hoursOn := func(d time.Time) []string {
		key := d.Format(time.DateOnly)
		if h, ok := cfg.Exceptions[key]; ok {
			return h
		}
		if contains(cfg.Holidays, key) {
			return nil
		}
		return cfg.Hours[strings.ToLower(d.Weekday().String())]
	}
	clock := func(s string) int {
		var h, m int
		fmt.Sscanf(s, "%d:%d", &h, &m)
		return h*60 + m
	}
	for _, iv := range hoursOn(t) {
		a, b, _ := strings.Cut(iv, "-")
		s, e := clock(a), clock(b)
		if e <= s {
			e += 24 * 60
		}
		if minute >= s && minute < e {
			return true
		}
	}
	y, mo, d := t.Date()
	for _, iv := range hoursOn(time.Date(y, mo, d-1, 12, 0, 0, 0, time.UTC)) {
		a, b, _ := strings.Cut(iv, "-")
		s, e := clock(a), clock(b)
		if e <= s && minute < e {
			return true
		}
	}
	return false
}

func BenchmarkBusinessDuration(b *testing.B) {
	cal := newCal(b, officeHours("Europe/Paris", "09:00-12:00", "14:00-18:00"))
	from := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	to := from.Add(3 * 24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		cal.BusinessDuration(from, to)
	}
}
