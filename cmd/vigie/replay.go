package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/vigie/vigie/listener/replay"
)

func init() {
	commands["replay"] = func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return replayCommand(ctx, args, stdout, stderr)
	}
}

// maxShownRejections bounds the rejected lines the summary lists.
const maxShownRejections = 20

// runReplay runs `vigie replay FILE.ndjson [--url URL] [--rate N] [--token T]
// [--batch N]`: it posts the file to a running Vigie and prints a summary on
// stdout (usage errors too).
func runReplay(ctx context.Context, args []string, stdout io.Writer) error {
	return replayCommand(ctx, args, stdout, stdout)
}

func replayCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseReplay(args, stderr)
	if err != nil {
		return err
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	fmt.Fprintf(stdout, "replaying %s to %s\n", cfg.File, cfg.URL)
	st, err := replay.Post(ctx, cfg)
	printReplaySummary(stdout, st)
	if err != nil {
		return fmt.Errorf("replay %s: %w", cfg.File, err)
	}
	return nil
}

func parseReplay(args []string, stderr io.Writer) (replay.PostConfig, error) {
	var c replay.PostConfig
	fs := flag.NewFlagSet("vigie replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: vigie replay FILE.ndjson [--url http://127.0.0.1:8080] [--rate N] [--token T] [--batch N]")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.URL, "url", replay.DefaultURL, "Vigie's base URL")
	fs.Float64Var(&c.Rate, "rate", 0, "mentions per second (0: as fast as the server takes them)")
	fs.StringVar(&c.Token, "token", "", "API token (default: VIGIE_ADMIN_TOKEN or VIGIE_ADMIN_TOKEN_FILE)")
	fs.IntVar(&c.Batch, "batch", replay.DefaultBatch, "mentions per request")
	// The file may come before or after the flags.
	var files []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return c, errUsage
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fmt.Fprintf(stderr, "vigie replay: want one FILE.ndjson, got %d\n", len(files))
		fs.Usage()
		return c, errUsage
	}
	c.File = files[0]
	if err := applyEnv(fs, map[string]bool{"token": true}); err != nil {
		return c, err
	}
	if c.Token == "" {
		tok, err := secretFromEnv("VIGIE_ADMIN_TOKEN")
		if err != nil {
			return c, err
		}
		c.Token = tok
	}
	if err := c.Validate(); err != nil {
		fmt.Fprintln(stderr, "vigie replay:", err)
		return c, errUsage
	}
	return c, nil
}

// secretFromEnv reads NAME, or the file NAME_FILE names.
func secretFromEnv(name string) (string, error) {
	if v, ok := os.LookupEnv(name); ok {
		return v, nil
	}
	path, ok := os.LookupEnv(name + "_FILE")
	if !ok {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s_FILE: %w", name, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func printReplaySummary(w io.Writer, st replay.PostStats) {
	secs := st.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(st.Sent) / secs
	}
	fmt.Fprintf(w, "lines %d, sent %d in %d batches (%d retries), %.1fs (%.0f/s)\n", st.Lines, st.Sent, st.Batches, st.Retries, secs, rate)
	fmt.Fprintf(w, "accepted %d (%d edits), duplicates %d, rejected %d\n", st.Accepted, st.Edited, st.Duplicates, st.Rejected)
	for i, r := range st.Rejections {
		if i == maxShownRejections {
			fmt.Fprintf(w, "  … and %d more\n", st.Rejected-maxShownRejections)
			break
		}
		fmt.Fprintf(w, "  line %d: %s\n", r.Line, r.Error)
	}
}
