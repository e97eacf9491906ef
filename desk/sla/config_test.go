package sla_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/router"
)

const exampleYAML = `
calendars:
  office:
    time_zone: Europe/Paris
    hours:
      monday: ["09:00-12:30", "13:30-18:00"]
      tuesday: ["09:00-18:00"]
      friday: ["09:00-18:00", "22:00-02:00"]
    holidays: ["2026-12-25"]
    exceptions:
      "2026-12-24": ["09:00-12:00"]
  always: {always_open: true}
default:
  calendar: office
  targets:
    urgent: {first_response: 30m, resolution: 4h}
    normal: {first_response: 2h, resolution: 24h}
queues:
  vip:
    calendar: always
    warning: 0.5
    targets:
      normal: {first_response: 15m}
`

func TestParseConfig(t *testing.T) {
	t.Parallel()
	cfg, err := sla.ParseConfig([]byte(exampleYAML))
	if err != nil {
		t.Fatal(err)
	}
	pol, err := sla.NewPolicies(cfg)
	if err != nil {
		t.Fatal(err)
	}
	office, _ := pol.Calendar("office")
	tests := []struct {
		queue string
		prio  router.Priority
		want  sla.Policy
	}{
		{"support", router.PriorityNormal, sla.Policy{FirstResponse: 2 * time.Hour, Resolution: 24 * time.Hour, Warning: 0.8, Calendar: office}},
		{"support", router.PriorityUrgent, sla.Policy{FirstResponse: 30 * time.Minute, Resolution: 4 * time.Hour, Warning: 0.8, Calendar: office}},
		{"support", router.PriorityLow, sla.Policy{Warning: 0.8, Calendar: office}},
		{"support", "", sla.Policy{FirstResponse: 2 * time.Hour, Resolution: 24 * time.Hour, Warning: 0.8, Calendar: office}},
		{"vip", router.PriorityNormal, sla.Policy{FirstResponse: 15 * time.Minute, Resolution: 24 * time.Hour, Warning: 0.5}},
		{"vip", router.PriorityUrgent, sla.Policy{FirstResponse: 30 * time.Minute, Resolution: 4 * time.Hour, Warning: 0.5}},
	}
	for _, tt := range tests {
		got := pol.Policy(tt.queue, tt.prio)
		if tt.queue == "vip" {
			always, _ := pol.Calendar("always")
			tt.want.Calendar = always
		}
		if got != tt.want {
			t.Errorf("Policy(%s, %s) = %+v, want %+v", tt.queue, tt.prio, got, tt.want)
		}
	}
	// JSON is accepted too.
	if _, err := sla.ParseConfig([]byte(`{"default": {"targets": {"high": {"first_response": "1h", "resolution": "8h"}}}}`)); err != nil {
		t.Fatalf("JSON config: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"bad hour", `calendars: {c: {hours: {monday: ["09:00-25:00"]}}}`, `calendars: c: hours: monday: "25:00" is not a time`},
		{"bad minute", `calendars: {c: {hours: {monday: ["09:60-12:00"]}}}`, `"09:60" is not a time`},
		{"not an interval", `calendars: {c: {hours: {monday: ["9 to 5"]}}}`, `monday: "9 to 5" is not an interval`},
		{"start at 24:00", `calendars: {c: {hours: {monday: ["24:00-02:00"]}}}`, `cannot start at 24:00`},
		{"empty interval", `calendars: {c: {hours: {monday: ["09:00-09:00"]}}}`, `empty interval`},
		{"overlap", `calendars: {c: {hours: {monday: ["09:00-12:00", "11:00-13:00"]}}}`, `monday: 09:00-12:00 overlaps 11:00-13:00`},
		{"not a weekday", `calendars: {c: {hours: {funday: ["09:00-12:00"]}}}`, `"funday" is not a weekday`},
		{"twice", `calendars: {c: {hours: {monday: ["09:00-12:00"], Monday: ["13:00-14:00"]}}}`, `monday given twice`},
		{"closed week", `calendars: {c: {hours: {monday: []}}}`, `no business hours`},
		{"always and hours", `calendars: {c: {always_open: true, hours: {monday: ["09:00-12:00"]}}}`, `exclude each other`},
		{"bad zone", `calendars: {c: {time_zone: Mars/Olympus, always_open: true}}`, `"Mars/Olympus" is not a known IANA time zone`},
		{"local zone", `calendars: {c: {time_zone: Local, always_open: true}}`, `name the zone`},
		{"bad holiday", `calendars: {c: {always_open: true, holidays: ["2026-02-30"]}}`, `holidays[0]: "2026-02-30" is not a date`},
		{"holiday typo year", `calendars: {c: {always_open: true, holidays: ["20266-12-25"]}}`, `is not a date`},
		{"holiday and exception", `calendars: {c: {always_open: true, holidays: ["2026-12-25"], exceptions: {"2026-12-25": []}}}`, `also a holiday`},
		{"bad exception", `calendars: {c: {always_open: true, exceptions: {"2026-12-24": ["9-12"]}}}`, `exceptions: 2026-12-24: "9" is not a time`},
		{"unknown calendar", `default: {calendar: nope}`, `default: calendar: "nope" is not defined`},
		{"unknown priority", `default: {targets: {critical: {resolution: 1h}}}`, `"critical" is not a priority`},
		{"bad duration", `default: {targets: {high: {resolution: soon}}}`, `"soon" is not a duration`},
		{"negative", `default: {targets: {high: {resolution: -1h}}}`, `resolution: -1h0m0s is negative`},
		{"warning range", `queues: {vip: {warning: 1.5}}`, `queues: vip: warning: 1.5 must be between 0 and 1`},
		{"unknown field", `default: {calender: office}`, `field calender not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sla.ParseConfig([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// FuzzParseConfig feeds the parser arbitrary documents: it must never panic,
// and whatever it accepts must give calendars whose Add and
// BusinessDuration are inverse.
func FuzzParseConfig(f *testing.F) {
	f.Add(exampleYAML)
	f.Add(`calendars: {c: {hours: {friday: ["22:00-02:00"], saturday: ["00:00-03:00"]}, holidays: ["2026-11-21"]}}`)
	f.Add(`{"calendars": {"x": {"time_zone": "America/New_York", "hours": {"sunday": ["01:00-04:00"]}}}}`)
	f.Add(`default: {targets: {low: {first_response: 1h}}}`)
	from := time.Date(2026, 10, 24, 22, 17, 3, 0, time.UTC)
	f.Fuzz(func(t *testing.T, doc string) {
		cfg, err := sla.ParseConfig([]byte(doc))
		if err != nil {
			return
		}
		pol, err := sla.NewPolicies(cfg)
		if err != nil {
			t.Fatalf("ParseConfig accepted what NewPolicies refuses: %v", err)
		}
		for name := range cfg.Calendars {
			cal, ok := pol.Calendar(name)
			if !ok {
				t.Fatalf("calendar %q missing", name)
			}
			for _, d := range []time.Duration{time.Second, 90 * time.Minute, 50 * time.Hour} {
				if got := cal.BusinessDuration(from, cal.Add(from, d)); got != d {
					t.Fatalf("calendar %q: BusinessDuration(t, Add(t, %v)) = %v", name, d, got)
				}
			}
		}
	})
}
