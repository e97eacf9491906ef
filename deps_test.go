package vigie_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsFollowTheDataFlow keeps the design's dependency direction:
// imports point upstream along the data flow (listener ← intake ← router ←
// desk/watch/offer ← search/archive), ui imports nothing internal, and only
// cmd sees everything.
func TestImportsFollowTheDataFlow(t *testing.T) {
	const mod = "github.com/vigie/vigie/"
	// forbidden[pkg] lists what pkg must not import (directly or not).
	forbidden := map[string][]string{
		"listener": {"intake", "router", "desk", "watch", "offer", "search", "archive", "ui", "auth", "cmd"},
		"intake":   {"router", "desk", "watch", "offer", "search", "archive", "ui", "auth", "cmd"},
		"router":   {"desk", "watch", "offer", "search", "archive", "ui", "auth", "cmd"},
		"desk":     {"watch", "offer", "search", "archive", "ui", "cmd"},
		"watch":    {"offer", "search", "archive", "ui", "cmd"},
		"offer":    {"watch", "search", "archive", "ui", "cmd"},
		"search":   {"archive", "ui", "cmd"},
		"archive":  {"search", "ui", "cmd"},
		"auth":     {"listener", "intake", "router", "desk", "watch", "offer", "search", "archive", "ui", "cmd"},
		"ui":       {"listener", "intake", "router", "desk", "watch", "offer", "search", "archive", "auth", "cmd", "internal"},
	}
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		if !strings.HasPrefix(pkg, mod) {
			continue
		}
		top, _, _ := strings.Cut(strings.TrimPrefix(pkg, mod), "/")
		for _, dep := range strings.Fields(deps) {
			if !strings.HasPrefix(dep, mod) {
				continue
			}
			depTop, _, _ := strings.Cut(strings.TrimPrefix(dep, mod), "/")
			for _, f := range forbidden[top] {
				if depTop == f {
					t.Errorf("%s imports %s: against the data flow", pkg, dep)
				}
			}
		}
	}
}
