package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vigie/vigie/auth"
)

func TestRunUser(t *testing.T) {
	data := t.TempDir()
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("first password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(stdin string, args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := runUser(context.Background(), append(args, "--data", data), strings.NewReader(stdin), &out)
		return out.String(), err
	}

	steps := []struct {
		name    string
		stdin   string
		args    []string
		wantErr string
		wantOut string
	}{
		{"add from file", "", []string{"add", "ana", "--role", "agent", "--password-file", pwFile}, "", "user ana added with role agent"},
		{"flags first, password on stdin", "second password\n", []string{"add", "--role", "admin", "root"}, "", "user root added with role admin"},
		{"stdin without newline", "third password", []string{"add", "mon", "--role=monitor"}, "", "user mon added"},
		{"duplicate", "", []string{"add", "ana", "--role", "agent", "--password-file", pwFile}, "already exists", ""},
		{"no role", "", []string{"add", "bob", "--password-file", pwFile}, "invalid role", ""},
		{"bad role", "", []string{"add", "bob", "--role", "boss", "--password-file", pwFile}, "invalid role", ""},
		{"bad name", "", []string{"add", "Bob", "--role", "agent", "--password-file", pwFile}, "invalid user name", ""},
		{"short password", "short\n", []string{"add", "bob", "--role", "agent"}, "at least 10", ""},
		{"empty stdin", "", []string{"add", "bob", "--role", "agent"}, "no password", ""},
		{"missing file", "", []string{"add", "bob", "--role", "agent", "--password-file", "/nonexistent/pw"}, "read password file", ""},
		{"no name", "", []string{"add", "--role", "agent"}, "want 1 argument", ""},
		{"unknown flag", "", []string{"add", "bob", "--rol", "agent"}, "flag provided but not defined", ""},
		{"unknown subcommand", "", []string{"remove", "ana"}, "unknown command", ""},
		{"passwd", "new password 123\n", []string{"passwd", "ana"}, "", "password of ana changed"},
		{"passwd unknown", "new password 123\n", []string{"passwd", "nobody"}, "user not found", ""},
		{"token", "", []string{"token", "root", "--name", "ci"}, "", "role admin"},
		{"token scope too wide", "", []string{"token", "mon", "--role", "manager"}, "exceeds", ""},
	}
	for _, s := range steps {
		out, err := run(s.stdin, s.args...)
		switch {
		case s.wantErr == "" && err != nil:
			t.Errorf("%s: %v", s.name, err)
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Errorf("%s: error %v, want one containing %q", s.name, err, s.wantErr)
		case !strings.Contains(out, s.wantOut):
			t.Errorf("%s: output %q, want %q", s.name, out, s.wantOut)
		}
		if strings.Contains(out, "password 123") || strings.Contains(out, "first password") {
			t.Errorf("%s: output shows a password: %q", s.name, out)
		}
	}

	// Through the command dispatcher, as "vigie user list".
	var buf bytes.Buffer
	if err := dispatch(context.Background(), []string{"user", "list", "--data", data}, strings.NewReader(""), &buf, io.Discard); err != nil {
		t.Fatalf("vigie user list: %v", err)
	}
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !regexp.MustCompile(`^ana\s+agent\s+enabled\s+\d{4}-`).MatchString(lines[1]) ||
		!strings.HasPrefix(lines[2], "mon ") || !strings.HasPrefix(lines[3], "root ") {
		t.Errorf("list:\n%s", out)
	}
	out, _ = run("", "token", "root")
	if !regexp.MustCompile(`\nvgt_[0-9a-f]{16}_[0-9a-f]{64}\n$`).MatchString(out) {
		t.Errorf("token output %q", out)
	}

	// The passwords stored are the ones given, newline trimmed.
	a, err := auth.New(context.Background(), auth.Config{Path: filepath.Join(data, "auth.db")}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, c := range []struct {
		user, pw string
		ok       bool
	}{{"ana", "new password 123", true}, {"ana", "first password", false}, {"root", "second password", true}, {"mon", "third password", true}} {
		_, err := a.Login(context.Background(), c.user, c.pw, "127.0.0.1")
		if (err == nil) != c.ok {
			t.Errorf("login %s with %q: %v, want ok=%v", c.user, c.pw, err, c.ok)
		}
	}
}
