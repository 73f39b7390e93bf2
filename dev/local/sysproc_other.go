//go:build !unix

package main

import "syscall"

// childProcAttr has nothing to set on this system.
func childProcAttr() *syscall.SysProcAttr { return nil }
