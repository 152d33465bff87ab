// A scripted FIX 4.4 venue (exchange) for the conformance tests of Tranche's FIX initiator gateway.
//
// Tranche's gateway must be tested against a FIX engine it does not share code with, so the venue is
// jspurefix (npm, an independent engine) as an ACCEPTOR. It answers each order with a fixed script chosen by
// the order's OrderQty, so a test knows exactly which ExecutionReports to expect:
//
//   qty  script
//   1    New; the order rests.
//   2    New, then one Trade of 2 at the order's Price (filled).
//   3    New, then Trade 1 (partially filled), then Trade 2 (filled); each with its own ExecID.
//   4    Rejected (OrdRejReason 99, Text "venue refuses quantity 4").
//   5    New; rests. A cancel gets a Trade of 2 first, then Canceled (CumQty 2).
//   6    New, then a Trade of 6 (filled), then the very same ExecutionReport again (duplicate ExecID).
//   7    New; rests. 300 ms later the venue drops the TCP connection (no Logout); the order stays in
//        memory for an OrderStatusRequest after the client reconnects.
//   8    New, then 100 ms later a Trade of 8 (filled). A cancel or replace that arrives before that fill
//        makes the fill happen first, so it is always refused as too late (35=9, 102=0, 39=2).
//   9    New; rests. 100 ms later the venue asks the client to resend everything (ResendRequest 7=1
//        16=0). A status request for the order is answered with what the venue has seen of the session
//        since it started, in Text: "gap fills G, orders resent R, logon seq S reset Y|N" (the SequenceReset-
//        GapFills received, the order requests received again as PossDup, and the latest Logon's MsgSeqNum
//        and ResetSeqNumFlag). An order request received as PossDup is counted and never acted on.
//   any  New; the order rests.
//
// Cancel (F), replace (G) and status (H) are answered for any order of the session's history: orders live
// in memory across reconnects, found by any ClOrdID of their chain. Unknown orders get 35=9 (102=1) or a
// status report with 39=8 / 103=5; finished orders get 35=9 (102=0). A NewOrderSingle that reuses a known
// ClOrdID is rejected (103=6). Anything else the client sends is ignored.
//
// Usage: node tests/fix/venue.js --port N --dictionary /abs/FIX44-tranche.xml [--sender VENUE]
//        [--target TRANCHE] [--verbose]
// Prints exactly one stdout line, "listening <port>", once it accepts connections (port 0 picks a free port
// and prints the real one). Runs until SIGTERM/SIGINT (exit 0) or until stdin closes when stdin is a pipe.
// --verbose sends jspurefix's log and a line per message to stderr.
'use strict';
const path = require('path');
const fs = require('fs');

const modules = path.resolve(__dirname, '../../fix/node_modules');
require(path.join(modules, 'reflect-metadata'));
const jspurefix = require(path.join(modules, 'jspurefix'));

function parseArgs(argv) {
  const args = { port: null, dictionary: null, sender: 'VENUE', target: 'TRANCHE', verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    if (key === '--verbose') { args.verbose = true; continue; }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--port') args.port = Number(value);
    else if (key === '--dictionary') args.dictionary = path.resolve(value);
    else if (key === '--sender') args.sender = value;
    else if (key === '--target') args.target = value;
    else throw new Error(`unknown option ${key}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error('--port N is required');
  if (!args.dictionary || !fs.existsSync(args.dictionary)) throw new Error('--dictionary must name an existing file');
  return args;
}

// Float noise (0.1 + 0.2) would otherwise reach the wire as 0.30000000000000004.
function round(x) {
  return Number(x.toFixed(10));
}

// Filled, canceled, rejected: nothing more can happen to the order.
const DONE = new Set(['2', '4', '8']);

// The order book and the scripts. Knows nothing about sessions: every reply goes through `out(type, body)`;
// delayed events go through `later()`, which finds whichever client session is current then.
class Venue {
  constructor(later, trace) {
    this.orders = new Map();
    this.nextOrder = 1;
    this.nextExec = 1;
    this.later = later;
    this.trace = trace;
    // What the venue saw of the session's sequencing (script 9).
    this.sequencing = { gapFills: 0, resentOrders: 0, logonSeq: 0, logonReset: false };
  }

  execId() { return `X${this.nextExec++}`; }

  find(clOrdId) { return clOrdId == null ? null : this.orders.get(clOrdId) || null; }

  // The fields every ExecutionReport about `order` carries; `extra` overrides or adds.
  report(order, extra) {
    const body = {
      OrderID: order.orderId,
      ClOrdID: order.clOrdId,
      ExecID: this.execId(),
      OrdStatus: order.status,
      Instrument: { Symbol: order.symbol },
      Side: order.side,
      OrderQtyData: { OrderQty: order.qty },
      LeavesQty: isDone(order) ? 0 : round(order.qty - order.cum),
      CumQty: order.cum,
      AvgPx: order.cum > 0 ? round(order.notional / order.cum) : 0,
      TransactTime: new Date(),
      ...extra,
    };
    if (order.price != null) body.Price = order.price;
    if (order.ordType != null) body.OrdType = order.ordType;
    if (order.tif != null) body.TimeInForce = order.tif;
    return body;
  }

  cancelReject(request, order, responseTo, reason) {
    const body = {
      OrderID: order ? order.orderId : 'NONE',
      ClOrdID: request.ClOrdID,
      OrigClOrdID: request.OrigClOrdID,
      OrdStatus: order ? order.status : '8',
      CxlRejResponseTo: responseTo,
      CxlRejReason: reason,
      TransactTime: new Date(),
      Text: order ? `order already ${statusName(order.status)}` : 'unknown order',
    };
    return body;
  }

  trade(order, qty, out) {
    const px = order.price != null ? order.price : 0;
    order.cum = round(order.cum + qty);
    order.notional += qty * px;
    order.status = order.cum >= order.qty ? '2' : '1';
    const body = this.report(order, {
      ExecType: 'F',
      LastQty: qty,
      LastPx: px,
      LastLiquidityInd: 1,
      CommissionData: { Commission: round(0.0001 * qty * px), CommType: '3' },
    });
    out('8', body);
    return body;
  }

  onNewOrder(msg, out, session) {
    if (this.orders.has(msg.ClOrdID)) {
      out('8', this.report(orderFromMessage(msg, 'NONE'), {
        OrdStatus: '8', ExecType: '8', OrdRejReason: 6, Text: 'duplicate ClOrdID', LeavesQty: 0,
      }));
      return;
    }
    const order = orderFromMessage(msg, `V${this.nextOrder++}`);
    this.orders.set(order.clOrdId, order);
    if (order.script === 4) {
      order.status = '8';
      out('8', this.report(order, {
        ExecType: '8', OrdRejReason: 99, Text: 'venue refuses quantity 4', LeavesQty: 0,
      }));
      return;
    }
    out('8', this.report(order, { ExecType: '0' }));
    this.runScript(order, out, session);
  }

  runScript(order, out, session) {
    switch (order.script) {
      case 2: this.trade(order, 2, out); break;
      case 3: this.trade(order, 1, out); this.trade(order, 2, out); break;
      case 6: {
        const fill = this.trade(order, 6, out);
        out('8', structuredClone(fill));
        break;
      }
      case 7: setTimeout(() => session.dropConnection(), 300); break;
      case 8: order.pendingFill = setTimeout(() => this.fillScript8(order, this.later), 100); break;
      case 9: setTimeout(() => session.askForEverythingAgain(), 100); break;
      default: break;
    }
  }

  fillScript8(order, out) {
    clearTimeout(order.pendingFill);
    order.pendingFill = null;
    if (isDone(order)) return;
    this.trade(order, round(order.qty - order.cum), out);
  }

  // Script 8's fill is due "any moment now": doing it before the request keeps the race deterministic.
  settlePending(order, out) {
    if (order && order.pendingFill) this.fillScript8(order, out);
  }

  onCancel(msg, out) {
    const order = this.find(msg.OrigClOrdID);
    this.settlePending(order, out);
    if (!order) { out('9', this.cancelReject(msg, null, '1', 1)); return; }
    if (isDone(order)) { out('9', this.cancelReject(msg, order, '1', 0)); return; }
    if (order.script === 5) this.trade(order, Math.min(2, round(order.qty - order.cum)), out);
    order.status = '4';
    order.clOrdId = msg.ClOrdID;
    this.orders.set(msg.ClOrdID, order);
    out('8', this.report(order, { ExecType: '4', OrigClOrdID: msg.OrigClOrdID, LeavesQty: 0 }));
  }

  onReplace(msg, out) {
    const order = this.find(msg.OrigClOrdID);
    this.settlePending(order, out);
    if (!order) { out('9', this.cancelReject(msg, null, '2', 1)); return; }
    if (isDone(order)) { out('9', this.cancelReject(msg, order, '2', 0)); return; }
    const qty = msg.OrderQtyData && msg.OrderQtyData.OrderQty;
    if (qty != null) order.qty = qty;
    if (msg.Price != null) order.price = msg.Price;
    if (msg.OrdType != null) order.ordType = msg.OrdType;
    order.status = order.cum >= order.qty ? '2' : order.cum > 0 ? '1' : '0';
    order.clOrdId = msg.ClOrdID;
    this.orders.set(msg.ClOrdID, order);
    out('8', this.report(order, { ExecType: '5', OrigClOrdID: msg.OrigClOrdID }));
  }

  onStatus(msg, out) {
    const order = this.find(msg.ClOrdID);
    const echo = msg.OrdStatusReqID != null ? { OrdStatusReqID: msg.OrdStatusReqID } : {};
    if (order) {
      const seen = this.sequencing;
      const text = order.script === 9
        ? { Text: `gap fills ${seen.gapFills}, orders resent ${seen.resentOrders}, ` +
                  `logon seq ${seen.logonSeq} reset ${seen.logonReset ? 'Y' : 'N'}` }
        : {};
      out('8', this.report(order, { ExecType: 'I', ClOrdID: msg.ClOrdID, ...echo, ...text }));
      return;
    }
    out('8', {
      OrderID: 'NONE', ClOrdID: msg.ClOrdID, ExecID: this.execId(), ExecType: 'I', OrdStatus: '8',
      OrdRejReason: 5, Text: 'unknown order', Instrument: { Symbol: symbolOf(msg) }, Side: msg.Side,
      LeavesQty: 0, CumQty: 0, AvgPx: 0, TransactTime: new Date(), ...echo,
    });
  }

  onMessage(msgType, msg, out, session) {
    switch (msgType) {
      case 'D': this.onNewOrder(msg, out, session); break;
      case 'F': this.onCancel(msg, out); break;
      case 'G': this.onReplace(msg, out); break;
      case 'H': this.onStatus(msg, out); break;
      default: this.trace(`ignored ${msgType}`); break;
    }
  }
}

function symbolOf(msg) {
  return msg.Instrument ? msg.Instrument.Symbol : undefined;
}

function orderFromMessage(msg, orderId) {
  const qty = msg.OrderQtyData ? msg.OrderQtyData.OrderQty : 0;
  return {
    orderId,
    clOrdId: msg.ClOrdID,
    symbol: symbolOf(msg),
    side: msg.Side,
    ordType: msg.OrdType,
    tif: msg.TimeInForce,
    price: msg.Price,
    qty,
    script: qty,
    cum: 0,
    notional: 0,
    status: '0',
    pendingFill: null,
  };
}

function isDone(order) {
  return DONE.has(order.status);
}

function statusName(status) {
  return { 2: 'filled', 4: 'canceled', 8: 'rejected' }[status] || status;
}

// One session per TCP connection (jspurefix gives each accepted socket its own session scope).
function makeSessionClass(venue, sessions, trace) {
  return class VenueSession extends jspurefix.AsciiSession {
    constructor(config) {
      super(config);
      this.logReceivedMsgs = false;
    }

    onApplicationMsg(msgType, view) {
      const msg = view.toObject();
      trace(`<- ${msgType} ${JSON.stringify(msg)}`);
      // An order request sent again (answering our ResendRequest) is stale: counted, never acted on.
      if (view.getTyped('PossDupFlag') === true && ['D', 'F', 'G', 'H'].includes(msgType)) {
        venue.sequencing.resentOrders++;
        return;
      }
      venue.onMessage(msgType, msg, (type, body) => this.reply(type, body), this);
    }

    reply(type, body) {
      trace(`-> ${type} ${JSON.stringify(body)}`);
      this.send(type, body);
    }

    // Script 9: ask the client for everything it sent again.
    askForEverythingAgain() {
      trace('-> 2 ResendRequest 1..0 (script 9)');
      this.send('2', { BeginSeqNo: 1, EndSeqNo: 0 });
    }

    onMsg(msgType, view) {
      if (msgType === '4' && view.getTyped('GapFillFlag') === true) venue.sequencing.gapFills++;
      super.onMsg(msgType, view);
    }

    // Echo the client's HeartBtInt and ResetSeqNumFlag in our Logon, as a real venue does.
    onLogon(view) {
      venue.sequencing.logonSeq = view.getTyped('MsgSeqNum');
      venue.sequencing.logonReset = view.getTyped('ResetSeqNumFlag') === true;
      const description = this.config.description;
      const heartBtInt = view.getTyped('HeartBtInt');
      if (heartBtInt) {
        description.HeartBtInt = heartBtInt;
        this.sessionState.heartBeat = heartBtInt;
      }
      if (view.getTyped('ResetSeqNumFlag') === true) description.ResetSeqNumFlag = true;
      return true;
    }

    onReady() {
      trace(`session ${this.config.description.TargetCompID} logged on`);
      sessions.current = this;
      sessions.live.add(this);
    }

    onStopped(error) {
      trace(`session stopped${error ? `: ${error.message}` : ''}`);
      sessions.live.delete(this);
      if (sessions.current === this) sessions.current = null;
    }

    // Script 7: no Logout, the socket just goes away. stop() first, so the session does not later try to
    // heartbeat on a dead socket, then destroy rather than end, so the client sees it at once.
    dropConnection() {
      const transport = this.transport;
      if (!transport) return;
      trace('dropping the connection (script 7)');
      this.stop();
      transport.duplex.destroy();
    }

    onDecoded() {}
    onEncoded() {}
  };
}

function sessionDescription(args) {
  return {
    application: {
      type: 'acceptor',
      name: 'venue',
      tcp: { host: '127.0.0.1', port: args.port },
      protocol: 'ascii',
      dictionary: args.dictionary,
    },
    EncryptMethod: 0,
    ResetSeqNumFlag: false,
    HeartBtInt: 30,
    SenderCompId: args.sender,
    TargetCompID: args.target,
    BeginString: 'FIX.4.4',
  };
}

// jspurefix logs a lot, and logs a client's disconnect as an error: silent unless --verbose.
function loggerFactory(verbose) {
  const write = (level, name) => (m) => {
    if (verbose) process.stderr.write(`[${level}] ${name}: ${m instanceof Error ? m.message : m}\n`);
  };
  const make = (name) => ({ info: write('info', name), warning: write('warn', name), debug() {}, error: write('error', name) });
  return { logger: make, plain: make };
}

// jspurefix resets the sequence store of every new connection; one store per SessionId kept for the life of
// the process makes the venue continue its numbers across reconnects, as a real venue does, unless the client
// logs on with ResetSeqNumFlag=Y.
function sharedStoreFactory() {
  const stores = new Map();
  return {
    create(sessionId) {
      const key = sessionId.toString();
      if (!stores.has(key)) stores.set(key, new jspurefix.MemorySessionStore(sessionId));
      return stores.get(key);
    },
  };
}

function makeLauncher(args, SessionClass) {
  class Launcher extends jspurefix.SessionLauncher {
    constructor() { super(null, sessionDescription(args), loggerFactory(args.verbose)); }

    makeFactory(config) {
      config.sessionStoreFactory = sharedStoreFactory();
      return { makeSession: (c) => new SessionClass(c) };
    }
  }
  return new Launcher();
}

// jspurefix logs "start to listen" before net.Server.listen() completes and would print port 0 as 0, so
// look at the server itself (launcher -> TcpAcceptorListener -> TcpAcceptor -> net.Server).
function waitForListening(launcher, timeoutMs = 30000) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const look = setInterval(() => {
      const entity = launcher.acceptorEntity;
      const server = entity && entity.acceptor && entity.acceptor.server;
      if (server && server.listening) {
        clearInterval(look);
        resolve(server.address().port);
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(look);
        reject(new Error('the acceptor did not start listening'));
      }
    }, 10);
  });
}

// Logout to whoever is connected, a moment for it to leave, then exit 0.
function shutdown(launcher, sessions) {
  let stopping = false;
  return () => {
    if (stopping) return;
    stopping = true;
    for (const session of sessions.live) session.done();
    setTimeout(() => {
      launcher.stop();
      process.exit(0);
    }, 200);
  };
}

// stdin closing means the parent went away; but stdin of /dev/null (stdio 'ignore') ends at once, so only a
// pipe or socket counts.
function watchStdin(stop) {
  let stat;
  try { stat = fs.fstatSync(0); } catch (e) { return; }
  if (!stat.isFIFO() && !stat.isSocket()) return;
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`venue: ${e.message}\n`);
    process.exit(2);
  }
  const trace = args.verbose ? (m) => process.stderr.write(`venue: ${m}\n`) : () => {};
  const sessions = { current: null, live: new Set() };
  const later = (type, body) => {
    if (sessions.current) sessions.current.reply(type, body);
    else trace(`no session for delayed ${type} ${body.ExecID || ''}; kept in the book only`);
  };
  const venue = new Venue(later, trace);
  const launcher = makeLauncher(args, makeSessionClass(venue, sessions, trace));
  const stop = shutdown(launcher, sessions);
  // jspurefix throws listen errors (EADDRINUSE) from an event handler: one line, not a stack, for the tests.
  process.on('uncaughtException', (e) => {
    process.stderr.write(`venue: ${e.message}\n`);
    process.exit(1);
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  watchStdin(stop);
  launcher.run().catch((e) => {
    process.stderr.write(`venue: ${e.message}\n`);
    process.exit(1);
  });
  const port = await waitForListening(launcher);
  process.stdout.write(`listening ${port}\n`);
}

main().catch((e) => {
  process.stderr.write(`venue: ${e.message}\n`);
  process.exit(1);
});
