// `tranche serve` keeps its FIX sequence numbers (docs/fix.md): a client that was away logs on where it left
// off, without a reset, and is resent what it missed (PossDupFlag=Y); a server killed with SIGKILL and restarted
// on its journal goes on from the numbers in its store. jspurefix, an independent FIX engine, is the client.
// Usage: node serve_sequence_test.js TRANCHE DICTIONARY
'use strict';
const assert = require('assert');
const path = require('path');
const lib = require('../../fix/lib');

const [tranche, dictionary] = process.argv.slice(2).map((p) => path.resolve(p));
const running = [];
const er = (clOrdId, test = () => true) => (m) => m.msgType === '8' && m.ClOrdID === clOrdId && test(m);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function start(port, journal) {
  const serve = await lib.startServe({ tranche, port, journal, speed: '5' });
  running.push(serve);
  return serve;
}

// Every fill of `clOrdId` the client holds, once each (a resent one may repeat one it already had).
function fillsOf(client, clOrdId) {
  const byExecId = new Map();
  for (const m of client.received) if (er(clOrdId, (r) => r.ExecType === 'F')(m)) byExecId.set(m.ExecID, m);
  return [...byExecId.values()];
}

async function main() {
  const dir = lib.tempDir('serve-sequence');
  const journal = `${dir}/serve.journal`;
  const port = await lib.freePort();
  let serve = await start(port, journal);

  // A client that keeps its numbers: the first logon of a new session starts at 1 (no reset needed).
  const store = lib.sequenceStore();
  let c = await lib.connect({ port, dictionary, reset: false, store });
  c.send('D', {
    ClOrdID: 'away-1', Side: '1', TransactTime: new Date(), OrdType: '1', OrderQtyData: { OrderQty: 30 },
    Instrument: { Symbol: 'ETH-USDT' }, ExpireTime: new Date(Date.now() + 12000),
  });
  await c.waitFor(er('away-1', (m) => m.ExecType === 'F'), 'a first fill of away-1');
  const before = c.sequence();
  const heard = new Set(fillsOf(c, 'away-1').map((f) => f.ExecID));
  c.logout();
  await sleep(2500);  // the parent goes on filling while the client is away

  // Back without a reset: the server's numbers went on, so jspurefix sees a gap and asks for it again; what it
  // missed comes resent (PossDupFlag=Y), nothing is lost.
  c = await lib.connect({ port, dictionary, reset: false, store });
  const missed = await c.waitFor(er('away-1', (m) => m.ExecType === 'F' && m.possDup && !heard.has(m.ExecID)),
    'a fill made while the client was away, resent');
  assert.ok(missed.seqNum > before.received, `resent fill ${missed.seqNum} is not after ${before.received}`);
  console.log(`ok   a client back after ${before.received} messages is resent what it missed (first: seq ${missed.seqNum})`);

  // Killed mid-parent and restarted on the same journal: its store keeps the numbers, so the same client
  // logs on again without a reset, and the parent's status is known.
  await c.waitFor(er('away-1', (m) => m.ExecType === 'F' && !m.possDup), 'a fill after the client came back');
  const beforeKill = c.sequence();
  serve.child.kill('SIGKILL');
  await lib.stopServe(serve, 'SIGKILL');
  serve = await start(port, journal);
  c = await lib.connect({ port, dictionary, reset: false, store });
  assert.ok(c.sequence().sent > beforeKill.sent, 'the client logged on past its earlier numbers');
  c.send('H', { ClOrdID: 'away-1', Side: '1', Instrument: { Symbol: 'ETH-USDT' } });
  const status = await c.waitFor(er('away-1', (m) => m.ExecType === 'I' && !m.possDup), 'the status of away-1');
  assert.ok(status.CumQty > 0, `status after the restart: ${JSON.stringify(status)}`);
  console.log(`ok   after kill -9 and a restart the client logs on at seq ${beforeKill.sent + 1} without a reset`);

  // The fills the client holds never add up to more than the parent executed (none doubled by a resend).
  // They may add up to less: a fill journaled in the instant before the kill, whose report had not left yet,
  // is in the CumQty of every later report but never told on its own.
  const done = await c.waitFor(er('away-1', (m) => ['2', '4', '3'].includes(m.OrdStatus) && !m.possDup), 'the end of away-1', 30000);
  const fills = fillsOf(c, 'away-1');
  const cum = fills.reduce((sum, f) => sum + f.LastQty, 0);
  assert.ok(cum <= done.CumQty + 1e-7 && done.CumQty <= 30 + 1e-9, `fills add up to ${cum}, CumQty ${done.CumQty}`);
  console.log(`ok   away-1 ended ${done.OrdStatus} with CumQty ${done.CumQty}; the client holds ${fills.length} fills`);
  c.logout();
  await lib.stopServe(serve);
}

main().then(
  () => process.exit(0),
  async (e) => {
    console.error(`FAIL ${e.stack || e}`);
    for (const serve of running) {
      console.error(serve.stderr.slice(-3000));
      await lib.stopServe(serve, 'SIGKILL');
    }
    process.exit(1);
  },
);
