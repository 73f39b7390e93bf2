package alpacasim

import (
	_ "embed"
	"math"
	"slices"
	"strings"
	"sync"
)

//go:embed universe.txt
var universeText string

// listing is one line of universe.txt.
type listing struct {
	symbol  string
	tape    string
	options bool
}

var (
	listingsOnce sync.Once
	listings     []listing // sorted by symbol
)

// loadListings parses universe.txt once. The file is part of the source, so a
// malformed line is a programming error and panics.
func loadListings() []listing {
	listingsOnce.Do(func() {
		for line := range strings.Lines(universeText) {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			f := strings.Fields(line)
			if len(f) < 2 || len(f) > 3 || (len(f) == 3 && f[2] != "options") ||
				(f[1] != "A" && f[1] != "B" && f[1] != "C") || !validStockSymbol(f[0]) {
				panic("alpacasim: malformed universe.txt line: " + line)
			}
			listings = append(listings, listing{symbol: f[0], tape: f[1], options: len(f) == 3})
		}
		slices.SortFunc(listings, func(a, b listing) int { return strings.Compare(a.symbol, b.symbol) })
	})
	return listings
}

// Universe returns the stock symbols the simulator knows, sorted. Every other
// stock symbol is unknown to it, as are symbols made to vanish with
// Server.Vanish.
func Universe() []string {
	ls := loadListings()
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.symbol
	}
	return out
}

// OptionUnderlyings returns the stock symbols that have a simulated option
// chain, sorted. Each one's OCC root is the symbol itself.
func OptionUnderlyings() []string {
	var out []string
	for _, l := range loadListings() {
		if l.options {
			out = append(out, l.symbol)
		}
	}
	return out
}

// Price paths are a sum of sine waves in log space. The periods are
// incommensurate (primes, in seconds) so the path never visibly repeats; the
// amplitudes grow with the period, like a random walk's, and sum to about 17 %
// before the per-symbol volatility scale.
var (
	wavePeriods = [...]float64{61, 389, 1511, 5507, 22307, 146921, 803519, 3542401, 14947181}
	waveAmps    = [...]float64{0.0006, 0.0012, 0.0025, 0.004, 0.007, 0.012, 0.025, 0.05, 0.045}
)

const nWaves = len(wavePeriods)

// stock is the simulated behaviour of one symbol, derived from the
// simulator's seed and the symbol by hashing: nothing in it changes with
// time.
type stock struct {
	symbol string
	tape   string
	hash   uint64

	lnBase float64         // log of the price around which the path moves
	omega  [nWaves]float64 // angular frequencies, radians per second
	amp    [nWaves]float64
	phase  [nWaves]float64

	halfSpread float64 // regular-session half spread, as a fraction of the price
	perMinute  float64 // shares traded per regular-session minute
	tradeSize  float64 // mean shares per trade

	chain *chain // nil when the symbol has no options
}

func newStock(seed uint64, l listing) *stock {
	h := hashString(seed, l.symbol)
	s := &stock{symbol: l.symbol, tape: l.tape, hash: h}
	// Base price log-uniform in [8, 600].
	s.lnBase = math.Log(8) + unit(h, 1)*(math.Log(600)-math.Log(8))
	scale := 0.6 + 0.9*unit(h, 2)
	for i := range nWaves {
		s.omega[i] = 2 * math.Pi / wavePeriods[i]
		s.amp[i] = waveAmps[i] * scale * (0.7 + 0.6*unit(h, 10+uint64(i)))
		s.phase[i] = 2 * math.Pi * unit(h, 30+uint64(i))
	}
	s.halfSpread = (0.5 + 4*unit(h, 3)) / 1e4
	s.perMinute = math.Exp(math.Log(300) + unit(h, 4)*(math.Log(60000)-math.Log(300)))
	s.tradeSize = 40 + 160*unit(h, 5)
	if l.options {
		s.chain = newChain(s, h)
	}
	return s
}

// price returns the mid price at unix time t (seconds): a smooth function of
// time, always positive.
func (s *stock) price(t float64) float64 {
	x := s.lnBase
	for i := range nWaves {
		x += s.amp[i] * math.Sin(s.omega[i]*t+s.phase[i])
	}
	return math.Exp(x)
}

// basePrice is the centre of the price path, which the path never leaves by
// more than about a third.
func (s *stock) basePrice() float64 { return math.Exp(s.lnBase) }

// hashString is FNV-1a over the random seed's bytes and s, finished with
// splitmix64.
func hashString(seed uint64, s string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := range 8 {
		h ^= (seed >> (8 * i)) & 0xff
		h *= prime
	}
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return mix(h)
}

// mix is splitmix64's finaliser: a bijection that spreads every input bit
// over the whole output.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// draw returns the i-th independent pseudo-random value derived from h.
func draw(h, i uint64) uint64 { return mix(h ^ mix(i)) }

// unit returns the i-th pseudo-random value derived from h, in [0, 1).
func unit(h, i uint64) float64 { return float64(draw(h, i)>>11) / (1 << 53) }
