// Package emftest checks CloudWatch Embedded Metric Format documents
// against the format's rules, for the tests of what the functions print.
package emftest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// ErrInvalidEMF is wrapped by every error ValidateEMF returns.
var ErrInvalidEMF = errors.New("invalid EMF document")

// The format's limits, stated here apart from the writer's, so the check is
// an independent reading of the format.
const (
	emfMaxBytes      = 1 << 20 // a CloudWatch Logs event
	emfMaxMetrics    = 100     // MetricDefinitions per MetricDirective
	emfMaxValues     = 100     // values in one metric's array
	emfMaxDimensions = 30      // dimension keys per DimensionSet
)

// emfUnits are the units a MetricDefinition may name (CloudWatch MetricDatum).
var emfUnits = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true,
	"Bytes": true, "Kilobytes": true, "Megabytes": true, "Gigabytes": true, "Terabytes": true,
	"Bits": true, "Kilobits": true, "Megabits": true, "Gigabits": true, "Terabits": true,
	"Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true, "Terabytes/Second": true,
	"Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true, "Gigabits/Second": true, "Terabits/Second": true,
	"Count/Second": true, "None": true,
}

// ValidateEMF reports whether doc is one valid CloudWatch Embedded Metric
// Format document, returning an error wrapping ErrInvalidEMF that names the
// first rule broken, or nil. A trailing newline is allowed. The rules:
//
//   - the document is one JSON object of at most 1 MiB, nothing before or after it;
//   - its "_aws" member is an object with an integer "Timestamp" ≥ 0 (Unix
//     milliseconds) and a "CloudWatchMetrics" array of MetricDirectives;
//   - a MetricDirective has a "Namespace" of 1–255 characters from
//     [a-zA-Z0-9._#:/-], a non-empty "Dimensions" array of DimensionSets and a
//     "Metrics" array of at most 100 MetricDefinitions;
//   - a DimensionSet is an array of at most 30 distinct dimension names of
//     1–250 characters, each naming a root member whose value is a string of
//     1–1024 characters;
//   - a MetricDefinition has a "Name" of 1–255 characters naming a root
//     member whose value is a number or an array of 1–100 numbers, an
//     optional "Unit" among CloudWatch's units and an optional
//     "StorageResolution" of 1 or 60.
func ValidateEMF(doc []byte) error {
	if len(doc) > emfMaxBytes {
		return invalid("document is %d bytes, over %d", len(doc), emfMaxBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var root map[string]any
	if err := dec.Decode(&root); err != nil {
		return invalid("not a JSON object: %v", err)
	}
	if root == nil {
		return invalid("not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("data after the JSON object")
	}
	meta, ok := root["_aws"].(map[string]any)
	if !ok {
		return invalid(`missing or non-object "_aws"`)
	}
	ts, ok := meta["Timestamp"].(json.Number)
	if !ok {
		return invalid(`missing or non-numeric "_aws.Timestamp"`)
	}
	if ms, err := ts.Int64(); err != nil || ms < 0 {
		return invalid(`"_aws.Timestamp" %s is not a non-negative integer`, ts)
	}
	directives, ok := meta["CloudWatchMetrics"].([]any)
	if !ok {
		return invalid(`missing or non-array "_aws.CloudWatchMetrics"`)
	}
	for i, d := range directives {
		if err := validateDirective(root, d); err != nil {
			return fmt.Errorf("CloudWatchMetrics[%d]: %w", i, err)
		}
	}
	return nil
}

func validateDirective(root map[string]any, v any) error {
	d, ok := v.(map[string]any)
	if !ok {
		return invalid("MetricDirective is not an object")
	}
	ns, ok := d["Namespace"].(string)
	if !ok {
		return invalid(`missing or non-string "Namespace"`)
	}
	if !validNamespace(ns) {
		return invalid("namespace %q is not 1–255 characters of [a-zA-Z0-9._#:/-]", ns)
	}
	sets, ok := d["Dimensions"].([]any)
	if !ok || len(sets) == 0 {
		return invalid(`missing, empty or non-array "Dimensions"`)
	}
	for _, s := range sets {
		if err := validateDimensionSet(root, s); err != nil {
			return err
		}
	}
	defs, ok := d["Metrics"].([]any)
	if !ok {
		return invalid(`missing or non-array "Metrics"`)
	}
	if len(defs) > emfMaxMetrics {
		return invalid("%d MetricDefinitions, over %d", len(defs), emfMaxMetrics)
	}
	for _, m := range defs {
		if err := validateMetric(root, m); err != nil {
			return err
		}
	}
	return nil
}

func validateDimensionSet(root map[string]any, v any) error {
	set, ok := v.([]any)
	if !ok {
		return invalid("DimensionSet is not an array")
	}
	if len(set) > emfMaxDimensions {
		return invalid("DimensionSet has %d dimensions, over %d", len(set), emfMaxDimensions)
	}
	seen := make(map[string]bool, len(set))
	for _, n := range set {
		name, ok := n.(string)
		if !ok {
			return invalid("dimension name %v is not a string", n)
		}
		if c := utf8.RuneCountInString(name); c < 1 || c > 250 {
			return invalid("dimension name %q is not 1–250 characters", name)
		}
		if seen[name] {
			return invalid("dimension %q repeated in a DimensionSet", name)
		}
		seen[name] = true
		val, ok := root[name].(string)
		if !ok {
			return invalid("dimension %q has no string member at the root", name)
		}
		if c := utf8.RuneCountInString(val); c < 1 || c > 1024 {
			return invalid("dimension %q value is not 1–1024 characters", name)
		}
	}
	return nil
}

func validateMetric(root map[string]any, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return invalid("MetricDefinition is not an object")
	}
	name, ok := m["Name"].(string)
	if !ok {
		return invalid(`missing or non-string metric "Name"`)
	}
	if c := utf8.RuneCountInString(name); c < 1 || c > 255 {
		return invalid("metric name %q is not 1–255 characters", name)
	}
	if u, present := m["Unit"]; present {
		if s, ok := u.(string); !ok || !emfUnits[s] {
			return invalid("metric %q has unit %v, not a CloudWatch unit", name, u)
		}
	}
	if r, present := m["StorageResolution"]; present {
		if n, ok := r.(json.Number); !ok || (n.String() != "1" && n.String() != "60") {
			return invalid("metric %q has StorageResolution %v, not 1 or 60", name, r)
		}
	}
	switch val := root[name].(type) {
	case json.Number:
		return nil
	case []any:
		if len(val) < 1 || len(val) > emfMaxValues {
			return invalid("metric %q has %d values, not 1–%d", name, len(val), emfMaxValues)
		}
		for _, x := range val {
			if _, ok := x.(json.Number); !ok {
				return invalid("metric %q has a non-numeric value %v", name, x)
			}
		}
		return nil
	case nil:
		return invalid("metric %q has no member at the root", name)
	default:
		return invalid("metric %q value %v is not a number or an array of numbers", name, val)
	}
}

func validNamespace(ns string) bool {
	if len(ns) < 1 || len(ns) > 255 {
		return false
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '_', c == '#', c == ':', c == '/', c == '-':
		default:
			return false
		}
	}
	return true
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidEMF}, args...)...)
}
