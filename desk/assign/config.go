package assign

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vigie/vigie/router"
)

// Mode is how a queue hands out tickets.
type Mode string

// The assignment modes.
const (
	ModeManual      Mode = "manual"       // agents pull tickets themselves
	ModeRoundRobin  Mode = "round_robin"  // in turn among eligible agents
	ModeLeastLoaded Mode = "least_loaded" // fewest open tickets, then longest idle
)

// Config configures the engine. It reads from YAML or JSON:
//
//	idle_timeout: 5m
//	offline_grace: 10m
//	default:
//	  mode: least_loaded
//	  supervisor: supervisors
//	  escalate_after: {low: 8h, normal: 2h, high: 30m, urgent: 10m}
//	queues:
//	  vip: {mode: round_robin, min_level: {urgent: 2}, supervisor: vip-leads}
//	  press: {mode: manual}
type Config struct {
	// IdleTimeout is how long an online agent without activity stays
	// online before it becomes away (default 5m: a reply takes a few
	// minutes to write, and the console sends activity while typing).
	IdleTimeout Duration `yaml:"idle_timeout" json:"idle_timeout"`
	// OfflineGrace is how long an offline agent keeps the tickets it must
	// answer before they go back to the queue (default 10m: longer than a
	// reconnect or a restart, shorter than what a waiting customer
	// forgives). Negative means never.
	OfflineGrace Duration `yaml:"offline_grace" json:"offline_grace"`
	// CountPending makes tickets waiting on the customer count toward an
	// agent's load (by default they do not: they need nothing from the
	// agent until the customer writes again).
	CountPending bool `yaml:"count_pending" json:"count_pending"`
	// Default applies to queues not named in Queues, and fills what a
	// queue's configuration leaves out.
	Default QueueConfig `yaml:"default" json:"default"`
	// Queues holds per-queue settings, by queue name.
	Queues map[string]QueueConfig `yaml:"queues" json:"queues"`
}

// QueueConfig configures one queue. Zero fields take the default's value.
type QueueConfig struct {
	// Mode is manual, round_robin or least_loaded (the default's default).
	Mode Mode `yaml:"mode" json:"mode"`
	// EscalateAfter is, by priority, how long a ticket may wait unassigned
	// before it is raised one priority (from when it entered the queue or
	// was last raised). A priority left out does not escalate.
	EscalateAfter map[router.Priority]Duration `yaml:"escalate_after" json:"escalate_after"`
	// MinLevel is, by priority, the skill level an agent needs to get such
	// tickets automatically (default 1: any agent with the skill).
	MinLevel map[router.Priority]int `yaml:"min_level" json:"min_level"`
	// Supervisor is the queue notified of escalations (the default's
	// default is "supervisors").
	Supervisor string `yaml:"supervisor" json:"supervisor"`
}

// Duration is a time.Duration written as "90s" or "10m" in YAML and JSON.
type Duration time.Duration

// UnmarshalText parses a duration such as "10m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (want e.g. 90s or 10m)", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// DefaultSupervisor is the queue notified of escalations when the
// configuration names none.
const DefaultSupervisor = "supervisors"

// maxLevel bounds skill levels: a handful of tiers is all a desk uses.
const maxLevel = 10

// queueSettings is a queue's resolved configuration.
type queueSettings struct {
	mode       Mode
	escalate   [4]time.Duration // by priority rank; 0 = never
	minLevel   [4]int           // by priority rank
	supervisor string
}

// Validate fills defaults and checks the configuration.
func (c *Config) Validate() error {
	_, _, err := c.compile()
	return err
}

// ParseConfig reads a Config from YAML or JSON, refusing unknown fields, and
// validates it.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("assign config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) compile() (queueSettings, map[string]queueSettings, error) {
	if c.IdleTimeout == 0 {
		c.IdleTimeout = Duration(5 * time.Minute)
	}
	if c.OfflineGrace == 0 {
		c.OfflineGrace = Duration(10 * time.Minute)
	}
	if c.IdleTimeout < 0 {
		return queueSettings{}, nil, fmt.Errorf("assign config: idle_timeout: %v is negative", time.Duration(c.IdleTimeout))
	}
	base := queueSettings{mode: ModeLeastLoaded, minLevel: [4]int{1, 1, 1, 1}, supervisor: DefaultSupervisor}
	def, err := c.Default.settings(base)
	if err != nil {
		return queueSettings{}, nil, fmt.Errorf("assign config: default: %w", err)
	}
	names := make([]string, 0, len(c.Queues))
	for n := range c.Queues {
		names = append(names, n)
	}
	sort.Strings(names)
	queues := make(map[string]queueSettings, len(names))
	for _, n := range names {
		if n == "" {
			return queueSettings{}, nil, errors.New("assign config: queues: empty queue name")
		}
		s, err := c.Queues[n].settings(def)
		if err != nil {
			return queueSettings{}, nil, fmt.Errorf("assign config: queues: %s: %w", n, err)
		}
		queues[n] = s
	}
	return def, queues, nil
}

func (q QueueConfig) settings(parent queueSettings) (queueSettings, error) {
	s := parent
	switch q.Mode {
	case "":
	case ModeManual, ModeRoundRobin, ModeLeastLoaded:
		s.mode = q.Mode
	default:
		return s, fmt.Errorf("mode: %q is not a mode (want manual, round_robin or least_loaded)", q.Mode)
	}
	if q.Supervisor != "" {
		s.supervisor = q.Supervisor
	}
	for _, p := range sortedPriorities(q.EscalateAfter) {
		if !p.Valid() {
			return s, fmt.Errorf("escalate_after: %q is not a priority (want low, normal, high or urgent)", p)
		}
		d := time.Duration(q.EscalateAfter[p])
		if d <= 0 {
			return s, fmt.Errorf("escalate_after: %s: %v must be positive", p, d)
		}
		s.escalate[p.Rank()] = d
	}
	for _, p := range sortedPriorities(q.MinLevel) {
		if !p.Valid() {
			return s, fmt.Errorf("min_level: %q is not a priority (want low, normal, high or urgent)", p)
		}
		l := q.MinLevel[p]
		if l < 1 || l > maxLevel {
			return s, fmt.Errorf("min_level: %s: %d is not a level (want 1 to %d)", p, l, maxLevel)
		}
		s.minLevel[p.Rank()] = l
	}
	return s, nil
}

func sortedPriorities[V any](m map[router.Priority]V) []router.Priority {
	out := make([]router.Priority, 0, len(m))
	for p := range m {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Agent is an agent's settings, as stored by the desk.
type Agent struct {
	// Name is the agent's user name.
	Name string `yaml:"name" json:"name"`
	// Skills maps the queues the agent serves to a level from 1 (serves it)
	// to 10; 0 counts as 1.
	Skills map[string]int `yaml:"skills" json:"skills"`
	// Capacity is the most open tickets the agent gets automatically; 0
	// means none (the agent only pulls).
	Capacity int `yaml:"capacity" json:"capacity"`
}

// Validate checks an agent's settings.
func (a *Agent) Validate() error {
	if a.Name == "" {
		return errors.New("agent: name required")
	}
	if a.Capacity < 0 {
		return fmt.Errorf("agent %s: capacity %d is negative", a.Name, a.Capacity)
	}
	for q, l := range a.Skills {
		if q == "" {
			return fmt.Errorf("agent %s: skills: empty queue name", a.Name)
		}
		if l < 0 || l > maxLevel {
			return fmt.Errorf("agent %s: skills: %s: %d is not a level (want 1 to %d)", a.Name, q, l, maxLevel)
		}
	}
	return nil
}
