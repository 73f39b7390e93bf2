//go:build !linux

package main

import "syscall"

// childProcAttr has nothing to add outside Linux: children are stopped by
// the bench on every normal exit.
func childProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
