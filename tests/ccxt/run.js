// The fixture of the ccxt check: makes a test CA and a server certificate for 127.0.0.1 with the openssl CLI
// in a temporary directory, an owner-only API key file, picks a free port, starts
// `tranche exchange --protocol binance` there, and runs check.js in a node whose only trust of the test CA is
// NODE_EXTRA_CA_CERTS (certificates stay verified; NODE_TLS_REJECT_UNAUTHORIZED is never touched). At the end
// it stops the exchange and checks that the venue's own count of fills (--json) equals what ccxt saw. Then a USD-M and
// a COIN-M venue each in its own exchange, checked by check_futures.js (their market data).
// Usage: node run.js TRANCHE
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');
const f = require('../binance/fixture');

const tranche = path.resolve(process.argv[2]);

(async () => {
  const dir = f.makeDir('ccxt');
  const certs = f.makeCertificates(dir);
  const keys = f.makeKeys(dir);
  const port = await f.freePort();
  // A slow replay (0.01x): the book barely moves while ccxt's view of it is compared with the venue's, and an
  // order still takes the simulator's 1 ms each way (0.1 s of wall time).
  const exchange = await f.startExchange({ tranche, certs, keys, port, speed: '0.01' });
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: certs.ca, TRANCHE_BINANCE_URL: `https://127.0.0.1:${port}`,
    TRANCHE_API_KEY: keys.apiKey, TRANCHE_API_SECRET: keys.secret };
  delete env.NODE_TLS_REJECT_UNAUTHORIZED;
  const check = spawn(process.execPath, [path.join(__dirname, 'check.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let report = '';
  check.stdout.on('data', (d) => { report += d; process.stdout.write(d); });
  const code = await new Promise((resolve) => check.on('exit', resolve));
  const stdout = await exchange.stop();
  if (code !== 0) {
    console.error(exchange.stderr);
    process.exit(1);
  }
  const seen = JSON.parse(report.trim().split('\n').pop());
  const venue = JSON.parse(stdout).venues['binance-spot'];
  assert.strictEqual(venue.fills, seen.fills, `the venue made ${venue.fills} fills, ccxt saw ${seen.fills}`);
  assert.strictEqual(Number(venue.bought), Number(seen.bought));
  assert.strictEqual(Number(venue.sold), Number(seen.sold));
  // Each futures venue's market data, in futures' words, with ccxt's futures clients.
  for (const [venue, kind] of [['binance-usdm', 'usdm'], ['binance-coinm', 'coinm']]) {
    const futures = await f.startExchange({ tranche, certs, keys, port: 0, speed: '1',
      extra: ['--venue', venue], ready: 'futures API for' });
    const futuresPort = futures.port;
    const futuresEnv = { ...env, TRANCHE_BINANCE_URL: `https://127.0.0.1:${futuresPort}`, TRANCHE_FUTURES: kind };
    const child = spawn(process.execPath, [path.join(__dirname, 'check_futures.js')],
      { env: futuresEnv, stdio: ['ignore', 'inherit', 'inherit'] });
    const futuresCode = await new Promise((resolve) => child.on('exit', resolve));
    await futures.stop();
    if (futuresCode !== 0) {
      console.error(futures.stderr);
      process.exit(1);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('ccxt check: passed');
})().catch((e) => { console.error(e); process.exit(1); });
