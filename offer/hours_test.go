package offer

import (
	"strings"
	"testing"
	"time"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

func TestScheduleOpen(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	hours := Hours{
		"mon": {"09:00-19:30"}, "tue": {"09:00-19:30"}, "wed": {"09:00-12:00", "14:00-19:30"},
		"thu": {"09:00-19:30"}, "fri": {"09:00-24:00"}, "sat": {"00:00-02:00", "10:00-18:00"},
		// Sunday absent: closed.
	}
	exc := []Exception{
		{Date: "2026-12-25", Closed: true, Note: "Christmas"},
		{Date: "2026-12-24", Hours: []string{"09:00-14:00"}},
		// Daylight saving days (US): spring forward 2026-03-08 02:00 →
		// 03:00, fall back 2026-11-01 02:00 → 01:00. Both are Sundays,
		// normally closed: open them around the jump.
		{Date: "2026-03-08", Hours: []string{"01:00-04:00"}},
		{Date: "2026-11-01", Hours: []string{"01:00-02:00"}},
	}
	s, err := compileSchedule(hours, exc)
	if err != nil {
		t.Fatal(err)
	}
	at := func(v string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", v, ny)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"monday opening", at("2026-11-23 09:00"), true},
		{"monday before opening", at("2026-11-23 08:59"), false},
		{"monday closing is excluded", at("2026-11-23 19:30"), false},
		{"monday last minute", at("2026-11-23 19:29"), true},
		{"wednesday lunch break", at("2026-11-25 13:00"), false},
		{"wednesday afternoon", at("2026-11-25 14:00"), true},
		{"friday late", at("2026-11-27 23:59"), true},
		{"saturday after midnight", at("2026-11-28 01:30"), true},
		{"saturday 02:00", at("2026-11-28 02:00"), false},
		{"sunday closed", at("2026-11-29 12:00"), false},
		{"christmas closed", at("2026-12-25 12:00"), false},
		{"christmas eve short", at("2026-12-24 13:59"), true},
		{"christmas eve afternoon", at("2026-12-24 15:00"), false},
		// The same instant read from UTC: 14:00 UTC is 09:00 in New York in
		// winter (UTC-5).
		{"utc instant in winter", time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), true},
		{"utc instant an hour early", time.Date(2026, 11, 23, 13, 59, 0, 0, time.UTC), false},
		// In summer (UTC-4), 13:00 UTC is 09:00.
		{"utc instant in summer", time.Date(2026, 7, 6, 13, 0, 0, 0, time.UTC), true},
		{"utc instant in summer, winter offset", time.Date(2026, 7, 6, 12, 30, 0, 0, time.UTC), false},
		// Spring forward: 06:59 UTC is 01:59 EST; 07:00 UTC is 03:00 EDT.
		{"before the jump", time.Date(2026, 3, 8, 6, 59, 0, 0, time.UTC), true},
		{"after the jump", time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), true},
		{"after the jump, past 04:00", time.Date(2026, 3, 8, 8, 0, 0, 0, time.UTC), false},
		// Fall back: 01:30 happens twice (05:30 UTC in EDT, 06:30 UTC in
		// EST); both are in 01:00-02:00.
		{"first 01:30", time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC), true},
		{"second 01:30", time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC), true},
		{"02:00 after the fall back", time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.open(tt.t, ny); got != tt.want {
				t.Errorf("open(%s) = %v, want %v", tt.t.In(ny).Format(time.RFC3339), got, tt.want)
			}
		})
	}
	var always schedule
	always.always = true
	if !always.open(time.Now(), ny) {
		t.Error("nil hours must mean always open")
	}
	closed, _ := compileSchedule(Hours{}, nil)
	if closed.open(at("2026-11-23 12:00"), ny) {
		t.Error("empty hours must mean always closed")
	}
}

func TestScheduleErrors(t *testing.T) {
	tests := []struct {
		name  string
		hours Hours
		exc   []Exception
		want  string
	}{
		{"bad weekday", Hours{"monday": {"09:00-10:00"}}, nil, `"monday" is not a weekday`},
		{"no dash", Hours{"mon": {"09:00"}}, nil, "not a range"},
		{"bad clock", Hours{"mon": {"9:00-10:00"}}, nil, "not HH:MM"},
		{"minutes 60", Hours{"mon": {"09:60-10:00"}}, nil, "not a time of day"},
		{"hour 25", Hours{"mon": {"09:00-25:00"}}, nil, "not a time of day"},
		{"end before start", Hours{"mon": {"19:00-09:00"}}, nil, "crosses midnight"},
		{"empty range", Hours{"mon": {"09:00-09:00"}}, nil, "after the start"},
		{"overlap", Hours{"mon": {"09:00-12:00", "11:00-13:00"}}, nil, "overlap"},
		{"bad date", Hours{}, []Exception{{Date: "25/12/2026", Closed: true}}, "not a date"},
		{"twice", Hours{}, []Exception{{Date: "2026-12-25", Closed: true}, {Date: "2026-12-25", Closed: true}}, "listed twice"},
		{"closed and hours", Hours{}, []Exception{{Date: "2026-12-25", Closed: true, Hours: []string{"09:00-10:00"}}}, "both given"},
		{"neither", Hours{}, []Exception{{Date: "2026-12-25"}}, "either closed"},
		{"exceptions without hours", nil, []Exception{{Date: "2026-12-25", Closed: true}}, "weekly hours too"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileSchedule(tt.hours, tt.exc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestQuietHours(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	q, err := parseQuiet("21:00-08:00")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		local string
		want  bool
	}{
		{"2026-11-23 20:59", false},
		{"2026-11-23 21:00", true},
		{"2026-11-23 23:59", true},
		{"2026-11-24 00:00", true},
		{"2026-11-24 07:59", true},
		{"2026-11-24 08:00", false},
		{"2026-11-24 12:00", false},
		// DST in Paris: 2026-03-29 02:00 → 03:00.
		{"2026-03-29 03:30", true},
	}
	for _, tt := range tests {
		tm, _ := time.ParseInLocation("2006-01-02 15:04", tt.local, paris)
		if got := q.contains(tm, paris); got != tt.want {
			t.Errorf("quiet at %s = %v, want %v", tt.local, got, tt.want)
		}
	}
	// The same instant is quiet in Paris (22:00) and not in New York (16:00).
	inst := time.Date(2026, 11, 23, 21, 0, 0, 0, time.UTC)
	if !q.contains(inst, paris) || q.contains(inst, mustZone(t, "America/New_York")) {
		t.Error("quiet hours must be read in the given zone")
	}
	day, _ := parseQuiet("12:00-14:00")
	if tm := time.Date(2026, 1, 1, 13, 0, 0, 0, paris); !day.contains(tm, paris) {
		t.Error("a daytime quiet range must hold 13:00")
	}
	for _, bad := range []string{"21:00", "21:00-21:00", "24:00-08:00", "ab:00-08:00"} {
		if _, err := parseQuiet(bad); err == nil {
			t.Errorf("parseQuiet(%q) accepted", bad)
		}
	}
}

func FuzzParseSpan(f *testing.F) {
	for _, s := range []string{"09:00-19:30", "00:00-24:00", "23:59-24:00", "9-5", "24:00-24:00", "12:00-11:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sp, err := parseSpan(s)
		if err != nil {
			return
		}
		if sp.from < 0 || sp.to > 24*60 || sp.to <= sp.from {
			t.Fatalf("parseSpan(%q) = %+v: not a range within a day", s, sp)
		}
	})
}
