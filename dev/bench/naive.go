package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opitios/opitios-alpaca/shared/alpaca"
	"github.com/opitios/opitios-alpaca/shared/api"
	"github.com/opitios/opitios-alpaca/shared/cache"
	"github.com/opitios/opitios-alpaca/shared/catalog"
	"github.com/opitios/opitios-alpaca/shared/market"
)

// naive is the original Python design reproduced naively, as the baseline
// the service is measured against (the original design's MarketDataCache
// and ConcurrentDataProcessor):
//
//   - a symbol is looked up with one Redis GET of a JSON envelope
//     {symbol, data, cached_at, data_source, market_status, ttl_seconds},
//     decoded with encoding/json and fresh while its age is under ttl_seconds
//     and the market session is unchanged (a stale one is deleted);
//   - a miss calls the origin's single-symbol endpoint
//     GET /v2/stocks/{symbol}/quotes/latest and writes the answer back with
//     SETEX, with the original design's TTL policy;
//   - a batch runs one such lookup per symbol, at most 50 at a time (the
//     original design's semaphore), within 30 s.
//
// There is no in-process cache, no coalescing of concurrent misses and no
// multi-symbol origin call: those are the service's improvements, and what
// the baseline exists to count. Its HTTP client keeps connections alive (the
// original design opened a client per request; keeping them is kinder to the
// baseline) and it checks no client keys (kinder again).
//
// It answers GET /v2/stocks/{symbol}/quotes/latest and
// GET /v2/stocks/quotes/latest?symbols= with Alpaca's bodies and the service's
// attribution (X-Cache, Age, and "meta" on batches), so the load generator
// reads both the same way.
type naive struct {
	rdb              redis.UniversalClient
	origin           string // the origin's base URL
	client           *http.Client
	keyID, secretKey string
	policy           cache.Policy
	cal              *market.Calendar
	clock            market.Clock
}

// naiveKeyPrefix keeps the baseline's keys apart from the service's.
const naiveKeyPrefix = "naive:v2:stock_quote:"

// Parameters of the baseline, as in the original design.
const (
	naiveFanOut       = 50               // the original design's asyncio.Semaphore(50)
	naiveBatchTimeout = 30 * time.Second // the original design's asyncio.wait_for(..., 30.0)
	naiveOriginWait   = 10 * time.Second // per origin call
)

// naiveEnvelope is the original design's cache payload.
type naiveEnvelope struct {
	Symbol       string          `json:"symbol"`
	Data         json.RawMessage `json:"data"`
	CachedAt     time.Time       `json:"cached_at"`
	DataSource   string          `json:"data_source"`
	MarketStatus string          `json:"market_status"`
	TTLSeconds   int             `json:"ttl_seconds"`
}

// errNaiveNotFound is an unknown symbol; errNaiveOrigin any other origin
// failure.
var (
	errNaiveNotFound = errors.New("naive: symbol not found at origin")
	errNaiveOrigin   = errors.New("naive: origin failed")
)

// newNaive returns the baseline over rdb and the origin at originURL.
func newNaive(rdb redis.UniversalClient, originURL, keyID, secretKey string) *naive {
	return &naive{
		rdb:       rdb,
		origin:    strings.TrimRight(originURL, "/"),
		client:    &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}},
		keyID:     keyID,
		secretKey: secretKey,
		policy:    cache.DefaultPolicy(),
		cal:       market.Default(),
		clock:     market.SystemClock,
	}
}

// lookup returns the envelope of sym and the X-Cache value of how it was
// found: HIT-L2 (Redis is the original design's only cache) or MISS.
func (n *naive) lookup(ctx context.Context, sym string) (*naiveEnvelope, string, error) {
	key := naiveKeyPrefix + sym
	now := n.clock.Now()
	session := n.cal.SessionAt(now)
	if raw, err := n.rdb.Get(ctx, key).Bytes(); err == nil {
		var env naiveEnvelope
		if json.Unmarshal(raw, &env) == nil {
			if now.Sub(env.CachedAt) < time.Duration(env.TTLSeconds)*time.Second && env.MarketStatus == string(session) {
				return &env, api.CacheHitL2, nil
			}
			n.rdb.Del(ctx, key)
		}
	}
	env, err := n.fetch(ctx, sym)
	if err != nil {
		return nil, "", err
	}
	env.MarketStatus = string(session)
	env.TTLSeconds = int(n.policy.TTL(cache.StockQuote, session) / time.Second)
	if b, err := json.Marshal(env); err == nil {
		n.rdb.Set(ctx, key, b, time.Duration(env.TTLSeconds)*time.Second)
	}
	return env, api.CacheMiss, nil
}

// fetch calls the origin's single-symbol latest-quote endpoint.
func (n *naive) fetch(ctx context.Context, sym string) (*naiveEnvelope, error) {
	ctx, cancel := context.WithTimeout(ctx, naiveOriginWait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.origin+"/v2/stocks/"+url.PathEscape(sym)+"/quotes/latest", nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNaiveOrigin, err)
	}
	req.Header.Set("APCA-API-KEY-ID", n.keyID)
	req.Header.Set("APCA-API-SECRET-KEY", n.secretKey)
	resp, err := n.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNaiveOrigin, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errNaiveOrigin, err)
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNaiveNotFound
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: status %d", errNaiveOrigin, resp.StatusCode)
	}
	var v struct {
		Quote json.RawMessage `json:"quote"`
	}
	if err := json.Unmarshal(body, &v); err != nil || len(v.Quote) == 0 {
		return nil, fmt.Errorf("%w: bad body", errNaiveOrigin)
	}
	src := "alpaca/" + alpaca.DefaultStockFeed
	if strings.EqualFold(resp.Header.Get(alpaca.SimulatorHeader), "true") {
		src = alpaca.SourceSimulator
	}
	now := n.clock.Now()
	return &naiveEnvelope{Symbol: sym, Data: v.Quote, CachedAt: now, DataSource: src}, nil
}

// ServeHTTP answers the two stock-quote routes.
func (n *naive) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		naiveError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if r.URL.Path == catalog.PathStockQuotes {
		n.serveBatch(w, r)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/stocks/")
	sym, ok2 := strings.CutSuffix(rest, "/quotes/latest")
	if !ok || !ok2 || sym == "" || strings.Contains(sym, "/") {
		naiveError(w, http.StatusNotFound, "route not found")
		return
	}
	env, layer, err := n.lookup(r.Context(), strings.ToUpper(sym))
	switch {
	case errors.Is(err, errNaiveNotFound):
		naiveError(w, http.StatusNotFound, "not found")
		return
	case err != nil:
		naiveError(w, http.StatusBadGateway, "origin unavailable")
		return
	}
	b := append([]byte(`{"symbol":`), strconv.Quote(env.Symbol)...)
	b = append(b, `,"quote":`...)
	b = append(b, env.Data...)
	b = append(b, '}')
	n.write(w, b, layer, n.clock.Now().Sub(env.CachedAt))
}

// serveBatch looks every symbol up on its own, naiveFanOut at a time.
func (n *naive) serveBatch(w http.ResponseWriter, r *http.Request) {
	var syms []string
	for s := range strings.SplitSeq(r.URL.Query().Get("symbols"), ",") {
		if s != "" {
			syms = append(syms, strings.ToUpper(s))
		}
	}
	if len(syms) == 0 {
		naiveError(w, http.StatusBadRequest, "symbols is required")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), naiveBatchTimeout)
	defer cancel()
	type answer struct {
		env   *naiveEnvelope
		layer string
		err   error
	}
	answers := make([]answer, len(syms))
	sem := make(chan struct{}, naiveFanOut)
	var wg sync.WaitGroup
	for i, s := range syms {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			env, layer, err := n.lookup(ctx, s)
			answers[i] = answer{env, layer, err}
		})
	}
	wg.Wait()
	b := []byte(`{"quotes":{`)
	meta := []byte(`,"meta":{`)
	xcache, age, served := "", time.Duration(0), 0
	now := n.clock.Now()
	for i, a := range answers {
		if a.err != nil {
			continue
		}
		if served > 0 {
			b, meta = append(b, ','), append(meta, ',')
		}
		b = append(strconv.AppendQuote(b, syms[i]), ':')
		b = append(b, a.env.Data...)
		meta = append(strconv.AppendQuote(meta, syms[i]), `:{"cache":`...)
		meta = append(strconv.AppendQuote(meta, a.layer), '}')
		switch {
		case served == 0:
			xcache = a.layer
		case xcache != a.layer:
			xcache = api.CacheMixed
		}
		age = max(age, now.Sub(a.env.CachedAt))
		served++
	}
	b = append(append(append(b, '}'), meta...), "}}"...)
	n.write(w, b, xcache, age)
}

func (n *naive) write(w http.ResponseWriter, body []byte, xcache string, age time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if xcache != "" {
		h.Set(api.HeaderCache, xcache)
		h.Set("Age", strconv.FormatInt(int64(age/time.Second), 10))
	}
	w.Write(body)
}

func naiveError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"message":%q}`, status, msg)
}
