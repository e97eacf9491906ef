package main

import (
	"os/exec"
	"runtime"
	"syscall"
)

// startNiced starts cmd at nice value n. Linux keeps a nice value per
// thread, and a new process inherits the one of the thread that forks it:
// the fork happens on a thread locked for the purpose and reniced, which
// ends with its goroutine, never running other goroutines. Every thread of
// the child descends from it. If the nice value cannot be set, cmd starts
// at the server's own.
func startNiced(cmd *exec.Cmd, n int) error {
	errc := make(chan error, 1)
	go forkNiced(cmd, n, errc)
	return <-errc
}

func forkNiced(cmd *exec.Cmd, n int, errc chan<- error) {
	runtime.LockOSThread()
	if syscall.Gettid() == syscall.Getpid() {
		// The main thread: Go never ends it, it would park it reniced.
		// Fork from another thread, which this one, locked and waiting,
		// cannot be.
		inner := make(chan error, 1)
		go forkNiced(cmd, n, inner)
		errc <- <-inner
		runtime.UnlockOSThread()
		return
	}
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), n)
	errc <- cmd.Start() // the thread stays locked: it exits with this goroutine
}
