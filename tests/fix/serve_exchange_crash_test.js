// The OMS crash test over FIX, with the venue in its own process: `tranche exchange` plays the venues,
// `tranche serve` trades on them over FIX (both on one replay clock, by a shared anchor). The EMS is killed
// with SIGKILL mid-parent, twice, and restarted on its journal: it reconciles its children with the exchange
// by OrderStatusRequest, resumes the algo, and at the end the exchange and the journal agree on every fill:
// nothing lost, nothing doubled.
// With `binance` the exchange plays binance-spot behind Binance spot's own API (HTTPS and the WebSocket API,
// with a CA this test makes) and `tranche serve` reaches it through its Binance gateway: after each restart
// it queries the children it left in flight by clientOrderId and fetches their trades.
// With `binance-three` three exchanges play the bundled market's three venues behind Binance's own APIs
// (spot, USD-M, COIN-M: REST, listen-key user streams) and `tranche serve` routes the parent across them
// through three Binance gateways; each exchange's fills are checked against the journal.
// Usage: node serve_exchange_crash_test.js TRANCHE DICTIONARY [fix|binance|binance-three]
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const lib = require('../../fix/lib');
const fixture = require('../binance/fixture');

const [tranche, dictionary] = process.argv.slice(2, 4).map((p) => path.resolve(p));
const protocol = process.argv[4] || 'fix';
const binance = protocol === 'binance' || protocol === 'binance-three';
const venuesPlayed = protocol === 'binance-three' ? ['binance-spot', 'binance-usdm', 'binance-coinm'] : ['binance-spot'];
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
  fs.writeFileSync(`${dir}/key.toml`, 'api_key = "crashTestKey0123456789"\napi_secret = "crashTestSecret"\n',
    { mode: 0o600 });
  return { ca: `${dir}/ca.pem`, cert: `${dir}/server.pem`, key: `${dir}/server.key`, keys: `${dir}/key.toml` };
}

// The bundled config with the venues played (binance-spot alone, or all three), each reached over Binance's
// API at its exchange.
function binanceServeConfig(dir, ports, files) {
  if (ports.length === 1) return fixture.venueConfig({ dir, name: 'serve.toml', port: ports[0], ca: files.ca, keyFile: files.keys });
  return fixture.venuesConfig({ dir, name: 'serve.toml', ca: files.ca, keyFile: files.keys,
    ports: Object.fromEntries(venuesPlayed.map((v, i) => [v, ports[i]])) });
}

function startExchange(port, anchor, files, venue) {
  const args = ['exchange', '--port', String(port), '--speed', '5', '--anchor', anchor, '--quiet', '--json'];
  if (binance) args.push('--protocol', 'binance', '--venue', venue, '--cert', files.cert, '--key', files.key, '--keys', files.keys);
  const child = spawn(tranche, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ex = { child, stdout: '', stderr: '', exited: null };
  child.stdout.on('data', (d) => { ex.stdout += d.toString(); });
  child.stderr.on('data', (d) => { ex.stderr += d.toString(); });
  child.on('exit', (code, signal) => { ex.exited = { code, signal }; });
  processes.push(ex);
  return new Promise((resolve, reject) => {
    const look = setInterval(() => {
      if (ex.stderr.includes(binance ? 'anchored at' : 'FIX 4.4 on')) { clearInterval(look); resolve(ex); }
      if (ex.exited) { clearInterval(look); reject(new Error(`tranche exchange exited: ${ex.stderr}`)); }
    }, 20);
  });
}

async function startServe(port, exchangePort, journal, anchor, config) {
  const serve = await lib.startServe({ tranche, port, journal, speed: '5', config,
    extra: binance ? ['--anchor', anchor] : ['--exchange', `127.0.0.1:${exchangePort}`, '--anchor', anchor] });
  processes.push(serve);
  return serve;
}

// Sum of the journal's fills per venue and side, in listing units (what the exchange counts).
function journalFills(journal) {
  const fills = JSON.parse(execFileSync(tranche, ['journal', journal, 'fills', '--json'], { encoding: 'utf8' })).fills;
  const out = {};
  for (const f of fills) {
    const v = (out[f.venue] = out[f.venue] || { bought: 0, sold: 0, fills: 0, fromStatus: 0 });
    v[f.side === 'buy' ? 'bought' : 'sold'] += Number(f.qty);
    v.fills += 1;
    // Fills the venue made while the EMS was down reach it only through the status it asks for at the
    // restart: booked as one fill per child ("status-..."), however many the venue made.
    if (f.exec_id.startsWith('status-')) v.fromStatus += 1;
  }
  return out;
}

(async () => {
  const dir = lib.tempDir('serve-exchange-crash');
  const journal = `${dir}/serve.journal`;
  const anchor = new Date(Date.now() + 1500).toISOString();
  const exchangePorts = [];
  for (const _ of venuesPlayed) exchangePorts.push(await lib.freePort());
  const exchangePort = exchangePorts[0];
  const files = binance ? binanceFiles(dir) : null;
  const config = binance ? binanceServeConfig(dir, exchangePorts, files) : null;
  const exchanges = [];
  for (let i = 0; i < (binance ? venuesPlayed.length : 1); ++i)
    exchanges.push(await startExchange(exchangePorts[i], anchor, files, venuesPlayed[i]));
  let port = await lib.freePort();
  let serve = await startServe(port, exchangePort, journal, anchor, config);
  await new Promise((r) => setTimeout(r, 1500));  // the sessions to the exchange log on
  let client = await lib.connect({ port, dictionary });
  client.send('D', { ClOrdID: 'crash-1', Side: '1', TransactTime: new Date(), OrdType: '1',
    OrderQtyData: { OrderQty: 40 }, Instrument: { Symbol: 'ETH-USDT' }, TrancheAlgo: 'twap',
    TargetStrategyParameters: 'urgency=passive', ExpireTime: new Date(Date.now() + 30000) });
  await client.waitFor(er('crash-1', (m) => m.ExecType === '0'), 'the ack');
  let lastCum = 0;
  for (const killAt of [4, 12]) {
    await client.waitFor(er('crash-1', (m) => m.ExecType === 'F' && m.CumQty > killAt), `fills past ${killAt}`, 30000);
    const fills = client.received.filter(er('crash-1', (m) => m.ExecType === 'F'));
    lastCum = Math.max(lastCum, fills[fills.length - 1].CumQty);
    serve.child.kill('SIGKILL');
    await lib.stopServe(serve);
    port = await lib.freePort();
    serve = await startServe(port, exchangePort, journal, anchor, config);
    assert.match(serve.stderr, /resuming 1 working parents/, serve.stderr);
    client = await lib.connect({ port, dictionary });
    client.send('H', { ClOrdID: 'crash-1', Side: '1', Instrument: { Symbol: 'ETH-USDT' } });
    const status = await client.waitFor(er('crash-1', (m) => m.ExecType === 'I'), 'the status after a restart', 30000);
    assert.ok(status.CumQty >= lastCum - 1e-9, `CumQty went back after the restart: ${status.CumQty} < ${lastCum}`);
    console.log(`ok   killed at CumQty ${lastCum}; after the restart the parent stands at ${status.CumQty} (${status.OrdStatus})`);
  }
  const end = await client.waitFor(er('crash-1', (m) => ['2', '3', '4', 'C'].includes(m.OrdStatus) && m.ExecType !== 'I'),
    'the end of the parent', 90000);
  assert.ok(end.CumQty <= 40 + 1e-9, `overfilled: ${end.CumQty}`);
  // The EMS sees the market through its own replay, which does not carry its own impact at the exchange: an
  // end-of-horizon sweep can find less there than it saw, and leave a little. What it executed is what counts.
  assert.ok(end.CumQty >= 40 * 0.9, `ended at ${end.CumQty} of 40: ${end.Text}`);
  console.log(`ok   the parent ended ${end.OrdStatus} at ${end.CumQty} of 40`);
  client.logout();
  assert.strictEqual((await lib.stopServe(serve)).code, 0);
  const verified = execFileSync(tranche, ['journal', journal, 'verify'], { encoding: 'utf8' });
  assert.match(verified, /every invariant holds/, verified);

  // The venue's word against the journal's: every fill the exchange made is in the journal once.
  const venues = {};
  for (const exchange of exchanges) {
    exchange.child.kill('SIGTERM');
    await new Promise((r) => (exchange.exited ? r() : exchange.child.on('exit', r)));
    Object.assign(venues, JSON.parse(exchange.stdout).venues);
  }
  const journaled = journalFills(journal);
  assert.deepStrictEqual(Object.keys(journaled).sort(), Object.keys(venues).filter((v) => venues[v].fills > 0).sort(),
    'the venues with fills differ between the exchange and the journal');
  assert.ok(Object.values(venues).some((v) => v.fills > 0), 'the exchange made no fill at all');
  for (const [venue, v] of Object.entries(venues)) {
    const j = journaled[venue] || { bought: 0, sold: 0, fills: 0 };
    assert.ok(Math.abs(Number(v.bought) - j.bought) < 1e-8 && Math.abs(Number(v.sold) - j.sold) < 1e-8,
      `${venue}: the exchange executed ${v.bought} bought / ${v.sold} sold, the journal has ${j.bought} / ${j.sold}`);
    if (j.fromStatus === 0)
      assert.strictEqual(j.fills, v.fills, `${venue}: ${v.fills} fills at the exchange, ${j.fills} in the journal`);
    else
      assert.ok(j.fills <= v.fills, `${venue}: more fills in the journal (${j.fills}) than at the exchange (${v.fills})`);
    console.log(`ok   ${venue}: ${v.orders} orders, ${v.fills} fills, ${v.bought} bought at the exchange = the journal` +
      ` (${j.fills} fills, ${j.fromStatus} booked from a status after a restart)`);
  }
  console.log('all passed');
  process.exit(0);
})().catch(async (e) => {
  console.log(`FAIL ${e.stack}`);
  for (const p of processes) console.log(`--- stderr:\n${p.stderr.slice(-3000)}`);
  for (const p of processes) if (!p.exited) p.child.kill('SIGKILL');
  process.exit(1);
});
