package main

import "syscall"

// childProcAttr puts a child in a process group of its own, so the
// terminal's Ctrl-C reaches only this program, which then stops the child
// in order; and has the kernel kill the child if this program dies first
// (a crash, SIGKILL), so no redis-server outlives it. The kernel ties that
// signal to the OS thread that started the child; Go's runtime ends a thread
// only when a goroutine locked to it exits, which this program never does.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
