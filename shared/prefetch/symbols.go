package prefetch

import (
	"strings"

	"github.com/opitios/opitios-alpaca/shared/symbol"
)

// validOCC reports whether s is an upper-case OCC option symbol as the API
// accepts one, so prefetch writes exactly the keys the API reads.
func validOCC(s string) bool {
	n, ok := symbol.OCC(s)
	return ok && n == s
}

// normList upper-cases and validates symbols, dropping repeats and
// returning the malformed ones apart.
func normList(symbols []string) (valid, bad []string) {
	seen := make(map[string]bool, len(symbols))
	for _, s := range symbols {
		n, ok := symbol.Stock(strings.TrimSpace(s))
		if !ok {
			bad = append(bad, s)
			continue
		}
		if !seen[n] {
			seen[n] = true
			valid = append(valid, n)
		}
	}
	return valid, bad
}
