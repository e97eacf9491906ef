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
		runAsVigie(os.Args[1:]) // a test server's search worker (searchworker.go)
	}
	if os.Getenv("VIGIE_TEST_CHILD") == "1" {
		runAsVigie(strings.Split(os.Getenv("VIGIE_TEST_ARGS"), "\n"))
	}
	os.Exit(m.Run())
}

// runAsVigie runs this binary as vigie with args, as main does, and exits.
func runAsVigie(args []string) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	err := run(ctx, args)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigie:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
