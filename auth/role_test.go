package auth

import (
	"errors"
	"slices"
	"testing"
)

// TestRoleCan is the authorization matrix: for every permission, which of
// agent, monitor, manager, admin hold it. A new permission must be added
// here, or the completeness check fails.
func TestRoleCan(t *testing.T) {
	t.Parallel()
	matrix := map[Permission][4]bool{
		//                 agent  monitor manager admin
		PermReadTickets:   {true, true, true, true},
		PermAssign:        {true, true, true, true},
		PermNote:          {true, true, true, true},
		PermResolve:       {true, true, true, true},
		PermReply:         {true, false, false, true},
		PermReadMentions:  {false, true, true, true},
		PermSearch:        {false, true, true, true},
		PermReadAlerts:    {false, true, true, true},
		PermAckAlerts:     {false, true, true, true},
		PermReadKPIs:      {false, false, true, true},
		PermReadOffers:    {false, false, true, true},
		PermManageOffers:  {false, false, true, true},
		PermManageRules:   {false, false, false, true},
		PermManageSources: {false, false, false, true},
		PermManageUsers:   {false, false, false, true},
		PermIngest:        {false, false, false, true},
		PermErase:         {false, false, false, true},
		PermReadAudit:     {false, false, false, true},
	}
	for _, p := range Permissions {
		if _, ok := matrix[p]; !ok {
			t.Errorf("permission %s missing from the test matrix", p)
		}
	}
	if len(matrix) != len(Permissions) {
		t.Errorf("matrix has %d permissions, Permissions %d", len(matrix), len(Permissions))
	}
	for p, want := range matrix {
		for i, r := range Roles {
			t.Run(string(r)+"/"+string(p), func(t *testing.T) {
				if got := r.Can(p); got != want[i] {
					t.Errorf("%s.Can(%s) = %v, want %v", r, p, got, want[i])
				}
			})
		}
	}
	if Role("root").Can(PermReadTickets) || Role("").Can(PermReadTickets) {
		t.Error("an unknown role can do something")
	}
}

// TestRolesInherit checks the stated rule rather than the table: each role
// holds what the previous one does, except reply, which only agents and
// admins hold.
func TestRolesInherit(t *testing.T) {
	t.Parallel()
	for i := 1; i < len(Roles); i++ {
		for _, p := range Roles[i-1].Permissions() {
			if p == PermReply {
				continue
			}
			if !Roles[i].Can(p) {
				t.Errorf("%s lacks %s, which %s has", Roles[i], p, Roles[i-1])
			}
		}
	}
	var repliers []Role
	for _, r := range Roles {
		if r.Can(PermReply) {
			repliers = append(repliers, r)
		}
	}
	if !slices.Equal(repliers, []Role{RoleAgent, RoleAdmin}) {
		t.Errorf("roles that reply = %v, want [agent admin]", repliers)
	}
}

func TestRoleCovers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		user, token Role
		want        bool
	}{
		{RoleAgent, RoleAgent, true},
		{RoleAgent, RoleMonitor, false},
		{RoleMonitor, RoleAgent, false}, // a monitor does not reply
		{RoleMonitor, RoleMonitor, true},
		{RoleManager, RoleAgent, false}, // nor does a manager
		{RoleManager, RoleMonitor, true},
		{RoleManager, RoleManager, true},
		{RoleManager, RoleAdmin, false},
		{RoleAdmin, RoleAgent, true},
		{RoleAdmin, RoleMonitor, true},
		{RoleAdmin, RoleManager, true},
		{RoleAdmin, RoleAdmin, true},
		{RoleAdmin, "root", false},
		{"root", RoleAgent, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.user)+"/"+string(tt.token), func(t *testing.T) {
			if got := tt.user.Covers(tt.token); got != tt.want {
				t.Errorf("%q.Covers(%q) = %v, want %v", tt.user, tt.token, got, tt.want)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	t.Parallel()
	for _, r := range Roles {
		if got, err := ParseRole(string(r)); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "Admin", "root", "agent "} {
		if _, err := ParseRole(s); !errors.Is(err, ErrInvalidRole) {
			t.Errorf("ParseRole(%q) error = %v, want ErrInvalidRole", s, err)
		}
	}
}
