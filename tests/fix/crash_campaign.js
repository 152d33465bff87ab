// The crash campaign (`make crash-campaign`): `tranche serve` killed with SIGKILL at random moments, KILLS times
// in all, over runs of PER_RUN kills each (crash_run.js: `tranche exchange` in its own process, over FIX or
// through the Binance gateway), and restarted on its journal each time. The threshold is exact: every restart
// recovers, no fill is lost or doubled at any venue, no parent is overfilled, no ClOrdID is used twice, every
// journal verifies and the exchange's record agrees with it.
// Usage: node crash_campaign.js TRANCHE DICTIONARY [--protocol fix|binance] [--kills 100] [--per-run 5] [--seed 1]
// Prints one line a kill, and the counts as JSON at the end; exits 1 on any breach.
'use strict';
const path = require('path');
const { crashRun } = require('./crash_run');

const argv = process.argv.slice(2);
const [tranche, dictionary] = argv.slice(0, 2).map((p) => path.resolve(p));
const opts = { protocol: 'fix', kills: 100, perRun: 5, seed: 1 };
for (let i = 2; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (!(key in opts) || argv[i + 1] === undefined) throw new Error(`unknown or incomplete option ${argv[i]}`);
  opts[key] = key === 'protocol' ? argv[i + 1] : Number(argv[i + 1]);
}

// A small seeded generator (mulberry32): the same seed kills at the same moments.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

(async () => {
  const next = random(opts.seed);
  const totals = { protocol: opts.protocol, seed: opts.seed, runs: 0, kills: 0, recovered: 0, lost_qty: 0, doubled_qty: 0,
    overfills: 0, cl_ord_ids_reused: 0, journals_verified: 0, runs_agreeing: 0, problems: [] };
  while (totals.kills < opts.kills) {
    const count = Math.min(opts.perRun, opts.kills - totals.kills);
    // Each kill 0.3 to 4 s (wall) after the ack or the previous restart: mid-slice, mid-fill, mid-cancel.
    const kills = Array.from({ length: count }, () => ({ afterMs: Math.round(300 + 3700 * next()) }));
    const run = totals.runs + 1;
    const r = await crashRun({ tranche, dictionary, protocol: opts.protocol, kills, qty: 40, horizonMs: 40000,
      log: (line) => console.log(`run ${run} ${line}`) });
    totals.runs = run;
    totals.kills += r.kills;
    totals.recovered += r.recovered;
    totals.lost_qty += r.lostQty;
    totals.doubled_qty += r.doubledQty;
    totals.overfills += r.overfills;
    totals.cl_ord_ids_reused += r.reusedIds;
    totals.journals_verified += r.verified ? 1 : 0;
    totals.runs_agreeing += r.problems.length === 0 ? 1 : 0;
    for (const p of r.problems) totals.problems.push(`run ${run}: ${p}${r.kept ? ` (kept: ${r.kept})` : ''}`);
    console.log(`run ${run}: ${r.kills} kills, ${r.recovered} recovered, executed ${r.executed} of 40` +
      (r.problems.length ? `; PROBLEMS: ${r.problems.join('; ')}` : ''));
    if (r.kills === 0) break;  // nothing killed: the run could not start, and would not the next time either
  }
  console.log(JSON.stringify(totals));
  const clean = totals.problems.length === 0 && totals.recovered === totals.kills && totals.kills >= opts.kills;
  process.exit(clean ? 0 : 1);
})();
