// The independent check of `tranche exchange --protocol binance`: ccxt's Binance client (npm, pinned by
// package-lock.json) against the venue, every call checked against the venue's own answers. It starts
// nothing: run.js gives it the venue's URL (TRANCHE_BINANCE_URL), the account's key and the test CA (only
// through NODE_EXTRA_CA_CERTS). Every REST path ccxt requests is recorded; one the venue does not serve fails
// ccxt's call (404) and so the test. Its last line on stdout is what it saw executed, for run.js.
'use strict';
const assert = require('assert');
const ccxt = require('ccxt');

const base = process.env.TRANCHE_BINANCE_URL;
const wsBase = base.replace(/^https/, 'wss');
const served = new Set(['GET /api/v3/ping', 'GET /api/v3/time', 'GET /api/v3/exchangeInfo', 'GET /api/v3/depth',
  'GET /api/v3/trades', 'GET /api/v3/ticker/bookTicker', 'POST /api/v3/order', 'DELETE /api/v3/order',
  'GET /api/v3/order', 'POST /api/v3/order/cancelReplace', 'GET /api/v3/openOrders', 'DELETE /api/v3/openOrders',
  'GET /api/v3/account', 'GET /api/v3/myTrades']);
const requested = [];

const { units, getter, fence, stepper } = require('./common');

const get = getter(base);

function makeExchange() {
  const ex = new ccxt.pro.binance({
    apiKey: process.env.TRANCHE_API_KEY,
    secret: process.env.TRANCHE_API_SECRET,
    options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false,
      recvWindow: 60000 },
  });
  // Every API ccxt knows points at a path the venue does not serve, but spot's /api/v3 and its WebSockets.
  const api = fence(ex, base, requested);
  api.public = `${base}/api/v3`;
  api.private = `${base}/api/v3`;
  api.ws.spot = `${wsBase}/ws`;
  api.ws['ws-api'] = { spot: `${wsBase}/ws-api/v3` };
  // One timestamp for the whole run: every signature ccxt makes is reproducible, and the venue accepting each
  // (recvWindow 60 s) is its equality with ours.
  const now = Date.now();
  ex.milliseconds = () => now;
  return ex;
}

const step = stepper();

(async () => {
  const ex = makeExchange();
  const symbol = 'ETH/USDT';
  let balances;
  await step('loadMarkets reads the symbol and its filters from exchangeInfo', async () => {
    await ex.loadMarkets();
    const m = ex.market(symbol);
    assert.strictEqual(m.id, 'ETHUSDT');
    const info = (await get('/api/v3/exchangeInfo?symbol=ETHUSDT')).symbols[0];
    const filter = (type) => info.filters.find((f) => f.filterType === type);
    assert.strictEqual(units(m.precision.price), units(filter('PRICE_FILTER').tickSize));
    assert.strictEqual(units(m.precision.amount), units(filter('LOT_SIZE').stepSize));
    assert.strictEqual(units(m.limits.cost.min), units(filter('NOTIONAL').minNotional));
  });
  await step('fetchBalance gives the configured balances', async () => {
    balances = await ex.fetchBalance();
    assert.strictEqual(units(balances.ETH.total), units('2000'));
    assert.strictEqual(units(balances.USDT.total), units('10000000'));
  });
  await step('fetchOrderBook equals the venue\'s depth at the same update id', async () => {
    for (let attempt = 0; ; ++attempt) {
      const ob = await ex.fetchOrderBook(symbol, 20);
      const raw = await get('/api/v3/depth?symbol=ETHUSDT&limit=20');
      if (ob.nonce !== raw.lastUpdateId) { assert(attempt < 20, 'the book never held still'); continue; }
      assert.deepStrictEqual(Array.from(ob.bids).map(([p, q]) => [units(p), units(q)]), raw.bids.map(([p, q]) => [units(p), units(q)]));
      assert.deepStrictEqual(Array.from(ob.asks).map(([p, q]) => [units(p), units(q)]), raw.asks.map(([p, q]) => [units(p), units(q)]));
      assert(ob.bids.length === 20 && ob.asks.length === 20);
      break;
    }
  });
  let watched;
  await step('watchOrders subscribes the user data stream over the WebSocket API', async () => {
    watched = ex.watchOrders(symbol);
    await new Promise((r) => setTimeout(r, 500));
  });
  const fills = [];
  await step('a market order fills at the venue\'s prices, fees are charged, balances move by exactly that', async () => {
    const before = await ex.fetchBalance();
    const o = await ex.createOrder(symbol, 'market', 'buy', 0.5);
    assert.strictEqual(o.status, 'closed');
    assert.strictEqual(units(o.filled), units('0.5'));
    assert(o.info.fills.length > 0);
    let qty = 0n, quote = 0n, fee = 0n;
    for (const f of o.info.fills) {
      qty += units(f.qty);
      quote += units(f.price) * units(f.qty) / 100000000n;
      fee += units(f.commission);
      assert.strictEqual(f.commissionAsset, 'USDT');
      fills.push(f);
    }
    assert.strictEqual(qty, units('0.5'));
    assert.strictEqual(quote, units(o.info.cummulativeQuoteQty));
    assert(fee > 0n);
    const after = await ex.fetchBalance();
    assert.strictEqual(units(after.info.balances.find((b) => b.asset === 'ETH').free) -
      units(before.info.balances.find((b) => b.asset === 'ETH').free), units('0.5'));
    assert.strictEqual(units(before.info.balances.find((b) => b.asset === 'USDT').free) -
      units(after.info.balances.find((b) => b.asset === 'USDT').free), quote + fee);
    const update = await watched;
    assert(update.some((u) => u.id === o.id), 'watchOrders saw the market order');
  });
  await step('fetchMyTrades gives those fills, with their trade ids and commissions', async () => {
    const trades = await ex.fetchMyTrades(symbol);
    assert.deepStrictEqual(trades.map((t) => Number(t.id)), fills.map((f) => f.tradeId));
    trades.forEach((t, i) => {
      assert.strictEqual(units(t.info.commission), units(fills[i].commission));
      assert.strictEqual(units(t.info.qty), units(fills[i].qty));
      assert.strictEqual(t.takerOrMaker, 'taker');
    });
  });
  await step('a limit order rests, is found by fetchOrder and fetchOpenOrders, and cancelOrder cancels it', async () => {
    const top = await get('/api/v3/ticker/bookTicker?symbol=ETHUSDT');
    const price = (Number(units(top.bidPrice) / 1000000n) / 100 - 50).toFixed(2);
    const next = ex.watchOrders(symbol);
    const o = await ex.createOrder(symbol, 'limit', 'buy', 0.01, price);
    assert.strictEqual(o.status, 'open');
    const seen = await next;
    assert(seen.some((u) => u.id === o.id && u.status === 'open'), 'watchOrders saw it open');
    assert.strictEqual((await ex.fetchOrder(o.id, symbol)).status, 'open');
    assert((await ex.fetchOpenOrders(symbol)).some((x) => x.id === o.id));
    const canceled = ex.watchOrders(symbol);
    assert.strictEqual((await ex.cancelOrder(o.id, symbol)).status, 'canceled');
    assert((await canceled).some((u) => u.id === o.id && u.status === 'canceled'), 'watchOrders saw it canceled');
    assert.strictEqual((await ex.fetchOrder(o.id, symbol)).status, 'canceled');
    assert(!(await ex.fetchOpenOrders(symbol)).some((x) => x.id === o.id));
    await assert.rejects(ex.cancelOrder(o.id, symbol), ccxt.OrderNotFound, 'a second cancel: -2011');
  });
  await step('post-only: a crossing one is refused (-2010), a resting one is LIMIT_MAKER', async () => {
    const top = await get('/api/v3/ticker/bookTicker?symbol=ETHUSDT');
    const crossing = (Number(units(top.askPrice) / 1000000n) / 100 + 1).toFixed(2);
    await assert.rejects(ex.createOrder(symbol, 'limit', 'buy', 0.01, crossing, { postOnly: true }),
      ccxt.OrderImmediatelyFillable);
    const resting = (Number(units(top.bidPrice) / 1000000n) / 100 - 40).toFixed(2);
    const o = await ex.createOrder(symbol, 'limit', 'buy', 0.01, resting, { postOnly: true });
    const status = await ex.fetchOrder(o.id, symbol);
    assert.strictEqual(status.info.type, 'LIMIT_MAKER');
    assert.strictEqual(status.status, 'open');
    await ex.cancelOrder(o.id, symbol);
  });
  await step('watchOrderBook syncs diffs onto the snapshot and equals the venue\'s depth', async () => {
    for (let attempt = 0; ; ++attempt) {
      const ob = await ex.watchOrderBook(symbol);
      const raw = await get('/api/v3/depth?symbol=ETHUSDT&limit=1000');
      if (ob.nonce !== raw.lastUpdateId) { assert(attempt < 40, `never in step: ${ob.nonce} vs ${raw.lastUpdateId}`); continue; }
      const n = Math.min(ob.bids.length, raw.bids.length, 100);
      assert(n >= 50);
      assert.deepStrictEqual(Array.from(ob.bids).slice(0, n).map(([p, q]) => [units(p), units(q)]),
        raw.bids.slice(0, n).map(([p, q]) => [units(p), units(q)]));
      assert.deepStrictEqual(Array.from(ob.asks).slice(0, n).map(([p, q]) => [units(p), units(q)]),
        raw.asks.slice(0, n).map(([p, q]) => [units(p), units(q)]));
      break;
    }
  });
  await step('a path the venue does not serve fails the call (so any ccxt call to one fails this test)', async () => {
    await assert.rejects(ex.publicGetAvgPrice({ symbol: 'ETHUSDT' }));
    requested.pop();
  });
  await step('ccxt asked only for paths the venue serves', async () => {
    for (const r of requested) assert(served.has(r), `ccxt requested ${r}`);
  });
  const trades = await ex.fetchMyTrades(symbol);
  let bought = 0n, sold = 0n;
  for (const t of trades) (t.side === 'buy' ? (bought += units(t.info.qty)) : (sold += units(t.info.qty)));
  await ex.close();
  const dec = (u) => `${u / 100000000n}.${(u % 100000000n).toString().padStart(8, '0')}`;
  console.log(JSON.stringify({ fills: trades.length, bought: dec(bought), sold: dec(sold) }));
})().catch((e) => { console.error(e); process.exit(1); });
