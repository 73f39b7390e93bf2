package alpacasim

import (
	"math"
	"strings"
)

// Crypto: spot pairs (BTC/USD) and perpetual futures (BTC-PERP) trade around
// the clock, weekends and holidays included. Each second holds one quote and
// each minute 1–6 trades, a buyer's at the ask and a seller's at the bid of
// the quote in force. Intraday bars aggregate the trades exactly; daily,
// weekly and monthly bars (UTC days, Monday weeks, calendar months) are
// sampled from the same price path. A perpetual follows its spot pair's path
// with a small basis.

// cryptoListing is a pair the simulator knows, with its typical price.
type cryptoListing struct {
	symbol string
	base   float64
}

var cryptoListings = [...]cryptoListing{
	{"AAVE/USD", 180}, {"AVAX/USD", 28}, {"BCH/USD", 380}, {"BTC/USD", 90000}, {"BTC/USDT", 90000},
	{"BTC/USDC", 90000}, {"DOGE/USD", 0.16}, {"DOT/USD", 5.5}, {"ETH/BTC", 0.035}, {"ETH/USD", 3100},
	{"ETH/USDT", 3100}, {"LINK/USD", 15}, {"LTC/USD", 85}, {"SHIB/USD", 0.0000145}, {"SOL/USD", 140},
	{"UNI/USD", 7.5}, {"USDC/USD", 1}, {"USDT/USD", 1}, {"XRP/USD", 2.1}, {"YFI/USD", 6000},
}

// The perpetuals: their spot pair's root, "-PERP".
var perpRoots = [...]string{"BTC", "ETH", "SOL", "DOGE", "XRP", "AVAX", "LINK", "LTC"}

// cryptoAsset is the simulated market of one pair or perpetual.
type cryptoAsset struct {
	symbol   string
	hash     uint64
	path     *stock  // the price path
	basis    float64 // a perpetual's premium amplitude, 0 for spot
	digits   int     // significant digits of prices
	notional float64 // mean dollars per trade
	perp     bool
}

func newCryptoAsset(seed uint64, symbol string, base float64, perp bool) *cryptoAsset {
	pathKey := symbol
	if perp {
		pathKey = strings.TrimSuffix(symbol, "-PERP") + "/USD"
	}
	path := newStock(seed, listing{symbol: pathKey})
	path.lnBase = math.Log(base)
	a := &cryptoAsset{symbol: symbol, hash: hashString(seed, "crypto:"+symbol), path: path, digits: 6, perp: perp}
	if base >= 1000 {
		a.digits = 7
	}
	if strings.HasPrefix(symbol, "USD") {
		path.lnBase, a.digits = 0, 5
		for i := range path.amp {
			path.amp[i] *= 0.002 // stablecoins hardly move
		}
	}
	if perp {
		a.basis = 0.0006
	}
	a.notional = 200 + 4800*unit(a.hash, 1)
	return a
}

// price is the asset's mid price at unix time t (seconds).
func (a *cryptoAsset) price(t float64) float64 {
	p := a.path.price(t)
	if a.basis != 0 {
		p *= 1 + a.basis*math.Sin(t/5003+a.path.phase[1])
	}
	return p
}

// round rounds to the asset's significant digits; floor and ceil likewise.
func (a *cryptoAsset) round(x float64) float64 { return sigRound(x, a.digits, math.Round) }
func (a *cryptoAsset) floor(x float64) float64 { return sigRound(x, a.digits, math.Floor) }
func (a *cryptoAsset) ceil(x float64) float64  { return sigRound(x, a.digits, math.Ceil) }

func sigRound(x float64, digits int, f func(float64) float64) float64 {
	if x < 0 {
		return -sigRound(-x, digits, func(y float64) float64 { return -f(-y) })
	}
	if x == 0 {
		return 0
	}
	d := digits - int(math.Ceil(math.Log10(x)))
	if d >= 0 {
		p := math.Pow10(d)
		return f(x*p) / p
	}
	p := math.Pow10(-d)
	return f(x/p) * p
}

// tick is the price increment at price x.
func (a *cryptoAsset) tick(x float64) float64 {
	return math.Pow10(int(math.Ceil(math.Log10(x))) - a.digits)
}

// roundSize rounds a quantity to 9 significant digits, at most 9 decimals.
func roundSize(x float64) float64 {
	return max(math.Round(sigRound(x, 9, math.Round)*1e9)/1e9, 1e-9)
}

func (s *Server) cryptoAssets() map[string]*cryptoAsset {
	s.cryptoOnce.Do(func() {
		s.crypto = make(map[string]*cryptoAsset)
		for _, l := range cryptoListings {
			s.crypto[l.symbol] = newCryptoAsset(s.seed, l.symbol, l.base, false)
		}
		for _, r := range perpRoots {
			var base float64
			for _, l := range cryptoListings {
				if l.symbol == r+"/USD" {
					base = l.base
				}
			}
			s.crypto[r+"-PERP"] = newCryptoAsset(s.seed, r+"-PERP", base, true)
		}
	})
	return s.crypto
}

// CryptoSymbols returns the crypto pairs the simulator knows, sorted, then
// its perpetuals.
func CryptoSymbols() []string {
	out := make([]string, 0, len(cryptoListings)+len(perpRoots))
	for _, l := range cryptoListings {
		out = append(out, l.symbol)
	}
	for _, r := range perpRoots {
		out = append(out, r+"-PERP")
	}
	return out
}
