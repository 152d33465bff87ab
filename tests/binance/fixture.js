// What the tests of `tranche exchange --protocol binance` share: a test CA and a server certificate for
// 127.0.0.1 made with the openssl CLI in a temporary directory, an owner-only API key file, a free port, the
// exchange started there (and stopped), and signed requests over HTTPS trusting only the test CA.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');

function makeDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tranche-${name}-`));
}

function makeCertificates(dir) {
  const file = (n) => path.join(dir, n);
  const openssl = (args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'),
    '-days', '1', '-subj', '/CN=tranche test CA']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'),
    '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-CAcreateserial', '-out', file('server.pem'), '-days', '1', '-extfile', file('san.ext')]);
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

function makeKeys(dir) {
  const apiKey = `testKey${process.pid}`;
  const secret = crypto.randomBytes(24).toString('hex');
  const file = path.join(dir, 'keys.toml');
  fs.writeFileSync(file, `api_key = "${apiKey}"\napi_secret = "${secret}"\n`, { mode: 0o600 });
  return { apiKey, secret, file };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Starts the exchange; resolves once it says what it serves. `port` 0 lets it pick one: `ex.port` says which.
// `ready`: what its first line says once it serves (every venue's line ends with the anchor).
async function startExchange({ tranche, certs, keys, port, speed, extra = [], ready = 'anchored at' }) {
  const child = spawn(tranche, ['exchange', '--protocol', 'binance', '--cert', certs.cert, '--key', certs.key,
    '--keys', keys.file, '--port', String(port), '--speed', speed, '--quiet', '--json', ...extra],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const ex = { child, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { ex.stdout += d; });
  child.stderr.on('data', (d) => { ex.stderr += d; });
  ex.exited = new Promise((resolve) => child.on('exit', resolve));
  const started = Date.now();
  while (!ex.stderr.includes(ready)) {
    if (child.exitCode !== null || Date.now() - started > 20000) throw new Error(`tranche exchange did not start: ${ex.stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  ex.stop = async () => { child.kill('SIGTERM'); await ex.exited; return ex.stdout; };
  // Port 0: the exchange binds a free one itself (no race with another test for it) and says which.
  const bound = ex.stderr.match(/REST https:\/\/[^:/]+:(\d+)\//);
  ex.port = bound ? Number(bound[1]) : port;
  return ex;
}

// A REST client that trusts the test CA only, signing as Binance asks (query string, then body).
function client({ port, ca, apiKey, secret }) {
  const agent = new https.Agent({ ca: fs.readFileSync(ca), keepAlive: true });
  function request(method, pathName, params = {}, { signed = false, body = null, timestampMs = null } = {}) {
    let query = new URLSearchParams(params).toString();
    if (signed) {
      query += `${query ? '&' : ''}timestamp=${timestampMs ?? Date.now()}`;
      query += `&signature=${crypto.createHmac('sha256', secret).update(query).digest('hex')}`;
    }
    return new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, method, path: pathName + (query ? `?${query}` : ''), agent,
        headers: signed ? { 'X-MBX-APIKEY': apiKey } : {} }, (res) => {
        let text = '';
        res.on('data', (d) => { text += d; });
        res.on('end', () => {
          let json = null;
          try { json = JSON.parse(text); } catch (e) { /* not JSON: an HTML 404 */ }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      });
      req.on('error', reject);
      if (body !== null) req.write(body);
      req.end();
    });
  }
  return { request, agent };
}

// The bundled config with its data paths made absolute and `extra` TOML appended: a config file anywhere.
function configWith(dir, extra) {
  const root = path.resolve(__dirname, '../..');
  const text = fs.readFileSync(path.join(root, 'config/default.toml'), 'utf8').replaceAll('"../data/', `"${root}/data/`);
  const file = path.join(dir, 'config.toml');
  fs.writeFileSync(file, `${text}\n${extra}\n`);
  return file;
}

// The bundled config with each venue of `ports` ({"binance-usdm": 9444, ...}) reached over Binance's API at the
// exchange on its port (its [venue.binance]: the exchange's URLs, `ca` trusted, `keyFile` when given).
// `alone`: the venues after the last one named left out. `market`: [server] market ("live", "paper"). `edit`:
// any last change to the text.
function venuesConfig({ dir, name, ports, ca, keyFile = null, alone = false, market = null, edit = (text) => text }) {
  const root = path.resolve(__dirname, '../..');
  let toml = fs.readFileSync(path.join(root, 'config/default.toml'), 'utf8').replaceAll('"../data/', `"${root}/data/`);
  for (const [venue, port] of Object.entries(ports)) {
    const at = toml.indexOf(`id = "${venue}"`);
    if (at < 0) throw new Error(`no ${venue} in the bundled config`);
    const server = toml.indexOf('\n# tranche serve');
    let end = toml.indexOf('[[venue]]', at);
    if (end < 0 || end > server) end = server;
    const binance = `[venue.binance]
rest_url = "https://127.0.0.1:${port}"
ws_api_url = "wss://127.0.0.1:${port}/ws-api/v3"
stream_url = "wss://127.0.0.1:${port}"
ca_file = "${ca}"
${keyFile ? `key_file = "${keyFile}"\n` : ''}`;
    toml = toml.slice(0, end) + binance + (alone ? toml.slice(server) : `\n${toml.slice(end)}`);
  }
  if (market) {
    if (!/\nmarket = "replay"/.test(toml)) throw new Error('the bundled config does not say its server\'s market');
    toml = toml.replace(/\nmarket = "replay"/, `\nmarket = "${market}"`);
  }
  const file = path.join(dir, name);
  fs.writeFileSync(file, edit(toml));
  return file;
}

// One venue of the bundled config reached over Binance's API (binance-spot, alone, unless said otherwise).
function venueConfig({ venue = 'binance-spot', port, alone = true, ...rest }) {
  return venuesConfig({ ...rest, ports: { [venue]: port }, alone });
}

const THREE_VENUES = ['binance-spot', 'binance-usdm', 'binance-coinm'];

// The bundled market's three venues, each its own exchange on one replay clock (an anchor 2 s ahead), each
// pushed onto `running` as it starts. Resolves to { exchanges, ports } by venue id.
async function startThreeExchanges({ tranche, certs, keys, running }) {
  const anchor = new Date(Date.now() + 2000).toISOString();
  const exchanges = {};
  const ports = {};
  for (const venue of THREE_VENUES) {
    const ex = await startExchange({ tranche, certs, keys, port: 0, speed: '5', extra: ['--venue', venue, '--anchor', anchor] });
    running.push(ex);
    exchanges[venue] = ex;
    ports[venue] = ex.port;
  }
  return { exchanges, ports };
}

// A TWAP of `qty` ETH over 16 s sent by a FIX `client` of tranche serve, waited for to its end: it must fill
// (>= 99.95%) across at least two venues. Resolves to { end, byVenue } (what each venue filled, by LastMkt).
async function routeOneParent(client, id, qty) {
  const er = (test) => (m) => m.msgType === '8' && m.ClOrdID === id && test(m);
  client.send('D', { ClOrdID: id, Side: '1', TransactTime: new Date(), OrdType: '1',
    OrderQtyData: { OrderQty: qty }, Instrument: { Symbol: 'ETH-USDT' }, TrancheAlgo: 'twap',
    TargetStrategyParameters: 'slice=2s', ExpireTime: new Date(Date.now() + 16000) });
  const end = await client.waitFor(er((m) => ['2', '3', '4', 'C', '8'].includes(m.OrdStatus) && m.ExecType !== 'I'),
    'the end of the parent across three venues', 60000);
  if (!(['2', '3'].includes(end.OrdStatus) && end.CumQty > qty * 0.9995))
    throw new Error(`ended ${end.OrdStatus} at ${end.CumQty}: ${end.Text}`);
  const byVenue = {};
  for (const m of client.received.filter(er((x) => x.ExecType === 'F')))
    byVenue[m.LastMkt] = (byVenue[m.LastMkt] || 0) + m.LastQty;
  if (Object.keys(byVenue).length < 2) throw new Error(`filled on one venue only: ${JSON.stringify(byVenue)}`);
  return { end, byVenue };
}

module.exports = { makeDir, makeCertificates, makeKeys, freePort, startExchange, client, configWith, venueConfig,
  venuesConfig, THREE_VENUES, startThreeExchanges, routeOneParent };
