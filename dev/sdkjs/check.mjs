// Drop-in check of the official Alpaca JS SDK (@alpacahq/alpaca-trade-api
// 4.x) against opitios-alpaca: every method of every market-data API class
// is called through a Configuration whose basePath is the service, and its
// values are checked against the service's clock.
//
//   node dev/sdkjs/check.mjs <baseURL> [all|crypto]
//
// e.g. node dev/sdkjs/check.mjs http://127.0.0.1:3000 against `make run`.
// The keys are APCA_API_KEY_ID / APCA_API_SECRET_KEY, by default the
// development pair dev / dev-secret. "crypto" checks only the classes that
// trade every day (crypto, perpetual futures), for a weekend instant.
// Exit status 0 when every check passes, 1 otherwise, 2 on bad usage.
//
// The reference clock is the service's own (GET /v1/market/status), which
// reads the simulated clock of OPITIOS_SIM_AT when one is set. Stock and
// option checks expect a regular session in progress.

import { marketData } from '@alpacahq/alpaca-trade-api';

const [baseURL, scope = 'all'] = process.argv.slice(2);
if (!baseURL || !['all', 'crypto'].includes(scope)) {
  console.error('usage: node dev/sdkjs/check.mjs <baseURL> [all|crypto]');
  process.exit(2);
}
const keyId = process.env.APCA_API_KEY_ID || 'dev';
const secret = process.env.APCA_API_SECRET_KEY || 'dev-secret';

// Methods known to fail against the service, with the reason. They still
// run, and count as failures: the list is there to be emptied.
const pending = {};

// Market-data classes this check leaves out, with the reason. Every other
// class's methods must all be called.
const notChecked = {
  FixedIncomeApi: 'fixed-income prices and quotes are not among the routes the service serves',
  IndexApi: 'index values are not among the routes the service serves',
};

// The keys go in headers as well as keyId/secret: the SDK sends keyId and
// secret only on the routes where Alpaca requires them, and leaves them off
// crypto and perpetual-futures calls, which the service authenticates too.
const cfg = new marketData.Configuration({
  basePath: baseURL.replace(/\/+$/, ''),
  keyId,
  secret,
  headers: { 'APCA-API-KEY-ID': keyId, 'APCA-API-SECRET-KEY': secret },
  // No retry: a 429 or 5xx from the service is a failure here.
  retry: { maxRetries: 0 },
});

// The service's clock: now0 at wall time wall0.
const status = await (await fetch(`${baseURL}/v1/market/status`, {
  headers: { 'APCA-API-KEY-ID': keyId, 'APCA-API-SECRET-KEY': secret },
})).json();
const now0 = Date.parse(status.timestamp);
const wall0 = Date.now();
if (Number.isNaN(now0)) {
  console.error(`FAIL: /v1/market/status gave no timestamp: ${JSON.stringify(status)}`);
  process.exit(1);
}
const simNow = () => now0 + (Date.now() - wall0);
const min = 60e3;
const hour = 60 * min;
const day = 24 * hour;
// History windows are whole minutes from the minute of now0.
const at = (ms) => new Date(Math.floor(now0 / min) * min + ms);

class CheckError extends Error {}
function assert(cond, msg) {
  if (!cond) throw new CheckError(msg);
}
const ms = (t) => (t instanceof Date ? t.getTime() : Date.parse(t));
function recent(what, t, maxAge) {
  const v = ms(t);
  assert(v >= now0 - maxAge && v <= simNow() + 1000,
    `${what}: timestamp ${new Date(v).toISOString()} outside [${new Date(now0 - maxAge).toISOString()}, ${new Date(simNow()).toISOString()}]`);
}
function between(what, items, start, end) {
  assert(Array.isArray(items) && items.length > 0, `${what}: empty`);
  let prev = -Infinity;
  for (const x of items) {
    const v = ms(x.t);
    assert(v >= start.getTime() && v <= end.getTime() && v >= prev,
      `${what}: ${new Date(v).toISOString()} outside [${start.toISOString()}, ${end.toISOString()}] or out of order`);
    prev = v;
  }
}
function quote(what, q, maxAge = 2 * min) {
  assert(q && q.bp > 0 && q.ap >= q.bp && q.ap / q.bp < 1.05, `${what}: quote ${JSON.stringify(q)}`);
  recent(`${what} quote`, q.t, maxAge);
}
function trade(what, t, maxAge = 2 * min) {
  assert(t && t.p > 0 && t.s > 0, `${what}: trade ${JSON.stringify(t)}`);
  recent(`${what} trade`, t.t, maxAge);
}
function bar(what, b) {
  assert(b && b.o > 0 && b.l > 0 && b.h >= Math.max(b.o, b.c) && b.l <= Math.min(b.o, b.c),
    `${what}: bar ${JSON.stringify(b)}`);
}
function symbolsOf(what, m, want) {
  const got = Object.keys(m ?? {}).sort();
  assert(JSON.stringify(got) === JSON.stringify([...want].sort()), `${what}: symbols ${got}, want ${want}`);
}

const results = [];
const called = new Set();
async function check(cls, method, fn) {
  const name = `${cls}.${method}`;
  called.add(name);
  try {
    await fn();
    if (pending[name]) {
      results.push({ name, ok: false, msg: `passes now: remove it from the pending list (${pending[name]})` });
    } else {
      results.push({ name, ok: true });
    }
  } catch (e) {
    let msg = e instanceof CheckError ? e.message : `${e.name}: ${e.message}`;
    if (e.response) msg += ` (HTTP ${e.response.status} ${e.response.url})`;
    if (pending[name]) msg = `PENDING: ${pending[name]}: ${msg}`;
    results.push({ name, ok: false, msg });
  }
}

const stock = new marketData.StockApi(cfg);
const option = new marketData.OptionApi(cfg);
const crypto = new marketData.CryptoApi(cfg);
const perp = new marketData.CryptoPerpetualFuturesApi(cfg);
const news = new marketData.NewsApi(cfg);
const actions = new marketData.CorporateActionsApi(cfg);
const screener = new marketData.ScreenerApi(cfg);
const logos = new marketData.LogosApi(cfg);
const forex = new marketData.ForexApi(cfg);

async function stocks() {
  const S = 'StockApi';
  const syms = ['AAPL', 'MSFT'];
  await check(S, 'stockLatestQuoteSingle', async () => {
    const r = await stock.stockLatestQuoteSingle({ symbol: 'AAPL' });
    assert(r.symbol === 'AAPL', `symbol ${r.symbol}`);
    quote('AAPL', r.quote);
  });
  await check(S, 'stockLatestQuotes', async () => {
    const r = await stock.stockLatestQuotes({ symbols: syms.join(',') });
    symbolsOf('quotes', r.quotes, syms);
    for (const [s, q] of Object.entries(r.quotes)) quote(s, q);
  });
  await check(S, 'stockLatestTradeSingle', async () => {
    const r = await stock.stockLatestTradeSingle({ symbol: 'AAPL' });
    assert(r.symbol === 'AAPL', `symbol ${r.symbol}`);
    trade('AAPL', r.trade);
  });
  await check(S, 'stockLatestTrades', async () => {
    const r = await stock.stockLatestTrades({ symbols: syms.join(',') });
    symbolsOf('trades', r.trades, syms);
    for (const [s, t] of Object.entries(r.trades)) trade(s, t);
  });
  await check(S, 'stockLatestBarSingle', async () => {
    const r = await stock.stockLatestBarSingle({ symbol: 'AAPL' });
    assert(r.symbol === 'AAPL', `symbol ${r.symbol}`);
    bar('AAPL', r.bar);
    recent('AAPL latest bar', r.bar.t, 5 * min);
  });
  await check(S, 'stockLatestBars', async () => {
    const r = await stock.stockLatestBars({ symbols: syms.join(',') });
    symbolsOf('bars', r.bars, syms);
    for (const [s, b] of Object.entries(r.bars)) bar(s, b);
  });
  const snap = (s, sn) => {
    assert(sn && sn.latestTrade && sn.latestQuote && sn.minuteBar && sn.dailyBar && sn.prevDailyBar,
      `${s}: snapshot incomplete ${JSON.stringify(sn)}`);
    quote(s, sn.latestQuote);
    trade(s, sn.latestTrade);
    for (const b of [sn.minuteBar, sn.dailyBar, sn.prevDailyBar]) bar(s, b);
    assert(ms(sn.prevDailyBar.t) < ms(sn.dailyBar.t), `${s}: previous daily bar not before the daily bar`);
  };
  await check(S, 'stockSnapshotSingle', async () => {
    const r = await stock.stockSnapshotSingle({ symbol: 'AAPL' });
    assert(r.symbol === 'AAPL', `symbol ${r.symbol}`);
    snap('AAPL', r);
  });
  await check(S, 'stockSnapshots', async () => {
    const r = await stock.stockSnapshots({ symbols: syms.join(',') });
    symbolsOf('snapshots', r, syms);
    for (const [s, sn] of Object.entries(r)) snap(s, sn);
  });

  const start = at(-2 * hour);
  const end = at(-hour);
  await check(S, 'stockBarSingle', async () => {
    const r = await stock.stockBarSingle({ symbol: 'AAPL', timeframe: '1Min', start, end, limit: 30 });
    assert(r.symbol === 'AAPL' && r.bars.length === 30 && r.nextPageToken, `first page: ${r.bars?.length} bars, token ${r.nextPageToken}`);
    const r2 = await stock.stockBarSingle({ symbol: 'AAPL', timeframe: '1Min', start, end, limit: 100, pageToken: r.nextPageToken });
    const bars = [...r.bars, ...r2.bars];
    assert(bars.length === 61 && !r2.nextPageToken, `${bars.length} minute bars in [${start.toISOString()}, ${end.toISOString()}], want 61`);
    between('AAPL bars', bars, start, end);
    bars.forEach((b) => bar('AAPL', b));
  });
  await check(S, 'stockBars', async () => {
    const s0 = at(-30 * day);
    const r = await stock.stockBars({ symbols: syms.join(','), timeframe: '1Day', start: s0, end: at(-day) });
    symbolsOf('bars', r.bars, syms);
    for (const [s, bs] of Object.entries(r.bars)) {
      assert(bs.length >= 15, `${s}: ${bs.length} daily bars in 30 days`);
      between(`${s} daily bars`, bs, at(-31 * day), at(-day));
    }
  });
  const tStart = at(-10 * min);
  const tEnd = at(-9 * min);
  await check(S, 'stockTradeSingle', async () => {
    const r = await stock.stockTradeSingle({ symbol: 'AAPL', start: tStart, end: tEnd, limit: 50 });
    assert(r.symbol === 'AAPL', `symbol ${r.symbol}`);
    between('AAPL trades', r.trades, tStart, tEnd);
    r.trades.forEach((t) => assert(t.p > 0 && t.s > 0 && t.x, `trade ${JSON.stringify(t)}`));
  });
  await check(S, 'stockTrades', async () => {
    const r = await stock.stockTrades({ symbols: syms.join(','), start: tStart, end: tEnd, limit: 100, feed: 'sip' });
    assert(Object.keys(r.trades).length > 0, 'no trades');
    for (const [s, ts] of Object.entries(r.trades)) between(`${s} trades`, ts, tStart, tEnd);
  });
  await check(S, 'stockQuoteSingle', async () => {
    const r = await stock.stockQuoteSingle({ symbol: 'AAPL', start: tStart, end: tEnd, limit: 50 });
    assert(r.symbol === 'AAPL', `symbol ${r.symbol}`);
    between('AAPL quotes', r.quotes, tStart, tEnd);
    r.quotes.forEach((q) => assert(q.bp > 0 && q.ap >= q.bp, `quote ${JSON.stringify(q)}`));
  });
  await check(S, 'stockQuotes', async () => {
    const r = await stock.stockQuotes({ symbols: syms.join(','), start: tStart, end: tEnd, limit: 100 });
    assert(Object.keys(r.quotes).length > 0, 'no quotes');
    for (const [s, qs] of Object.entries(r.quotes)) between(`${s} quotes`, qs, tStart, tEnd);
  });
  const auctions = (s, days) => {
    assert(Array.isArray(days) && days.length >= 5, `${s}: ${days?.length} days of auctions in 10 days`);
    for (const d of days) {
      assert(d.o?.length > 0 && d.c?.length > 0, `${s} ${d.d}: no opening or closing auction`);
      for (const a of [...d.o, ...d.c]) assert(a.p > 0, `${s} ${d.d}: auction ${JSON.stringify(a)}`);
    }
  };
  await check(S, 'stockAuctionSingle', async () => {
    const r = await stock.stockAuctionSingle({ symbol: 'AAPL', start: at(-10 * day), end: at(-day) });
    assert(r.symbol === 'AAPL', `symbol ${r.symbol}`);
    auctions('AAPL', r.auctions);
  });
  await check(S, 'stockAuctions', async () => {
    const r = await stock.stockAuctions({ symbols: syms.join(','), start: at(-10 * day), end: at(-day) });
    symbolsOf('auctions', r.auctions, syms);
    for (const [s, days] of Object.entries(r.auctions)) auctions(s, days);
  });
  await check(S, 'stockMetaExchanges', async () => {
    const r = await stock.stockMetaExchanges();
    assert(r.V === 'IEX' && Object.keys(r).length >= 10, `exchanges ${JSON.stringify(r)}`);
  });
  await check(S, 'stockMetaConditions', async () => {
    for (const ticktype of ['trade', 'quote']) {
      const r = await stock.stockMetaConditions({ ticktype, tape: 'A' });
      assert(Object.keys(r).length > 0 && Object.values(r).every((v) => typeof v === 'string' && v),
        `${ticktype} conditions ${JSON.stringify(r)}`);
    }
  });
}

async function options() {
  const O = 'OptionApi';
  let contracts = [];
  await check(O, 'optionChain', async () => {
    const r = await option.optionChain({ underlyingSymbol: 'AAPL', limit: 50 });
    const syms = Object.keys(r.snapshots ?? {}).sort();
    assert(syms.length > 0 && syms.length <= 50, `${syms.length} contracts`);
    assert(r.nextPageToken, 'one page of 50 holds every AAPL contract: no next page token');
    const r2 = await option.optionChain({ underlyingSymbol: 'AAPL', limit: 50, pageToken: r.nextPageToken });
    assert(Object.keys(r2.snapshots ?? {}).length > 0, 'empty second page');
    for (const s of syms) {
      assert(s.startsWith('AAPL'), `chain of AAPL holds ${s}`);
      const sn = r.snapshots[s];
      if (sn.latestQuote) assert(sn.latestQuote.ap > 0 && sn.latestQuote.ap >= sn.latestQuote.bp, `${s}: ${JSON.stringify(sn.latestQuote)}`);
      if (sn.latestQuote && sn.latestTrade && contracts.length < 2) contracts.push(s);
    }
    assert(contracts.length === 2, 'fewer than 2 contracts with a quote and a trade');
  });
  if (contracts.length < 2) contracts = ['AAPL261218C00200000', 'AAPL261218P00200000'];
  const list = contracts.join(',');
  const oquote = (s, q) => {
    assert(q && q.ap > 0 && q.bp >= 0 && q.ap >= q.bp, `${s}: quote ${JSON.stringify(q)}`);
    recent(`${s} quote`, q.t, day);
  };
  await check(O, 'optionSnapshots', async () => {
    const r = await option.optionSnapshots({ symbols: list });
    symbolsOf('snapshots', r.snapshots, contracts);
    for (const [s, sn] of Object.entries(r.snapshots)) {
      oquote(s, sn.latestQuote);
      assert(sn.latestTrade?.p > 0, `${s}: trade ${JSON.stringify(sn.latestTrade)}`);
    }
  });
  await check(O, 'optionLatestQuotes', async () => {
    const r = await option.optionLatestQuotes({ symbols: list });
    symbolsOf('quotes', r.quotes, contracts);
    for (const [s, q] of Object.entries(r.quotes)) oquote(s, q);
  });
  await check(O, 'optionLatestTrades', async () => {
    const r = await option.optionLatestTrades({ symbols: list });
    symbolsOf('trades', r.trades, contracts);
    for (const [s, t] of Object.entries(r.trades)) trade(s, t, 7 * day);
  });
  const start = at(-5 * day);
  const end = at(-hour);
  await check(O, 'optionBars', async () => {
    const r = await option.optionBars({ symbols: list, timeframe: '1Hour', start, end });
    assert(Object.keys(r.bars).length > 0, 'no bars');
    for (const [s, bs] of Object.entries(r.bars)) {
      between(`${s} bars`, bs, start, end);
      bs.forEach((b) => bar(s, b));
    }
  });
  await check(O, 'optionTrades', async () => {
    const r = await option.optionTrades({ symbols: list, start, end, limit: 100 });
    assert(Object.keys(r.trades).length > 0, 'no trades');
    for (const [s, ts] of Object.entries(r.trades)) {
      between(`${s} trades`, ts, start, end);
      ts.forEach((t) => assert(t.p > 0 && t.s > 0, `${s}: trade ${JSON.stringify(t)}`));
    }
  });
  await check(O, 'optionMetaExchanges', async () => {
    const r = await option.optionMetaExchanges();
    assert(Object.keys(r).length >= 5 && Object.values(r).every((v) => typeof v === 'string' && v), `exchanges ${JSON.stringify(r)}`);
  });
  await check(O, 'optionMetaConditions', async () => {
    for (const ticktype of ['trade', 'quote']) {
      const r = await option.optionMetaConditions({ ticktype });
      assert(Object.keys(r).length > 0, `${ticktype} conditions ${JSON.stringify(r)}`);
    }
  });
}

async function cryptos() {
  const C = 'CryptoApi';
  const syms = ['BTC/USD', 'ETH/USD'];
  const symbols = syms.join(',');
  const loc = 'us';
  await check(C, 'cryptoLatestQuotes', async () => {
    const r = await crypto.cryptoLatestQuotes({ loc, symbols });
    symbolsOf('quotes', r.quotes, syms);
    for (const [s, q] of Object.entries(r.quotes)) quote(s, q);
  });
  await check(C, 'cryptoLatestTrades', async () => {
    const r = await crypto.cryptoLatestTrades({ loc, symbols });
    symbolsOf('trades', r.trades, syms);
    for (const [s, t] of Object.entries(r.trades)) trade(s, t);
  });
  await check(C, 'cryptoLatestBars', async () => {
    const r = await crypto.cryptoLatestBars({ loc, symbols });
    symbolsOf('bars', r.bars, syms);
    for (const [s, b] of Object.entries(r.bars)) {
      bar(s, b);
      recent(`${s} latest bar`, b.t, 5 * min);
    }
  });
  await check(C, 'cryptoLatestOrderbooks', async () => {
    const r = await crypto.cryptoLatestOrderbooks({ loc, symbols });
    symbolsOf('orderbooks', r.orderbooks, syms);
    for (const [s, ob] of Object.entries(r.orderbooks)) {
      assert(ob.b?.length > 0 && ob.a?.length > 0 && ob.b[0].p < ob.a[0].p, `${s}: book ${JSON.stringify(ob).slice(0, 300)}`);
      for (let i = 1; i < ob.b.length; i++) assert(ob.b[i].p < ob.b[i - 1].p, `${s}: bids out of order`);
      for (let i = 1; i < ob.a.length; i++) assert(ob.a[i].p > ob.a[i - 1].p, `${s}: asks out of order`);
      recent(`${s} book`, ob.t, 2 * min);
    }
  });
  await check(C, 'cryptoSnapshots', async () => {
    const r = await crypto.cryptoSnapshots({ loc, symbols });
    symbolsOf('snapshots', r.snapshots, syms);
    for (const [s, sn] of Object.entries(r.snapshots)) {
      assert(sn.latestTrade && sn.latestQuote && sn.minuteBar && sn.dailyBar && sn.prevDailyBar, `${s}: snapshot incomplete`);
      quote(s, sn.latestQuote);
      trade(s, sn.latestTrade);
      for (const b of [sn.minuteBar, sn.dailyBar, sn.prevDailyBar]) bar(s, b);
    }
  });
  const start = at(-2 * hour);
  const end = at(-hour);
  await check(C, 'cryptoBars', async () => {
    const r = await crypto.cryptoBars({ loc, symbols: 'BTC/USD', timeframe: '1Min', start, end, limit: 40 });
    assert(r.nextPageToken, 'no next page token after 40 of an hour of minute bars');
    const r2 = await crypto.cryptoBars({ loc, symbols: 'BTC/USD', timeframe: '1Min', start, end, limit: 100, pageToken: r.nextPageToken });
    const bs = [...r.bars['BTC/USD'], ...(r2.bars['BTC/USD'] ?? [])];
    assert(bs.length >= 50, `${bs.length} minute bars in an hour`);
    between('BTC/USD bars', bs, start, end);
    bs.forEach((b) => bar('BTC/USD', b));
  });
  const tStart = at(-10 * min);
  const tEnd = at(-9 * min);
  await check(C, 'cryptoTrades', async () => {
    const r = await crypto.cryptoTrades({ loc, symbols, start: tStart, end: tEnd, limit: 100 });
    assert(Object.keys(r.trades).length > 0, 'no trades');
    for (const [s, ts] of Object.entries(r.trades)) {
      between(`${s} trades`, ts, tStart, tEnd);
      ts.forEach((t) => assert(t.p > 0 && t.s > 0, `${s}: trade ${JSON.stringify(t)}`));
    }
  });
  await check(C, 'cryptoQuotes', async () => {
    const r = await crypto.cryptoQuotes({ loc, symbols, start: tStart, end: tEnd, limit: 100 });
    assert(Object.keys(r.quotes).length > 0, 'no quotes');
    for (const [s, qs] of Object.entries(r.quotes)) {
      between(`${s} quotes`, qs, tStart, tEnd);
      qs.forEach((q) => assert(q.bp > 0 && q.ap >= q.bp, `${s}: quote ${JSON.stringify(q)}`));
    }
  });

  const P = 'CryptoPerpetualFuturesApi';
  const perps = ['BTC-PERP', 'ETH-PERP'];
  const ploc = 'global';
  const psymbols = perps.join(',');
  await check(P, 'cryptoPerpLatestQuotes', async () => {
    const r = await perp.cryptoPerpLatestQuotes({ loc: ploc, symbols: psymbols });
    symbolsOf('quotes', r.quotes, perps);
    for (const [s, q] of Object.entries(r.quotes)) quote(s, q);
  });
  await check(P, 'cryptoPerpLatestTrades', async () => {
    const r = await perp.cryptoPerpLatestTrades({ loc: ploc, symbols: psymbols });
    symbolsOf('trades', r.trades, perps);
    for (const [s, t] of Object.entries(r.trades)) trade(s, t);
  });
  await check(P, 'cryptoPerpLatestBars', async () => {
    const r = await perp.cryptoPerpLatestBars({ loc: ploc, symbols: psymbols });
    symbolsOf('bars', r.bars, perps);
    for (const [s, b] of Object.entries(r.bars)) bar(s, b);
  });
  await check(P, 'cryptoPerpLatestFuturesPricing', async () => {
    const r = await perp.cryptoPerpLatestFuturesPricing({ loc: ploc, symbols: psymbols });
    symbolsOf('pricing', r.pricing, perps);
    for (const [s, p] of Object.entries(r.pricing)) {
      assert(p.ip > 0 && p.mp > 0 && p.oi > 0 && Math.abs(p.mp / p.ip - 1) < 0.01, `${s}: pricing ${JSON.stringify(p)}`);
      const ft = ms(p.ft);
      assert(ft > now0 && ft - now0 <= 8 * hour + min, `${s}: next funding at ${p.ft}`);
      recent(`${s} pricing`, p.t, 2 * min);
    }
  });
  await check(P, 'cryptoPerpLatestOrderbooks', async () => {
    const r = await perp.cryptoPerpLatestOrderbooks({ loc: ploc, symbols: psymbols });
    symbolsOf('orderbooks', r.orderbooks, perps);
    for (const [s, ob] of Object.entries(r.orderbooks)) {
      assert(ob.b?.length > 0 && ob.a?.length > 0 && ob.b[0].p < ob.a[0].p, `${s}: book ${JSON.stringify(ob).slice(0, 300)}`);
    }
  });
}

async function rest() {
  await check('NewsApi', 'news', async () => {
    const start = at(-7 * day);
    const end = at(0);
    const r = await news.news({ symbols: 'AAPL', start, end, limit: 10 });
    assert(r.news?.length > 0, 'no news about AAPL in a week');
    assert(r.nextPageToken, 'no next page token after 10 articles of a week');
    const r2 = await news.news({ symbols: 'AAPL', start, end, limit: 10, pageToken: r.nextPageToken });
    const ids = new Set();
    for (const n of [...r.news, ...r2.news]) {
      const c = ms(n.createdAt ?? n.created_at);
      assert(n.id && n.headline && n.url && n.symbols?.includes('AAPL') && c >= start.getTime() && c <= end.getTime() && !ids.has(n.id),
        `article ${JSON.stringify(n).slice(0, 300)}`);
      ids.add(n.id);
    }
  });
  await check('CorporateActionsApi', 'corporateActions', async () => {
    const r = await actions.corporateActions({ symbols: 'AAPL,MSFT,JNJ,KO,XOM', start: at(-365 * day), end: at(0), limit: 100 });
    const ca = r.corporateActions ?? r.corporate_actions;
    const divs = ca?.cashDividends ?? ca?.cash_dividends ?? [];
    assert(divs.length > 0, `no cash dividends in a year: ${JSON.stringify(r).slice(0, 300)}`);
    for (const d of divs) assert(d.rate > 0 && ['AAPL', 'MSFT', 'JNJ', 'KO', 'XOM'].includes(d.symbol), `dividend ${JSON.stringify(d)}`);
  });
  await check('ScreenerApi', 'mostActives', async () => {
    const r = await screener.mostActives({ by: 'volume', top: 5 });
    const a = r.mostActives ?? r.most_actives;
    assert(a?.length === 5, `${a?.length} most actives, want 5`);
    for (let i = 0; i < a.length; i++) {
      assert(a[i].symbol && a[i].volume > 0 && (i === 0 || a[i].volume <= a[i - 1].volume), `most active ${JSON.stringify(a[i])}`);
    }
  });
  await check('ScreenerApi', 'movers', async () => {
    for (const marketType of ['stocks', 'crypto']) {
      const r = await screener.movers({ marketType, top: 5 });
      assert(r.gainers?.length === 5 && r.losers?.length === 5, `${marketType}: ${r.gainers?.length} gainers, ${r.losers?.length} losers`);
      for (const g of r.gainers) assert(g.symbol && g.price > 0, `${marketType} gainer ${JSON.stringify(g)}`);
      assert(r.gainers[0].percentChange >= r.gainers[4].percentChange, `${marketType}: gainers out of order`);
    }
  });
  await check('LogosApi', 'logos', async () => {
    const blob = await logos.logos({ symbol: 'AAPL' });
    const b = new Uint8Array(await blob.arrayBuffer());
    const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
    assert(b.length > 8 && png.every((v, i) => b[i] === v), `not a PNG (${b.length} bytes)`);
  });
  await check('ForexApi', 'latestRates', async () => {
    const r = await forex.latestRates({ currencyPairs: 'EURUSD,USDJPY' });
    symbolsOf('rates', r.rates, ['EURUSD', 'USDJPY']);
    for (const [s, q] of Object.entries(r.rates)) {
      assert(q.bp > 0 && q.ap >= q.bp && q.mp >= q.bp && q.mp <= q.ap, `${s}: rate ${JSON.stringify(q)}`);
      recent(`${s} rate`, q.t, 2 * min);
    }
  });
  await check('ForexApi', 'rates', async () => {
    const start = at(-2 * hour);
    const end = at(-hour);
    const r = await forex.rates({ currencyPairs: 'EURUSD', timeframe: '1Min', start, end, limit: 100 });
    between('EURUSD rates', r.rates?.EURUSD, start, end);
    for (const q of r.rates.EURUSD) assert(q.bp > 0 && q.bp <= q.mp && q.mp <= q.ap, `EURUSD: rate ${JSON.stringify(q)}`);
  });
}

if (scope === 'all') {
  await stocks();
  await options();
}
await cryptos();
if (scope === 'all') await rest();

// Every method of every class in scope is called.
const classes = scope === 'all'
  ? ['StockApi', 'OptionApi', 'CryptoApi', 'CryptoPerpetualFuturesApi', 'NewsApi', 'CorporateActionsApi', 'ScreenerApi', 'LogosApi', 'ForexApi']
  : ['CryptoApi', 'CryptoPerpetualFuturesApi'];
if (scope === 'all') {
  for (const name of Object.keys(marketData)) {
    if (name.endsWith('Api') && name !== 'BaseAPI' && !classes.includes(name) && !notChecked[name]) {
      results.push({ name, ok: false, msg: 'a market-data API class this check does not know: check its methods' });
    }
  }
}
for (const cls of classes) {
  for (const m of Object.getOwnPropertyNames(marketData[cls].prototype)) {
    if (m === 'constructor' || m.endsWith('Raw') || typeof marketData[cls].prototype[m] !== 'function') continue;
    if (!called.has(`${cls}.${m}`)) results.push({ name: `${cls}.${m}`, ok: false, msg: 'never called' });
  }
}

const failed = results.filter((r) => !r.ok);
for (const r of failed) console.error(`FAIL ${r.name}: ${r.msg}`);
const skipped = scope === 'all' ? ` (not checked: ${Object.keys(notChecked).join(', ')})` : '';
console.log(`sdkjs: ${results.length - failed.length} of ${results.length} SDK methods pass against ${baseURL} [${scope}] at ${new Date(now0).toISOString()}${skipped}`);
process.exit(failed.length ? 1 : 0);
