package desk

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/vigie/vigie/desk/assign"
)

// AgentView is an agent as managers see it: settings, presence and load.
type AgentView struct {
	Name     string          `json:"name"`
	Skills   map[string]int  `json:"skills"`
	Capacity int             `json:"capacity"`
	Presence assign.Presence `json:"presence"`
	// Load counts the open tickets it owns that count toward its capacity;
	// Tickets lists every ticket it owns.
	Load    int     `json:"load"`
	Tickets []int64 `json:"tickets"`
	// LastAssigned and LastActivity are null when unknown.
	LastAssigned *time.Time `json:"last_assigned"`
	LastActivity *time.Time `json:"last_activity"`
	// Configured says the agent has settings (skills and capacity); others
	// are users who own tickets or are connected.
	Configured bool `json:"configured"`
}

func (d *Desk) storedAgents(ctx context.Context) ([]assign.Agent, error) {
	rows, err := d.db.R.QueryContext(ctx, "SELECT name, skills, capacity FROM agents ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	defer rows.Close()
	var out []assign.Agent
	for rows.Next() {
		var a assign.Agent
		var skills []byte
		if err := rows.Scan(&a.Name, &skills, &a.Capacity); err != nil {
			return nil, fmt.Errorf("read agents: %w", err)
		}
		if err := json.Unmarshal(skills, &a.Skills); err != nil {
			return nil, fmt.Errorf("decode skills of agent %s: %w", a.Name, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	return out, nil
}

// Agents lists the agents: those with settings, and any other user the
// assignment engine knows (connected, or owning tickets), by name.
func (d *Desk) Agents(ctx context.Context) ([]AgentView, error) {
	stored, err := d.storedAgents(ctx)
	if err != nil {
		return nil, err
	}
	configured := map[string]bool{}
	for _, a := range stored {
		configured[a.Name] = true
	}
	var states []assign.AgentState
	if d.engineUp.Load() {
		done := make(chan []assign.AgentState, 1)
		d.inbox.put(engineQuery(func(e *assign.Engine) { done <- e.Agents() }))
		select {
		case states = <-done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	} else {
		for _, a := range stored {
			states = append(states, assign.AgentState{Name: a.Name, Skills: a.Skills, Capacity: a.Capacity, Presence: assign.Offline, Tickets: []int64{}})
		}
	}
	out := make([]AgentView, 0, len(states))
	for _, s := range states {
		v := AgentView{Name: s.Name, Skills: s.Skills, Capacity: s.Capacity, Presence: s.Presence, Load: s.Load, Tickets: s.Tickets,
			LastAssigned: timeOrNil(s.LastAssigned), LastActivity: timeOrNil(s.LastActivity), Configured: configured[s.Name]}
		if v.Skills == nil {
			v.Skills = map[string]int{}
		}
		if v.Tickets == nil {
			v.Tickets = []int64{}
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// MaxAgentName bounds an agent's name.
const MaxAgentName = 128

// PutAgent creates or replaces an agent's skills and capacity; the
// assignment engine takes them at once.
func (d *Desk) PutAgent(ctx context.Context, a assign.Agent) (assign.Agent, error) {
	if len(a.Name) > MaxAgentName {
		return assign.Agent{}, fmt.Errorf("%w: agent name longer than %d bytes", ErrInvalid, MaxAgentName)
	}
	if len(a.Skills) > 1000 {
		return assign.Agent{}, fmt.Errorf("%w: agent %s: more than 1000 skills", ErrInvalid, a.Name)
	}
	if err := a.Validate(); err != nil {
		return assign.Agent{}, fmt.Errorf("%w: %s", ErrInvalid, err.Error())
	}
	if a.Skills == nil {
		a.Skills = map[string]int{}
	}
	skills, _ := json.Marshal(a.Skills)
	if _, err := d.db.Exec(ctx, `INSERT INTO agents(name, skills, capacity, updated_at) VALUES(?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET skills=excluded.skills, capacity=excluded.capacity, updated_at=excluded.updated_at`,
		a.Name, skills, a.Capacity, d.now().UnixNano()); err != nil {
		return assign.Agent{}, fmt.Errorf("save agent %s: %w", a.Name, err)
	}
	d.inbox.put(assign.AgentUpdated{Agent: a, At: d.now()})
	return a, nil
}

// DeleteAgent removes an agent's settings; the tickets it owns go back to
// their queues.
func (d *Desk) DeleteAgent(ctx context.Context, name string) error {
	res, err := d.db.Exec(ctx, "DELETE FROM agents WHERE name=?", name)
	if err != nil {
		return fmt.Errorf("delete agent %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: agent %q", ErrNotFound, name)
	}
	d.inbox.put(assign.AgentRemoved{Agent: name, At: d.now()})
	return nil
}
