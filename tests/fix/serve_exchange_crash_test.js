// The OMS crash test over FIX, with the venue in its own process: `tranche exchange` plays the venues,
// `tranche serve` trades on them over FIX (both on one replay clock, by a shared anchor). The EMS is killed
// with SIGKILL mid-parent, twice, and restarted on its journal: it reconciles its children with the exchange
// by OrderStatusRequest, resumes the algo, and at the end the exchange and the journal agree exactly on what
// was executed: nothing lost, nothing doubled, no overfill, no ClOrdID used twice (crash_run.js).
// With `binance` the exchange plays binance-spot behind Binance spot's own API (HTTPS and the WebSocket API,
// with a CA this test makes) and `tranche serve` reaches it through its Binance gateway: after each restart
// it queries the children it left in flight by clientOrderId and fetches their trades.
// With `binance-three` three exchanges play the bundled market's three venues behind Binance's own APIs
// (spot, USD-M, COIN-M: REST, listen-key user streams) and `tranche serve` routes the parent across them
// through three Binance gateways; each exchange's fills are checked against the journal.
// `make crash-campaign` (crash_campaign.js) does the same a hundred times at random moments.
// Usage: node serve_exchange_crash_test.js TRANCHE DICTIONARY [fix|binance|binance-three]
'use strict';
const path = require('path');
const { crashRun } = require('./crash_run');

const [tranche, dictionary] = process.argv.slice(2, 4).map((p) => path.resolve(p));
const protocol = process.argv[4] || 'fix';

(async () => {
  const r = await crashRun({ tranche, dictionary, protocol, kills: [{ atCum: 4 }, { atCum: 12 }],
    log: (line) => console.log(`     ${line}`) });
  for (const [venue, v] of Object.entries(r.venues))
    console.log(`ok   ${venue}: ${v.orders} orders, ${v.exchangeFills} fills, ${v.bought} bought at the exchange = the ` +
      `journal (${v.journalFills} fills, ${v.fromStatus} booked from a status after a restart)`);
  console.log(`     ${r.kills} kills, ${r.recovered} recovered; the parent ended at ${r.executed} of 40: ${r.endText || ''}`);
  if (r.problems.length > 0 || r.kills !== 2 || r.recovered !== 2) {
    console.log(`FAIL ${r.problems.join('\n     ')}${r.kept ? `\n     kept: ${r.kept}` : ''}`);
    process.exit(1);
  }
  console.log('all passed');
  process.exit(0);
})();
