package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// nagValidationFailure starts cdk-nag's warning for a rule that could not
// be evaluated on a resource.
const nagValidationFailure = "CdkNagValidationFailure"

// metadata maps construct paths to their metadata entries; the entries
// that carry annotations have a string as data.
type metadata map[string][]struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// manifest is the part of a cloud assembly's manifest.json that carries
// annotations: per artifact, its metadata, inline or in a file of the
// assembly.
type manifest struct {
	Artifacts map[string]struct {
		Metadata metadata `json:"metadata"`
		File     string   `json:"additionalMetadataFile"`
	} `json:"artifacts"`
}

// NagFindings reads the cloud assembly that app.Synth wrote to dir and
// returns one line per finding that must fail the synth, sorted: every
// error annotation (cdk-nag's unsuppressed error-level findings among them)
// and every rule cdk-nag could not evaluate. It reads the assembly rather
// than logging through a cdk-nag logger because a logger written in Go is
// called across the jsii bridge for every rule on every resource, which
// made a synth ten times slower.
func NagFindings(dir string) ([]string, error) {
	var m manifest
	if err := readJSON(filepath.Join(dir, "manifest.json"), &m); err != nil {
		return nil, err
	}
	var out []string
	for _, a := range m.Artifacts {
		md := a.Metadata
		if a.File != "" {
			if err := readJSON(filepath.Join(dir, a.File), &md); err != nil {
				return nil, err
			}
		}
		out = append(out, md.failures()...)
	}
	slices.Sort(out)
	return out, nil
}

// failures returns a line per error annotation and per rule cdk-nag could
// not evaluate.
func (md metadata) failures() []string {
	var out []string
	for path, entries := range md {
		for _, e := range entries {
			msg, _ := e.Data.(string)
			if e.Type == "aws:cdk:error" || (e.Type == "aws:cdk:warning" && strings.HasPrefix(msg, nagValidationFailure)) {
				out = append(out, path+" "+strings.TrimSpace(msg))
			}
		}
	}
	return out
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("cloud assembly %s: %w", filepath.Base(path), err)
	}
	return nil
}
