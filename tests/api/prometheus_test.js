// A real Prometheus (Debian's) scrapes `tranche serve`'s /metrics with a viewer's bearer token, and a metric is
// read back through Prometheus's own HTTP API: the exposition is one Prometheus takes, not one we only think
// it takes.
// Usage: node prometheus_test.js TRANCHE
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const lib = require('../../fix/lib');

const tranche = path.resolve(process.argv[2]);
let serve = null;
let prometheus = null;

function findPrometheus() {
  for (const p of ['/usr/bin/prometheus', '/usr/local/bin/prometheus'])
    if (fs.existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
  } catch (e) {
    return null;
  }
}

async function until(what, fn, ms) {
  const started = Date.now();
  for (;;) {
    const value = await fn().catch(() => null);
    if (value) return value;
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

(async () => {
  const binary = findPrometheus();
  assert.ok(binary, 'no prometheus binary: `make test` installs Debian\'s prometheus (scripts/install-deps.sh)');
  const dir = lib.tempDir('prometheus');
  serve = await lib.startServe({ tranche, port: null, journal: `${dir}/serve.journal`, speed: '10', extra: ['--quiet'] });
  assert.ok(serve.apiPort, serve.stderr);
  // Something to count: a market parent.
  const submitted = await fetch(`http://127.0.0.1:${serve.apiPort}/api/v1/parents`, {
    method: 'POST',
    headers: { Authorization: 'Bearer demo-trader', 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_order_id: 'prom-1', instrument: 'ETH-USDT', side: 'buy', qty: '1', algo: 'market' }),
  });
  assert.strictEqual(submitted.status, 201, await submitted.text());

  const webPort = await lib.freePort();
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: tranche
    authorization:
      type: Bearer
      credentials: demo-viewer
    static_configs:
      - targets: ['127.0.0.1:${serve.apiPort}']
`);
  execFileSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { stdio: 'pipe' });
  prometheus = spawn(binary, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${webPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  prometheus.stderr.on('data', (d) => { log += d; });
  const query = async (q) => {
    const r = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(q)}`);
    const j = await r.json();
    return j.status === 'success' && j.data.result.length > 0 ? j.data.result : null;
  };
  try {
    const up = await until('the scrape to succeed (up == 1)', async () => {
      const r = await query('up{job="tranche"}');
      return r && r[0].value[1] === '1' ? r : null;
    }, 60000);
    console.log(`ok   Prometheus scraped tranche serve: up = ${up[0].value[1]}`);
    const fills = await until('fills counted', async () => {
      const r = await query('sum(tranche_fills_total)');
      return r && Number(r[0].value[1]) > 0 ? r : null;
    }, 60000);
    console.log(`ok   sum(tranche_fills_total) = ${fills[0].value[1]} through Prometheus's query API`);
    const p99 = await until('a decision latency quantile', () => query('histogram_quantile(0.99, sum by (le) (tranche_decision_seconds_bucket{event="market_data"}))'), 60000);
    console.log(`ok   histogram_quantile(0.99, tranche_decision_seconds{event="market_data"}) = ${p99[0].value[1]} s`);
    assert.ok(Number(p99[0].value[1]) > 0);
  } catch (e) {
    console.log(`prometheus said:\n${log.slice(-3000)}`);
    throw e;
  }
  prometheus.kill('SIGTERM');
  const exit = await lib.stopServe(serve);
  assert.strictEqual(exit.code, 0, serve.stderr);
  console.log('all passed');
  process.exit(0);
})().catch(async (e) => {
  console.log(`FAIL ${e.stack}\n${serve ? serve.stderr.slice(-3000) : ''}`);
  if (prometheus) prometheus.kill('SIGKILL');
  if (serve) await lib.stopServe(serve, 'SIGKILL');
  process.exit(1);
});
