// `tranche serve` on a live market: [server] market = "live", binance-spot's [venue.binance] pointing at a
// `tranche exchange --protocol binance` in its own process (HTTPS and WSS with a CA this test makes). The
// kernel hears the venue's own market streams (depth diffs synced with REST snapshots, trades, bookTickers:
// the venue's book net of our own impact), and sends its orders through the Binance spot gateway. A FIX
// client sends a TWAP buy of a few ETH; midway the exchange has an outage (every WebSocket closed, REST 503
// for 1.5 s): the books are invalid at once and re-sync after the reconnect. The parent fills through the real
// gateway code. A second parent is under way when the server is killed (SIGKILL): restarted on its journal, it
// reconciles its children with the venue, hears the venue's market again and resumes the parent. The exchange's
// fills (--json) equal the journal's, one for one.
// Usage: node serve_live_market_test.js TRANCHE DICTIONARY CONFIG
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const https = require('https');
const { spawn, execFileSync } = require('child_process');
const lib = require('../../fix/lib');
const fixture = require('../binance/fixture');
const { journalFills } = require('./crash_run');

const [tranche, dictionary, bundledConfig] = process.argv.slice(2, 5).map((p) => path.resolve(p));
const processes = [];
const er = (clOrdId, test = () => true) => (m) => m.msgType === '8' && m.ClOrdID === clOrdId && test(m);

// A CA and a certificate for 127.0.0.1 it signed, and the account's key file (owner-only), in `dir`.
function binanceFiles(dir) {
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  fs.writeFileSync(`${dir}/san.ext`, 'subjectAltName=IP:127.0.0.1\n');
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-days', '2', '-subj', '/CN=tranche-test-ca']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key',
    '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out',
    'server.pem', '-days', '2', '-extfile', 'san.ext']);
  fs.writeFileSync(`${dir}/key.toml`, 'api_key = "liveMarketKey0123456789"\napi_secret = "liveMarketSecret"\n',
    { mode: 0o600 });
  fs.chmodSync(`${dir}/key.toml`, 0o600);
  return { ca: `${dir}/ca.pem`, cert: `${dir}/server.pem`, key: `${dir}/server.key`, keys: `${dir}/key.toml` };
}

// The bundled config with binance-spot alone, reached over Binance's API at the exchange, and the server
// on its live market.
function liveConfig(dir, port, files) {
  return fixture.venueConfig({ dir, name: 'live.toml', port, ca: files.ca, keyFile: files.keys, market: 'live' });
}

function startExchange(port, files) {
  const args = ['exchange', '--port', String(port), '--quiet', '--json', '--protocol', 'binance',
    '--cert', files.cert, '--key', files.key, '--keys', files.keys];
  const child = spawn(tranche, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ex = { child, stdout: '', stderr: '', exited: null };
  child.stdout.on('data', (d) => { ex.stdout += d.toString(); });
  child.stderr.on('data', (d) => { ex.stderr += d.toString(); });
  child.on('exit', (code, signal) => { ex.exited = { code, signal }; });
  processes.push(ex);
  return new Promise((resolve, reject) => {
    const look = setInterval(() => {
      if (ex.stderr.includes('Binance spot API for')) { clearInterval(look); resolve(ex); }
      if (ex.exited) { clearInterval(look); reject(new Error(`tranche exchange exited: ${ex.stderr}`)); }
    }, 20);
  });
}

// POST to the exchange's control API (loopback only), trusting the test's CA.
function control(port, files, pathAndQuery) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: pathAndQuery, method: 'POST', ca: fs.readFileSync(files.ca) },
      (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end();
  });
}

(async () => {
  const dir = lib.tempDir('serve-live-market');
  const journal = `${dir}/serve.journal`;
  const exchangePort = await lib.freePort();
  const files = binanceFiles(dir);
  assert.strictEqual(fs.statSync(files.keys).mode & 0o777, 0o600);
  const config = liveConfig(dir, exchangePort, files);
  const exchange = await startExchange(exchangePort, files);

  // A config that names a venue without [venue.binance] is refused, saying which.
  const bad = fs.readFileSync(bundledConfig, 'utf8').replaceAll('"../data/', `"${path.dirname(bundledConfig)}/../data/`)
    .replace(/\nmarket = "replay"/, '\nmarket = "live"');
  fs.writeFileSync(`${dir}/bad.toml`, bad);
  let refused = '';
  try {
    execFileSync(tranche, ['serve', '--config', `${dir}/bad.toml`, '--journal', `${dir}/bad.journal`, '--port', '1'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20000 });
  } catch (e) {
    refused = e.stderr;
  }
  assert.match(refused, /market = "live".*binance-spot, binance-usdm, binance-coinm have no \[venue\.binance\]/, refused);
  console.log('ok   a live market with a venue that has no [venue.binance] is refused, naming it');

  const serve = await lib.startServe({ tranche, port: null, journal, config, speed: null });
  const { port } = serve;
  processes.push(serve);
  assert.match(serve.stderr, /binance-spot market data: ETHUSDT book synced at update id \d+/, serve.stderr);
  assert.match(serve.stderr, /market live from the venues' own market data/, serve.stderr);
  console.log('ok   tranche serve on the live market: the book synced from the exchange\'s snapshot and streams');

  const client = await lib.connect({ port, dictionary });
  const qty = 3;
  client.send('D', { ClOrdID: 'live-1', Side: '1', TransactTime: new Date(), OrdType: '1',
    OrderQtyData: { OrderQty: qty }, Instrument: { Symbol: 'ETH-USDT' }, TrancheAlgo: 'twap',
    TargetStrategyParameters: 'slice=2s', ExpireTime: new Date(Date.now() + 20000) });
  const ack = await client.waitFor(er('live-1', (m) => m.ExecType === '0'), 'the ack');
  console.log(`ok   the TWAP is acknowledged: ${ack.Text}`);
  await client.waitFor(er('live-1', (m) => m.ExecType === 'F'), 'a first fill', 20000);
  assert.strictEqual(await control(exchangePort, files, '/tranche/control/disconnect?ms=1500'), 200);
  const dropped = Date.now();
  while (!/market data: stream dropped/.test(serve.stderr) && Date.now() - dropped < 5000)
    await new Promise((r) => setTimeout(r, 20));
  assert.match(serve.stderr, /binance-spot market data: stream dropped \(.*\): every book invalid until it re-syncs/,
    serve.stderr);
  console.log('ok   the exchange\'s outage drops the market stream: the book is invalid at once');
  const end = await client.waitFor(er('live-1', (m) => ['2', '3', '4', 'C', '8'].includes(m.OrdStatus) && m.ExecType !== 'I'),
    'the end of the parent', 60000);
  const fills = client.received.filter(er('live-1', (m) => m.ExecType === 'F'));
  assert.strictEqual(end.OrdStatus, '2', `the parent ended ${end.OrdStatus} at ${end.CumQty} of ${qty}: ${end.Text}`);
  assert.ok(Math.abs(end.CumQty - qty) < 1e-9, `ended at ${end.CumQty} of ${qty}`);
  for (const f of fills) assert.strictEqual(f.LastMkt, 'binance-spot');
  console.log(`ok   the parent filled: ${fills.length} fills, ${end.CumQty} ETH at ${end.AvgPx} on binance-spot`);
  assert.doesNotMatch(serve.stderr, /bad message|dropped: the kernel/, serve.stderr);
  const synced = serve.stderr.match(/ETHUSDT book synced/g) || [];
  assert.ok(synced.length >= 2, `the book did not re-sync after the outage:\n${serve.stderr}`);
  console.log(`ok   the book re-synced after the reconnect (${synced.length} syncs in all)`);
  for (const line of serve.stderr.split('\n')) if (/market data|refus|reject/i.test(line)) console.log(`     ${line}`);

  // A second parent, the server killed under it and restarted on its journal.
  client.send('D', { ClOrdID: 'live-2', Side: '2', TransactTime: new Date(), OrdType: '1',
    OrderQtyData: { OrderQty: 2 }, Instrument: { Symbol: 'ETH-USDT' }, TrancheAlgo: 'twap',
    TargetStrategyParameters: 'slice=2s', ExpireTime: new Date(Date.now() + 16000) });
  await client.waitFor(er('live-2', (m) => m.ExecType === 'F'), 'a first fill of the second parent', 20000);
  serve.child.kill('SIGKILL');
  await lib.stopServe(serve);
  const again = await lib.startServe({ tranche, port: null, journal, config, speed: null });
  const port2 = again.port;
  processes.push(again);
  assert.match(again.stderr, /resuming 1 working parents/, again.stderr);
  assert.match(again.stderr, /ETHUSDT book synced/, again.stderr);
  const client2 = await lib.connect({ port: port2, dictionary });
  client2.send('H', { ClOrdID: 'live-2', Side: '2', Instrument: { Symbol: 'ETH-USDT' } });
  await client2.waitFor(er('live-2', (m) => m.ExecType === 'I'), 'the status after the restart');
  const end2 = await client2.waitFor(er('live-2', (m) => ['2', '3', '4', 'C', '8'].includes(m.OrdStatus) && m.ExecType !== 'I'),
    'the end of the second parent', 60000);
  assert.strictEqual(end2.OrdStatus, '2', `the second parent ended ${end2.OrdStatus} at ${end2.CumQty} of 2: ${end2.Text}`);
  console.log(`ok   killed under a second parent and restarted: it resumed on the live market and filled ${end2.CumQty} ETH`);
  client2.logout();
  assert.strictEqual((await lib.stopServe(again)).code, 0, again.stderr);
  const verified = execFileSync(tranche, ['journal', journal, 'verify'], { encoding: 'utf8' });
  assert.match(verified, /every invariant holds/, verified);

  // The venue's word against the journal's: every fill the exchange made is in the journal once.
  exchange.child.kill('SIGTERM');
  await new Promise((r) => exchange.child.on('exit', r));
  const venues = JSON.parse(exchange.stdout).venues;
  const journaled = journalFills(tranche, journal);
  assert.deepStrictEqual(Object.keys(journaled).sort(), ['binance-spot']);
  for (const [venue, v] of Object.entries(venues)) {
    const j = journaled[venue] || { bought: 0, sold: 0, fills: 0 };
    assert.ok(Math.abs(Number(v.bought) - j.bought) < 1e-8 && Math.abs(Number(v.sold) - j.sold) < 1e-8,
      `${venue}: the exchange executed ${v.bought} bought / ${v.sold} sold, the journal has ${j.bought} / ${j.sold}`);
    if (j.fromStatus === 0)
      assert.strictEqual(j.fills, v.fills, `${venue}: ${v.fills} fills at the exchange, ${j.fills} in the journal`);
    else
      assert.ok(j.fills <= v.fills, `${venue}: more fills in the journal (${j.fills}) than at the exchange (${v.fills})`);
    console.log(`ok   ${venue}: ${v.orders} orders, ${v.fills} fills, ${v.bought} bought and ${v.sold} sold at the exchange` +
      ` = the journal (${j.fills} fills, ${j.fromStatus} booked from a status after the restart)`);
  }
  console.log('all passed');
  process.exit(0);
})().catch(async (e) => {
  console.log(`FAIL ${e.stack}`);
  for (const p of processes) console.log(`--- stderr:\n${p.stderr.slice(-4000)}`);
  for (const p of processes) if (!p.exited) p.child.kill('SIGKILL');
  process.exit(1);
});
