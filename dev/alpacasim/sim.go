package alpacasim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// serveSim answers the control endpoints under /_sim/. They need no keys, are
// not counted, and are never subject to latency or faults, so a test can
// always reach them:
//
//	GET  /_sim/stats                     Stats as JSON
//	POST /_sim/reset                     Reset, then answers Stats
//	POST /_sim/fault?name=hang           SetFault (names: see Fault.String)
//	POST /_sim/latency?d=250ms           SetLatency (a time.ParseDuration string)
//	POST /_sim/error-rate?rate=0.1       SetErrorRate
//	POST /_sim/rate-limit?per_minute=200 SetRateLimit
//	POST /_sim/vanish?symbol=AAPL        Vanish
//
// The POST endpoints other than reset answer 204.
func (s *Server) serveSim(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Alpaca-Simulator", "true")
	method := http.MethodPost
	if r.URL.Path == "/_sim/stats" {
		method = http.MethodGet
	}
	q := r.URL.Query()
	var set func() bool // applies the change; false when the parameter is invalid
	switch r.URL.Path {
	case "/_sim/stats", "/_sim/reset":
	case "/_sim/fault":
		set = func() bool {
			f, ok := ParseFault(q.Get("name"))
			if ok {
				s.SetFault(f)
			}
			return ok
		}
	case "/_sim/latency":
		set = func() bool {
			d, err := time.ParseDuration(q.Get("d"))
			if err != nil || d < 0 {
				return false
			}
			s.SetLatency(d)
			return true
		}
	case "/_sim/error-rate":
		set = func() bool {
			f, err := strconv.ParseFloat(q.Get("rate"), 64)
			if err != nil || f < 0 || f > 1 {
				return false
			}
			s.SetErrorRate(f)
			return true
		}
	case "/_sim/rate-limit":
		set = func() bool {
			n, err := strconv.Atoi(q.Get("per_minute"))
			if err != nil || n < 0 {
				return false
			}
			s.SetRateLimit(n)
			return true
		}
	case "/_sim/vanish":
		set = func() bool {
			sym := q.Get("symbol")
			if sym == "" {
				return false
			}
			s.Vanish(sym)
			return true
		}
	default:
		writeError(w, &apiError{http.StatusNotFound, 40410000, "endpoint not found"})
		return
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeError(w, &apiError{http.StatusMethodNotAllowed, 40510000, "method not allowed"})
		return
	}
	if set != nil {
		if !set() {
			writeError(w, badRequest("invalid parameter"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.URL.Path == "/_sim/reset" {
		s.Reset()
	}
	body, _ := json.Marshal(s.Stats())
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
