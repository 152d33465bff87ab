// The README's three-venue trading, as written there: three `tranche exchange --protocol binance` play the
// bundled market's spot, USD-M and COIN-M venues behind each market's own API, and `tranche serve` with
// config/binance-three-local.toml (its ports, certificate and key file pointed at this test's) trades one parent
// across them through three real Binance gateways, on their live markets. The parent fills across at least
// two venues; every fill each exchange made is in the journal once (COIN-M's in contracts), the journal
// verifies, and each futures gateway heard its fills on its listen key's stream.
// Usage: node three_venues_test.js TRANCHE DICTIONARY
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const f = require('./fixture');
const lib = require('../../fix/lib');

const [tranche, dictionary] = process.argv.slice(2, 4).map((p) => path.resolve(p));
const running = [];
const venues = f.THREE_VENUES;

// The README's config with this test's ports, CA and key file.
function readmeConfig(dir, ports, certs, keys) {
  const root = path.resolve(__dirname, '../..');
  let toml = fs.readFileSync(path.join(root, 'config/binance-three-local.toml'), 'utf8');
  const readmePorts = { 'binance-spot': 9443, 'binance-usdm': 9444, 'binance-coinm': 9445 };
  for (const v of venues) toml = toml.replaceAll(`127.0.0.1:${readmePorts[v]}`, `127.0.0.1:${ports[v]}`);
  toml = toml.replaceAll('"../cert.pem"', `"${certs.ca}"`).replaceAll('"../keys.toml"', `"${keys.file}"`);
  for (const v of venues) assert.ok(toml.includes(`127.0.0.1:${ports[v]}`), `the README config does not reach ${v}`);
  const file = path.join(dir, 'three.toml');
  fs.writeFileSync(file, toml);
  return file;
}

(async () => {
  const dir = f.makeDir('three-venues');
  const certs = f.makeCertificates(dir);
  const keys = f.makeKeys(dir);
  try {
    const { exchanges, ports } = await f.startThreeExchanges({ tranche, certs, keys, running });
    const journal = `${dir}/three.journal`;
    const config = readmeConfig(dir, ports, certs, keys);
    const serve = await lib.startServe({ tranche, port: null, journal, config, speed: null });
    running.push(serve);
    for (const synced of [/binance-spot market data: ETHUSDT book synced/, /binance-usdm market data: ETHUSDT book synced/,
      /binance-coinm market data: ETHUSD_PERP book synced/])
      assert.match(serve.stderr, synced, serve.stderr);
    assert.match(serve.stderr, /binance-usdm over Binance USD-M futures' API at https:\/\/127\.0\.0\.1:\d+ \(orders by rest, user data on a listen key/);
    assert.match(serve.stderr, /binance-coinm over Binance COIN-M futures' API at /);
    console.log('ok - tranche serve hears the three exchanges\' markets through the real gateways');

    const client = await lib.connect({ port: serve.port, dictionary });
    const { byVenue } = await f.routeOneParent(client, 'three-1', 20);
    console.log(`ok - one parent of 20 ETH routed across the three exchanges through their gateways: ${JSON.stringify(byVenue)}`);
    client.logout();
    assert.strictEqual((await lib.stopServe(serve)).code, 0, serve.stderr);
    const verified = execFileSync(tranche, ['journal', journal, 'verify'], { encoding: 'utf8' });
    assert.match(verified, /every invariant holds/, verified);

    // Each exchange's word against the journal's, in the listing's units (contracts on COIN-M).
    const fills = JSON.parse(execFileSync(tranche, ['journal', journal, 'fills', '--json'], { encoding: 'utf8' })).fills;
    for (const venue of venues) {
      const executed = JSON.parse(await exchanges[venue].stop()).venues[venue];
      const mine = fills.filter((x) => x.venue === venue);
      const bought = mine.reduce((s, x) => s + (x.side === 'buy' ? Number(x.qty) : 0), 0);
      assert.ok(Math.abs(Number(executed.bought) - bought) < 1e-8,
        `${venue}: the exchange executed ${executed.bought}, the journal has ${bought}`);
      assert.strictEqual(mine.length, executed.fills, `${venue}: ${executed.fills} fills at the exchange, ${mine.length} journaled`);
      console.log(`ok - ${venue}: ${executed.orders} orders, ${executed.fills} fills, ${executed.bought} bought = the journal`);
    }
    process.exit(0);
  } catch (e) {
    console.error(`FAIL ${e.stack}`);
    for (const s of running) if (s.stderr) console.error(`--- said:\n${String(s.stderr).slice(-3000)}`);
    for (const s of running) if (s.child && s.child.exitCode === null) s.child.kill('SIGKILL');
    process.exit(1);
  }
})();
