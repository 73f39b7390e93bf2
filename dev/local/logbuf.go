package main

import (
	"io"
	"sync"
	"time"
)

// Log buffering: a request's log line is a write system call of its own
// when the logger writes to stderr directly, which under load costs more
// than the rest of an L1 hit. The program buffers its log lines instead and
// writes them out in batches, at most logFlushEvery late, in memory bounded
// by logBufferBytes.
const (
	logBufferBytes = 64 << 10
	logFlushEvery  = 100 * time.Millisecond
)

// bufferedWriter gathers writes to w in a buffer of at most max bytes and
// writes it out when the next write would not fit, on Flush, every period
// and on Close. A write larger than the buffer goes straight through, after
// what is buffered. It is safe for concurrent use; each Write reaches w
// whole and in order.
type bufferedWriter struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	max  int
	stop chan struct{}
	done chan struct{}
}

// newBufferedWriter returns a bufferedWriter for w that flushes itself every
// period until Close.
func newBufferedWriter(w io.Writer, max int, period time.Duration) *bufferedWriter {
	b := &bufferedWriter{w: w, buf: make([]byte, 0, max), max: max, stop: make(chan struct{}), done: make(chan struct{})}
	go b.tick(period)
	return b
}

func (b *bufferedWriter) tick(period time.Duration) {
	defer close(b.done)
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush()
		}
	}
}

// Write buffers p (or writes it, when it does not fit in an empty buffer).
func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > b.max {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
	}
	if len(p) > b.max {
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Flush writes out what is buffered.
func (b *bufferedWriter) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *bufferedWriter) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// Close stops the periodic flush and flushes. Writes after Close are
// buffered until the next Flush.
func (b *bufferedWriter) Close() error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
		<-b.done
	}
	return b.Flush()
}
