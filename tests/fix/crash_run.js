// One crash run, shared by the crash test (serve_exchange_crash_test.js, two kills in `make test`) and the crash
// campaign (crash_campaign.js, `make crash-campaign`, a hundred): `tranche exchange` plays the venues in its own
// process, `tranche serve` trades a parent on them (over FIX, or through its Binance gateways), and the EMS is
// killed with SIGKILL at each of `kills` and restarted on its journal. At the end the run says, rather than
// asserts, what it found: whether every restart recovered (the parent resumed, or had ended), what the exchange
// executed against what the journal holds (lost or doubled quantity, per venue and side), overfills, ClOrdIDs
// the venue saw twice, and whether the journal verifies.
//
// A kill is { atCum: X } (once the client has heard fills past X) or { afterMs: T } (T ms after the previous
// restart, or the ack).
'use strict';
const fs = require('fs');
const { spawn, execFileSync } = require('child_process');
const lib = require('../../fix/lib');
const fixture = require('../binance/fixture');

const er = (clOrdId, test = () => true) => (m) => m.msgType === '8' && m.ClOrdID === clOrdId && test(m);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Sum of the journal's fills per venue and side, in listing units (what the exchange counts).
function journalFills(tranche, journal) {
  const fills = JSON.parse(execFileSync(tranche, ['journal', journal, 'fills', '--json'], { encoding: 'utf8' })).fills;
  const out = {};
  for (const f of fills) {
    const v = (out[f.venue] = out[f.venue] || { bought: 0, sold: 0, fills: 0, fromStatus: 0 });
    v[f.side === 'buy' ? 'bought' : 'sold'] += Number(f.qty);
    v.fills += 1;
    // Fills the venue made while the EMS was down reach it only through the status it asks for at the
    // restart: booked as one fill per child ("status-..."), however many the venue made.
    if (f.exec_id.startsWith('status-')) v.fromStatus += 1;
  }
  return out;
}

async function crashRun({ tranche, dictionary, protocol = 'fix', kills, qty = 40, horizonMs = 30000, log = () => {} }) {
  const binance = protocol === 'binance' || protocol === 'binance-three';
  const venuesPlayed = protocol === 'binance-three' ? ['binance-spot', 'binance-usdm', 'binance-coinm'] : ['binance-spot'];
  const processes = [];
  const result = { kills: 0, recovered: 0, problems: [], venues: {}, lostQty: 0, doubledQty: 0, overfills: 0,
    reusedIds: 0, executed: 0, ended: false, verified: false };
  const problem = (text) => result.problems.push(text);

  const startExchange = (port, anchor, files, venue) => {
    const args = ['exchange', '--port', String(port), '--speed', '5', '--anchor', anchor, '--quiet', '--json'];
    if (binance) args.push('--protocol', 'binance', '--venue', venue, '--cert', files.cert, '--key', files.key, '--keys', files.keys);
    const child = spawn(tranche, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const ex = { child, stdout: '', stderr: '', exited: null };
    child.stdout.on('data', (d) => { ex.stdout += d.toString(); });
    child.stderr.on('data', (d) => { ex.stderr += d.toString(); });
    child.on('exit', (code, signal) => { ex.exited = { code, signal }; });
    processes.push(ex);
    return new Promise((resolve, reject) => {
      const look = setInterval(() => {
        if (ex.stderr.includes(binance ? 'anchored at' : 'FIX 4.4 on')) { clearInterval(look); resolve(ex); }
        if (ex.exited) { clearInterval(look); reject(new Error(`tranche exchange exited: ${ex.stderr}`)); }
      }, 20);
    });
  };
  const dir = lib.tempDir('serve-exchange-crash');
  const journal = `${dir}/serve.journal`;
  const anchor = new Date(Date.now() + 1500).toISOString();
  const exchangePorts = [];
  for (const _ of venuesPlayed) exchangePorts.push(await lib.freePort());
  // A CA and a certificate for 127.0.0.1 it signed, and the account's owner-only key file.
  const files = binance ? { ...fixture.makeCertificates(dir), keys: fixture.makeKeys(dir).file } : null;
  let config = null;
  if (binance && exchangePorts.length === 1)
    config = fixture.venueConfig({ dir, name: 'serve.toml', port: exchangePorts[0], ca: files.ca, keyFile: files.keys });
  else if (binance)
    config = fixture.venuesConfig({ dir, name: 'serve.toml', ca: files.ca, keyFile: files.keys,
      ports: Object.fromEntries(venuesPlayed.map((v, i) => [v, exchangePorts[i]])) });
  const startServe = async (port) => {
    const serve = await lib.startServe({ tranche, port, journal, speed: '5', config,
      extra: binance ? ['--anchor', anchor] : ['--exchange', `127.0.0.1:${exchangePorts[0]}`, '--anchor', anchor] });
    processes.push(serve);
    return serve;
  };
  try {
    const exchanges = [];
    for (let i = 0; i < exchangePorts.length; ++i)
      exchanges.push(await startExchange(exchangePorts[i], anchor, files, venuesPlayed[i]));
    let port = await lib.freePort();
    let serve = await startServe(port);
    await sleep(1500);  // the sessions to the exchange log on
    let client = await lib.connect({ port, dictionary });
    client.send('D', { ClOrdID: 'crash-1', Side: '1', TransactTime: new Date(), OrdType: '1',
      OrderQtyData: { OrderQty: qty }, Instrument: { Symbol: 'ETH-USDT' }, TrancheAlgo: 'twap',
      TargetStrategyParameters: 'urgency=passive', ExpireTime: new Date(Date.now() + horizonMs) });
    await client.waitFor(er('crash-1', (m) => m.ExecType === '0'), 'the ack');
    let lastCum = 0;
    const ended = (m) => er('crash-1', (r) => ['2', '3', '4', 'C'].includes(r.OrdStatus))(m);
    for (const kill of kills) {
      if (kill.atCum !== undefined)
        await client.waitFor(er('crash-1', (m) => m.ExecType === 'F' && m.CumQty > kill.atCum), `fills past ${kill.atCum}`, 60000);
      else
        await sleep(kill.afterMs);
      const heard = client.received.filter(er('crash-1', (m) => m.CumQty !== undefined));
      if (heard.length) lastCum = Math.max(lastCum, heard[heard.length - 1].CumQty);
      const over = client.received.some(ended);
      serve.child.kill('SIGKILL');
      await lib.stopServe(serve);
      result.kills += 1;
      port = await lib.freePort();
      serve = await startServe(port);
      const resumed = /resuming 1 working parents/.test(serve.stderr);
      client = await lib.connect({ port, dictionary });
      client.send('H', { ClOrdID: 'crash-1', Side: '1', Instrument: { Symbol: 'ETH-USDT' } });
      const status = await client.waitFor(er('crash-1', (m) => m.ExecType === 'I'), 'the status after a restart', 30000);
      // Recovered: it took the parent up again where it stood, or the parent had ended before the kill.
      const statusEnded = ['2', '3', '4', 'C'].includes(status.OrdStatus);
      if ((resumed || over || statusEnded) && status.CumQty >= lastCum - 1e-9) result.recovered += 1;
      else problem(`restart ${result.kills}: ${resumed ? '' : 'the parent was not resumed; '}CumQty ${status.CumQty} after ${lastCum}`);
      log(`kill ${result.kills}: at CumQty ${lastCum}; after the restart the parent stands at ${status.CumQty} (${status.OrdStatus})`);
      if (statusEnded) break;
    }
    const end = await client.waitFor((m) => ended(m) && m.ExecType !== 'I', 'the end of the parent', 120000)
      .catch(async () => {
        client.send('H', { ClOrdID: 'crash-1', Side: '1', Instrument: { Symbol: 'ETH-USDT' } });
        return client.waitFor(er('crash-1', (m) => m.ExecType === 'I' && ['2', '3', '4', 'C'].includes(m.OrdStatus)),
          'the end of the parent (status)', 30000);
      });
    result.ended = true;
    result.executed = end.CumQty;
    result.endText = end.Text;
    if (end.CumQty > qty + 1e-9) { result.overfills += 1; problem(`overfilled: ${end.CumQty} of ${qty}`); }
    client.logout();
    const exit = await lib.stopServe(serve);
    if (exit.code !== 0) problem(`tranche serve exited ${JSON.stringify(exit)}`);
    const verified = execFileSync(tranche, ['journal', journal, 'verify'], { encoding: 'utf8' });
    result.verified = /every invariant holds/.test(verified);
    if (!result.verified) problem(`the journal does not verify: ${verified}`);

    // The venue's word against the journal's: every fill the exchange made is in the journal once.
    const venues = {};
    for (const exchange of exchanges) {
      exchange.child.kill('SIGTERM');
      await new Promise((r) => (exchange.exited ? r() : exchange.child.on('exit', r)));
      const said = JSON.parse(exchange.stdout);
      Object.assign(venues, said.venues);
      result.reusedIds += Number(said.cl_ord_ids_reused || 0);
      for (const v of Object.values(said.venues)) result.reusedIds += Number(v.client_ids_reused || 0);
    }
    if (result.reusedIds > 0) problem(`${result.reusedIds} ClOrdIDs reused at the exchange`);
    const journaled = journalFills(tranche, journal);
    if (!Object.values(venues).some((v) => v.fills > 0)) problem('the exchange made no fill at all');
    for (const [venue, v] of Object.entries(venues)) {
      const j = journaled[venue] || { bought: 0, sold: 0, fills: 0, fromStatus: 0 };
      const missing = Number(v.bought) - j.bought + (Number(v.sold) - j.sold);
      if (missing > 1e-8) result.lostQty += missing;
      if (missing < -1e-8) result.doubledQty += -missing;
      if (Math.abs(missing) > 1e-8)
        problem(`${venue}: the exchange executed ${v.bought} bought / ${v.sold} sold, the journal has ${j.bought} / ${j.sold}`);
      if (j.fromStatus === 0 && j.fills !== v.fills) problem(`${venue}: ${v.fills} fills at the exchange, ${j.fills} in the journal`);
      if (j.fills > v.fills) problem(`${venue}: more fills in the journal (${j.fills}) than at the exchange (${v.fills})`);
      result.venues[venue] = { orders: v.orders, exchangeFills: v.fills, journalFills: j.fills, fromStatus: j.fromStatus,
        bought: Number(v.bought), sold: Number(v.sold) };
    }
    for (const venue of Object.keys(journaled))
      if (!venues[venue]) problem(`${venue}: fills in the journal, none at the exchange`);
  } catch (e) {
    problem(`${e.message}`);
    for (const p of processes) log(`--- stderr:\n${p.stderr.slice(-2000)}`);
  } finally {
    for (const p of processes) if (!p.exited) p.child.kill('SIGKILL');
    await sleep(200);
    if (result.problems.length === 0) fs.rmSync(dir, { recursive: true, force: true });
    else result.kept = dir;  // the journal and the logs, to read
  }
  return result;
}

module.exports = { crashRun, journalFills };
