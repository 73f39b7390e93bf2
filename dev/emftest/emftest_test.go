package emftest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// emfDoc builds a document from a directive and root members given as JSON
// fragments.
func emfDoc(directive, members string) string {
	return `{"_aws":{"Timestamp":1741617005123,"CloudWatchMetrics":[` + directive + `]}` + members + `}`
}

const (
	goodDirective = `{"Namespace":"Opitios/MarketData","Dimensions":[["Function","Route"],[]],"Metrics":[{"Name":"ApiLatency","Unit":"Milliseconds","StorageResolution":1},{"Name":"Hits"}]}`
	goodMembers   = `,"Function":"api","Route":"GET /x","ApiLatency":[1.5,2],"Hits":3`
)

func TestValidateEMFAccepts(t *testing.T) {
	for name, doc := range map[string]string{
		"full":                  emfDoc(goodDirective, goodMembers),
		"trailing newline":      emfDoc(goodDirective, goodMembers) + "\n",
		"no directives":         `{"_aws":{"Timestamp":0,"CloudWatchMetrics":[]}}`,
		"extra root members":    emfDoc(goodDirective, goodMembers+`,"requestId":"abc","nested":{"a":[1,"x"]}`),
		"namespace punctuation": emfDoc(`{"Namespace":"a.b_c#d:e/f-g","Dimensions":[[]],"Metrics":[{"Name":"M"}]}`, `,"M":1`),
		"30 dimensions":         emfDoc(`{"Namespace":"N","Dimensions":[[`+dimNames(30)+`]],"Metrics":[]}`, dimMembers(30)),
		"100 metrics":           emfDoc(`{"Namespace":"N","Dimensions":[[]],"Metrics":[`+metricDefs(100)+`]}`, metricMembers(100)),
		"100 values":            emfDoc(`{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"M"}]}`, `,"M":[`+numbers(100)+`]`),
		"every unit": emfDoc(`{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"A","Unit":"Count/Second"},{"Name":"B","Unit":"None"},{"Name":"C","Unit":"Terabits/Second"}]}`,
			`,"A":1,"B":2,"C":3`),
		"resolution 60":      emfDoc(`{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"M","StorageResolution":60}]}`, `,"M":-1.5e3`),
		"1024-char value":    emfDoc(`{"Namespace":"N","Dimensions":[["D"]],"Metrics":[]}`, `,"D":"`+strings.Repeat("é", 1024)+`"`),
		"255-char namespace": emfDoc(`{"Namespace":"`+strings.Repeat("n", 255)+`","Dimensions":[[]],"Metrics":[]}`, ``),
	} {
		if err := ValidateEMF([]byte(doc)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestValidateEMFRejects(t *testing.T) {
	dir := func(ns, dims, metrics string) string {
		return `{"Namespace":` + ns + `,"Dimensions":` + dims + `,"Metrics":` + metrics + `}`
	}
	m := `[{"Name":"M"}]`
	for _, tc := range []struct{ name, doc, want string }{
		{"not JSON", `{"_aws":`, `not a JSON object`},
		{"array", `[1]`, `not a JSON object`},
		{"null", `null`, `not a JSON object`},
		{"two objects", emfDoc(goodDirective, goodMembers) + `{}`, `data after`},
		{"trailing garbage", emfDoc(goodDirective, goodMembers) + ` x`, `data after`},
		{"missing _aws", `{"M":1}`, `"_aws"`},
		{"_aws not an object", `{"_aws":[]}`, `"_aws"`},
		{"missing Timestamp", `{"_aws":{"CloudWatchMetrics":[]}}`, `Timestamp`},
		{"string Timestamp", `{"_aws":{"Timestamp":"1","CloudWatchMetrics":[]}}`, `Timestamp`},
		{"fractional Timestamp", `{"_aws":{"Timestamp":1.5,"CloudWatchMetrics":[]}}`, `non-negative integer`},
		{"negative Timestamp", `{"_aws":{"Timestamp":-1,"CloudWatchMetrics":[]}}`, `non-negative integer`},
		{"missing CloudWatchMetrics", `{"_aws":{"Timestamp":1}}`, `CloudWatchMetrics`},
		{"CloudWatchMetrics not an array", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":{}}}`, `CloudWatchMetrics`},
		{"directive not an object", emfDoc(`1`, ``), `MetricDirective is not an object`},
		{"missing namespace", emfDoc(`{"Dimensions":[[]],"Metrics":[]}`, ``), `"Namespace"`},
		{"empty namespace", emfDoc(dir(`""`, `[[]]`, `[]`), ``), `namespace`},
		{"bad namespace", emfDoc(dir(`"Opitios MarketData"`, `[[]]`, `[]`), ``), `namespace`},
		{"non-ASCII namespace", emfDoc(dir(`"Opitiös"`, `[[]]`, `[]`), ``), `namespace`},
		{"256-char namespace", emfDoc(dir(`"`+strings.Repeat("n", 256)+`"`, `[[]]`, `[]`), ``), `namespace`},
		{"missing Dimensions", emfDoc(`{"Namespace":"N","Metrics":[]}`, ``), `"Dimensions"`},
		{"empty Dimensions", emfDoc(dir(`"N"`, `[]`, `[]`), ``), `"Dimensions"`},
		{"DimensionSet not an array", emfDoc(dir(`"N"`, `["D"]`, `[]`), `,"D":"v"`), `DimensionSet is not an array`},
		{"31 dimensions", emfDoc(dir(`"N"`, `[[`+dimNames(31)+`]]`, `[]`), dimMembers(31)), `31 dimensions, over 30`},
		{"dimension name not a string", emfDoc(dir(`"N"`, `[[1]]`, `[]`), ``), `not a string`},
		{"empty dimension name", emfDoc(dir(`"N"`, `[[""]]`, `[]`), `,"":"v"`), `dimension name`},
		{"251-char dimension name", emfDoc(dir(`"N"`, `[["`+strings.Repeat("d", 251)+`"]]`, `[]`), `,"`+strings.Repeat("d", 251)+`":"v"`), `dimension name`},
		{"repeated dimension", emfDoc(dir(`"N"`, `[["D","D"]]`, `[]`), `,"D":"v"`), `repeated`},
		{"dimension missing at root", emfDoc(dir(`"N"`, `[["D"]]`, `[]`), ``), `no string member`},
		{"numeric dimension value", emfDoc(dir(`"N"`, `[["D"]]`, `[]`), `,"D":1`), `no string member`},
		{"empty dimension value", emfDoc(dir(`"N"`, `[["D"]]`, `[]`), `,"D":""`), `1–1024`},
		{"1025-char dimension value", emfDoc(dir(`"N"`, `[["D"]]`, `[]`), `,"D":"`+strings.Repeat("v", 1025)+`"`), `1–1024`},
		{"nested dimension target", emfDoc(dir(`"N"`, `[["A.b"]]`, `[]`), `,"A":{"b":"v"}`), `no string member`},
		{"missing Metrics", emfDoc(`{"Namespace":"N","Dimensions":[[]]}`, ``), `"Metrics"`},
		{"101 metrics", emfDoc(dir(`"N"`, `[[]]`, `[`+metricDefs(101)+`]`), metricMembers(101)), `101 MetricDefinitions`},
		{"metric definition not an object", emfDoc(dir(`"N"`, `[[]]`, `["M"]`), `,"M":1`), `MetricDefinition is not an object`},
		{"metric without Name", emfDoc(dir(`"N"`, `[[]]`, `[{"Unit":"Count"}]`), ``), `"Name"`},
		{"empty metric name", emfDoc(dir(`"N"`, `[[]]`, `[{"Name":""}]`), `,"":1`), `metric name`},
		{"256-char metric name", emfDoc(dir(`"N"`, `[[]]`, `[{"Name":"`+strings.Repeat("m", 256)+`"}]`), `,"`+strings.Repeat("m", 256)+`":1`), `metric name`},
		{"metric missing at root", emfDoc(dir(`"N"`, `[[]]`, m), ``), `no member`},
		{"null metric value", emfDoc(dir(`"N"`, `[[]]`, m), `,"M":null`), `no member`},
		{"string metric value", emfDoc(dir(`"N"`, `[[]]`, m), `,"M":"1"`), `not a number`},
		{"non-numeric array value", emfDoc(dir(`"N"`, `[[]]`, m), `,"M":[1,"2"]`), `non-numeric`},
		{"empty value array", emfDoc(dir(`"N"`, `[[]]`, m), `,"M":[]`), `0 values`},
		{"101 values", emfDoc(dir(`"N"`, `[[]]`, m), `,"M":[`+numbers(101)+`]`), `101 values`},
		{"nested metric target", emfDoc(dir(`"N"`, `[[]]`, `[{"Name":"A.b"}]`), `,"A":{"b":1}`), `no member`},
		{"bad unit", emfDoc(dir(`"N"`, `[[]]`, `[{"Name":"M","Unit":"ms"}]`), `,"M":1`), `unit`},
		{"numeric unit", emfDoc(dir(`"N"`, `[[]]`, `[{"Name":"M","Unit":1}]`), `,"M":1`), `unit`},
		{"StorageResolution 5", emfDoc(dir(`"N"`, `[[]]`, `[{"Name":"M","StorageResolution":5}]`), `,"M":1`), `StorageResolution`},
		{"string StorageResolution", emfDoc(dir(`"N"`, `[[]]`, `[{"Name":"M","StorageResolution":"1"}]`), `,"M":1`), `StorageResolution`},
		{"second directive bad", `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[` + goodDirective + `,` + dir(`"N"`, `[[]]`, m) + `]}` + goodMembers + `}`, `CloudWatchMetrics[1]`},
		{"over 1 MiB", emfDoc(goodDirective, goodMembers+`,"pad":"`+strings.Repeat("x", emfMaxBytes)+`"`), `bytes, over`},
	} {
		err := ValidateEMF([]byte(tc.doc))
		if !errors.Is(err, ErrInvalidEMF) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ValidateEMF = %v, want an ErrInvalidEMF about %s", tc.name, err, tc.want)
		}
	}
}

func dimNames(n int) string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf(`"D%d"`, i)
	}
	return strings.Join(names, ",")
}

func dimMembers(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"D%d":"v"`, i)
	}
	return b.String()
}

func metricDefs(n int) string {
	defs := make([]string, n)
	for i := range defs {
		defs[i] = fmt.Sprintf(`{"Name":"M%d","Unit":"Count"}`, i)
	}
	return strings.Join(defs, ",")
}

func metricMembers(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"M%d":%d`, i, i)
	}
	return b.String()
}

func numbers(n int) string {
	ns := make([]string, n)
	for i := range ns {
		ns[i] = fmt.Sprint(i)
	}
	return strings.Join(ns, ",")
}
