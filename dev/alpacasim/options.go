package alpacasim

import (
	"github.com/opitios/opitios-alpaca/shared/market"

	"math"
	"time"
)

// chain is the fixed shape of one underlying's option chain: strikes
// center ± n×inc (thousandths of a dollar, as in OCC symbols). Expirations
// depend on the date and are computed by Server.expirations.
type chain struct {
	root   string
	center int64 // strike at the base price, a multiple of inc
	inc    int64
	n      int64   // strikes on each side of center
	iv     float64 // at-the-money implied volatility
}

// strikeSteps are the strike increments listed exchanges use, in thousandths.
var strikeSteps = [...]int64{500, 1000, 2500, 5000, 10000, 25000, 50000}

func newChain(s *stock, h uint64) *chain {
	base := s.basePrice()
	// Strikes cover ±30 % of the base price, which the price path stays in,
	// with at most 25 strikes on each side.
	inc := strikeSteps[len(strikeSteps)-1]
	for _, st := range strikeSteps {
		if 0.3*base*1000/float64(st) <= 25 {
			inc = st
			break
		}
	}
	center := int64(math.Round(base*1000/float64(inc))) * inc
	n := int64(math.Ceil(0.3 * base * 1000 / float64(inc)))
	for center-n*inc <= 0 {
		n--
	}
	return &chain{root: s.symbol, center: center, inc: inc, n: n, iv: 0.16 + 0.4*unit(h, 6)}
}

// hasStrike reports whether k (thousandths) is listed.
func (c *chain) hasStrike(k int64) bool {
	d := k - c.center
	return d%c.inc == 0 && d/c.inc >= -c.n && d/c.inc <= c.n
}

// contract is a parsed OCC option symbol.
type contract struct {
	root   string
	expiry market.Date
	put    bool
	strike int64 // thousandths of a dollar
}

// parseOCC parses root (1–6 characters, a letter then letters or digits) +
// YYMMDD + C|P + strike×1000 as 8 digits. Years are 20YY.
func parseOCC(s string) (contract, bool) {
	n := len(s)
	if n < 16 || n > 21 {
		return contract{}, false
	}
	root := s[:n-15]
	if !isUpper(root[0]) {
		return contract{}, false
	}
	for i := 1; i < len(root); i++ {
		if !isUpper(root[i]) && !isDigit(root[i]) {
			return contract{}, false
		}
	}
	tail := s[n-15:]
	for i := range 15 {
		if i == 6 {
			continue
		}
		if !isDigit(tail[i]) {
			return contract{}, false
		}
	}
	var put bool
	switch tail[6] {
	case 'C':
	case 'P':
		put = true
	default:
		return contract{}, false
	}
	num := func(b string) int {
		v := 0
		for i := 0; i < len(b); i++ {
			v = v*10 + int(b[i]-'0')
		}
		return v
	}
	c := market.Date{Year: 2000 + num(tail[0:2]), Month: time.Month(num(tail[2:4])), Day: num(tail[4:6])}
	if c.Month < 1 || c.Month > 12 || c.Day < 1 || c.AddDays(0) != c {
		return contract{}, false
	}
	return contract{root: root, expiry: c, put: put, strike: int64(num(tail[7:15]))}, true
}

// appendTo appends the OCC symbol of c.
func (c contract) appendTo(b []byte) []byte {
	b = append(b, c.root...)
	b = appendPadded(b, c.expiry.Year%100, 2)
	b = appendPadded(b, int(c.expiry.Month), 2)
	b = appendPadded(b, c.expiry.Day, 2)
	if c.put {
		b = append(b, 'P')
	} else {
		b = append(b, 'C')
	}
	return appendPadded(b, int(c.strike), 8)
}

func (c contract) String() string { return string(c.appendTo(nil)) }

func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool { return b >= '0' && b <= '9' }

const (
	riskFree    = 0.04
	yearSeconds = 365 * 24 * 3600
	// minExpiry keeps the model finite on expiration day after the close:
	// the contract is valued as if 15 minutes were left.
	minExpiry = 15 * 60.0 / yearSeconds
)

// greeks are Black–Scholes sensitivities in the units Alpaca reports: theta
// per calendar day, vega per volatility point, rho per rate point.
type greeks struct {
	delta, gamma, rho, theta, vega float64
}

// valuation is a contract's theoretical state at one instant.
type valuation struct {
	value float64
	iv    float64
	g     greeks
}

// impliedVol is the simulated volatility surface: the chain's at-the-money
// level, a skew and smile in log-moneyness, and a slow drift over time.
func (c *chain) impliedVol(s *stock, spot, strike, t float64) float64 {
	m := math.Log(strike / spot)
	iv := c.iv * (1 - 0.25*m + 1.5*m*m) * (1 + 0.08*math.Sin(t*2*math.Pi/259201+s.phase[0]))
	return math.Min(math.Max(iv, 0.05), 2.5)
}

// value prices contract k of s at unix time t (seconds), expiring at
// expiresAt (unix seconds).
func (c *chain) value(s *stock, k contract, t, expiresAt float64) valuation {
	spot := s.price(t)
	strike := float64(k.strike) / 1000
	iv := c.impliedVol(s, spot, strike, t)
	T := math.Max((expiresAt-t)/yearSeconds, minExpiry)
	sq := math.Sqrt(T)
	d1 := (math.Log(spot/strike) + (riskFree+iv*iv/2)*T) / (iv * sq)
	d2 := d1 - iv*sq
	disc := math.Exp(-riskFree * T)
	pdf := math.Exp(-d1*d1/2) / math.Sqrt(2*math.Pi)
	v := valuation{iv: iv}
	v.g.gamma = pdf / (spot * iv * sq)
	v.g.vega = spot * pdf * sq / 100
	decay := -spot * pdf * iv / (2 * sq)
	if k.put {
		v.value = strike*disc*cdf(-d2) - spot*cdf(-d1)
		v.g.delta = cdf(d1) - 1
		v.g.theta = (decay + riskFree*strike*disc*cdf(-d2)) / 365
		v.g.rho = -strike * T * disc * cdf(-d2) / 100
	} else {
		v.value = spot*cdf(d1) - strike*disc*cdf(d2)
		v.g.delta = cdf(d1)
		v.g.theta = (decay - riskFree*strike*disc*cdf(d2)) / 365
		v.g.rho = strike * T * disc * cdf(d2) / 100
	}
	// Greeks are quoted to 8 decimals, which also turns the astronomically
	// small values of far strikes near expiry into zeros. Deep in or out of
	// the money the normal CDF rounds to 0 or 1; a quoted delta stays strictly
	// inside (0, 1) for calls and (-1, 0) for puts.
	const eps = 1e-4
	v.g.delta = round8(v.g.delta)
	if k.put {
		v.g.delta = math.Min(math.Max(v.g.delta, -1+eps), -eps)
	} else {
		v.g.delta = math.Min(math.Max(v.g.delta, eps), 1-eps)
	}
	v.g.gamma, v.g.rho, v.g.theta, v.g.vega = round8(v.g.gamma), round8(v.g.rho), round8(v.g.theta), round8(v.g.vega)
	v.iv = math.Round(v.iv*1e6) / 1e6
	v.value = math.Max(v.value, 0)
	return v
}

// round8 rounds to 8 decimals, normalising -0 to 0.
func round8(x float64) float64 { return math.Round(x*1e8)/1e8 + 0 }

func cdf(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }
