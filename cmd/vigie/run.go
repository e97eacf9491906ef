package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// errUsage is returned after the usage was printed.
var errUsage = errors.New("usage")

const usage = `Vigie: a real-time social listening and response desk.

Usage:
  vigie serve [--addr :8080] [--data ./data] [--clickhouse URL] [--rules FILE] [--demo]
  vigie replay FILE.ndjson [--url http://127.0.0.1:8080] [--rate N]
  vigie classify [--lang fr|en|...]        one text a line in, one JSON a line out
  vigie eval [--data ../shared/data]       sentiment quality on the labelled data
  vigie user add NAME --role agent|monitor|manager|admin [--password-file F]
  vigie user passwd NAME | vigie user list | vigie user token NAME
  vigie reindex [--data ./data]            rebuild the search index from the desk's events
  vigie backup DIR [--data ./data]         a consistent snapshot, while Vigie runs
  vigie restore DIR [--data ./data]        into an empty data directory
  vigie check [serve flags]                validate the configuration and the rules file
  vigie version

Every flag also reads VIGIE_<FLAG> from the environment (VIGIE_ADDR,
VIGIE_DATA, ...). Run 'vigie COMMAND -h' for a command's flags.
`

// run is the composition root: it dispatches to the commands.
func run(ctx context.Context, args []string) error {
	return dispatch(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}

func dispatch(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "vigie", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if c, ok := commands[cmd]; ok {
		return c(ctx, rest, stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "vigie: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

// commands holds the commands that live in files of their own.
var commands = map[string]func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error{
	"classify": func(ctx context.Context, args []string, stdin io.Reader, stdout, _ io.Writer) error {
		return runClassify(ctx, args, stdin, stdout)
	},
	"replay": func(ctx context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
		return runReplay(ctx, args, stdout)
	},
	"eval": func(ctx context.Context, args []string, _ io.Reader, stdout, _ io.Writer) error {
		return runEval(ctx, args, stdout)
	},
}

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
