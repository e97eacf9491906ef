//go:build !linux

package main

import "os/exec"

// startNiced starts cmd; only Linux gets it a lower priority.
func startNiced(cmd *exec.Cmd, _ int) error { return cmd.Start() }
