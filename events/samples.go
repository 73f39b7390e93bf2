// Package events holds the sample events of every function (this folder's
// JSON files, in the exact shapes API Gateway and EventBridge send) and the
// naming contract the tests rely on: api-<case>-<status>.json is answered
// with <status>. The samples' own tests and the emulator harness (dev/rie)
// read them through this package.
package events

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strconv"
)

//go:embed *.json
var files embed.FS

// Sample is one sample event file.
type Sample struct {
	Name string // file name, e.g. api-stock-quote-200.json
	Raw  []byte
}

// Matching returns the samples whose names match pattern (path.Match
// syntax), in name order. A bad pattern or no match is an error.
func Matching(pattern string) ([]Sample, error) {
	names, err := fs.Glob(files, pattern)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("events: no sample matches " + pattern)
	}
	out := make([]Sample, 0, len(names))
	for _, n := range names {
		raw, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Sample{Name: path.Base(n), Raw: raw})
	}
	return out, nil
}

// apiName matches api-<case>-<status>.json.
var apiName = regexp.MustCompile(`^api-[a-z0-9-]+-([1-5][0-9][0-9])\.json$`)

// ExpectedStatus returns the status an api sample's name promises, and false
// for a name that is not an api sample's.
func ExpectedStatus(name string) (int, bool) {
	m := apiName.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	n, _ := strconv.Atoi(m[1])
	return n, true
}

// DecodeStrict decodes one JSON value into v, refusing fields v does not
// have and anything after the value: an error answer never passes for a
// response, nor a sample with a stray field for the struct of its kind.
func DecodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON value")
	}
	return nil
}

// Body returns a response's body as a client receives it: base64 decoded
// when API Gateway would decode it, then gunzipped when Content-Encoding
// says gzip.
func Body(isBase64 bool, headers map[string]string, body string) ([]byte, error) {
	b := []byte(body)
	if isBase64 {
		var err error
		if b, err = base64.StdEncoding.DecodeString(body); err != nil {
			return nil, err
		}
	}
	if headers["Content-Encoding"] != "gzip" {
		return b, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}
