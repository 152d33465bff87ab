// The fixture of the ccxt check: makes a test CA and a server certificate for 127.0.0.1 with the openssl CLI
// in a temporary directory, an owner-only API key file, picks a free port, starts
// `tranche exchange --protocol binance` there, and runs check.js in a node whose only trust of the test CA is
// NODE_EXTRA_CA_CERTS (certificates stay verified; NODE_TLS_REJECT_UNAUTHORIZED is never touched). At the end
// it stops the exchange and checks that the venue's own count of fills (--json) equals what ccxt saw.
// Usage: node run.js TRANCHE
'use strict';
const assert = require('assert');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');

const tranche = path.resolve(process.argv[2]);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tranche-ccxt-'));
const file = (name) => path.join(dir, name);

function openssl(args) {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCertificates() {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-days', '1', '-subj', '/CN=tranche test CA']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'),
    '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-CAcreateserial', '-out', file('server.pem'), '-days', '1', '-extfile', file('san.ext')]);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

(async () => {
  makeCertificates();
  const apiKey = 'ccxtTestKey' + process.pid;
  const secret = 'ccxtTestSecret' + Date.now();
  fs.writeFileSync(file('keys.toml'), `api_key = "${apiKey}"\napi_secret = "${secret}"\n`, { mode: 0o600 });
  const port = await freePort();
  // A slow replay (0.01x): the book barely moves while ccxt's view of it is compared with the venue's, and an
  // order still takes the simulator's 1 ms each way (0.1 s of wall time).
  const exchange = spawn(tranche, ['exchange', '--protocol', 'binance', '--cert', file('server.pem'), '--key',
    file('server.key'), '--keys', file('keys.toml'), '--port', String(port), '--speed', '0.01', '--quiet', '--json'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  exchange.stdout.on('data', (d) => { stdout += d; });
  exchange.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => exchange.on('exit', resolve));
  const started = Date.now();
  while (!stderr.includes('Binance spot API for')) {
    if (exchange.exitCode !== null || Date.now() - started > 20000) throw new Error(`tranche exchange did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: file('ca.pem'), TRANCHE_BINANCE_URL: `https://127.0.0.1:${port}`,
    TRANCHE_API_KEY: apiKey, TRANCHE_API_SECRET: secret };
  delete env.NODE_TLS_REJECT_UNAUTHORIZED;
  const check = spawn(process.execPath, [path.join(__dirname, 'check.js')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  let report = '';
  check.stdout.on('data', (d) => { report += d; process.stdout.write(d); });
  const code = await new Promise((resolve) => check.on('exit', resolve));
  exchange.kill('SIGTERM');
  await exited;
  if (code !== 0) {
    console.error(stderr);
    process.exit(1);
  }
  const seen = JSON.parse(report.trim().split('\n').pop());
  const venue = JSON.parse(stdout).venues['binance-spot'];
  assert.strictEqual(venue.fills, seen.fills, `the venue made ${venue.fills} fills, ccxt saw ${seen.fills}`);
  assert.strictEqual(Number(venue.bought), Number(seen.bought));
  assert.strictEqual(Number(venue.sold), Number(seen.sold));
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('ccxt check: passed');
})().catch((e) => { console.error(e); process.exit(1); });
