package sla

import (
	"time"

	"github.com/vigie/vigie/router"
)

// Policy is the SLA in force for one queue and priority.
type Policy struct {
	// FirstResponse and Resolution are the targets, in business time; zero
	// means no target for that clock.
	FirstResponse time.Duration
	Resolution    time.Duration
	// Warning is the share of a target after which a clock is at risk, in
	// (0, 1); zero means DefaultWarning.
	Warning float64
	// Calendar counts business time; nil means always open.
	Calendar *Calendar
}

// Resolver gives the policy in force for a queue and a priority.
type Resolver interface {
	Policy(queue string, priority router.Priority) Policy
}

// Policy implements Resolver for a single policy: p applies to every queue
// and priority.
func (p Policy) Policy(string, router.Priority) Policy { return p }

// Policies are the SLA policies of every queue, built from a Config. It is
// immutable and safe for concurrent use.
type Policies struct {
	calendars map[string]*Calendar
	def       policySet
	queues    map[string]policySet
}

// policySet is a queue's policy for each priority.
type policySet struct {
	calendar *Calendar
	warning  float64
	// targets holds [first response, resolution] by priority rank.
	targets [4][2]time.Duration
}

var _ Resolver = (*Policies)(nil)

// NewPolicies validates cfg and builds its policies.
func NewPolicies(cfg Config) (*Policies, error) {
	return cfg.compile()
}

// Policy returns the policy of a queue (or the default one for a queue the
// configuration does not name) at a priority.
func (p *Policies) Policy(queue string, priority router.Priority) Policy {
	ps, ok := p.queues[queue]
	if !ok {
		ps = p.def
	}
	t := ps.targets[priority.Rank()]
	return Policy{FirstResponse: t[0], Resolution: t[1], Warning: ps.warning, Calendar: ps.calendar}
}

// Calendar returns a calendar by name.
func (p *Policies) Calendar(name string) (*Calendar, bool) {
	c, ok := p.calendars[name]
	return c, ok
}
