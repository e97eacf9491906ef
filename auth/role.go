package auth

import (
	"fmt"
	"slices"
)

// Role is what a user is in the organisation. Each role is allowed what the
// ones before it are, except that only agents and admins reply to customers.
type Role string

// The roles, from least to most privileged.
const (
	RoleAgent   Role = "agent"   // answers customers in the live console
	RoleMonitor Role = "monitor" // watches e-reputation: mentions, alerts, search
	RoleManager Role = "manager" // KPIs, workload, geolocated offers
	RoleAdmin   Role = "admin"   // users, rules, sources, ingest, erasure
)

// Roles lists every role, from least to most privileged.
var Roles = []Role{RoleAgent, RoleMonitor, RoleManager, RoleAdmin}

// ParseRole returns the role named s, or an error naming the valid roles.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("%w: %q (want agent, monitor, manager or admin)", ErrInvalidRole, s)
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Permission is one thing a principal may do. Handlers guard themselves with
// Require(Permission); the websocket hub filters topics with Role.Can.
type Permission string

// The permissions. Each names a family of endpoints, so that the endpoint
// authorization matrix is this table plus one Require per route.
const (
	// PermReadTickets: GET queues, tickets, a ticket with its messages and trace;
	// the websocket "tickets" topic.
	PermReadTickets Permission = "read_tickets"
	// PermAssign: POST /tickets/{id}/assign (take a ticket or give it to an agent).
	PermAssign Permission = "assign"
	// PermNote: POST /tickets/{id}/note.
	PermNote Permission = "note"
	// PermResolve: POST /tickets/{id}/resolve.
	PermResolve Permission = "resolve"
	// PermReply: POST /tickets/{id}/reply, which posts to a customer on a
	// network. Only agents and admins have it.
	PermReply Permission = "reply"
	// PermReadMentions: the live stream of mentions (websocket "mentions" topic).
	PermReadMentions Permission = "read_mentions"
	// PermSearch: GET /search.
	PermSearch Permission = "search"
	// PermReadAlerts: GET /alerts and the websocket "alerts" topic.
	PermReadAlerts Permission = "read_alerts"
	// PermAckAlerts: POST /alerts/{id}/ack.
	PermAckAlerts Permission = "ack_alerts"
	// PermReadKPIs: GET /kpis and the websocket "kpis" topic.
	PermReadKPIs Permission = "read_kpis"
	// PermReadOffers: GET /offers, GET /geofences.
	PermReadOffers Permission = "read_offers"
	// PermManageOffers: POST/PUT/DELETE /geofences, PUT/DELETE /consents.
	PermManageOffers Permission = "manage_offers"
	// PermManageRules: rules, queues, SLAs (including rule dry runs).
	PermManageRules Permission = "manage_rules"
	// PermManageSources: network sources and their credentials.
	PermManageSources Permission = "manage_sources"
	// PermManageUsers: /users, and tokens of other users.
	PermManageUsers Permission = "manage_users"
	// PermIngest: POST /mentions, POST /checkins.
	PermIngest Permission = "ingest"
	// PermErase: DELETE /authors/{source}/{author_id}.
	PermErase Permission = "erase"
	// PermReadAudit: GET /audit, the audit log.
	PermReadAudit Permission = "read_audit"
)

// Permissions lists every permission, in the order /me reports them.
var Permissions = []Permission{
	PermReadTickets, PermAssign, PermNote, PermResolve, PermReply,
	PermReadMentions, PermSearch, PermReadAlerts, PermAckAlerts,
	PermReadKPIs, PermReadOffers, PermManageOffers,
	PermManageRules, PermManageSources, PermManageUsers, PermIngest, PermErase,
	PermReadAudit,
}

// grants is the role → permissions table, written out in full (no
// inheritance computed at run time) so that it reads as the authorization
// matrix it is.
var grants = map[Role][]Permission{
	RoleAgent: {
		PermReadTickets, PermAssign, PermNote, PermResolve, PermReply,
	},
	RoleMonitor: {
		PermReadTickets, PermAssign, PermNote, PermResolve,
		PermReadMentions, PermSearch, PermReadAlerts, PermAckAlerts,
	},
	RoleManager: {
		PermReadTickets, PermAssign, PermNote, PermResolve,
		PermReadMentions, PermSearch, PermReadAlerts, PermAckAlerts,
		PermReadKPIs, PermReadOffers, PermManageOffers,
	},
	RoleAdmin: Permissions,
}

// Can reports whether role r is allowed p. An unknown role can do nothing.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[r], p) }

// Permissions returns what r is allowed, in the order of Permissions. The
// result is a fresh slice.
func (r Role) Permissions() []Permission {
	var out []Permission
	for _, p := range Permissions {
		if r.Can(p) {
			out = append(out, p)
		}
	}
	return out
}

// Covers reports whether r is allowed everything s is: a token scoped to s
// may be issued to a user whose role is r. Because of the reply exception
// this is not an order: a manager covers a monitor but not an agent.
func (r Role) Covers(s Role) bool {
	if !r.Valid() || !s.Valid() {
		return false
	}
	for _, p := range grants[s] {
		if !r.Can(p) {
			return false
		}
	}
	return true
}
