//go:build race

package main

// raceEnabled: the tests run with the race detector, and so does the
// program they build.
const raceEnabled = true
