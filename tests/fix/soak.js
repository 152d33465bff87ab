// Soak: `tranche serve` under a continuous flow of parents over FIX for a set time (make soak: 30 minutes),
// the bundled recording replayed lap after lap ([server] on_data_end = "replay") and ended parents leaving
// memory after a short horizon ([oms] forget_ended_after). It holds:
//   - resident memory flat after warm-up: the highest and lowest sample after warm-up within RSS_BAND (5%);
//   - decision latency flat: the kernel's handling of a market event (p50 and p99 per interval, from
//     `tranche serve --stats-every`), the last third of the run against the second (the first third is
//     warm-up), within LATENCY_RATIO (1.5x; a shared 2-core machine's noise is not a trend);
//   - every parent accepted was answered to its end, none overfilled; what the OMS holds stays bounded;
//   - a parent long forgotten is still answered for (a status request read from the journal).
// Figures go to stdout and, as JSON, to soak-results/summary.json.
// Usage: node soak.js TRANCHE DICTIONARY [--minutes M] [--every-ms N] [--warmup-minutes W] [--speed X]
//        [--horizon DURATION] [--out DIR]
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('../../fix/lib');

const RSS_BAND = 0.05;
const LATENCY_RATIO = 1.5;
// Latencies this small are noise on any machine: a p50 of 4 us against 2 us is not a trend.
const LATENCY_FLOOR_NS = 20000;

function parseArgs(argv) {
  const [tranche, dictionary, ...rest] = argv;
  if (!tranche || !dictionary) {
    console.error('usage: node soak.js TRANCHE DICTIONARY [--minutes M] [--every-ms N] [--warmup-minutes W] [--speed X] [--horizon DURATION] [--out DIR]');
    process.exit(2);
  }
  const options = { tranche: path.resolve(tranche), dictionary: path.resolve(dictionary), minutes: 30,
    everyMs: 2000, warmupMinutes: null, out: 'soak-results', horizon: '60s', speed: '4' };
  for (let i = 0; i < rest.length; i += 2) {
    const [key, value] = [rest[i], rest[i + 1]];
    const number = Number(value);
    if (key === '--minutes' && number > 0) options.minutes = number;
    else if (key === '--every-ms' && number >= 100) options.everyMs = number;
    else if (key === '--warmup-minutes' && number >= 0) options.warmupMinutes = number;
    else if (key === '--out' && value) options.out = value;
    else if (key === '--horizon' && value) options.horizon = value;
    else if (key === '--speed' && number > 0) options.speed = value;
    else {
      console.error(`soak: bad argument ${key} ${value}`);
      process.exit(2);
    }
  }
  // Warm-up: the first third of the run. At 4x that is 40 minutes of market time for a 30-minute run: the
  // kernel's market history (30 minutes of prints and mids, what an algo looks back at when it starts) is full,
  // the OMS holds its horizon's parents, and the replay has changed laps several times.
  if (options.warmupMinutes === null) options.warmupMinutes = options.minutes / 3;
  return options;
}

// The bundled config, replayed lap after lap, ended parents forgotten after `horizon`; its data paths made
// absolute so it may live in a scratch directory.
function soakConfig(dir, horizon) {
  const root = path.resolve(__dirname, '../..');
  let text = fs.readFileSync(path.join(root, 'config/default.toml'), 'utf8');
  text = text.replace(/"\.\.\/data\//g, `"${root}/data/`);
  if (!/on_data_end = "stay"/.test(text)) throw new Error('config/default.toml has no on_data_end = "stay" to change');
  text = text.replace(/on_data_end = "stay"/, 'on_data_end = "replay"');
  text += `\n[oms]\nforget_ended_after = "${horizon}"\n`;
  const file = path.join(dir, 'soak.toml');
  fs.writeFileSync(file, text);
  return file;
}

function residentBytes(pid) {
  try {
    const pages = Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    return pages * 4096;
  } catch (e) {
    return null;
  }
}

function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const FINAL = new Set(['2', '3', '4', '8', 'C']);
const ALGOS = ['twap', 'vwap', 'pov', 'iceberg', 'is', 'peg', 'market'];

let running = null;  // the server, stopped whatever ends the run

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const dir = lib.tempDir('soak');
  const config = soakConfig(dir, o.horizon);
  const serve = await lib.startServe({ tranche: o.tranche, port: null, journal: path.join(dir, 'soak.journal'),
    speed: o.speed, config, extra: ['--quiet', '--stats-every', '30s'] });
  running = serve;
  const pid = serve.child.pid;
  const stats = [];
  let stdout = '';
  serve.child.stdout.on('data', (d) => {
    stdout += d.toString();
    let nl;
    while ((nl = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, nl);
      stdout = stdout.slice(nl + 1);
      if (!line.trim()) continue;
      try {
        const s = JSON.parse(line);
        s.rss_proc_bytes = residentBytes(pid);  // read by us, beside what the server says of itself
        s.elapsed_s = (Date.now() - startedAt) / 1000;
        stats.push(s);
        process.stderr.write(`soak: ${s.elapsed_s.toFixed(0)} s: rss ${(s.rss_bytes / 1048576).toFixed(1)} MiB ` +
          `(heap in use ${(s.heap_in_use_bytes / 1048576).toFixed(1)}, free ${(s.heap_free_bytes / 1048576).toFixed(1)}), ` +
          `oms ${s.oms.parents} parents / ${s.oms.fills} fills (forgotten ${s.oms.forgotten_parents}), ` +
          `market event p50 ${s.market_event.p50_ns} ns p99 ${s.market_event.p99_ns} ns, lap ${s.laps}\n`);
      } catch (e) {
        process.stderr.write(`soak: a line from the server that is not JSON: ${line}\n`);
      }
    }
  });
  const startedAt = Date.now();
  const client = await lib.connect({ port: serve.port, dictionary: o.dictionary });

  const parents = new Map();  // ClOrdID -> { qty, accepted, final, cum }
  const problems = [];
  let sent = 0, refused = 0, overfills = 0;
  let read = 0;
  const take = () => {
    for (; read < client.received.length; ++read) {
      const m = client.received[read];
      if (m.msgType !== '8') continue;
      const p = parents.get(m.ClOrdID);
      if (!p) continue;
      if (m.ExecType === '0') p.accepted = true;
      if (m.ExecType === 'I') continue;  // a status answer is read where it was asked
      if (m.CumQty !== undefined) p.cum = Math.max(p.cum, m.CumQty);
      if (p.cum > p.qty + 1e-9 && !p.overfilled) {
        p.overfilled = true;
        ++overfills;
        problems.push(`${m.ClOrdID} executed ${p.cum} of ${p.qty}`);
      }
      if (FINAL.has(m.OrdStatus)) {
        if (m.OrdStatus === '8' && !p.accepted) ++refused;
        p.final = m.OrdStatus;
      }
    }
    // What was read is let go: the client's own memory stays flat too.
    if (read > 10000) {
      client.received.splice(0, read);
      read = 0;
    }
  };

  // A status request for a parent that ended more than the horizon ago: the server reads it from the journal.
  const statusChecks = [];
  const askOldStatus = async () => {
    const old = [...parents.entries()].find(([, p]) => p.accepted && p.final && !p.statusAsked &&
      Date.now() - p.endedAt > 3 * 60 * 1000);
    if (!old) return;
    const [id, p] = old;
    p.statusAsked = true;
    client.send('H', { ClOrdID: id, Side: p.side, Instrument: { Symbol: 'ETH-USDT' } });
    const status = await client.waitFor((m) => m.msgType === '8' && m.ClOrdID === id && m.ExecType === 'I',
      `the status of ${id}`);
    const agrees = status.OrdStatus === p.final && Math.abs(status.CumQty - p.cum) < 1e-9;
    statusChecks.push({ id, ended_s_ago: (Date.now() - p.endedAt) / 1000, ord_status: status.OrdStatus,
      cum_qty: status.CumQty, agrees });
    if (!agrees)
      problems.push(`the status of forgotten ${id} says ${status.OrdStatus} ${status.CumQty}, its end said ` +
        `${p.final} ${p.cum}`);
  };

  const endAt = startedAt + o.minutes * 60 * 1000;
  let n = 0;
  let lastStatusAsk = Date.now();
  while (Date.now() < endAt) {
    if (serve.exited) throw new Error(`tranche serve exited: ${JSON.stringify(serve.exited)}\n${serve.stderr}`);
    if (client.stopped) {
      // A session the server ended (as QuickFIX once did at 00:00 UTC) is a failure, said as such.
      problems.push(`the FIX session ended after ${((Date.now() - startedAt) / 1000).toFixed(0)} s: ${client.stopped}`);
      break;
    }
    const id = `soak-${++n}`;
    const side = n % 2 ? '1' : '2';
    const qty = 1 + (n % 5);
    const seconds = 15 + (n % 4) * 10;
    parents.set(id, { qty, side, accepted: false, final: null, cum: 0 });
    client.send('D', {
      ClOrdID: id, Side: side, TransactTime: new Date(), OrdType: '1', OrderQtyData: { OrderQty: qty },
      Instrument: { Symbol: 'ETH-USDT' }, TrancheAlgo: ALGOS[n % ALGOS.length],
      ExpireTime: new Date(Date.now() + seconds * 1000),
    });
    ++sent;
    await sleep(o.everyMs);
    take();
    for (const p of parents.values()) if (p.final && !p.endedAt) p.endedAt = Date.now();
    if (Date.now() - lastStatusAsk > 5 * 60 * 1000) {
      lastStatusAsk = Date.now();
      await askOldStatus();
    }
    // Parents long answered are let go (the client's memory stays flat).
    for (const [key, p] of parents)
      if (p.final && p.endedAt && Date.now() - p.endedAt > 10 * 60 * 1000) parents.delete(key);
  }
  // The last parents run out (their horizons are a minute at most), then the server stops.
  const drainUntil = Date.now() + 90 * 1000;
  while (Date.now() < drainUntil && [...parents.values()].some((p) => p.accepted && !p.final)) {
    await sleep(1000);
    take();
  }
  take();
  const unanswered = [...parents.entries()].filter(([, p]) => p.accepted && !p.final).map(([id]) => id);
  if (unanswered.length) problems.push(`${unanswered.length} accepted parents never ended: ${unanswered.slice(0, 5)}`);
  client.logout();
  const exit = await lib.stopServe(serve);

  // --- the figures ---
  const warm = stats.filter((s) => s.elapsed_s >= o.warmupMinutes * 60);
  const rss = warm.map((s) => s.rss_proc_bytes ?? s.rss_bytes);
  const rssMin = Math.min(...rss), rssMax = Math.max(...rss);
  const rssSpread = rss.length ? (rssMax - rssMin) / rssMin : null;
  // The allocator's own figures beside it (not held to the band): a leak grows what is in use, memory the
  // allocator keeps grows what is free.
  const inUse = warm.map((s) => s.heap_in_use_bytes);
  const inUseMin = Math.min(...inUse), inUseMax = Math.max(...inUse);
  // After warm-up, its first half (the run's second third) against its second (the last third).
  const half = Math.max(1, Math.floor(warm.length / 2));
  const first = warm.slice(0, half), last = warm.slice(-half);
  const latency = (rows, key) => median(rows.filter((s) => s.market_event.count > 0).map((s) => s.market_event[key]));
  const ratio = (a, b) => (a === null || b === null ? null : Math.max(a, LATENCY_FLOOR_NS) / Math.max(b, LATENCY_FLOOR_NS));
  const p50Ratio = ratio(latency(last, 'p50_ns'), latency(first, 'p50_ns'));
  const p99Ratio = ratio(latency(last, 'p99_ns'), latency(first, 'p99_ns'));
  const lastStats = stats[stats.length - 1] || {};
  if (warm.length < 3) problems.push(`only ${warm.length} samples after warm-up: run longer`);
  if (rssSpread !== null && rssSpread > RSS_BAND)
    problems.push(`resident memory moved ${(100 * rssSpread).toFixed(1)}% after warm-up (${rssMin} to ${rssMax} bytes)`);
  if (p50Ratio !== null && p50Ratio > LATENCY_RATIO) problems.push(`decision latency p50 rose ${p50Ratio.toFixed(2)}x`);
  if (p99Ratio !== null && p99Ratio > LATENCY_RATIO) problems.push(`decision latency p99 rose ${p99Ratio.toFixed(2)}x`);
  if (overfills) problems.push(`${overfills} parents overfilled`);
  if (exit.code !== 0) problems.push(`tranche serve exited with ${JSON.stringify(exit)}`);
  if (o.minutes >= 10 && statusChecks.length === 0) problems.push('no forgotten parent was asked for');

  const summary = {
    minutes: o.minutes, every_ms: o.everyMs, warmup_minutes: o.warmupMinutes, horizon: o.horizon, speed: o.speed,
    parents_sent: sent, parents_refused: refused, overfills, unanswered: unanswered.length,
    laps: lastStats.laps ?? null,
    samples: stats.length, samples_after_warmup: warm.length,
    rss_after_warmup_bytes: { min: rssMin, max: rssMax, spread: rssSpread, band: RSS_BAND },
    rss_first_sample_bytes: stats.length ? stats[0].rss_bytes : null,
    heap_in_use_after_warmup_bytes: { min: inUseMin, max: inUseMax,
      spread: inUse.length ? (inUseMax - inUseMin) / inUseMin : null },
    market_event_latency_ns: {
      after_warmup_first_half: { p50: latency(first, 'p50_ns'), p99: latency(first, 'p99_ns') },
      after_warmup_second_half: { p50: latency(last, 'p50_ns'), p99: latency(last, 'p99_ns') },
      p50_ratio: p50Ratio, p99_ratio: p99Ratio, allowed_ratio: LATENCY_RATIO, floor_ns: LATENCY_FLOOR_NS,
    },
    oms_at_end: lastStats.oms ?? null,
    parents_in_kernel_at_end: lastStats.parents_in_kernel ?? null,
    intents_in_kernel_at_end: lastStats.intents_in_kernel ?? null,
    forgotten_status_checks: statusChecks,
    ok: problems.length === 0, problems,
    samples_detail: stats.map((s) => ({ elapsed_s: Math.round(s.elapsed_s), rss_bytes: s.rss_proc_bytes ?? s.rss_bytes,
      heap_in_use_bytes: s.heap_in_use_bytes, heap_free_bytes: s.heap_free_bytes,
      oms_parents: s.oms.parents, oms_fills: s.oms.fills, forgotten_parents: s.oms.forgotten_parents,
      market_event: s.market_event, laps: s.laps })),
  };
  fs.mkdirSync(o.out, { recursive: true });
  fs.writeFileSync(path.join(o.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  console.log(JSON.stringify({ ...summary, samples_detail: undefined }, null, 2));
  fs.rmSync(dir, { recursive: true, force: true });
  if (problems.length) {
    console.error('soak: FAILED:\n  ' + problems.join('\n  '));
    process.exit(1);
  }
  console.error(`soak: ok (${path.join(o.out, 'summary.json')})`);
  process.exit(0);
}

main().catch(async (e) => {
  console.error('soak: ' + (e.stack || e.message));
  // A run that failed on the way (a status never answered) leaves no server replaying behind it.
  if (running && !running.exited) await lib.stopServe(running, 'SIGKILL');
  process.exit(1);
});
