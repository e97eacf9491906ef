package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigie/vigie/listener/demo"
)

func TestParseReplay(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantFile  string
		wantURL   string
		wantRate  float64
		wantToken string
		wantErr   error
	}{
		{"file first", []string{"m.ndjson", "--url", "http://h:9", "--rate", "5"}, nil, "m.ndjson", "http://h:9/api/v1/mentions", 5, "", nil},
		{"file last", []string{"--rate=2", "m.ndjson"}, nil, "m.ndjson", "http://127.0.0.1:8080/api/v1/mentions", 2, "", nil},
		{"token flag", []string{"m.ndjson", "--token", "t1"}, map[string]string{"VIGIE_ADMIN_TOKEN": "env"}, "m.ndjson", "", 0, "t1", nil},
		{"token from env", []string{"m.ndjson"}, map[string]string{"VIGIE_ADMIN_TOKEN": "env"}, "m.ndjson", "", 0, "env", nil},
		{"token from file", []string{"m.ndjson"}, map[string]string{"VIGIE_ADMIN_TOKEN_FILE": tokenFile}, "m.ndjson", "", 0, "from-file", nil},
		{"url from env", []string{"m.ndjson"}, map[string]string{"VIGIE_URL": "https://v.example"}, "m.ndjson", "https://v.example/api/v1/mentions", 0, "", nil},
		{"no file", []string{"--rate", "1"}, nil, "", "", 0, "", errUsage},
		{"two files", []string{"a.ndjson", "b.ndjson"}, nil, "", "", 0, "", errUsage},
		{"bad flag", []string{"m.ndjson", "--speed", "3"}, nil, "", "", 0, "", errUsage},
		{"bad url", []string{"m.ndjson", "--url", "localhost:8080"}, nil, "", "", 0, "", errUsage},
		{"negative rate", []string{"m.ndjson", "--rate", "-1"}, nil, "", "", 0, "", errUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"VIGIE_ADMIN_TOKEN", "VIGIE_ADMIN_TOKEN_FILE", "VIGIE_URL", "VIGIE_RATE", "VIGIE_TOKEN", "VIGIE_BATCH"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stderr bytes.Buffer
			cfg, err := parseReplay(tt.args, &stderr)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				if stderr.Len() == 0 {
					t.Fatal("no message on stderr")
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v (%s)", err, stderr.String())
			}
			if cfg.File != tt.wantFile || cfg.Rate != tt.wantRate || cfg.Token != tt.wantToken || (tt.wantURL != "" && cfg.URL != tt.wantURL) {
				t.Fatalf("got %+v", cfg)
			}
		})
	}
}

// TestReplayCommand posts a demo file to a real Vigie twice: everything is
// accepted the first time and a duplicate the second.
func TestReplayCommand(t *testing.T) {
	a := startApp(t, t.TempDir())
	g, err := demo.New(demo.Config{Seed: 3, Now: func() time.Time { return time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) }}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1200
	path := filepath.Join(t.TempDir(), "demo.ndjson")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.WriteNDJSON(f, g, n); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var out bytes.Buffer
	args := []string{path, "--url", a.url, "--token", testToken}
	if err := runReplay(context.Background(), args, &out); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "accepted 1200 (") || !strings.Contains(out.String(), "rejected 0") {
		t.Fatalf("first replay:\n%s", out.String())
	}
	out.Reset()
	if err := runReplay(context.Background(), args, &out); err != nil {
		t.Fatalf("replay again: %v", err)
	}
	if !strings.Contains(out.String(), "rejected 0") || strings.Contains(out.String(), "duplicates 0,") {
		t.Fatalf("second replay:\n%s", out.String())
	}
	out.Reset()
	err = runReplay(context.Background(), []string{path, "--url", a.url, "--token", "wrong"}, &out)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: %v\n%s", err, out.String())
	}
}
