package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets a test run this test binary as a Vigie child process
// (VIGIE_TEST_CHILD=1, arguments in VIGIE_TEST_ARGS, one per line), to kill
// it for real; and lets the servers the tests start run it as their search
// worker.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "search-worker" {
		// The search worker of a server this binary runs (searchworker.go).
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := run(ctx, os.Args[1:])
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "vigie:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv("VIGIE_TEST_CHILD") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := run(ctx, strings.Split(os.Getenv("VIGIE_TEST_ARGS"), "\n"))
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "vigie:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
