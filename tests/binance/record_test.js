// `tranche md record` against `tranche exchange --protocol binance` in its own process: the venue's own market
// streams and REST snapshots, heard through the Binance spot gateway's market side, written as a recording.
// Midway the exchange has an outage (every stream closed for 1 s): the recording holds the gap and the
// snapshot that re-synced the book after it. `tranche md stats` reads the file back with no error and every
// bookTicker agreeing with the book rebuilt from the diffs, and `tranche sim run` replays it as a venue.
// Stopped by SIGTERM it ends its files cleanly; killed with SIGKILL, what it flushed still reads. Bad options
// are refused with exit 2 before anything is written.
// Usage: node record_test.js TRANCHE
'use strict';
const assert = require('assert');
const fs = require('fs');
const https = require('https');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const f = require('./fixture');

const tranche = path.resolve(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const root = path.resolve(__dirname, '../..');

// binance-spot alone, heard at the exchange on `port`; `files` replaces its recording (a replay of what was
// recorded) when given, with the scenario's window left out (the bundled data's does not cover it).
function spotConfig(dir, name, port, certs, files = null) {
  return f.venueConfig({ dir, name, port, ca: certs.ca, edit: (toml) => (files === null ? toml
    : toml.replace(/\nfiles = \["[^"]*ethusdt_20240808\.gz"\]/, `\nfiles = ${JSON.stringify(files)}`)
      .replace(/\nstart = "[^"]*"\nend = "[^"]*"/, '')) });
}

// The bundled config whole, with `venue` (a futures venue) heard at the exchange on `port`.
function futuresConfig(dir, venue, port, certs) {
  return f.venueConfig({ dir, name: `${venue}.toml`, port, ca: certs.ca, venue, alone: false });
}

function control(port, ca, pathAndQuery) {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: pathAndQuery, method: 'POST', ca: fs.readFileSync(ca) },
      (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end();
  });
}

function record(args) {
  const child = spawn(tranche, ['md', 'record', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const r = { child, stdout: '', stderr: '' };
  child.stdout.on('data', (d) => { r.stdout += d; });
  child.stderr.on('data', (d) => { r.stderr += d; });
  r.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return r;
}

function run(args) {
  const r = spawnSync(tranche, args, { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function step(name, fn) {
  const t = Date.now();
  await fn();
  console.log(`ok - ${name} (${Date.now() - t} ms)`);
}

(async () => {
  const dir = f.makeDir('md-record');
  const certs = f.makeCertificates(dir);
  const keys = f.makeKeys(dir);
  const ex = await f.startExchange({ tranche, certs, keys, port: 0, speed: '10' });
  const { port } = ex;
  const config = spotConfig(dir, 'record.toml', port, certs);
  try {
    let recorded;
    await step('a recording of 8 s through an outage holds the gap and the snapshot that re-synced it', async () => {
      const out = fs.mkdtempSync(path.join(dir, 'out-'));
      const r = record(['--config', config, '--venue', 'binance-spot', '--out', out, '--duration', '8s', '--json']);
      await sleep(2000);
      assert.strictEqual(await control(port, certs.ca, '/tranche/control/disconnect?ms=1000'), 200);
      const exit = await r.exited;
      assert.strictEqual(exit.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.strictEqual(j.files.length, 1);
      recorded = j.files[0];
      assert.strictEqual(recorded.symbol, 'ETHUSDT');
      assert.ok(fs.existsSync(recorded.path), recorded.path);
      assert.ok(recorded.snapshots >= 2, `${recorded.snapshots} snapshots: none after the outage`);
      assert.ok(recorded.depth_diffs > 10 && recorded.trades > 0 && recorded.book_tickers > 10, JSON.stringify(recorded));
      assert.strictEqual(recorded.lines,
        recorded.snapshots + recorded.depth_diffs + recorded.trades + recorded.book_tickers + recorded.other);
      assert.ok(j.connects >= 2 && j.disconnects >= 1, JSON.stringify(j));
      assert.match(r.stderr, /book synced at update id/);
    });

    await step('md stats reads it back: no error, every bookTicker agrees with the book the diffs build', async () => {
      const s = run(['md', 'stats', recorded.path, '--json']);
      assert.strictEqual(s.code, 0, s.stderr);
      const j = JSON.parse(s.stdout);
      assert.strictEqual(j.format, 'binance');
      assert.strictEqual(j.lines, recorded.lines);
      assert.strictEqual(j.errors, 0, s.stderr);
      assert.ok(j.bbo_checks > 0, 'no bookTicker was checked against the book');
      console.log(`  ${j.lines} lines, ${j.bbo_checks} bookTickers checked against the rebuilt book, ${j.gaps} gaps`);
      assert.strictEqual(j.bbo_mismatches, 0, s.stderr);
      assert.strictEqual(j.streams[0].stream, 'binance-spot:ETHUSDT');
      assert.ok(j.streams[0].counts.trade > 0, JSON.stringify(j.streams[0].counts));
      assert.ok(j.last_ns - j.first_ns > 3e9, `a span of ${(j.last_ns - j.first_ns) / 1e9} s`);
    });

    await step('sim run replays the recording as binance-spot', async () => {
      const replay = spotConfig(dir, 'replay.toml', port, certs, [recorded.path]);
      const s = run(['sim', 'run', '--config', replay, '--json']);
      assert.strictEqual(s.code, 0, s.stderr);
      const j = JSON.parse(s.stdout);
      const venue = j.venues.find((v) => v.venue === 'binance-spot');
      assert.ok(venue, s.stdout);
      assert.ok(venue.events > recorded.depth_diffs, JSON.stringify(venue));
    });

    await step('SIGTERM ends the files cleanly; SIGKILL leaves what was flushed readable', async () => {
      const out = fs.mkdtempSync(path.join(dir, 'signals-'));
      const term = record(['--config', config, '--venue', 'binance-spot', '--out', out, '--json']);
      await sleep(2500);
      term.child.kill('SIGTERM');
      const exit = await term.exited;
      assert.strictEqual(exit.code, 0, term.stderr);
      assert.match(term.stderr, /SIGTERM: stopped/);
      const file = JSON.parse(term.stdout).files[0];
      const stats = run(['md', 'stats', file.path, '--json']);
      assert.strictEqual(stats.code, 0, stats.stderr);
      assert.strictEqual(JSON.parse(stats.stdout).lines, file.lines);

      const out2 = fs.mkdtempSync(path.join(dir, 'killed-'));
      const kill = record(['--config', config, '--venue', 'binance-spot', '--out', out2]);
      await sleep(3000);
      kill.child.kill('SIGKILL');
      await kill.exited;
      const [name] = fs.readdirSync(out2);
      const killed = run(['md', 'stats', path.join(out2, name), '--json']);
      assert.ok(killed.code === 0, `md stats on a killed recording: ${killed.code}: ${killed.stderr}`);
      assert.ok(JSON.parse(killed.stdout).lines > 0, 'nothing flushed before the kill');
    });

    for (const [venue, symbol] of [['binance-usdm', 'ETHUSDT'], ['binance-coinm', 'ETHUSD_PERP']]) {
      await step(`${venue}: its futures market data (diffs chained by pu) recorded and read back`, async () => {
        const fx = await f.startExchange({ tranche, certs, keys, port: 0, speed: '10',
          extra: ['--venue', venue] });
        const futuresPort = fx.port;
        try {
          const out = fs.mkdtempSync(path.join(dir, `${venue}-`));
          const r = record(['--config', futuresConfig(dir, venue, futuresPort, certs), '--venue', venue, '--out', out,
            '--duration', '4s', '--json']);
          const exit = await r.exited;
          assert.strictEqual(exit.code, 0, r.stderr);
          const file = JSON.parse(r.stdout).files[0];
          assert.strictEqual(file.symbol, symbol);
          assert.ok(file.snapshots >= 1 && file.depth_diffs > 5 && file.book_tickers > 5, JSON.stringify(file));
          const s = run(['md', 'stats', file.path, '--json']);
          assert.strictEqual(s.code, 0, s.stderr);
          const j = JSON.parse(s.stdout);
          assert.strictEqual(j.errors, 0, s.stderr);
          assert.strictEqual(j.gaps, 0, s.stderr);
          assert.ok(j.bbo_checks > 0, 'no bookTicker was checked against the book');
          assert.strictEqual(j.bbo_mismatches, 0, s.stderr);
          console.log(`  ${venue}: ${j.lines} lines, ${j.bbo_checks} bookTickers checked against the rebuilt book`);
          // Its orders are served too: one without an API key is refused as Binance refuses it (401, -2014).
          const order = await new Promise((resolve, reject) => {
            const req = https.request({ host: '127.0.0.1', port: futuresPort, path: venue === 'binance-usdm' ? '/fapi/v1/order' : '/dapi/v1/order',
              method: 'POST', ca: fs.readFileSync(certs.ca) }, (res) => {
              let body = '';
              res.on('data', (d) => { body += d; });
              res.on('end', () => resolve({ status: res.statusCode, body }));
            });
            req.on('error', reject);
            req.end();
          });
          assert.strictEqual(order.status, 401, order.body);
          assert.strictEqual(JSON.parse(order.body).code, -2014, order.body);
        } finally {
          await fx.stop();
        }
      });
    }

    await step('bad options are refused before anything is written', async () => {
      const out = fs.mkdtempSync(path.join(dir, 'bad-'));
      const cases = [
        [['--venue', 'binance-usdm'], /binance-usdm has no \[venue.binance\]/],
        [['--venue', 'nowhere'], /--venue nowhere: not in .*\(binance-spot\)/],
        [['--venue', 'binance-spot', '--duration', '-1s'], /--duration/],
        [['--venue', 'binance-spot', '--duration', 'soon'], /--duration/],
        [['--venue', 'binance-spot', '--out', path.join(out, 'missing')], /not a directory/],
      ];
      for (const [args, message] of cases) {
        const bundled = args[1] === 'binance-usdm' ? [] : ['--config', config];
        const where = args.includes('--out') ? [] : ['--out', out];
        const r = run(['md', 'record', ...bundled, ...where, ...args]);
        assert.strictEqual(r.code, 2, `${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      assert.deepStrictEqual(fs.readdirSync(out), []);
    });
  } finally {
    await ex.stop();
  }
})().catch((e) => {
  console.error(`FAIL ${e.stack}`);
  process.exit(1);
});
