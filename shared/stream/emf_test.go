package stream

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The EMF document is valid JSON naming each metric, with counters as
// changes since the previous document.
func TestEMFDocument(t *testing.T) {
	h, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := NewEMFWriter(h)
	h.stats.Messages.Add(5)
	var b bytes.Buffer
	_ = w.Write(&b, time.Unix(100, 0))
	h.stats.Messages.Add(2)
	h.stats.observeLag(time.Unix(100, 0), time.Unix(99, 250e6))
	_ = w.Write(&b, time.Unix(160, 0))
	docs := bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n"))
	var d map[string]any
	if err := json.Unmarshal(docs[1], &d); err != nil {
		t.Fatalf("%s: %v", docs[1], err)
	}
	if d[MetricMessages] != 2.0 || d[MetricUpstreamLag] != 750.0 || d["Service"] != "hub" {
		t.Fatalf("second document %s", docs[1])
	}
}
