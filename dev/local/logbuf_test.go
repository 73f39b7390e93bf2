package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer records each Write it receives.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) state() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

func TestBufferedWriterBatchesInOrderWithinItsBound(t *testing.T) {
	var out lockedBuffer
	w := newBufferedWriter(&out, 16, time.Hour)
	for _, s := range []string{"aaaa\n", "bbbb\n", "cccc\n"} { // 15 bytes: all buffered
		w.Write([]byte(s))
	}
	if s, n := out.state(); s != "" || n != 0 {
		t.Fatalf("written before the buffer was full: %q in %d writes", s, n)
	}
	w.Write([]byte("dd\n")) // would make 18 > 16: the 15 go out first
	if s, n := out.state(); s != "aaaa\nbbbb\ncccc\n" || n != 1 {
		t.Fatalf("after overflow: %q in %d writes", s, n)
	}
	long := strings.Repeat("x", 40) + "\n"
	w.Write([]byte(long)) // larger than the buffer: "dd" first, then it, whole
	if s, n := out.state(); s != "aaaa\nbbbb\ncccc\ndd\n"+long || n != 3 {
		t.Fatalf("after a long line: %q in %d writes", s, n)
	}
	w.Write([]byte("tail\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if s, _ := out.state(); !strings.HasSuffix(s, long+"tail\n") {
		t.Fatalf("Close did not flush: %q", s)
	}
	if err := w.Close(); err != nil { // twice is fine
		t.Fatal(err)
	}
}

func TestBufferedWriterFlushesEveryPeriod(t *testing.T) {
	var out lockedBuffer
	w := newBufferedWriter(&out, 1<<10, 5*time.Millisecond)
	defer w.Close()
	w.Write([]byte("line\n"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if s, _ := out.state(); s == "line\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the periodic flush never wrote the line")
		}
		time.Sleep(time.Millisecond)
	}
}

// Under concurrent writers and flushes, every line comes out whole, once,
// and each writer's lines in the order it wrote them.
func TestBufferedWriterConcurrentWritersKeepOrder(t *testing.T) {
	var out lockedBuffer
	w := newBufferedWriter(&out, 64, time.Millisecond)
	const writers, lines = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "%d %04d\n", g, i)
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	s, _ := out.state()
	next := make([]int, writers)
	for line := range strings.SplitSeq(strings.TrimSuffix(s, "\n"), "\n") {
		var g, i int
		if _, err := fmt.Sscanf(line, "%d %d", &g, &i); err != nil || g < 0 || g >= writers || i != next[g] {
			t.Fatalf("line %q torn or out of order", line)
		}
		next[g]++
	}
	for g, n := range next {
		if n != lines {
			t.Fatalf("writer %d: %d lines out, want %d", g, n, lines)
		}
	}
}
