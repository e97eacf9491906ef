package sources_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie/vigie/listener/sources"
)

func env(m map[string]string) sources.LookupFunc {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParse(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lookup := env(map[string]string{"META_SECRET": "s3cret", "TOKEN_FILE": secretFile})
	good := `
sources:
  - type: meta
    name: meta
    settings:
      graph_url: http://127.0.0.1/v21.0
    secrets:
      app_secret: META_SECRET
      verify_token: TOKEN
  - type: rss
    name: press
    enabled: false
    settings: {url: "https://example.com/feed"}
`
	f, err := sources.Parse("sources.yaml", []byte(good), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Sources) != 2 {
		t.Fatalf("%d sources", len(f.Sources))
	}
	m := f.Sources[0]
	if m.Type != "meta" || m.Name != "meta" || !m.Enabled || m.Line != 3 || m.Column != 5 {
		t.Errorf("meta: %+v", m)
	}
	if v, _ := m.Secret("app_secret"); v != "s3cret" {
		t.Errorf("app_secret %q", v)
	}
	if v, _ := m.Secret("verify_token"); v != "from-file" {
		t.Errorf("verify_token from TOKEN_FILE: %q", v)
	}
	if _, err := m.Secret("access_token"); err == nil || !strings.Contains(err.Error(), "sources.yaml:3:5") {
		t.Errorf("missing secret: %v", err)
	}
	if f.Sources[1].Enabled {
		t.Error("press: enabled: false ignored")
	}
	var feedCfg struct {
		URL string `yaml:"url"`
	}
	if err := f.Sources[1].Decode(&feedCfg); err != nil || feedCfg.URL != "https://example.com/feed" {
		t.Errorf("decode: %+v %v", feedCfg, err)
	}
	var strict struct {
		Other string `yaml:"other"`
	}
	err = f.Sources[0].Decode(&strict)
	var pe *sources.PositionError
	if !errors.As(err, &pe) || pe.Line != 6 || pe.Column != 7 || !strings.Contains(pe.Msg, `unknown setting "graph_url"`) {
		t.Errorf("unknown setting: %v", err)
	}

	tests := []struct {
		name, doc string
		want      []string // each a substring of the error
	}{
		{"not yaml", "sources: [", []string{"sources.yaml"}},
		{"top key", "source: []\n", []string{`1:1: unknown key "source"`}},
		{"not a list", "sources: {a: 1}\n", []string{"1:10: sources: expected a list"}},
		{"unknown type", "sources:\n  - {type: myspace, name: a}\n", []string{`2:12: type: "myspace" is not one of`}},
		{"no type no name", "sources:\n  - enabled: true\n", []string{"2:5: type: required", "2:5: name: required"}},
		{"bad name", "sources:\n  - type: rss\n    name: Press Room\n", []string{`3:11: name: "Press Room"`}},
		{"duplicate", "sources:\n  - {type: rss, name: a}\n  - {type: radar, name: a}\n", []string{`3:5: name "a": already used at line 2`}},
		{"bad enabled", "sources:\n  - {type: rss, name: a, enabled: maybe}\n", []string{"2:35: enabled: expected true or false"}},
		{"unknown key", "sources:\n  - {type: rss, name: a, setings: {}}\n", []string{`2:26: unknown key "setings"`}},
		{"missing env", "sources:\n  - {type: rss, name: a, secrets: {token: NOPE}}\n", []string{"secrets.token: neither NOPE nor NOPE_FILE is set"}},
		{"unreadable file", "sources:\n  - {type: rss, name: a, secrets: {token: GONE}}\n", []string{"read GONE_FILE"}},
		{"settings list", "sources:\n  - {type: rss, name: a, settings: [1]}\n", []string{"settings: expected a mapping"}},
	}
	lookup = env(map[string]string{"GONE_FILE": "/nonexistent/secret"})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sources.Parse("sources.yaml", []byte(tt.doc), lookup)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
	if f, err := sources.Parse("", nil, lookup); err != nil || len(f.Sources) != 0 {
		t.Errorf("empty file: %+v %v", f, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("sources:\n  - {type: rss, name: a, settings: {url: x}, secrets: {k: V}}\n"))
	f.Add([]byte("sources:\n  - type: meta\n    name: m\n    enabled: false\n"))
	lookup := env(map[string]string{"V": "v"})
	f.Fuzz(func(t *testing.T, doc []byte) {
		file, err := sources.Parse("f", doc, lookup)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, s := range file.Sources {
			if s.Name == "" || s.Type == "" || seen[s.Name] {
				t.Fatalf("accepted %+v", s)
			}
			seen[s.Name] = true
		}
	})
}
