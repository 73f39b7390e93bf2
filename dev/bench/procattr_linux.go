package main

import "syscall"

// childProcAttr makes the kernel kill a child if the bench dies first, so
// no server outlives an interrupted run.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
