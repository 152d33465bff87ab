// `tranche exchange --protocol binance` over its real HTTPS server, at its edges: malformed HTTP, a body over
// the limit, a client that sends too slowly, a clock ahead (-1021), the fill-after-cancel race and an outage on
// demand (the control endpoints), and the rate limits (429 with Retry-After, then 418). After each, the venue
// still answers. Node's own modules only; the test CA is trusted by this client alone.
// Usage: node edges_test.js TRANCHE
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const tls = require('tls');
const f = require('./fixture');

const tranche = path.resolve(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Raw bytes over TLS; resolves with what came back when the server closes (or after `waitMs`).
function raw(port, ca, bytes, waitMs = 3000) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(ca) }, () => { if (bytes) socket.write(bytes); });
    let text = '';
    const started = Date.now();
    const timer = setTimeout(() => { socket.destroy(); resolve({ text, closed: false, ms: Date.now() - started }); }, waitMs);
    socket.on('data', (d) => { text += d; });
    socket.on('close', () => { clearTimeout(timer); resolve({ text, closed: true, ms: Date.now() - started }); });
    socket.on('error', (e) => { if (e.code !== 'ECONNRESET') reject(e); });
  });
}

async function step(name, fn) {
  const t = Date.now();
  await fn();
  console.log(`ok - ${name} (${Date.now() - t} ms)`);
}

(async () => {
  const dir = f.makeDir('binance-edges');
  const certs = f.makeCertificates(dir);
  const keys = f.makeKeys(dir);
  const port = await f.freePort();
  const config = f.configWith(dir, `[exchange.binance]
request_weight_per_minute = 400
refusals_before_ban = 3
first_ban = "3s"
read_timeout = "1s"
max_body_bytes = 2048
`);
  const ex = await f.startExchange({ tranche, certs, keys, port, speed: '20', extra: ['--scenario', config] });
  const { request } = f.client({ port, ca: certs.ca, apiKey: keys.apiKey, secret: keys.secret });
  const alive = async () => assert.strictEqual((await request('GET', '/api/v3/time')).status, 200);
  try {
    await step('an unknown path is 404 with no JSON', async () => {
      const r = await request('GET', '/api/v3/avgPrice', { symbol: 'ETHUSDT' });
      assert.strictEqual(r.status, 404);
      assert.strictEqual(r.json, null);
    });
    await step('malformed HTTP is answered 400 and the connection closed', async () => {
      const r = await raw(port, certs.ca, 'GARBAGE / NOT-HTTP\r\n\r\n');
      assert.match(r.text, /^HTTP\/1\.1 400/);
      assert(r.closed);
      await alive();
    });
    await step('a body over max_body_bytes is answered 413', async () => {
      const r = await request('POST', '/api/v3/order', {}, { body: 'x='.padEnd(100000, 'y') });
      assert.strictEqual(r.status, 413);
      assert.strictEqual(r.json.code, -1000);
      await alive();
    });
    await step('a client that trickles its request loses the connection at read_timeout', async () => {
      const r = await raw(port, certs.ca, 'GET /api/v3/time HTTP/1.1\r\nHost: 127.0.0.1\r\n', 4000);
      assert(r.closed, 'closed by the server');
      assert(r.ms >= 900 && r.ms < 3000, `after ${r.ms} ms`);
      await alive();
    });
    await step('a clock more than 1 s ahead is refused with -1021', async () => {
      const r = await request('GET', '/api/v3/account', {}, { signed: true, timestampMs: Date.now() + 3000 });
      assert.strictEqual(r.status, 400);
      assert.strictEqual(r.json.code, -1021);
      assert.strictEqual(r.json.msg, "Timestamp for this request was 1000ms ahead of the server's time.");
    });
    await step('fill after cancel: the held cancel is answered after the fill the recorded market made', async () => {
      // A buy at the bid and a sell at the ask: whichever way the market goes, one of them is reached. At 20x
      // the touch can move onto the order before it arrives; such an order is not resting and is placed again.
      const ids = [];
      for (const side of ['BUY', 'SELL']) {
        for (let attempt = 0; ids.length < (side === 'BUY' ? 1 : 2); ++attempt) {
          assert(attempt < 10, 'no order of ours rested at the touch');
          const top = (await request('GET', '/api/v3/ticker/bookTicker', { symbol: 'ETHUSDT' })).json;
          const r = await request('POST', '/api/v3/order', { symbol: 'ETHUSDT', side, type: 'LIMIT', timeInForce: 'GTC',
            quantity: '0.05', price: side === 'BUY' ? top.bidPrice : top.askPrice }, { signed: true });
          assert.strictEqual(r.status, 200, r.text);
          if (r.json.status === 'NEW') ids.push(r.json.orderId);
          else if (r.json.status === 'PARTIALLY_FILLED')
            await request('DELETE', '/api/v3/order', { symbol: 'ETHUSDT', orderId: r.json.orderId }, { signed: true });
        }
      }
      const hold = await request('POST', '/tranche/control/fill-after-cancel', { count: 2, max_hold_ms: 20000 });
      assert.strictEqual(hold.status, 200, hold.text);
      const cancels = await Promise.all(ids.map((orderId) => request('DELETE', '/api/v3/order',
        { symbol: 'ETHUSDT', orderId }, { signed: true })));
      let raced = 0;
      for (let i = 0; i < ids.length; ++i) {
        const c = cancels[i];
        const status = (await request('GET', '/api/v3/order', { symbol: 'ETHUSDT', orderId: ids[i] }, { signed: true })).json;
        const trades = (await request('GET', '/api/v3/myTrades', { symbol: 'ETHUSDT', orderId: ids[i] }, { signed: true })).json;
        if (c.status === 400) {
          assert.strictEqual(c.json.code, -2011, c.text);  // the fill won the race: nothing left to cancel
          assert.strictEqual(status.status, 'FILLED');
        } else {
          assert.strictEqual(c.status, 200, c.text);
          assert.strictEqual(c.json.status, 'CANCELED');
          assert.strictEqual(c.json.executedQty, status.executedQty);
        }
        if (Number(status.executedQty) > 0) {
          ++raced;
          assert(trades.length > 0);
          for (const t of trades) assert(c.status === 400 || t.time <= c.json.transactTime, 'the fill came first');
        }
      }
      assert(raced >= 1, 'the recorded market reached one of the two orders while its cancel was held');
    });
    await step('an outage answers 503 -1001 while it lasts, then the venue is back', async () => {
      assert.strictEqual((await request('POST', '/tranche/control/disconnect', { ms: 1500 })).status, 200);
      const down = await request('GET', '/api/v3/time');
      assert.strictEqual(down.status, 503);
      assert.strictEqual(down.json.code, -1001);
      await sleep(1600);
      await alive();
    });
    await step('over the weight limit: 429 with Retry-After, then 418 for an IP that keeps going', async () => {
      let r;
      let last = -1;
      for (let i = 0; i < 100; ++i) {
        r = await request('GET', '/api/v3/exchangeInfo');
        if (r.status !== 200) break;
        const used = Number(r.headers['x-mbx-used-weight-1m']);
        assert(used > last || used <= 20, 'the used weight grows within a minute');
        last = used;
      }
      assert.strictEqual(r.status, 429, r.text);
      assert.strictEqual(r.json.code, -1003);
      assert(Number(r.headers['retry-after']) >= 1);
      for (let i = 0; i < 2; ++i) r = await request('GET', '/api/v3/exchangeInfo');
      assert.strictEqual(r.status, 418, r.text);
      assert.match(r.json.msg, /IP banned until \d+/);
      assert.strictEqual(Number(r.headers['retry-after']), 3);
      assert.strictEqual((await request('GET', '/api/v3/time')).status, 418);
      await sleep(3100);
      assert.notStrictEqual((await request('GET', '/api/v3/time')).status, 418, 'the ban ends');
    });
  } finally {
    const out = await ex.stop();
    if (process.exitCode) console.error(ex.stderr);
    const venue = JSON.parse(out).venues['binance-spot'];
    assert(venue.fills >= 1);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('edges: passed');
})().catch((e) => { console.error(e); process.exit(1); });
