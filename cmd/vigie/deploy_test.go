package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const deployDir = "../../deploy"

// metricNames returns the metrics Vigie registers (histograms also as
// _bucket, _sum, _count).
func metricNames(t *testing.T, a *app) map[string]bool {
	t.Helper()
	names := a.srv.reg.Names()
	for n := range a.srv.reg.Names() {
		for _, s := range []string{"_bucket", "_sum", "_count"} {
			names[n+s] = true
		}
	}
	names["up"] = true // Prometheus's own
	if len(names) < 40 {
		t.Fatalf("only %d metric names registered", len(names))
	}
	return names
}

var promMetric = regexp.MustCompile(`\b(vigie_[a-z0-9_]+|up)\b`)

// TestDeployMetricsExist: every metric the Grafana dashboard and the
// alerting rules name is one Vigie exposes.
func TestDeployMetricsExist(t *testing.T) {
	a := startApp(t, t.TempDir())
	have := metricNames(t, a)
	var exprs []string
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	b, err := os.ReadFile(filepath.Join(deployDir, "grafana/vigie.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, _ = os.ReadFile(filepath.Join(deployDir, "prometheus/alerts.yml"))
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("alerts: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	if len(exprs) < 10 {
		t.Fatalf("only %d expressions found", len(exprs))
	}
	for _, e := range exprs {
		for _, m := range promMetric.FindAllString(e, -1) {
			if !have[m] {
				t.Errorf("%s is named in deploy/ but not exposed by Vigie (in %q)", m, e)
			}
		}
	}
}

// TestDeployFilesAreConsistent: compose and Kubernetes files parse, and
// name only paths that exist and ports and probe paths Vigie serves.
func TestDeployFilesAreConsistent(t *testing.T) {
	a := startApp(t, t.TempDir())
	var routes []string
	for _, r := range a.srv.echo.Routes() {
		routes = append(routes, r.Path)
	}
	var compose struct {
		Services map[string]struct {
			Image   string   `yaml:"image"`
			Ports   []string `yaml:"ports"`
			Volumes []string `yaml:"volumes"`
			Build   *struct {
				Context    string `yaml:"context"`
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"build"`
		} `yaml:"services"`
	}
	b, _ := os.ReadFile(filepath.Join(deployDir, "docker/compose.yaml"))
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatalf("compose: %v", err)
	}
	for name, s := range compose.Services {
		if s.Image == "" {
			t.Errorf("service %s has no image", name)
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(filepath.Join(deployDir, "docker", src)); err != nil {
					t.Errorf("service %s mounts %s: %v", name, src, err)
				}
			}
		}
		if s.Build != nil {
			if _, err := os.Stat(filepath.Join(deployDir, "docker", s.Build.Context, s.Build.Dockerfile)); err != nil {
				t.Errorf("service %s builds from a missing Dockerfile: %v", name, err)
			}
		}
	}
	if v := compose.Services["vigie"]; !slices.Contains(v.Ports, "8080:8080") {
		t.Errorf("compose: vigie ports %v, want 8080:8080 (the image listens on :8080)", v.Ports)
	}

	f, _ := os.Open(filepath.Join(deployDir, "kubernetes/vigie.yaml"))
	defer f.Close()
	dec := yaml.NewDecoder(f)
	kinds := map[string]bool{}
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("kubernetes: %v", err)
		}
		kinds[doc["kind"].(string)] = true
	}
	for _, k := range []string{"StatefulSet", "Service", "Ingress", "Secret", "ConfigMap"} {
		if !kinds[k] {
			t.Errorf("kubernetes: no %s", k)
		}
	}
	k8s, _ := os.ReadFile(filepath.Join(deployDir, "kubernetes/vigie.yaml"))
	for _, p := range []string{"/readyz", "/healthz", "/metrics"} {
		if strings.Contains(string(k8s), p) && !slices.Contains(routes, p) {
			t.Errorf("kubernetes names %s, which Vigie does not serve", p)
		}
	}
	if !strings.Contains(string(k8s), `"--addr", ":8080"`) || !strings.Contains(string(k8s), "containerPort: 8080") {
		t.Error("kubernetes: the container port and --addr disagree")
	}
}

// TestSystemdUnitVerifies runs systemd-analyze verify where it exists.
func TestSystemdUnitVerifies(t *testing.T) {
	path, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed here")
	}
	unit, _ := filepath.Abs(filepath.Join(deployDir, "systemd/vigie.service"))
	out, err := exec.Command(path, "verify", unit).CombinedOutput()
	// verify complains about the binary missing on a build machine; anything
	// else is a mistake in the unit.
	var problems []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l == "" || strings.Contains(l, "/usr/local/bin/vigie") || strings.Contains(l, "is not executable") {
			continue
		}
		problems = append(problems, l)
	}
	if len(problems) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, strings.Join(problems, "\n"))
	}
}
