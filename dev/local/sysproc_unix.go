//go:build unix && !linux

package main

import "syscall"

// childProcAttr puts a child in a process group of its own, so the
// terminal's Ctrl-C reaches only this program, which then stops the child
// in order. Outside Linux there is no parent-death signal: a child outlives
// a crash of this program.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
