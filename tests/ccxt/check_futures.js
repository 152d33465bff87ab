// The independent check of a futures venue of `tranche exchange --protocol binance` (Binance futures' own
// API): ccxt's Binance client with defaultType future (USD-M) or delivery (COIN-M). Markets from exchangeInfo,
// the server's time, the book over REST against the venue's own answer, and the depth stream kept by ccxt's own
// rules (the first diff bridging the snapshot, each later one's pu the previous u: a break is ccxt's
// ChecksumError, and fails the check). Then trading, every call signed by ccxt and checked by the venue: a limit
// order resting, a post-only one that would cross refused, editOrder (modify in place), fetchOrder,
// fetchOpenOrders, cancelOrder, a market order filling, fetchMyTrades, fetchPositions and fetchBalance, each
// against what the venue said before. Every REST path ccxt requests must be one the venue serves.
// Environment: TRANCHE_BINANCE_URL, TRANCHE_FUTURES (usdm or coinm), TRANCHE_API_KEY, TRANCHE_API_SECRET; the
// test CA only through NODE_EXTRA_CA_CERTS.
'use strict';
const assert = require('assert');
const ccxt = require('ccxt');

const base = process.env.TRANCHE_BINANCE_URL;
const wsBase = base.replace(/^https/, 'wss');
const usdm = process.env.TRANCHE_FUTURES === 'usdm';
const prefix = usdm ? '/fapi/v1' : '/dapi/v1';
const root = usdm ? '/fapi' : '/dapi';
const served = new Set([
  ...['ping', 'time', 'exchangeInfo', 'depth', 'order', 'openOrders', 'userTrades'].map((p) => `GET ${prefix}/${p}`),
  ...['POST', 'PUT', 'DELETE'].map((m) => `${m} ${prefix}/order`),
  ...['POST', 'PUT'].map((m) => `${m} ${prefix}/listenKey`),
  ...(usdm ? ['GET /fapi/v3/account', 'GET /fapi/v3/positionRisk', 'GET /fapi/v1/leverageBracket']
    : ['GET /dapi/v1/account', 'GET /dapi/v1/positionRisk', 'GET /dapi/v2/leverageBracket']),
]);
const requested = [];

const { units, getter, fence, stepper } = require('./common');

const get = getter(base);

function makeExchange() {
  const ex = new ccxt.pro.binance({
    apiKey: process.env.TRANCHE_API_KEY,
    secret: process.env.TRANCHE_API_SECRET,
    options: { defaultType: usdm ? 'future' : 'delivery', fetchMarkets: { types: [usdm ? 'linear' : 'inverse'] },
      fetchCurrencies: false, fetchMargins: false, recvWindow: 60000,
      // ccxt's position calls take the sub-type from here (else linear, whatever defaultType says).
      defaultSubType: usdm ? 'linear' : 'inverse' },
  });
  // Every API ccxt knows points at a path the venue does not serve, but this market's public REST and streams.
  const api = fence(ex, base, requested);
  api[usdm ? 'fapiPublic' : 'dapiPublic'] = `${base}${prefix}`;
  for (const v of ['', 'V2', 'V3']) api[`${usdm ? 'fapi' : 'dapi'}Private${v}`] = `${base}${root}/v${v ? v[1] : '1'}`;
  api.ws[usdm ? 'future' : 'delivery'] = `${wsBase}/ws`;
  return ex;
}

const step = stepper(usdm ? 'USD-M: ' : 'COIN-M: ');

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
  // Trading. Quantities: USD-M in ETH, COIN-M in whole 10 USD contracts; fees and margin in USDT or ETH.
  const small = usdm ? 0.01 : 1;
  const size = usdm ? 0.5 : 5;
  const marginAsset = usdm ? 'USDT' : 'ETH';
  const configured = usdm ? '10000000' : '2000';
  let resting;
  await step('fetchBalance gives the configured margin balance', async () => {
    const b = await ex.fetchBalance();
    assert.strictEqual(units(b[marginAsset].total), units(configured));
    assert.strictEqual(units(b[marginAsset].used), 0n);
  });
  const book = await ex.fetchOrderBook(symbol, 5);
  const tick = ex.market(symbol).precision.price;
  const below = ex.priceToPrecision(symbol, book.bids[0][0] - 50 * tick);
  await step('createOrder: a GTC limit order rests', async () => {
    resting = await ex.createOrder(symbol, 'limit', 'buy', small, Number(below));
    assert.strictEqual(resting.status, 'open');
    const o = await ex.fetchOrder(resting.id, symbol);
    assert.strictEqual(o.status, 'open');
    assert.strictEqual(units(o.price), units(below));
    assert.strictEqual(units(o.amount), units(small));
    assert.strictEqual(o.clientOrderId, resting.clientOrderId);
  });
  await step('createOrder postOnly that would cross is refused (-5022) and never recorded', async () => {
    const crossing = ex.priceToPrecision(symbol, book.asks[0][0] + 20 * tick);
    let refused;
    try {
      await ex.createOrder(symbol, 'limit', 'buy', small, Number(crossing), { postOnly: true, clientOrderId: 'gtx-cross' });
    } catch (e) {
      refused = e;
    }
    assert(refused instanceof ccxt.ExchangeError, `not refused: ${refused}`);
    const body = refused.message.slice(refused.message.indexOf('{'));
    assert.strictEqual(JSON.parse(body).code, -5022, body);
    // The same answer from Binance's own host is, to ccxt, OrderNotFillable on USD-M (ccxt lists no -5022 for
    // COIN-M: its generic ExchangeError).
    const realUrl = usdm ? 'https://fapi.binance.com/fapi/v1/order' : 'https://dapi.binance.com/dapi/v1/order';
    assert.throws(() => ex.handleErrors(400, 'Bad Request', realUrl, 'POST', {}, body, JSON.parse(body), {}, ''),
      usdm ? ccxt.OrderNotFillable : ccxt.ExchangeError);
    await assert.rejects(ex.fetchOrder(undefined, symbol, { origClientOrderId: 'gtx-cross' }), ccxt.OrderNotFound);
  });
  await step('editOrder modifies the order in place: same id, new price and amount', async () => {
    const price = ex.priceToPrecision(symbol, Number(below) - 10 * tick);
    const edited = await ex.editOrder(resting.id, symbol, 'limit', 'buy', 2 * small, Number(price));
    assert.strictEqual(edited.id, resting.id);
    assert.strictEqual(edited.clientOrderId, resting.clientOrderId);
    assert.strictEqual(units(edited.price), units(price));
    assert.strictEqual(units(edited.amount), units(2 * small));
    const open = await ex.fetchOpenOrders(symbol);
    assert.deepStrictEqual(open.map((o) => o.id), [resting.id]);
    assert.strictEqual(units(open[0].price), units(price));
  });
  await step('cancelOrder cancels it; fetchOpenOrders is then empty', async () => {
    const c = await ex.cancelOrder(resting.id, symbol);
    assert.strictEqual(c.status, 'canceled');
    assert.strictEqual((await ex.fetchOpenOrders(symbol)).length, 0);
    assert.strictEqual((await ex.fetchOrder(resting.id, symbol)).status, 'canceled');
  });
  let filled;
  await step('createOrder market fills, heard by watchOrders on the listen key\'s stream; fetchOrder says closed', async () => {
    // ccxt makes a listen key (POST listenKey) and connects its user data stream, then the order fills.
    let pending = ex.watchOrders(symbol);
    await new Promise((r) => setTimeout(r, 500));
    const m = await ex.createOrder(symbol, 'market', 'buy', size);
    for (let i = 0; ; ++i) {
      const heard = (await pending).find((o) => o.id === m.id);
      if (heard && heard.status === 'closed') {
        assert.strictEqual(units(heard.filled), units(size));
        break;
      }
      assert(i < 20, 'the fill never reached watchOrders');
      pending = ex.watchOrders(symbol);
    }
    filled = await ex.fetchOrder(m.id, symbol);
    assert.strictEqual(filled.status, 'closed');
    assert.strictEqual(units(filled.filled), units(size));
  });
  let fees = 0n;
  await step('fetchMyTrades has the fills of the market order, fees in the margin asset', async () => {
    const trades = (await ex.fetchMyTrades(symbol)).filter((t) => t.order === filled.id);
    assert(trades.length > 0, 'no trades');
    let amount = 0n;
    for (const t of trades) {
      amount += units(t.amount);
      assert.strictEqual(t.side, 'buy');
      assert.strictEqual(t.fee.currency, marginAsset);
      fees += units(t.fee.cost);
    }
    assert.strictEqual(amount, units(size));
  });
  await step('fetchPositions shows the long the fills opened', async () => {
    const positions = (await ex.fetchPositions([symbol])).filter((p) => Number(p.contracts) !== 0);
    assert.strictEqual(positions.length, 1);
    assert.strictEqual(positions[0].side, 'long');
    assert.strictEqual(units(positions[0].contracts), units(size));
    assert(positions[0].entryPrice > 0 && positions[0].markPrice > 0);
  });
  await step('fetchBalance: the wallet moved by exactly the fees of the fills', async () => {
    const b = await ex.fetchBalance();
    const asset = b.info.assets.find((a) => a.asset === marginAsset);
    assert.strictEqual(units(configured) - units(asset.walletBalance), fees);
    assert(units(b[marginAsset].used) > 0n, 'the position holds margin');
  });
  await ex.close();
  for (const r of requested) assert(served.has(r), `ccxt requested ${r}, which the venue does not serve`);
  console.log(`ok - ${usdm ? 'USD-M' : 'COIN-M'}: every path ccxt requested is served (${[...new Set(requested)].join(', ')})`);
  // ccxt's listen key keepalive timer (every 20 minutes) outlives close(): end here.
  process.exit(0);
})().catch((e) => { console.error(`FAIL ${e.stack}`); process.exit(1); });
