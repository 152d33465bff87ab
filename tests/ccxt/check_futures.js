// The independent check of a futures venue of `tranche exchange --protocol binance` (its market data in
// Binance futures' words): ccxt's Binance client with defaultType future (USD-M) or delivery (COIN-M). Markets
// from exchangeInfo, the server's time, the book over REST against the venue's own answer, and the depth stream
// kept by ccxt's own rules (the first diff bridging the snapshot, each later one's pu the previous u: a break is
// ccxt's ChecksumError, and fails the check). Every REST path ccxt requests must be one the venue serves.
// Environment: TRANCHE_BINANCE_URL, TRANCHE_FUTURES (usdm or coinm); the test CA only through NODE_EXTRA_CA_CERTS.
'use strict';
const assert = require('assert');
const ccxt = require('ccxt');

const base = process.env.TRANCHE_BINANCE_URL;
const wsBase = base.replace(/^https/, 'wss');
const usdm = process.env.TRANCHE_FUTURES === 'usdm';
const prefix = usdm ? '/fapi/v1' : '/dapi/v1';
const served = new Set(['ping', 'time', 'exchangeInfo', 'depth'].map((p) => `GET ${prefix}/${p}`));
const requested = [];

const { units, getter } = require('./common');

const get = getter(base);

function makeExchange() {
  const ex = new ccxt.pro.binance({
    options: { defaultType: usdm ? 'future' : 'delivery', fetchMarkets: { types: [usdm ? 'linear' : 'inverse'] },
      fetchCurrencies: false, fetchMargins: false },
  });
  // Every API ccxt knows points at a path the venue does not serve, but this market's public REST and streams.
  const api = ex.urls.api;
  for (const k of Object.keys(api)) if (typeof api[k] === 'string') api[k] = `${base}/unserved/${k}`;
  api[usdm ? 'fapiPublic' : 'dapiPublic'] = `${base}${prefix}`;
  for (const k of Object.keys(api.ws)) if (typeof api.ws[k] === 'string') api.ws[k] = `${wsBase}/unserved/${k}`;
  api.ws[usdm ? 'future' : 'delivery'] = `${wsBase}/ws`;
  const fetch = ex.fetch.bind(ex);
  ex.fetch = (url, method = 'GET', headers = undefined, body = undefined) => {
    requested.push(`${method} ${new URL(url).pathname}`);
    return fetch(url, method, headers, body);
  };
  return ex;
}

async function step(name, fn) {
  const t = Date.now();
  await fn();
  console.log(`ok - ${usdm ? 'USD-M' : 'COIN-M'}: ${name} (${Date.now() - t} ms)`);
}

(async () => {
  const ex = makeExchange();
  const symbol = usdm ? 'ETH/USDT:USDT' : 'ETH/USD:ETH';
  const id = usdm ? 'ETHUSDT' : 'ETHUSD_PERP';
  await step('loadMarkets reads the perpetual and its filters from exchangeInfo', async () => {
    await ex.loadMarkets();
    const m = ex.market(symbol);
    assert.strictEqual(m.id, id);
    assert.strictEqual(m.swap, true);
    assert.strictEqual(m.linear, usdm);
    assert.strictEqual(m.inverse, !usdm);
    assert.strictEqual(m.active, true);
    const info = (await get(`${prefix}/exchangeInfo`)).symbols.find((s) => s.symbol === id);
    const filter = (type) => info.filters.find((f) => f.filterType === type);
    assert.strictEqual(units(m.precision.price), units(filter('PRICE_FILTER').tickSize));
    assert.strictEqual(units(m.precision.amount), units(filter('LOT_SIZE').stepSize));
    assert.strictEqual(units(m.contractSize), units(usdm ? '1' : '10'));
    if (usdm) assert.strictEqual(units(m.limits.cost.min), units(filter('MIN_NOTIONAL').notional));
  });
  await step('fetchTime is the venue\'s clock', async () => {
    const t = await ex.fetchTime();
    assert(Math.abs(t - Date.now()) < 5000, `${t} against ${Date.now()}`);
  });
  await step('fetchOrderBook equals the venue\'s depth at the same update id', async () => {
    for (let attempt = 0; ; ++attempt) {
      const ob = await ex.fetchOrderBook(symbol, 20);
      const raw = await get(`${prefix}/depth?symbol=${id}&limit=20`);
      if (ob.nonce !== raw.lastUpdateId) { assert(attempt < 20, 'the book never held still'); continue; }
      assert.deepStrictEqual(Array.from(ob.bids).map(([p, q]) => [units(p), units(q)]), raw.bids.map(([p, q]) => [units(p), units(q)]));
      assert.deepStrictEqual(Array.from(ob.asks).map(([p, q]) => [units(p), units(q)]), raw.asks.map(([p, q]) => [units(p), units(q)]));
      break;
    }
  });
  await step('watchOrderBook keeps the book from the depth stream by futures\' rules, update after update', async () => {
    let last = 0;
    let updates = 0;
    const started = Date.now();
    while (updates < 10) {
      assert(Date.now() - started < 30000, `only ${updates} book updates in 30 s`);
      const ob = await ex.watchOrderBook(symbol);
      assert(ob.nonce >= last, `the book went back from ${last} to ${ob.nonce}`);
      if (ob.nonce > last) ++updates;
      last = ob.nonce;
      assert(ob.bids.length > 0 && ob.asks.length > 0 && ob.bids[0][0] < ob.asks[0][0], 'a crossed or empty book');
    }
    // The venue's own book now is at or past what ccxt holds.
    const raw = await get(`${prefix}/depth?symbol=${id}&limit=5`);
    assert(raw.lastUpdateId >= last, `the venue is at ${raw.lastUpdateId}, ccxt at ${last}`);
  });
  await ex.close();
  for (const r of requested) assert(served.has(r), `ccxt requested ${r}, which the venue does not serve`);
  console.log(`ok - ${usdm ? 'USD-M' : 'COIN-M'}: every path ccxt requested is served (${[...new Set(requested)].join(', ')})`);
})().catch((e) => { console.error(`FAIL ${e.stack}`); process.exit(1); });
