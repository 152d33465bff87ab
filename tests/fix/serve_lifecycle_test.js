// `tranche serve` over its life: who may log on, SIGTERM canceling what works, kill -9 and a restart that
// resumes from the journal with nothing lost or doubled, and the recorded data running out.
// Usage: node serve_lifecycle_test.js TRANCHE DICTIONARY CONFIG
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const lib = require('../../fix/lib');

const [tranche, dictionary, bundledConfig] = process.argv.slice(2).map((p) => path.resolve(p));
const running = [];
const er = (clOrdId, test = () => true) => (m) => m.msgType === '8' && m.ClOrdID === clOrdId && test(m);
const newOrder = (clOrdId, qty, expireInMs) => ({
  ClOrdID: clOrdId, Side: '1', TransactTime: new Date(), OrdType: '1', OrderQtyData: { OrderQty: qty },
  Instrument: { Symbol: 'ETH-USDT' }, ExpireTime: new Date(Date.now() + expireInMs),
});

// The bundled config with a [server.fix] of our own; its data paths made absolute, since the copy lives
// elsewhere.
function configWith(dir, serverFix, edit = (text) => text) {
  const repo = path.resolve(path.dirname(bundledConfig), '..');
  // Ours replaces the bundled [server.fix] table (its lines up to the next table or comment); the rest stays.
  const lines = fs.readFileSync(bundledConfig, 'utf8').split('"../data/').join(`"${repo}/data/`).split('\n');
  const at = lines.indexOf('[server.fix]');
  let end = at + 1;
  while (end < lines.length && !/^\s*(\[|#)/.test(lines[end])) ++end;
  lines.splice(at, end - at, '[server.fix]', serverFix, '');
  const file = path.join(dir, 'serve.toml');
  fs.writeFileSync(file, `${edit(lines.join('\n'))}\n`);
  return file;
}

async function start(options) {
  const serve = await lib.startServe({ tranche, ...options });
  running.push(serve);
  return serve;
}

function journalVerifies(journal) {
  const out = execFileSync(tranche, ['journal', journal, 'verify'], { encoding: 'utf8' });
  assert.match(out, /ok|hold|verified/i, out);
}

// The server refuses the Logon (it disconnects, or answers with a Logout): jspurefix's session stops.
async function refused(options, what) {
  const outcome = await Promise.race([
    lib.connect(options).then((client) => ({ client }), (error) => ({ error })),
    new Promise((resolve) => setTimeout(() => resolve({ silent: true }), 5000)),
  ]);
  if (outcome.client) {
    outcome.client.logout();
    assert.fail(`${what} logged on`);
  }
  assert.ok(!outcome.silent, `${what}: neither logged on nor refused within 5 s`);
}

const steps = [];
const step = (name, fn) => steps.push({ name, fn });

step('only configured CompIDs with the right password log on; SIGTERM cancels what works', async () => {
  const dir = lib.tempDir('serve-logon');
  const port = await lib.freePort();
  const config = configWith(dir, 'clients = ["CLIENT1", "DESK2"]\nusername = "trader"\npassword = "s3cret"');
  const journal = `${dir}/serve.journal`;
  const serve = await start({ port, journal, speed: '10', config });
  await refused({ port, dictionary, sender: 'CLIENT9', username: 'trader', password: 's3cret' }, 'an unknown CompID');
  await refused({ port, dictionary, sender: 'CLIENT1', username: 'trader', password: 'guess-7Q' }, 'a wrong password');
  await refused({ port, dictionary, sender: 'CLIENT1' }, 'a Logon without credentials');
  const c = await lib.connect({ port, dictionary, sender: 'DESK2', username: 'trader', password: 's3cret' });
  c.send('D', newOrder('long-1', 60, 30000));
  const ack = await c.waitFor(er('long-1', (m) => m.ExecType === '0'), 'the ack of long-1');
  assert.strictEqual(ack.Account, undefined);
  await c.waitFor(er('long-1', (m) => m.ExecType === 'F'), 'a fill of long-1');
  serve.child.kill('SIGTERM');
  const canceled = await c.waitFor(er('long-1', (m) => m.ExecType === '4'), 'the cancel at shutdown');
  assert.match(canceled.Text, /server shut down/);
  assert.strictEqual(canceled.LeavesQty, 0);
  const exit = await lib.stopServe(serve);
  assert.strictEqual(exit.code, 0, `exit ${JSON.stringify(exit)}\n${serve.stderr.slice(-2000)}`);
  journalVerifies(journal);
  // The defect a hostile user found: the password, right and wrong, was in QuickFIX's message log (mode 644).
  // Every folder is the owner's alone (QuickFIX re-creates its store files at each reset, inside them), and so
  // is every log file.
  const files = [];
  const walk = (d) => {
    assert.strictEqual(fs.statSync(d).mode & 0o077, 0, `${d} is open to others`);
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) { walk(p); continue; }
      files.push(p);
      if (/\.log$/.test(p)) assert.strictEqual(fs.statSync(p).mode & 0o077, 0, `${p} is open to others`);
    }
  };
  walk(`${journal}.fix`);
  assert.ok(files.some((f) => /messages/.test(f)), `no message log in ${files}`);
  for (const f of files) {
    const text = fs.readFileSync(f, 'latin1');
    assert.ok(!text.includes('s3cret') && !text.includes('guess-7Q'), `${f} holds a password`);
  }
  assert.ok(files.some((f) => fs.readFileSync(f, 'latin1').includes('554=***')), 'no masked Logon logged');
});

step('a second server on the same journal is refused at start, naming the first one', async () => {
  const dir = lib.tempDir('serve-twice');
  const journal = `${dir}/serve.journal`;
  const first = await start({ port: await lib.freePort(), journal, speed: '5' });
  const second = await lib.startServe({ tranche, port: await lib.freePort(), journal, speed: '5' }).then(
    (s) => { running.push(s); return null; }, (e) => e);
  assert.ok(second, 'the second server started on the same journal');
  assert.match(second.message, new RegExp(`in use: process ${first.child.pid} writes it`));
  assert.match(second.message, /"code":2/);
  assert.strictEqual((await lib.stopServe(first)).code, 0);
  journalVerifies(journal);
});

step('--kernel-cpu puts the kernel\'s thread alone on its CPU and every other thread off it; a CPU the process may not use is refused', async () => {
  const cpus = require('os').cpus().length;
  const dir = lib.tempDir('serve-pinned');
  const bad = await lib.startServe({ tranche, port: await lib.freePort(), journal: `${dir}/bad.journal`,
    extra: ['--kernel-cpu', '1023'] }).then((s) => { running.push(s); return null; }, (e) => e);
  assert.ok(bad, 'a server started on CPU 1023');
  assert.match(bad.message, /kernel_cpu = 1023 is not a CPU this process may use \(/);
  assert.match(bad.message, /"code":2/);
  if (cpus < 2) {
    console.log('     (one CPU here: nothing to keep apart, the pinning itself is not checked)');
    return;
  }
  const cpu = cpus - 1;
  const serve = await start({ port: await lib.freePort(), journal: `${dir}/serve.journal`, speed: '5',
    extra: ['--kernel-cpu', String(cpu), '--stats-every', '200ms'] });
  // The line comes right after the FIX line the start waits for: it may not have arrived yet (a failed run had
  // only the two lines before it).
  const pinnedLine = new RegExp(`the kernel runs alone on CPU ${cpu}, the other threads on `);
  for (let i = 0; i < 100 && !pinnedLine.test(serve.stderr); ++i) await new Promise((r) => setTimeout(r, 50));
  assert.match(serve.stderr, pinnedLine);
  let stats = null;
  let out = '';
  serve.child.stdout.on('data', (d) => { out += d.toString(); });
  for (let i = 0; i < 100 && !stats; ++i) {
    await new Promise((r) => setTimeout(r, 50));
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (line) stats = JSON.parse(line);
  }
  assert.ok(stats, 'no stats line');
  assert.strictEqual(stats.kernel_cpu, cpu);
  // The main thread is the kernel's; every other thread (QuickFIX's, the API's) is kept off its CPU.
  const pid = serve.child.pid;
  const tasks = fs.readdirSync(`/proc/${pid}/task`);
  assert.ok(tasks.length >= 2, `only ${tasks.length} thread`);
  for (const tid of tasks) {
    const list = /Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))[1];
    const allowed = list.split(',').flatMap((r) => {
      const [a, b] = r.split('-').map(Number);
      return Array.from({ length: (b ?? a) - a + 1 }, (_, k) => a + k);
    });
    if (Number(tid) === pid) assert.deepStrictEqual(allowed, [cpu], `the kernel's thread may run on ${list}`);
    else assert.ok(!allowed.includes(cpu), `thread ${tid} may run on the kernel's CPU (${list})`);
  }
  assert.strictEqual((await lib.stopServe(serve)).code, 0);
});

step('kill -9 mid-parent, restart on the same journal: it resumes where it stood, nothing lost or doubled',
  async () => {
    const dir = lib.tempDir('serve-restart');
    const journal = `${dir}/serve.journal`;
    let port = await lib.freePort();
    let serve = await start({ port, journal, speed: '5' });
    let c = await lib.connect({ port, dictionary });
    c.send('D', newOrder('resume-1', 30, 15000));
    await c.waitFor(er('resume-1', (m) => m.ExecType === 'F' && m.CumQty > 3), 'fills of resume-1 before the kill');
    const before = c.received.filter(er('resume-1', (m) => m.ExecType === 'F'));
    const cumBefore = before[before.length - 1].CumQty;
    serve.child.kill('SIGKILL');
    await lib.stopServe(serve);

    port = await lib.freePort();
    serve = await start({ port, journal, speed: '5' });
    assert.match(serve.stderr, /resuming 1 working parents/);
    c = await lib.connect({ port, dictionary });
    c.send('H', { ClOrdID: 'resume-1', Side: '1', Instrument: { Symbol: 'ETH-USDT' } });
    const status = await c.waitFor(er('resume-1', (m) => m.ExecType === 'I'), 'the status after the restart');
    assert.ok(status.CumQty >= cumBefore - 1e-9, `CumQty went back: ${status.CumQty} < ${cumBefore}`);
    assert.ok(['0', '1'].includes(status.OrdStatus), `status ${status.OrdStatus}: ${status.Text}`);
    const end = await c.waitFor(er('resume-1', (m) => ['2', '3', 'C'].includes(m.OrdStatus) && m.ExecType !== 'I'),
      'the end of resume-1 after the restart', 60000);
    // The resumed algo may fill between the logon and the status request: those fills reach the client before the
    // status and are already in its CumQty. So the fills and the status are checked as one chain in the order they
    // arrived: each fill's CumQty is the one before plus its LastQty, and the status stands where the chain stood.
    const chain = c.received.filter(er('resume-1', (m) => m === status || m.ExecType === 'F'));
    assert.ok(chain.indexOf(status) < chain.length - 1, 'no fill after the status: the algo did not resume');
    let cum = null;
    for (const m of chain) {
      if (m === status) {
        if (cum !== null) assert.ok(Math.abs(m.CumQty - cum) < 1e-7, `the status says ${m.CumQty}, the fills ${cum}`);
        cum = m.CumQty;
        continue;
      }
      if (cum === null) {
        cum = m.CumQty - m.LastQty;
        assert.ok(cum >= cumBefore - 1e-9, `the first fill after the restart starts at ${cum}, below ${cumBefore}`);
      }
      cum += m.LastQty;
      assert.ok(Math.abs(m.CumQty - cum) < 1e-7, `CumQty ${m.CumQty} after the restart, the fills say ${cum}`);
    }
    assert.ok(end.CumQty <= 30 + 1e-9, `overfilled: ${end.CumQty}`);
    assert.ok(end.CumQty >= 30 * 0.99, `a resumed twap ended at ${end.CumQty} of 30: ${end.Text}`);
    c.logout();
    const exit = await lib.stopServe(serve);
    assert.strictEqual(exit.code, 0);
    journalVerifies(journal);
  });

step('a recording cut short is said at start with its venue, file and time, and --strict-data refuses it',
  async () => {
    const dir = lib.tempDir('serve-cut');
    const repo = path.resolve(path.dirname(bundledConfig), '..');
    const cut = path.join(dir, 'cut-spot.gz');
    fs.writeFileSync(cut, fs.readFileSync(`${repo}/data/binance/spot/ethusdt_20240808.gz`).subarray(0, 550000));
    const config = configWith(dir, 'clients = ["CLIENT1"]',
      (text) => text.replace(`"${repo}/data/binance/spot/ethusdt_20240808.gz"`, `"${cut}"`));
    const serve = await start({ port: await lib.freePort(), journal: `${dir}/serve.journal`, speed: '5', config });
    assert.match(serve.stderr, /warning: data: binance-spot: the recorded data stops at 2024-08-08T23:57:0.*cut-spot\.gz/);
    assert.strictEqual((await lib.stopServe(serve)).code, 0);
    const strict = await lib.startServe({ tranche, port: await lib.freePort(), journal: `${dir}/strict.journal`,
      speed: '5', config, extra: ['--strict-data'] }).then((s) => { running.push(s); return null; }, (e) => e);
    assert.ok(strict, 'tranche serve --strict-data started on a truncated recording');
    assert.match(strict.message, /--strict-data: binance-spot/);
    assert.match(strict.message, /"code":2/);
  });

step('when the recorded data ends the venues close, working parents end and say so, the server stays up',
  async () => {
    const dir = lib.tempDir('serve-end');
    const port = await lib.freePort();
    const serve = await start({ port, journal: `${dir}/serve.journal`, speed: '60' });
    const c = await lib.connect({ port, dictionary });
    c.send('D', newOrder('to-the-end', 500, 120000));
    await c.waitFor(er('to-the-end', (m) => m.ExecType === '0'), 'the ack');
    const expired = await c.waitFor(er('to-the-end', (m) => m.ExecType === 'C'), 'the end of the data', 30000);
    assert.match(expired.Text, /recorded data ended/);
    assert.strictEqual(expired.OrdStatus, 'C');
    assert.ok(expired.CumQty > 0 && expired.CumQty < 500);
    c.send('D', newOrder('after-the-end', 1, 5000));
    const closed = await c.waitFor(er('after-the-end'), 'the answer after the end');
    assert.strictEqual(closed.ExecType, '8');
    assert.strictEqual(closed.OrdRejReason, 2);
    assert.ok(!serve.exited, 'the server stopped at the end of the data');
    c.logout();
    assert.strictEqual((await lib.stopServe(serve)).code, 0);
  });

step('with on_data_end = "replay" the data plays again once every parent has ended, and trading goes on',
  async () => {
    const dir = lib.tempDir('serve-replay');
    const port = await lib.freePort();
    const config = configWith(dir, 'clients = ["CLIENT1"]',
      (text) => text.replace('on_data_end = "stay"', 'on_data_end = "replay"'));
    const serve = await start({ port, journal: `${dir}/serve.journal`, speed: '60', config });
    const c = await lib.connect({ port, dictionary });
    c.send('D', newOrder('lap-1', 500, 120000));
    const expired = await c.waitFor(er('lap-1', (m) => m.ExecType === 'C'), 'the end of the first lap', 30000);
    assert.match(expired.Text, /recorded data ended/);
    await new Promise((resolve, reject) => {
      const started = Date.now();
      const look = setInterval(() => {
        if (/the data plays again \(lap 2\)/.test(serve.stderr)) { clearInterval(look); resolve(); }
        if (Date.now() - started > 20000) { clearInterval(look); reject(new Error(`no second lap:\n${serve.stderr}`)); }
      }, 50);
    });
    c.send('D', newOrder('lap-2', 2, 3000));
    const ack = await c.waitFor(er('lap-2'), 'the answer in the second lap');
    assert.strictEqual(ack.ExecType, '0', `${ack.ExecType}: ${ack.Text}`);
    const done = await c.waitFor(er('lap-2', (m) => ['2', '3'].includes(m.OrdStatus)), 'lap-2 filled', 30000);
    assert.ok(done.CumQty >= 1.98 && done.CumQty <= 2, `lap-2 ended at ${done.CumQty}`);
    // Regression: the HTTP API's desk kept the first lap's market (freed by the replay) and the server hung.
    const tca = await fetch(`${serve.apiOrigin}/api/v1/parents/${ack.OrderID}/tca`, { headers: { Authorization: 'Bearer demo-viewer' } });
    const tcaText = await tca.text();
    assert.strictEqual(tca.status, 200, tcaText);
    assert.ok(JSON.parse(tcaText).tca.filled > 0, `the second lap's TCA has no fill: ${tcaText}`);
    c.logout();
    assert.strictEqual((await lib.stopServe(serve)).code, 0);
    journalVerifies(`${dir}/serve.journal`);
  });

(async () => {
  for (const s of steps) {
    const started = Date.now();
    try {
      await s.fn();
      console.log(`ok   ${s.name} (${Date.now() - started} ms)`);
    } catch (e) {
      console.log(`FAIL ${s.name}\n${e.stack}`);
      for (const serve of running) console.log(`--- tranche serve said:\n${serve.stderr.slice(-4000)}`);
      for (const serve of running) await lib.stopServe(serve, 'SIGKILL');
      process.exit(1);
    }
  }
  console.log(`all ${steps.length} passed`);
  process.exit(0);
})();
