package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the sqlite driver, for VACUUM INTO

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie/vigie/listener/sources"
	"github.com/vigie/vigie/router"
)

func init() {
	commands["backup"] = func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return runBackup(ctx, args, stdout, stderr)
	}
	commands["restore"] = func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return runRestore(ctx, args, stdout, stderr)
	}
	commands["check"] = func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return runCheck(ctx, args, stdout, stderr)
	}
}

// manifest describes a backup.
type manifest struct {
	Vigie     string            `json:"vigie"`
	CreatedAt time.Time         `json:"created_at"`
	Files     map[string]string `json:"files"` // file → schema version
	// Derived state (the search index) is not copied: it is rebuilt from
	// the desk's events after a restore.
	Derived []string `json:"derived_not_copied"`
}

// runBackup takes a consistent snapshot of every database of a data
// directory, while Vigie runs: SQLite's VACUUM INTO reads one transaction's
// view of a WAL database without stopping its writer.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigie backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "the data directory to back up")
	dest, err := parseWithArg(fs, args, "DIR")
	if err != nil {
		return err
	}
	if err := applyEnv(fs, nil); err != nil {
		return err
	}
	if entries, err := os.ReadDir(dest); err == nil && len(entries) > 0 {
		return fmt.Errorf("backup: %s is not empty", dest)
	}
	if err := os.MkdirAll(dest, 0o750); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	dbs, err := filepath.Glob(filepath.Join(*data, "*.db"))
	if err != nil || len(dbs) == 0 {
		return fmt.Errorf("backup: no databases in %s", *data)
	}
	m := manifest{Vigie: version(), CreatedAt: time.Now().UTC(), Files: map[string]string{}}
	for _, src := range dbs {
		name := filepath.Base(src)
		v, err := snapshot(ctx, src, filepath.Join(dest, name))
		if err != nil {
			return fmt.Errorf("backup %s: %w", name, err)
		}
		m.Files[name] = v
		fmt.Fprintf(stdout, "%s (schema %s)\n", name, v)
	}
	if _, err := os.Stat(filepath.Join(*data, "search.bleve")); err == nil {
		m.Derived = append(m.Derived, "search.bleve")
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(filepath.Join(dest, "manifest.json"), b, 0o640); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup of %d databases in %s\n", len(dbs), dest)
	return nil
}

func snapshot(ctx context.Context, src, dst string) (string, error) {
	db, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return "", err
	}
	defer db.Close()
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return "", err
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return "", err
	}
	return fmt.Sprint(v), nil
}

// runRestore copies a backup into an empty data directory. The search index
// is rebuilt by Vigie on its next start.
func runRestore(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigie restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "the data directory to restore into (must be empty or missing)")
	src, err := parseWithArg(fs, args, "DIR")
	if err != nil {
		return err
	}
	if err := applyEnv(fs, nil); err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(src, "manifest.json"))
	if err != nil {
		return fmt.Errorf("restore: %s is not a Vigie backup: %w", src, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil || len(m.Files) == 0 {
		return fmt.Errorf("restore: %s/manifest.json is unreadable", src)
	}
	if entries, err := os.ReadDir(*data); err == nil && len(entries) > 0 {
		return fmt.Errorf("restore: %s is not empty; restore into an empty directory", *data)
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	names := make([]string, 0, len(m.Files))
	for n := range m.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.ContainsAny(n, `/\`) || !strings.HasSuffix(n, ".db") {
			return fmt.Errorf("restore: bad file name %q in the manifest", n)
		}
		if err := copyFile(filepath.Join(src, n), filepath.Join(*data, n)); err != nil {
			return fmt.Errorf("restore %s: %w", n, err)
		}
		fmt.Fprintf(stdout, "%s\n", n)
	}
	fmt.Fprintf(stdout, "restored the backup of %s into %s\n", m.CreatedAt.Format(time.RFC3339), *data)
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// runCheck validates the configuration and the files it names without
// starting anything.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	var problems []error
	if _, err := newLogger(cfg.LogLevel, cfg.LogFormat, io.Discard); err != nil {
		problems = append(problems, err)
	}
	if cfg.Rules != "" {
		if rs, err := router.LoadRules(cfg.Rules); err != nil {
			problems = append(problems, err)
		} else {
			fmt.Fprintf(stdout, "rules %s: %d rules, queues %s\n", cfg.Rules, len(rs.Rules), strings.Join(rs.Queues(), ", "))
		}
	}
	if cfg.Sources != "" {
		if f, err := sources.Load(cfg.Sources); err != nil {
			problems = append(problems, err)
		} else if _, err := newSourceRegistry(cfg.Sources, nil, slog.New(slog.DiscardHandler), prometheus.NewRegistry()); err != nil {
			problems = append(problems, err)
		} else {
			fmt.Fprintf(stdout, "sources %s: %d sources\n", cfg.Sources, len(f.Sources))
		}
	}
	if cfg.AdminToken != "" && len(cfg.AdminToken) < 16 {
		problems = append(problems, errors.New("admin token: at least 16 characters"))
	}
	if err := checkAudit(ctx, cfg.Data, stdout); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return errors.Join(problems...)
	}
	fmt.Fprintln(stdout, "configuration ok")
	return nil
}

// parseWithArg parses flags around one positional argument.
func parseWithArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return "", errUsage
		}
		args = fs.Args()
		if len(args) > 0 {
			pos = append(pos, args[0])
			args = args[1:]
		}
	}
	if len(pos) != 1 {
		fmt.Fprintf(fs.Output(), "%s: want one %s\n", fs.Name(), what)
		return "", errUsage
	}
	return pos[0], nil
}
