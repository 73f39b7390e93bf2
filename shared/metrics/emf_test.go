package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/opitios/opitios-alpaca/dev/emftest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

var flushTime = time.Date(2025, 3, 10, 14, 30, 5, 123_000_000, time.UTC)

// script records one of every call the consumers make, as an invocation
// serving a miss, a hit and a failed batch would.
func script(r *Recorder) {
	r.CacheResult(L1, ResultMiss, StockQuote)
	r.CacheResult(L2, ResultMiss, StockQuote)
	r.UpstreamRequest("stocks_quotes_latest", UpstreamOK, 84*time.Millisecond+250*time.Microsecond)
	r.OriginRateLimit(200, 187, time.Date(2025, 3, 10, 14, 31, 0, 0, time.UTC))
	r.OriginBudgetLeft(150)
	r.CacheResult(Origin, ResultWrite, StockQuote)
	r.APIRequest("GET /v2/stocks/{symbol}/quotes/latest", 200, 86*time.Millisecond+500*time.Microsecond)
	r.DataAge(StockQuote, 0)

	r.CacheResult(L1, ResultHit, StockQuote)
	r.APIRequest("GET /v2/stocks/{symbol}/quotes/latest", 200, 12*time.Microsecond)
	r.DataAge(StockQuote, 4*time.Second+250*time.Millisecond)

	r.CacheResult(L1, ResultHit, OptionQuote)
	r.CacheResult(L2, ResultHit, OptionQuote)
	r.Coalesced(OptionQuote)
	r.UpstreamRequest("options_snapshots", UpstreamServerError, 2*time.Second)
	r.UpstreamRequest("options_snapshots", UpstreamServerError, 1500*time.Millisecond)
	r.Batch(20, 310*time.Millisecond)
	r.APIRequest("GET /v1beta1/options/snapshots", 503, 2*time.Second+400*time.Millisecond)

	r.Prefetched(PrefetchResultRefreshed, 40)
	r.Prefetched(PrefetchResultRefreshed, 2)
	r.Prefetched(PrefetchResultFailed, 3)
	r.PrefetchSkipped(ReasonMarketClosed)
}

func TestFlushEMFGolden(t *testing.T) {
	for _, tc := range []struct {
		golden string
		opts   Options
	}{
		{"lambda.golden", Options{EMF: true, Function: "opitios-api"}},
		{"no_function.golden", Options{EMF: true}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := New(tc.opts)
			script(r)
			var out bytes.Buffer
			if err := r.FlushEMF(&out, flushTime); err != nil {
				t.Fatal(err)
			}
			for i, line := range lines(t, out.Bytes()) {
				if err := emftest.ValidateEMF(line); err != nil {
					t.Errorf("document %d: %v\n%s", i, err, line)
				}
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("FlushEMF output differs from %s (run with -update to accept):\n%s", path, out.Bytes())
			}

			// The aggregate was reset: a second flush writes nothing.
			out.Reset()
			if err := r.FlushEMF(&out, flushTime); err != nil || out.Len() != 0 {
				t.Errorf("second flush wrote %q, %v; want nothing", out.Bytes(), err)
			}
		})
	}
}

// TestFlushEMFNextInvocation checks that an invocation's flush holds only
// what was recorded since the previous flush.
func TestFlushEMFNextInvocation(t *testing.T) {
	r := New(Options{EMF: true, Function: "f"})
	r.CacheResult(L1, ResultHit, StockQuote)
	r.APIRequest("r", 200, time.Millisecond)
	if err := r.FlushEMF(&bytes.Buffer{}, flushTime); err != nil {
		t.Fatal(err)
	}
	r.CacheResult(L1, ResultHit, StockQuote)
	r.CacheResult(L1, ResultHit, StockQuote)
	var out bytes.Buffer
	if err := r.FlushEMF(&out, flushTime.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	docs := decodeAll(t, out.Bytes())
	if len(docs) != 1 {
		t.Fatalf("got %d documents, want 1:\n%s", len(docs), out.Bytes())
	}
	d := docs[0]
	if d["CacheRequests"] != 2.0 || d["ApiLatency"] != nil {
		t.Errorf("CacheRequests=%v ApiLatency=%v, want 2 and absent", d["CacheRequests"], d["ApiLatency"])
	}
	if ts := d["_aws"].(map[string]any)["Timestamp"]; ts != float64(flushTime.Add(time.Second).UnixMilli()) {
		t.Errorf("Timestamp = %v", ts)
	}
}

func TestEncodeGroupSplitsMetrics(t *testing.T) {
	g := &emfGroup{sets: [][]string{{DimFunction}}, dims: []dim{{DimFunction, "f"}}}
	want := map[string]float64{}
	for i := range 150 {
		name := fmt.Sprintf("M%03d", i)
		g.metrics = append(g.metrics, emfMetric{name: name, unit: unitCount, resolution: resolutionStandard, values: []float64{float64(i)}})
		want[name] = float64(i)
	}
	out, _ := encodeGroup(nil, nil, Namespace, flushTime.UnixMilli(), g)
	docs := lines(t, out)
	if len(docs) != 2 {
		t.Fatalf("got %d documents, want 2", len(docs))
	}
	got := map[string]float64{}
	for i, doc := range docs {
		if err := emftest.ValidateEMF(doc); err != nil {
			t.Errorf("document %d: %v", i, err)
		}
		d := decode(t, doc)
		defs := d["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)["Metrics"].([]any)
		if wantN := []int{100, 50}[i]; len(defs) != wantN {
			t.Errorf("document %d has %d metrics, want %d", i, len(defs), wantN)
		}
		for _, def := range defs {
			name := def.(map[string]any)["Name"].(string)
			got[name] = d[name].(float64)
		}
		if d[DimFunction] != "f" {
			t.Errorf("document %d: Function = %v", i, d[DimFunction])
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d metrics back, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestFlushEMFSplitsSamples(t *testing.T) {
	r := New(Options{EMF: true, Function: "f"})
	var want []float64
	for i := range 250 {
		r.APIRequest("r", 200, time.Duration(i+1)*time.Millisecond)
		want = append(want, float64(i+1))
	}
	r.CacheResult(L1, ResultHit, HistoricalData) // another group: its own document
	var out bytes.Buffer
	if err := r.FlushEMF(&out, flushTime); err != nil {
		t.Fatal(err)
	}
	var got []float64
	var sizes []int
	for i, line := range lines(t, out.Bytes()) {
		if err := emftest.ValidateEMF(line); err != nil {
			t.Errorf("document %d: %v", i, err)
		}
		d := decode(t, line)
		switch v := d[ApiLatency].(type) {
		case []any:
			sizes = append(sizes, len(v))
			for _, x := range v {
				got = append(got, x.(float64))
			}
		case float64:
			sizes = append(sizes, 1)
			got = append(got, v)
		}
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Errorf("ApiLatency documents hold %v values, want [100 100 50]", sizes)
	}
	if !slices.Equal(got, want) {
		t.Errorf("ApiLatency values = %v, want %v", got, want)
	}
}

// TestFlushEMFUnevenRuns checks a document carries the k-th run of every
// metric that has one: the lone-sample metric rides in the first only.
func TestFlushEMFUnevenRuns(t *testing.T) {
	g := &emfGroup{sets: [][]string{{}}, metrics: []emfMetric{
		{name: "A", unit: unitCount, resolution: 60, values: make([]float64, 150)},
		{name: "B", unit: unitCount, resolution: 60, values: []float64{7}},
	}}
	out, _ := encodeGroup(nil, nil, Namespace, 0, g)
	docs := lines(t, out)
	if len(docs) != 2 {
		t.Fatalf("got %d documents, want 2", len(docs))
	}
	d0, d1 := decode(t, docs[0]), decode(t, docs[1])
	if len(d0["A"].([]any)) != 100 || d0["B"] != 7.0 {
		t.Errorf("first document: A has %d values, B = %v", len(d0["A"].([]any)), d0["B"])
	}
	if len(d1["A"].([]any)) != 50 || d1["B"] != nil {
		t.Errorf("second document: A has %d values, B = %v", len(d1["A"].([]any)), d1["B"])
	}
	for _, d := range docs {
		if err := emftest.ValidateEMF(d); err != nil {
			t.Error(err)
		}
	}
}

func TestFlushEMFCapsSamples(t *testing.T) {
	r := New(Options{EMF: true})
	for range maxSamples + 500 {
		r.DataAge(StockQuote, time.Second)
	}
	var out bytes.Buffer
	if err := r.FlushEMF(&out, flushTime); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range lines(t, out.Bytes()) {
		n += len(decode(t, line)[DataAge].([]any))
	}
	if n != maxSamples {
		t.Errorf("flushed %d samples, want the cap %d", n, maxSamples)
	}
}

func TestFlushEMFWriteError(t *testing.T) {
	r := New(Options{EMF: true, Function: "f"})
	script(r)
	boom := errors.New("stdout closed")
	if err := r.FlushEMF(failWriter{boom}, flushTime); !errors.Is(err, boom) {
		t.Fatalf("FlushEMF = %v, want %v", err, boom)
	}
	var out bytes.Buffer
	if err := r.FlushEMF(&out, flushTime); err != nil || out.Len() != 0 {
		t.Errorf("flush after a failed one wrote %q, %v; want nothing: the aggregate is reset", out.Bytes(), err)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

func TestRecorderOff(t *testing.T) {
	for name, r := range map[string]*Recorder{"nil": nil, "no options": New(Options{})} {
		script(r)
		var out bytes.Buffer
		if err := r.FlushEMF(&out, flushTime); err != nil || out.Len() != 0 {
			t.Errorf("%s: FlushEMF wrote %q, %v; want nothing", name, out.Bytes(), err)
		}
	}
}

// TestLabelOverflow checks that a label past its distinct-value limit, and
// values that cannot be labels (typed values outside their known set), are
// recorded as Other.
func TestLabelOverflow(t *testing.T) {
	r := New(Options{EMF: true})
	for i := range routeValues + 9 {
		r.APIRequest(fmt.Sprintf("/r%02d", i), 200, time.Millisecond)
	}
	r.CacheResult(L1, ResultHit, 0)
	r.CacheResult(L1, ResultHit, numDataTypes)
	r.CacheResult(L1, ResultHit, 255)
	r.APIRequest("/r00", 42, time.Millisecond)
	var out bytes.Buffer
	if err := r.FlushEMF(&out, flushTime); err != nil {
		t.Fatal(err)
	}
	routes := map[string]int{}
	statuses := map[string]int{}
	var otherDataType any
	for _, line := range lines(t, out.Bytes()) {
		if err := emftest.ValidateEMF(line); err != nil {
			t.Error(err)
		}
		d := decode(t, line)
		if route, ok := d[DimRoute].(string); ok {
			n := 1
			if v, ok := d[ApiLatency].([]any); ok {
				n = len(v)
			}
			routes[route] += n
			statuses[d[DimStatus].(string)] += n
		}
		if d[DimDataType] == Other {
			otherDataType = d[CacheRequests]
		}
	}
	// routeValues-1 real routes, then Other for the 10 past the limit.
	if len(routes) != routeValues || routes[Other] != 10 || routes["/r00"] != 2 {
		t.Errorf("routes = %v: want %d distinct, %q with 10, /r00 with 2", routes, routeValues, Other)
	}
	if statuses[Other] != 1 {
		t.Errorf("status 42 recorded as %v, want under %q", statuses, Other)
	}
	if otherDataType != 3.0 {
		t.Errorf("CacheRequests{DataType=other} = %v, want 3", otherDataType)
	}
}

// TestRecorderConcurrent records from many goroutines while flushing; no
// count is lost or doubled (and -race sees no race).
func TestRecorderConcurrent(t *testing.T) {
	r := New(Options{EMF: true, Function: "f"})
	const workers, each = 8, maxSamples / 4 // at most maxSamples ages per data type, even unflushed
	var wg sync.WaitGroup
	var out bytes.Buffer
	var mu sync.Mutex
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				return
			default:
				var b bytes.Buffer
				if err := r.FlushEMF(&b, flushTime); err != nil {
					t.Error(err)
				}
				mu.Lock()
				out.Write(b.Bytes())
				mu.Unlock()
			}
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dt := []DataType{StockQuote, OptionQuote}[w%2]
			for range each {
				r.CacheResult(L1, ResultHit, dt)
				r.DataAge(dt, time.Millisecond)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-flushed
	if err := r.FlushEMF(&out, flushTime); err != nil {
		t.Fatal(err)
	}
	var hits, ages float64
	for _, line := range lines(t, out.Bytes()) {
		d := decode(t, line)
		if v, ok := d[CacheRequests].(float64); ok {
			hits += v
		}
		switch v := d[DataAge].(type) {
		case float64:
			ages++
		case []any:
			ages += float64(len(v))
		}
	}
	if hits != workers*each || ages != workers*each {
		t.Errorf("flushed %v hits and %v ages, want %d each", hits, ages, workers*each)
	}
}

func TestDimensionSets(t *testing.T) {
	for metric, want := range map[string][][]string{
		ApiLatency:       {{DimFunction, DimRoute, DimStatus}, {DimFunction}},
		CacheRequests:    {{DimFunction, DimLayer, DimResult, DimDataType}, {DimFunction, DimLayer, DimResult}},
		UpstreamRequests: {{DimFunction, DimResult}},
		BatchSize:        {{DimFunction}},
		"Nope":           nil,
	} {
		got := DimensionSets(metric)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("DimensionSets(%s) = %v, want %v", metric, got, want)
		}
	}
}

// lines splits output into its documents, checking each ends in a newline.
func lines(t *testing.T, out []byte) [][]byte {
	t.Helper()
	var docs [][]byte
	s := bufio.NewScanner(bytes.NewReader(out))
	s.Buffer(nil, 1<<20) // a CloudWatch Logs event, the largest document
	for s.Scan() {
		docs = append(docs, slices.Clone(s.Bytes()))
	}
	if len(out) > 0 && out[len(out)-1] != '\n' {
		t.Errorf("output does not end in a newline")
	}
	return docs
}

func decode(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	return d
}

func decodeAll(t *testing.T, out []byte) []map[string]any {
	t.Helper()
	var ds []map[string]any
	for _, l := range lines(t, out) {
		ds = append(ds, decode(t, l))
	}
	return ds
}

// The consumers' interfaces (declared in shared/cache, shared/alpaca,
// shared/api and shared/prefetch), which *Recorder must satisfy; alpaca's
// RateLimit(alpaca.RateLimit) is adapted to OriginRateLimit by the wiring.
var _ interface {
	CacheResult(layer Layer, result Result, dataType DataType)
	Coalesced(dataType DataType)
	UpstreamRequest(endpoint string, result UpstreamResult, d time.Duration)
	OriginRateLimit(limit, remaining int, reset time.Time)
	APIRequest(route string, status int, d time.Duration)
	DataAge(dataType DataType, age time.Duration)
	Batch(size int, d time.Duration)
	OriginBudgetLeft(n int)
	Prefetched(result PrefetchResult, n int)
	PrefetchSkipped(reason Reason)
	FlushEMF(w io.Writer, now time.Time) error
} = (*Recorder)(nil)
