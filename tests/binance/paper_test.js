// `tranche serve --paper`: the live market of `tranche exchange --protocol binance` (its streams and REST
// snapshots, heard through the Binance gateway's market side) fed into the simulator, which fills every order
// against it. A FIX client sends a TWAP: it fills, the journal verifies, and the exchange received no order
// at all. Killed with SIGKILL mid-parent and restarted on its journal, it resumes on the live market. A venue
// without [venue.sim] is refused, naming it. Then spot, USD-M and COIN-M, each from its own exchange: one parent
// is routed across their live markets on paper.
// Usage: node paper_test.js TRANCHE DICTIONARY
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const f = require('./fixture');
const lib = require('../../fix/lib');

const [tranche, dictionary] = process.argv.slice(2, 4).map((p) => path.resolve(p));
const er = (clOrdId, test = () => true) => (m) => m.msgType === '8' && m.ClOrdID === clOrdId && test(m);
const running = [];

// binance-spot alone, its market heard at the exchange, paper trading; `withSim` false: its [venue.sim] gone.
function paperConfig(dir, port, certs, { withSim = true } = {}) {
  return f.venueConfig({ dir, name: withSim ? 'paper.toml' : 'nosim.toml', port, ca: certs.ca, market: 'paper',
    edit: (toml) => (withSim ? toml
      : toml.slice(0, toml.indexOf('\n[venue.sim]\n') + 1) + toml.slice(toml.indexOf('[venue.binance]'))) });
}

const twap = (id, side, qty, seconds) => ({ ClOrdID: id, Side: side, TransactTime: new Date(), OrdType: '1',
  OrderQtyData: { OrderQty: qty }, Instrument: { Symbol: 'ETH-USDT' }, TrancheAlgo: 'twap',
  TargetStrategyParameters: 'slice=2s', ExpireTime: new Date(Date.now() + seconds * 1000) });

(async () => {
  const dir = f.makeDir('serve-paper');
  const certs = f.makeCertificates(dir);
  const keys = f.makeKeys(dir);
  const ex = await f.startExchange({ tranche, certs, keys, port: 0, speed: '5' });
  const exchangePort = ex.port;
  running.push(ex);
  try {
    const bad = paperConfig(dir, exchangePort, certs, { withSim: false });
    const refused = await lib.startServe({ tranche, port: null, journal: `${dir}/bad.journal`,
      config: bad, speed: null }).then((s) => { running.push(s); return null; }, (e) => e);
    assert.ok(refused, 'paper trading started with a venue the simulator cannot play');
    assert.match(refused.message, /market = "paper" fills every order in the simulator, and binance-spot has no \[venue\.sim\]/);
    console.log('ok - a venue without [venue.sim] is refused, naming it');

    const journal = `${dir}/paper.journal`;
    const config = paperConfig(dir, exchangePort, certs);
    const serve = await lib.startServe({ tranche, port: null, journal, config, speed: null });
    const { port } = serve;
    running.push(serve);
    assert.match(serve.stderr, /market paper: the venues' own market data/, serve.stderr);
    assert.match(serve.stderr, /binance-spot market data: ETHUSDT book synced at update id \d+/, serve.stderr);
    assert.match(serve.stderr, /binance-spot market data from wss:.*its orders filled by the simulator \(paper\)/);
    console.log('ok - tranche serve --paper hears the exchange\'s live market');

    const client = await lib.connect({ port, dictionary });
    client.send('D', twap('paper-1', '1', 3, 16));
    await client.waitFor(er('paper-1', (m) => m.ExecType === '0'), 'the ack');
    const end = await client.waitFor(er('paper-1', (m) => ['2', '3', '4', 'C', '8'].includes(m.OrdStatus) && m.ExecType !== 'I'),
      'the end of the parent', 60000);
    const fills = client.received.filter(er('paper-1', (m) => m.ExecType === 'F'));
    assert.strictEqual(end.OrdStatus, '2', `ended ${end.OrdStatus} at ${end.CumQty}: ${end.Text}`);
    assert.ok(Math.abs(end.CumQty - 3) < 1e-9);
    // The live book at the time: the fills are within the exchange's market (its replayed ETH price).
    for (const m of fills) assert.ok(m.LastPx > 1000 && m.LastPx < 10000 && m.LastMkt === 'binance-spot', JSON.stringify(m));
    console.log(`ok - a TWAP of 3 ETH filled on paper: ${fills.length} fills at ${end.AvgPx}`);

    // Killed under a second parent, restarted on its journal: it resumes on the live market.
    client.send('D', twap('paper-2', '2', 2, 14));
    await client.waitFor(er('paper-2', (m) => m.ExecType === 'F'), 'a first fill of the second parent', 20000);
    serve.child.kill('SIGKILL');
    await lib.stopServe(serve);
    const again = await lib.startServe({ tranche, port: null, journal, config, speed: null });
    const port2 = again.port;
    running.push(again);
    assert.match(again.stderr, /resuming 1 working parents/, again.stderr);
    const client2 = await lib.connect({ port: port2, dictionary });
    const end2 = await client2.waitFor(er('paper-2', (m) => ['2', '3', '4', 'C'].includes(m.OrdStatus) && m.ExecType !== 'I'),
      'the end of the second parent', 60000);
    assert.ok(['2', '4'].includes(end2.OrdStatus), `the second parent ended ${end2.OrdStatus}: ${end2.Text}`);
    assert.ok(end2.CumQty > 0 && end2.CumQty <= 2 + 1e-9, `${end2.CumQty}`);
    console.log(`ok - killed under a second parent and restarted: it resumed and ended ${end2.OrdStatus} at ${end2.CumQty} ETH`);
    client2.logout();
    assert.strictEqual((await lib.stopServe(again)).code, 0, again.stderr);
    const verified = execFileSync(tranche, ['journal', journal, 'verify'], { encoding: 'utf8' });
    assert.match(verified, /every invariant holds/, verified);
    const journaled = JSON.parse(execFileSync(tranche, ['journal', journal, 'fills', '--json'], { encoding: 'utf8' })).fills;
    assert.ok(journaled.length >= fills.length, `${journaled.length} fills journaled`);
    console.log(`ok - the journal verifies: ${journaled.length} fills`);

    // No order reached the venue.
    const executed = JSON.parse(await ex.stop()).venues['binance-spot'];
    running.splice(running.indexOf(ex), 1);
    assert.strictEqual(executed.orders, 0, JSON.stringify(executed));
    assert.strictEqual(executed.fills, 0, JSON.stringify(executed));
    console.log('ok - the exchange received no order');

    // Spot, USD-M and COIN-M, each from its own exchange on one replay clock (the futures in their own words),
    // one parent routed across them.
    const { ports } = await f.startThreeExchanges({ tranche, certs, keys, running });
    const three = f.venuesConfig({ dir, name: 'three.toml', ports, ca: certs.ca, market: 'paper' });
    const serve3 = await lib.startServe({ tranche, port: null, journal: `${dir}/three.journal`, config: three, speed: null });
    running.push(serve3);
    for (const synced of [/binance-usdm market data: ETHUSDT book synced/, /binance-coinm market data: ETHUSD_PERP book synced/])
      assert.match(serve3.stderr, synced, serve3.stderr);
    const client3 = await lib.connect({ port: serve3.port, dictionary });
    const { byVenue } = await f.routeOneParent(client3, 'three-1', 20);
    console.log(`ok - one parent of 20 ETH routed across the three live markets on paper: ${JSON.stringify(byVenue)}`);
    client3.logout();
    assert.strictEqual((await lib.stopServe(serve3)).code, 0, serve3.stderr);
    for (const r of running) if (r.stop && r.child.exitCode === null) await r.stop();
    process.exit(0);
  } catch (e) {
    console.error(`FAIL ${e.stack}`);
    for (const s of running) if (s.stderr) console.error(`--- said:\n${String(s.stderr).slice(-3000)}`);
    for (const s of running) if (s.child && s.child.exitCode === null) s.child.kill('SIGKILL');
    process.exit(1);
  }
})();
