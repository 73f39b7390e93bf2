package metrics

import (
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// maxLabelBytes bounds a label value. EMF allows dimension values of up to
// 1024 characters; a value this long is not a label but a bug upstream.
const maxLabelBytes = 250

// interner maps the values one label takes to small dense indexes, so the hot
// path finds a metric's pre-resolved series with a short scan and an array
// index instead of building a map key. Index 0 stands for Other: it is
// returned for values that cannot be labels and, once the interner is full,
// for every value not seen before. That bounds each label's cardinality, so
// a caller passing unvalidated input cannot grow the metric set without limit.
//
// Lookups take no lock: vals[:n] is written before n is published and never
// changes afterwards.
type interner[T comparable] struct {
	mu     sync.Mutex
	n      atomic.Int32 // vals[:n] are interned; vals[0] is unused
	vals   []T
	labels []string
	label  func(T) (string, bool)
}

// newInterner returns an interner for at most size-1 distinct values. label
// turns a value into its label text, or reports false if the value cannot be
// a label.
func newInterner[T comparable](size int, label func(T) (string, bool)) *interner[T] {
	in := &interner[T]{vals: make([]T, size), labels: make([]string, size), label: label}
	in.labels[0] = Other
	in.n.Store(1)
	return in
}

// index returns v's index, interning v if it is new and there is room.
func (in *interner[T]) index(v T) int {
	n := int(in.n.Load())
	for i := 1; i < n; i++ {
		if in.vals[i] == v {
			return i
		}
	}
	if n == len(in.vals) {
		return 0
	}
	return in.add(v)
}

func (in *interner[T]) add(v T) int {
	l, ok := in.label(v)
	if !ok {
		return 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	n := int(in.n.Load())
	for i := 1; i < n; i++ {
		if in.vals[i] == v {
			return i
		}
	}
	if n == len(in.vals) {
		return 0
	}
	in.vals[n], in.labels[n] = v, l
	in.n.Store(int32(n + 1))
	return n
}

// labelOf returns the label text of an index returned by index.
func (in *interner[T]) labelOf(i int) string { return in.labels[i] }

// stringLabel accepts non-empty, valid UTF-8 strings of at most maxLabelBytes.
func stringLabel(s string) (string, bool) {
	return s, s != "" && len(s) <= maxLabelBytes && utf8.ValidString(s)
}
