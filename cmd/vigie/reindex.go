package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/vigie/vigie/desk"
	"github.com/vigie/vigie/search"
)

func init() {
	commands["reindex"] = func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return runReindex(ctx, args, stdout, stderr)
	}
}

// runReindex rebuilds the search index from scratch from the desk's event
// log: "vigie reindex [--data ./data]". The server must be stopped (the
// index is refused while another process holds it).
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("vigie reindex", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "the data directory")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vigie reindex: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	if err := applyEnv(fs, nil); err != nil {
		return err
	}
	dbPath := filepath.Join(*data, "desk.db")
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("reindex: no desk database in %s: %w", *data, err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := desk.Open(ctx, desk.Config{Path: dbPath}, logger, nil)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	defer d.Close()
	res, err := search.Rebuild(ctx, d, search.Config{Path: filepath.Join(*data, "search.bleve")}, logger)
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	fmt.Fprintf(stdout, "search index rebuilt: %d mentions from %d events in %s\n",
		res.Documents, res.Cursor, res.Elapsed.Round(1e6))
	return nil
}
