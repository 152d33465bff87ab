// A FIX client for `tranche serve`: logs on as CLIENT1 (jspurefix, an independent FIX engine), sends one parent
// order, prints every ExecutionReport as one line, and logs out when the parent has ended.
//
//   node examples/fix_client/send_parent.js --side buy --qty 20 --algo twap --minutes 1
//
// Options: --side buy|sell, --qty BASE, --algo NAME (any registered algo; none: the server's default),
// --params "key=value;key=value", --limit PRICE, --minutes M (the horizon, as ExpireTime), --symbol ETH-USDT,
// --port 9878, --dictionary FILE (default: the build's), --cancel-after SECONDS (cancel the parent then),
// --keep-sequence FILE (see below).
//
// Sequence numbers: the server keeps its own across reconnects and restarts (docs/fix.md). By default this
// client starts afresh at each logon (ResetSeqNumFlag=Y), which any server accepts. With --keep-sequence FILE
// it keeps its numbers in FILE and logs on where the previous run left off, without a reset; the server then
// resends whatever it sent while the client was away. Use one FILE per server journal.
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require('../../fix/lib');

function options(argv) {
  const o = { side: 'buy', qty: '10', symbol: 'ETH-USDT', port: 9878, minutes: null, algo: null, params: null,
    limit: null, cancelAfter: null, keepSequence: null,
    dictionary: path.resolve(__dirname, '../../build/share/FIX44-tranche.xml') };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
    if (!(key in o) || argv[i + 1] === undefined) throw new Error(`unknown or incomplete option ${argv[i]}`);
    o[key] = argv[i + 1];
  }
  if (!['buy', 'sell'].includes(o.side)) throw new Error('--side must be buy or sell');
  return o;
}

(async () => {
  const o = options(process.argv.slice(2));
  const kept = o.keepSequence && fs.existsSync(o.keepSequence) ? JSON.parse(fs.readFileSync(o.keepSequence, 'utf8')) : null;
  const client = await lib.connect({ port: Number(o.port), dictionary: path.resolve(o.dictionary),
    reset: !o.keepSequence, store: o.keepSequence ? lib.sequenceStore(kept) : null });
  const saveSequence = () => {
    if (o.keepSequence) fs.writeFileSync(o.keepSequence, `${JSON.stringify(client.sequence())}\n`);
  };
  const clOrdId = `ex-${Date.now()}`;
  const order = {
    ClOrdID: clOrdId, Side: o.side === 'buy' ? '1' : '2', TransactTime: new Date(),
    OrdType: o.limit ? '2' : '1', OrderQtyData: { OrderQty: Number(o.qty) }, Instrument: { Symbol: o.symbol },
  };
  if (o.limit) order.Price = Number(o.limit);
  if (o.algo) order.TrancheAlgo = o.algo;
  if (o.params) order.TargetStrategyParameters = o.params;
  if (o.minutes) order.ExpireTime = new Date(Date.now() + Number(o.minutes) * 60000);
  client.send('D', order);
  if (o.cancelAfter) {
    setTimeout(() => client.send('F', { OrigClOrdID: clOrdId, ClOrdID: `${clOrdId}-x`, Side: order.Side,
      TransactTime: new Date(), Instrument: { Symbol: o.symbol }, OrderQtyData: order.OrderQtyData }),
    Number(o.cancelAfter) * 1000);
  }
  const names = { 0: 'new', F: 'fill', 5: 'replaced', 6: 'pending-cancel', 4: 'canceled', 3: 'done', C: 'expired',
    8: 'rejected', I: 'status' };
  let shown = 0;
  // The session also hears of parents sent earlier under this CompID: only this one's chain is shown.
  const mine = (m) => m.msgType !== '8' || (m.ClOrdID || '').startsWith(clOrdId);
  const ended = (m) => m.msgType === '8' && mine(m) && ['2', '3', '4', '8', 'C'].includes(m.OrdStatus);
  const show = () => {
    for (; shown < client.received.length; ++shown) {
      const m = client.received[shown];
      if (!mine(m)) continue;
      if (m.msgType !== '8') {
        console.log(`${m.msgType} ${m.Text || ''}`);
        continue;
      }
      const fill = m.ExecType === 'F' ? ` ${m.LastQty} @ ${m.LastPx} on ${m.LastMkt}` : '';
      console.log(`${names[m.ExecType] || m.ExecType} ${m.ClOrdID}${fill} cum ${m.CumQty} avg ${m.AvgPx}` +
        ` leaves ${m.LeavesQty}${m.Text ? `: ${m.Text}` : ''}`);
    }
  };
  const timer = setInterval(show, 50);
  await client.waitFor(ended, 'the end of the parent', 24 * 3600 * 1000);
  show();
  clearInterval(timer);
  client.logout();
  setTimeout(() => {
    saveSequence();  // after the Logout exchange: its two messages are numbered too
    process.exit(0);
  }, 200);
})().catch((e) => {
  console.error(`send_parent: ${e.message}`);
  process.exit(1);
});
