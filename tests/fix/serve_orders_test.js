// `tranche serve` through an independent FIX engine (jspurefix): parents executed, amended, canceled and
// queried, and every kind of bad input answered with the right reject while the session stays up.
// Usage: node serve_orders_test.js TRANCHE DICTIONARY
'use strict';
const assert = require('assert');
const lib = require('../../fix/lib');

const path = require('path');
const [tranche, dictionary] = process.argv.slice(2).map((p) => path.resolve(p));
let serve = null;
let seq = 0;
const id = (name) => `${name}-${++seq}`;
const er = (clOrdId, test = () => true) => (m) => m.msgType === '8' && m.ClOrdID === clOrdId && test(m);

function newOrder(clOrdId, fields = {}) {
  return {
    ClOrdID: clOrdId,
    Side: '1',
    TransactTime: new Date(),
    OrdType: '1',
    OrderQtyData: { OrderQty: 5 },
    Instrument: { Symbol: 'ETH-USDT' },
    ...fields,
  };
}

// Fills are reported once each, add up to CumQty, and never pass the order's quantity.
function checkFills(client, clOrdIds, orderQty) {
  const fills = client.received.filter((m) => m.msgType === '8' && m.ExecType === 'F' && clOrdIds.includes(m.ClOrdID));
  const execIds = new Set(fills.map((f) => f.ExecID));
  assert.strictEqual(execIds.size, fills.length, 'an ExecID was reported twice');
  let cum = 0;
  for (const f of fills) {
    assert.ok(f.LastQty > 0 && f.LastPx > 0 && f.LastMkt, `a fill without LastQty, LastPx or LastMkt: ${JSON.stringify(f)}`);
    cum += f.LastQty;
    assert.ok(Math.abs(cum - f.CumQty) < 1e-7, `CumQty ${f.CumQty} is not the sum of the fills ${cum}`);
  }
  assert.ok(cum <= orderQty + 1e-9, `overfilled: ${cum} > ${orderQty}`);
  return { fills, cum };
}

const steps = [];
const step = (name, fn) => steps.push({ name, fn });

step('a parent with no algo tags runs the default twap, fills on the venues and ends done', async (c) => {
  const o = id('default');
  c.send('D', newOrder(o, { ExpireTime: new Date(Date.now() + 3000) }));
  const accepted = await c.waitFor(er(o, (m) => m.ExecType === '0'), 'the ack of ' + o);
  assert.strictEqual(accepted.OrdStatus, '0');
  assert.match(accepted.Text, /^twap buy 5 ETH-USDT/);
  const done = await c.waitFor(er(o, (m) => ['2', '3'].includes(m.OrdStatus)), 'the end of ' + o);
  const { fills, cum } = checkFills(c, [o], 5);
  assert.ok(fills.length > 0, 'no fill');
  assert.ok(cum >= 5 * 0.99, `filled ${cum} of 5`);
  assert.strictEqual(done.LeavesQty, 0);
});

step('TargetStrategy and TrancheAlgo choose the algo, with its parameters', async (c) => {
  const pov = id('pov');
  c.send('D', newOrder(pov, { TargetStrategy: 2, ParticipationRate: 0.2, ExpireTime: new Date(Date.now() + 2000) }));
  const a = await c.waitFor(er(pov, (m) => m.ExecType === '0'), 'the ack of ' + pov);
  assert.match(a.Text, /^pov /);
  const ice = id('iceberg');
  c.send('D', newOrder(ice, { TrancheAlgo: 'iceberg', TargetStrategyParameters: 'display=1;randomize=0',
    OrdType: '2', Price: 2700, ExpireTime: new Date(Date.now() + 2000) }));
  const b = await c.waitFor(er(ice, (m) => m.ExecType === '0'), 'the ack of ' + ice);
  assert.match(b.Text, /^iceberg /);
  assert.strictEqual(b.Price, 2700);
  for (const o of [pov, ice]) await c.waitFor(er(o, (m) => ['2', '3', 'C'].includes(m.OrdStatus)), 'the end of ' + o);
});

step('a replace lowers the quantity and the parent stops there', async (c) => {
  const o = id('amend');
  c.send('D', newOrder(o, { OrderQtyData: { OrderQty: 20 }, ExpireTime: new Date(Date.now() + 4000) }));
  await c.waitFor(er(o, (m) => m.ExecType === '0'), 'the ack of ' + o);
  const r = id('amend-r');
  c.send('G', { OrigClOrdID: o, ClOrdID: r, Side: '1', TransactTime: new Date(), OrdType: '1',
    OrderQtyData: { OrderQty: 8 }, Instrument: { Symbol: 'ETH-USDT' } });
  const replaced = await c.waitFor(er(r, (m) => m.ExecType === '5'), 'the replace of ' + o);
  assert.strictEqual(replaced.OrigClOrdID, o);
  assert.strictEqual(replaced.OrderQtyData.OrderQty, 8);
  const done = await c.waitFor(er(r, (m) => ['2', '3'].includes(m.OrdStatus)), 'the end of ' + r);
  const { cum } = checkFills(c, [o, r], 8);
  assert.ok(cum >= 8 * 0.99 && cum <= 8, `filled ${cum} of 8`);
  assert.strictEqual(done.LeavesQty, 0);
  // A replace of an order that has ended is too late.
  const late = id('amend-late');
  c.send('G', { OrigClOrdID: r, ClOrdID: late, Side: '1', TransactTime: new Date(), OrdType: '1',
    OrderQtyData: { OrderQty: 1 }, Instrument: { Symbol: 'ETH-USDT' } });
  const rej = await c.waitFor((m) => m.msgType === '9' && m.ClOrdID === late, 'the cancel reject of ' + late);
  assert.strictEqual(rej.CxlRejResponseTo, '2');
  assert.strictEqual(rej.CxlRejReason, 0);
});

step('a cancel ends the parent with what it executed, its children canceled', async (c) => {
  const o = id('cancel');
  c.send('D', newOrder(o, { OrderQtyData: { OrderQty: 40 }, ExpireTime: new Date(Date.now() + 20000) }));
  await c.waitFor(er(o, (m) => m.ExecType === 'F'), 'a first fill of ' + o);
  const x = id('cancel-x');
  c.send('F', { OrigClOrdID: o, ClOrdID: x, Side: '1', TransactTime: new Date(), Instrument: { Symbol: 'ETH-USDT' },
    OrderQtyData: { OrderQty: 40 } });
  const pending = await c.waitFor(er(x, (m) => m.ExecType === '6'), 'pending cancel of ' + o);
  assert.strictEqual(pending.OrigClOrdID, o);
  const canceled = await c.waitFor(er(x, (m) => m.ExecType === '4'), 'the cancel of ' + o);
  assert.strictEqual(canceled.OrdStatus, '4');
  assert.strictEqual(canceled.LeavesQty, 0);
  const { cum } = checkFills(c, [o, x], 40);
  assert.ok(Math.abs(canceled.CumQty - cum) < 1e-7, `CumQty ${canceled.CumQty} but the fills say ${cum}`);
  assert.ok(cum < 40, 'a canceled parent should not have filled in full');
  // A second cancel of the same order is too late.
  const again = id('cancel-again');
  c.send('F', { OrigClOrdID: o, ClOrdID: again, Side: '1', TransactTime: new Date(), Instrument: { Symbol: 'ETH-USDT' },
    OrderQtyData: { OrderQty: 40 } });
  const rej = await c.waitFor((m) => m.msgType === '9' && m.ClOrdID === again, 'the reject of a second cancel');
  assert.strictEqual(rej.CxlRejReason, 0);
  assert.strictEqual(rej.OrdStatus, '4');
});

step('a status request tells where a parent stands, and says when it does not know one', async (c) => {
  const o = id('status');
  c.send('D', newOrder(o, { OrderQtyData: { OrderQty: 10 }, ExpireTime: new Date(Date.now() + 4000) }));
  await c.waitFor(er(o, (m) => m.ExecType === 'F'), 'a fill of ' + o);
  c.send('H', { ClOrdID: o, Side: '1', Instrument: { Symbol: 'ETH-USDT' } });
  const status = await c.waitFor(er(o, (m) => m.ExecType === 'I'), 'the status of ' + o);
  assert.ok(['1', '2'].includes(status.OrdStatus), `status ${status.OrdStatus}`);
  assert.ok(status.CumQty > 0);
  c.send('H', { ClOrdID: 'nobody-knows', Side: '1', Instrument: { Symbol: 'ETH-USDT' } });
  const unknown = await c.waitFor(er('nobody-knows', (m) => m.ExecType === 'I'), 'the status of an unknown order');
  assert.strictEqual(unknown.OrdStatus, '8');
  assert.match(unknown.Text, /unknown order/);
  await c.waitFor(er(o, (m) => ['2', '3'].includes(m.OrdStatus) && m.ExecType !== 'I'), 'the end of ' + o);
});

step('bad parents get ExecType 8 with the reason, and the session stays up', async (c) => {
  const cases = [
    { name: 'unknown symbol', fields: { Instrument: { Symbol: 'DOGE-USDT' } }, reason: 1, text: /unknown symbol 'DOGE-USDT'/ },
    { name: 'missing symbol', fields: { Instrument: {} }, reason: 1, text: /Symbol \(55\) is missing/ },
    { name: 'negative quantity', fields: { OrderQtyData: { OrderQty: -3 } }, reason: 13, text: /must be positive/ },
    { name: 'zero quantity', fields: { OrderQtyData: { OrderQty: 0 } }, reason: 13, text: /must be positive/ },
    { name: 'unknown algo', fields: { TrancheAlgo: 'moonshot' }, reason: 11, text: /unknown algo 'moonshot' \(known: .*twap/ },
    { name: 'bad algo parameter', fields: { TrancheAlgo: 'twap', TargetStrategyParameters: 'speed=fast' }, reason: 11, text: /speed/ },
    // The defect a hostile user found: slice=1ns spun the kernel and froze every client of the daemon.
    { name: 'a slice that would spin the kernel', fields: { TrancheAlgo: 'twap', TargetStrategyParameters: 'slice=1ns' }, reason: 11, text: /slice '1ns' is shorter than the shortest slice, 100ms/ },
    { name: 'a quantity below every lot', fields: { OrderQtyData: { OrderQty: 0.00001 } }, reason: 13, text: /below the smallest lot/ },
    { name: 'limit off the tick', fields: { OrdType: '2', Price: 2680.005 }, reason: 99, text: /off the tick 0.01/ },
    { name: 'limit without a price', fields: { OrdType: '2' }, reason: 99, text: /needs a Price/ },
    { name: 'expiry in the past', fields: { ExpireTime: new Date(Date.now() - 60000) }, reason: 4, text: /not after the start/ },
    { name: 'beyond the risk limits', fields: { OrderQtyData: { OrderQty: 5000 } }, reason: 3, text: /risk|parent/ },
  ];
  for (const k of cases) {
    const o = id('bad');
    c.send('D', newOrder(o, k.fields));
    const m = await c.waitFor(er(o), `the reject of ${k.name}`);
    assert.strictEqual(m.ExecType, '8', `${k.name}: ExecType ${m.ExecType}`);
    assert.strictEqual(m.OrdStatus, '8');
    assert.strictEqual(m.OrdRejReason, k.reason, `${k.name}: OrdRejReason ${m.OrdRejReason} (${m.Text})`);
    assert.match(m.Text, k.text, `${k.name}: ${m.Text}`);
  }
  // The same ClOrdID twice: the second is a duplicate.
  const dup = id('dup');
  c.send('D', newOrder(dup, { OrderQtyData: { OrderQty: 0.5 }, ExpireTime: new Date(Date.now() + 2000) }));
  await c.waitFor(er(dup, (m) => m.ExecType === '0'), 'the first ' + dup);
  c.send('D', newOrder(dup, { OrderQtyData: { OrderQty: 0.5 } }));
  const second = await c.waitFor(er(dup, (m) => m.ExecType === '8'), 'the duplicate ' + dup);
  assert.strictEqual(second.OrdRejReason, 6);
  // Cancel and replace of orders nobody knows.
  c.send('F', { OrigClOrdID: 'ghost', ClOrdID: id('ghost-x'), Side: '1', TransactTime: new Date(),
    Instrument: { Symbol: 'ETH-USDT' }, OrderQtyData: { OrderQty: 1 } });
  const ghost = await c.waitFor((m) => m.msgType === '9' && m.OrigClOrdID === 'ghost', 'the cancel reject of a ghost');
  assert.strictEqual(ghost.CxlRejReason, 1);
  assert.strictEqual(ghost.CxlRejResponseTo, '1');
});

step('a NewOrderSingle without a required tag gets a session-level reject naming it', async (c) => {
  const o = id('noside');
  const body = newOrder(o);
  delete body.Side;
  c.send('D', body);
  const rej = await c.waitFor((m) => m.msgType === '3' && m.RefTagID === 54, 'the session reject of a missing Side');
  assert.strictEqual(rej.SessionRejectReason, 1);
});

step('a garbled message is dropped and the session goes on', async (c) => {
  c.raw(lib.rawMessage([[35, 'D'], [49, 'CLIENT1'], [56, 'TRANCHE'], [34, c.nextSeqNum()], [52, lib.fixTime()],
    [11, 'garbled'], [55, 'ETH-USDT'], [54, '1'], [60, lib.fixTime()], [38, '1'], [40, '1']], { corruptChecksum: true }));
  // A field that is no field, in a frame whose checksum does not add up either.
  c.raw('8=FIX.4.4\x019=12\x0135=D\x01junk=1\x0110=000\x01');
  const o = id('after-garbled');
  c.send('D', newOrder(o, { OrderQtyData: { OrderQty: 0.5 }, ExpireTime: new Date(Date.now() + 2000) }));
  await c.waitFor(er(o, (m) => m.ExecType === '0'), 'an ack after the garbled messages');
  assert.ok(!c.received.some((m) => m.ClOrdID === 'garbled'), 'the garbled order was acted on');
  assert.ok(!c.stopped, 'the session stopped');
});

step('a message type the server does not take is refused by a business reject', async (c) => {
  c.send('q', { ClOrdID: id('mass'), MassCancelRequestType: '7', TransactTime: new Date() });
  const rej = await c.waitFor((m) => (m.msgType === 'j' || m.msgType === '3') && m.RefMsgType === 'q',
    'a reject of 35=q');
  assert.strictEqual(rej.msgType, 'j', `a ${rej.msgType} instead of a BusinessMessageReject`);
});

step('the README example client executes a parent through the same server', async (c, port) => {
  const { execFile } = require('child_process');
  const example = path.resolve(__dirname, '../../examples/fix_client/send_parent.js');
  // The example logs on as CLIENT1 too: this session logs out first.
  c.logout();
  await new Promise((r) => setTimeout(r, 300));
  const out = await new Promise((resolve, reject) => {
    execFile('node', [example, '--side', 'sell', '--qty', '2', '--algo', 'twap', '--minutes', '0.05', '--port', String(port),
      '--dictionary', dictionary], { timeout: 60000 }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(stdout)));
  });
  const lines = out.trim().split('\n');
  assert.match(lines[0], /^new ex-\d+ cum 0/);
  assert.ok(lines.some((l) => /^fill .* @ .* on binance-/.test(l)), out);
  assert.match(lines[lines.length - 1], /^(fill .*leaves 0$|done .*leaves 0: filled but for)/, out);
});

(async () => {
  const port = await lib.freePort();
  const dir = lib.tempDir('serve-orders');
  serve = await lib.startServe({ tranche, port, journal: `${dir}/serve.journal`, speed: '10' });
  const client = await lib.connect({ port, dictionary });
  for (const s of steps) {
    const started = Date.now();
    try {
      await s.fn(client, port);
      console.log(`ok   ${s.name} (${Date.now() - started} ms)`);
    } catch (e) {
      console.log(`FAIL ${s.name}\n${e.stack}\n--- tranche serve (port ${port}) said:\n${serve.stderr.slice(-6000)}`);
      await lib.stopServe(serve, 'SIGKILL');
      process.exit(1);
    }
  }
  const exit = await lib.stopServe(serve);
  assert.strictEqual(exit.code, 0, `tranche serve exited ${JSON.stringify(exit)}`);
  console.log(`all ${steps.length} passed`);
  process.exit(0);
})().catch(async (e) => {
  console.log(`FAIL ${e.stack}\n${serve ? serve.stderr.slice(-4000) : ''}`);
  if (serve) await lib.stopServe(serve, 'SIGKILL');
  process.exit(1);
});
