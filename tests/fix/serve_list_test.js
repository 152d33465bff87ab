// A NewOrderList (35=E) through an independent FIX engine (jspurefix) to `tranche serve` on the bundled
// spot/perpetual scenario: a pair (buy spot, sell the perpetual, AllowableOneSidednessPct 0.05, i.e. 5%) works as one, each
// leg answered with its ListID, and what the client is told never shows one leg more than 5% ahead of the
// other; a list without a limit is rejected order by order; the session stays up.
// Usage: node serve_list_test.js TRANCHE DICTIONARY SCENARIO
'use strict';
const assert = require('assert');
const path = require('path');
const lib = require('../../fix/lib');

const [tranche, dictionary, scenario] = process.argv.slice(2).map((p) => path.resolve(p));
let serve = null;
const er = (clOrdId, test = () => true) => (m) => m.msgType === '8' && m.ClOrdID === clOrdId && test(m);

function leg(clOrdId, seq, symbol, side, qty, extra = {}) {
  return {
    ClOrdID: clOrdId,
    ListSeqNo: seq,
    Instrument: { Symbol: symbol },
    Side: side,
    TransactTime: new Date(),
    OrderQtyData: { OrderQty: qty },
    OrdType: '1',
    TrancheAlgo: 'twap',
    ExpireTime: new Date(Date.now() + 6000),
    ...extra,
  };
}

function newOrderList(listId, orders, limit) {
  return { ListID: listId, BidType: 3, TotNoOrders: orders.length, ...limit, ListOrdGrp: { NoOrders: orders } };
}

const steps = [];
const step = (name, fn) => steps.push({ name, fn });

step('a pair from a NewOrderList works as one and never leans past its limit', async (c) => {
  c.send('E', newOrderList('basis1', [leg('b1-spot', 1, 'ETH-USDT', '1', 6), leg('b1-perp', 2, 'ETH-USDT-PERP', '2', 6)],
    { AllowableOneSidednessPct: 0.05 }));
  for (const o of ['b1-spot', 'b1-perp']) {
    const ack = await c.waitFor(er(o, (m) => m.ExecType === '0'), 'the ack of ' + o);
    assert.strictEqual(ack.ListID, 'basis1');
    assert.match(ack.Text, /a leg of list basis1/);
  }
  for (const o of ['b1-spot', 'b1-perp']) await c.waitFor(er(o, (m) => ['2', '3', '4', 'C'].includes(m.OrdStatus)), 'the end of ' + o);
  let spot = 0;
  let perp = 0;
  let most = 0;
  const fills = c.received.filter((m) => m.msgType === '8' && m.ExecType === 'F' && m.ListID === 'basis1');
  assert.ok(fills.length > 4, `only ${fills.length} fills`);
  for (const f of fills) {
    if (f.ClOrdID === 'b1-spot') spot = f.CumQty; else perp = f.CumQty;
    most = Math.max(most, Math.abs(spot - perp) / 6);
  }
  assert.ok(most <= 0.05 + 1e-9, `the legs were ${(100 * most).toFixed(2)}% apart`);
  assert.ok(spot > 5.9 && perp > 5.9, `executed ${spot} and ${perp} of 6`);
});

step('a list without a limit is rejected order by order, and nothing works', async (c) => {
  c.send('E', newOrderList('nolimit', [leg('n-spot', 1, 'ETH-USDT', '1', 1), leg('n-perp', 2, 'ETH-USDT-PERP', '2', 1)], {}));
  for (const o of ['n-spot', 'n-perp']) {
    const rej = await c.waitFor(er(o, (m) => m.ExecType === '8'), 'the reject of ' + o);
    assert.strictEqual(rej.ListID, 'nolimit');
    assert.match(rej.Text, /no limit/);
  }
  assert.ok(!c.received.some((m) => m.msgType === '8' && ['n-spot', 'n-perp'].includes(m.ClOrdID) && m.ExecType === '0'));
  assert.ok(!c.stopped, 'the session stopped');
});

step('a basket with a cash limit: the buys never run more than it ahead of the sells', async (c) => {
  c.send('E', newOrderList('cash1', [leg('c1-spot', 1, 'ETH-USDT', '1', 4, { TrancheAlgo: 'pov', ParticipationRate: 0.3 }),
    leg('c1-perp', 2, 'ETH-USDT-PERP', '2', 4)], { AllowableOneSidednessValue: 3000 }));
  const acks = [];
  for (const o of ['c1-spot', 'c1-perp']) acks.push(await c.waitFor(er(o, (m) => m.ExecType === '0'), 'the ack of ' + o));
  for (const o of ['c1-spot', 'c1-perp']) await c.waitFor(er(o, (m) => ['2', '3', '4', 'C'].includes(m.OrdStatus)), 'the end of ' + o);
  // In real cash (each fill at its price): the limit is on the legs' reference prices, and the fills' prices
  // differ from those by a few bps (the basis, the slippage), far less than the 1% margin kept here.
  let buy = 0;
  let sell = 0;
  let most = 0;
  for (const f of c.received.filter((m) => m.msgType === '8' && m.ExecType === 'F' && m.ListID === 'cash1')) {
    if (f.ClOrdID === 'c1-spot') buy += f.LastQty * f.LastPx; else sell += f.LastQty * f.LastPx;
    most = Math.max(most, Math.abs(buy - sell));
  }
  assert.ok(most < 3000 * 1.01, `the basket leaned ${most.toFixed(2)} USDT`);
});

(async () => {
  const dir = lib.tempDir('serve-list');
  serve = await lib.startServe({ tranche, port: null, journal: `${dir}/serve.journal`, speed: '10', config: scenario });
  const client = await lib.connect({ port: serve.port, dictionary });
  await lib.runSteps(steps.map((s) => ({ name: s.name, fn: () => s.fn(client) })), {
    logs: () => `--- tranche serve said:\n${serve.stderr.slice(-6000)}`,
    stop: () => lib.stopServe(serve, 'SIGKILL'),
  });
  const exit = await lib.stopServe(serve);
  assert.strictEqual(exit.code, 0, `tranche serve exited ${JSON.stringify(exit)}`);
  process.exit(0);
})().catch(async (e) => {
  console.log(`FAIL ${e.stack}\n${serve ? serve.stderr.slice(-4000) : ''}`);
  if (serve) await lib.stopServe(serve, 'SIGKILL');
  process.exit(1);
});
