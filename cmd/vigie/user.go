package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/vigie/vigie/auth"
)

const userUsage = `usage:
  vigie user add NAME --role agent|monitor|manager|admin [--password-file F] [--data DIR]
  vigie user passwd NAME [--password-file F] [--data DIR]
  vigie user list [--data DIR]
  vigie user token NAME [--name LABEL] [--role ROLE] [--source SOURCE] [--data DIR]

Without --password-file the password is asked on the terminal (not echoed),
or read as one line from standard input when it is not a terminal.
--source scopes a token to one source: it may then only ingest items of
that source (one ingest token per source); its role must allow ingest.
--data defaults to $VIGIE_DATA, else ./data; users live in DIR/auth.db.
Changes are recorded in the audit log as done by "cli:<OS user>".`

func init() {
	commands["user"] = func(ctx context.Context, args []string, stdin io.Reader, stdout, _ io.Writer) error {
		return runUser(ctx, args, stdin, stdout)
	}
}

// runUser runs "vigie user ...": it manages the users of the auth database
// directly, which also works while the server runs (SQLite WAL). stdin is
// where a password is read from when no --password-file is given; stdout gets
// prompts and results.
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("vigie user "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	data := fs.String("data", envOr("VIGIE_DATA", "./data"), "data directory")
	var role, passwordFile, label, source *string
	switch sub {
	case "add":
		role = fs.String("role", "", "agent, monitor, manager or admin")
		passwordFile = fs.String("password-file", "", "read the password from this file")
	case "passwd":
		passwordFile = fs.String("password-file", "", "read the password from this file")
	case "token":
		role = fs.String("role", "", "the token's scope (default: the user's role)")
		label = fs.String("name", "cli", "what the token is for")
		source = fs.String("source", "", "scope the token to this source: it may only ingest its items")
	case "list":
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, userUsage)
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", "user "+sub, userUsage)
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return fmt.Errorf("vigie user %s: %w\n%s", sub, err, userUsage)
	}
	wantPos := 1
	if sub == "list" {
		wantPos = 0
	}
	if len(pos) != wantPos {
		return fmt.Errorf("vigie user %s: want %d argument(s), got %d\n%s", sub, wantPos, len(pos), userUsage)
	}
	var name string
	if wantPos == 1 {
		name = pos[0]
		if err := auth.CheckName(name); err != nil {
			return err
		}
	}
	var r auth.Role
	if role != nil && (*role != "" || sub == "add") {
		if r, err = auth.ParseRole(*role); err != nil {
			return fmt.Errorf("--role: %w", err)
		}
	}
	var password string
	if passwordFile != nil {
		if password, err = readPassword(*passwordFile, name, stdin, stdout); err != nil {
			return err
		}
	}

	a, err := auth.New(ctx, auth.Config{Path: filepath.Join(*data, "auth.db")}, nil, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	ctx = auth.SystemContext(ctx, cliActor())
	switch sub {
	case "add":
		u, err := a.CreateUser(ctx, name, r, password)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "user %s added with role %s\n", u.Name, u.Role)
	case "passwd":
		if _, err := a.UpdateUser(ctx, name, auth.UserUpdate{Password: &password}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions are closed\n", name)
	case "list":
		us, err := a.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATUS\tCREATED")
		for _, u := range us {
			status := "enabled"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.Role, status, u.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "token":
		t, text, err := a.IssueToken(ctx, auth.TokenSpec{User: name, Name: *label, Role: r, Source: *source})
		if err != nil {
			return err
		}
		scope := ""
		if t.Source != "" {
			scope = ", ingest for source " + t.Source + " only"
		}
		fmt.Fprintf(stdout, "token %s for %s, role %s%s (shown once, keep it secret):\n%s\n", t.ID, t.User, t.Role, scope, text)
	}
	return nil
}

// cliActor names the command line's changes in the audit log: "cli:" and
// the operating system user running it.
func cliActor() string {
	u := os.Getenv("USER")
	if u == "" {
		u = os.Getenv("LOGNAME")
	}
	if u == "" {
		u = "unknown"
	}
	return "cli:" + u
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("add ana --role agent" and "add --role agent ana").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// readPassword gets a password from file when given (one trailing newline
// removed), else from the terminal without echo (asked twice), else as one
// line of stdin. It checks the password rule before returning.
func readPassword(file, name string, stdin io.Reader, stdout io.Writer) (string, error) {
	var pw string
	switch f, isFile := stdin.(*os.File); {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		pw = trimNewline(string(b))
	case isFile && term.IsTerminal(int(f.Fd())):
		fmt.Fprintf(stdout, "Password for %s (at least %d characters): ", name, auth.MinPasswordLen)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if err := auth.CheckPassword(string(b)); err != nil {
			return "", err
		}
		fmt.Fprint(stdout, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(again) != string(b) {
			return "", errors.New("the passwords differ")
		}
		pw = string(b)
	default:
		line, err := bufio.NewReader(io.LimitReader(stdin, 4*auth.MaxPasswordLen+2)).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			if errors.Is(err, io.EOF) {
				return "", errors.New("no password on standard input (use --password-file, a terminal, or pipe one line)")
			}
			return "", fmt.Errorf("read password from standard input: %w", err)
		}
		pw = trimNewline(line)
	}
	if err := auth.CheckPassword(pw); err != nil {
		return "", err
	}
	return pw, nil
}

func trimNewline(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
