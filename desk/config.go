package desk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigie/vigie/desk/assign"
	"github.com/vigie/vigie/desk/sla"
	"github.com/vigie/vigie/router"
)

// Config configures the desk.
type Config struct {
	// Path is the SQLite file. Required.
	Path string
	// ReopenWindow is how long after its resolution a ticket reopens when the
	// customer writes again in the same conversation (default 72h); later,
	// a new ticket starts.
	ReopenWindow time.Duration
	// Hub configures the websocket hub.
	Hub HubConfig
	// SLA holds the SLA calendars and targets. A default policy without
	// targets takes the built-in ones: first response 1h and resolution 24h
	// (high 30m/8h, urgent 15m/4h), on a 24/7 calendar.
	SLA sla.Config
	// Assignment configures automatic assignment. Queues whose mode is not
	// set are manual: agents pull tickets, and nothing is assigned for
	// them. When the whole section is absent, offline agents also keep
	// their tickets (no offline grace), so that nothing changes for desks
	// that do not use assignment.
	Assignment assign.Config
	// Tick is how often the assignment engine is told the time (idle
	// agents, offline grace, escalations) and SLA timers are checked
	// (default 5s).
	Tick time.Duration
	// Now is the desk's clock for ticket timestamps and SLA clocks
	// (default time.Now); tests move it by hand.
	Now func() time.Time
	// Yield, when set, is called between two chunks of SLA changes
	// (internal/yield): it returns when the hot path is idle, or after a
	// bounded wait, so that a backlog crossing its targets at once does
	// not hold the router's batches up.
	Yield func(context.Context)
}

// DefaultSLATargets are the SLA targets of a configuration that sets none.
var DefaultSLATargets = map[router.Priority]sla.TargetConfig{
	router.PriorityLow:    {FirstResponse: sla.Duration(time.Hour), Resolution: sla.Duration(24 * time.Hour)},
	router.PriorityNormal: {FirstResponse: sla.Duration(time.Hour), Resolution: sla.Duration(24 * time.Hour)},
	router.PriorityHigh:   {FirstResponse: sla.Duration(30 * time.Minute), Resolution: sla.Duration(8 * time.Hour)},
	router.PriorityUrgent: {FirstResponse: sla.Duration(15 * time.Minute), Resolution: sla.Duration(4 * time.Hour)},
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("desk: path required")
	}
	if c.ReopenWindow == 0 {
		c.ReopenWindow = 72 * time.Hour
	}
	if c.ReopenWindow < 0 {
		return fmt.Errorf("desk: reopen window %v must not be negative", c.ReopenWindow)
	}
	if c.Tick == 0 {
		c.Tick = 5 * time.Second
	}
	if c.Tick < 0 {
		return fmt.Errorf("desk: tick %v must be positive", c.Tick)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.SLA.Default.Targets) == 0 {
		c.SLA.Default.Targets = maps.Clone(DefaultSLATargets)
	}
	if err := c.SLA.Validate(); err != nil {
		return fmt.Errorf("desk: %w", err)
	}
	if isZeroAssignment(&c.Assignment) {
		c.Assignment.OfflineGrace = -1
	}
	if c.Assignment.Default.Mode == "" {
		c.Assignment.Default.Mode = assign.ModeManual
	}
	if err := c.Assignment.Validate(); err != nil {
		return fmt.Errorf("desk: %w", err)
	}
	return c.Hub.validate()
}

func isZeroAssignment(c *assign.Config) bool {
	return c.IdleTimeout == 0 && c.OfflineGrace == 0 && !c.CountPending && len(c.Queues) == 0 &&
		c.Default.Mode == "" && len(c.Default.EscalateAfter) == 0 && len(c.Default.MinLevel) == 0 && c.Default.Supervisor == ""
}

// LoadFile reads the SLA and assignment configuration of a YAML (or JSON)
// file with two optional sections, into c.SLA and c.Assignment:
//
//	sla:
//	  calendars: {office: {time_zone: Europe/Paris, hours: {monday: ["09:00-18:00"]}}}
//	  default: {calendar: office, targets: {normal: {first_response: 2h, resolution: 24h}}}
//	assignment:
//	  offline_grace: 10m
//	  default: {mode: least_loaded, escalate_after: {normal: 2h}}
//
// Unknown fields are errors, and errors name the file and the field.
func (c *Config) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read desk config: %w", err)
	}
	if err := c.parseFile(data); err != nil {
		return fmt.Errorf("desk config %s: %w", path, err)
	}
	return nil
}

func (c *Config) parseFile(data []byte) error {
	var f struct {
		SLA        yaml.Node `yaml:"sla"`
		Assignment yaml.Node `yaml:"assignment"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if !f.SLA.IsZero() {
		raw, err := yaml.Marshal(&f.SLA)
		if err != nil {
			return fmt.Errorf("sla: %w", err)
		}
		if c.SLA, err = sla.ParseConfig(raw); err != nil {
			return err
		}
	}
	if !f.Assignment.IsZero() {
		raw, err := yaml.Marshal(&f.Assignment)
		if err != nil {
			return fmt.Errorf("assignment: %w", err)
		}
		if c.Assignment, err = assign.ParseConfig(raw); err != nil {
			return err
		}
	}
	return nil
}

// HubConfig configures the websocket hub. Zero fields take the defaults.
type HubConfig struct {
	// SendQueue is how many frames may wait for a slow client before it is
	// disconnected (default 4,096: a second of a heavy burst, a few seconds
	// of a busy day, and at most a few MB of shared frames).
	SendQueue int
	// WriteWait bounds one frame's write (default 10s).
	WriteWait time.Duration
	// PongWait is how long a silent client is kept (default 60s); pings go
	// out at 60% of it.
	PongWait time.Duration
	// ReadLimit bounds a client message (default 16 KiB).
	ReadLimit int64
	// MaxReplay bounds the events sent to a client resuming with "since"
	// (default 10,000); beyond it the client is told to resync over HTTP.
	MaxReplay int
	// AllowedOrigins lists origins accepted besides the server's own.
	AllowedOrigins []string
}

func (c *HubConfig) validate() error {
	if c.SendQueue == 0 {
		c.SendQueue = 4096
	}
	if c.WriteWait == 0 {
		c.WriteWait = 10 * time.Second
	}
	if c.PongWait == 0 {
		c.PongWait = 60 * time.Second
	}
	if c.ReadLimit == 0 {
		c.ReadLimit = 16 << 10
	}
	if c.MaxReplay == 0 {
		c.MaxReplay = 10_000
	}
	if c.SendQueue < 1 || c.WriteWait <= 0 || c.PongWait <= 0 || c.ReadLimit < 512 || c.MaxReplay < 1 {
		return fmt.Errorf("desk: hub config out of range: %+v", *c)
	}
	return nil
}
