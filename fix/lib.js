// jspurefix helpers for Tranche's FIX tests and examples: `tranche serve` as a child process on a free port,
// and jspurefix (an independent FIX engine, npm) as the client. Plain CommonJS on node 20.
'use strict';
const path = require('path');
const net = require('net');
const fs = require('fs');
const os = require('os');
const { spawn } = require('child_process');

const modules = path.resolve(__dirname, 'node_modules');
require(path.join(modules, 'reflect-metadata'));
const jspurefix = require(path.join(modules, 'jspurefix'));

// A port nobody listens on now (the kernel picks it); never the default 9878.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tempDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tranche-${name}-`));
}

// `tranche serve` with its stderr kept; resolves once it listens. `port` null: a free one, picked again when
// another process took it before the server bound it (`serve.port` says which).
async function startServe({ tranche, port, journal, speed = '1', config = null, extra = [] }) {
  if (port !== null && port !== undefined) return startServeOn({ tranche, port, journal, speed, config, extra });
  for (let attempt = 1; ; ++attempt) {
    try {
      return await startServeOn({ tranche, port: await freePort(), journal, speed, config, extra });
    } catch (e) {
      if (attempt >= 3 || !/Address already in use/.test(e.message)) throw e;
    }
  }
}

function startServeOn({ tranche, port, journal, speed = '1', config = null, extra = [] }) {
  // speed null: no --speed (a live market plays on the wall clock and refuses one).
  // The HTTP API on a free port of its own (`serve.apiPort`), unless the test names one: tests run side by side.
  const api = extra.includes('--api-port') || extra.includes('--no-api') ? [] : ['--api-port', '0'];
  const args = ['serve', '--port', String(port), '--journal', journal, ...(speed ? ['--speed', speed] : []), ...api, ...extra];
  if (config) args.push('--config', config);
  const child = spawn(tranche, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const serve = { child, stderr: '', exited: null, port, apiPort: null, apiOrigin: null };
  child.stderr.on('data', (d) => { serve.stderr += d.toString(); });
  child.on('exit', (code, signal) => { serve.exited = { code, signal }; });
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const look = setInterval(() => {
      // The whole line: stderr can arrive cut mid-line, and a test that reads the line's end (its market, its
      // journal) right after must find it (the paper test's intermittent "market paper" failure).
      if (/FIX 4\.4 on [^\n]*\n/.test(serve.stderr)) {
        clearInterval(look);
        const api = /HTTP API on (https?:\/\/[^ ]+:(\d+)) /.exec(serve.stderr);
        if (api) {
          serve.apiOrigin = api[1];
          serve.apiPort = Number(api[2]);
        }
        resolve(serve);
      } else if (serve.exited || Date.now() - started > 30000) {
        clearInterval(look);
        reject(new Error(`tranche serve did not start: ${JSON.stringify(serve.exited)}\n${serve.stderr}`));
      }
    }, 20);
  });
}

// Runs `steps` ({ name, fn }) in order, a line for each with its time. At the first failure: the error, `logs()`
// (what the servers said), `stop()` (kill them), and exit 1. `check()` runs after each step (a step fails on it).
async function runSteps(steps, { logs = () => '', stop = async () => {}, check = () => {} } = {}) {
  for (const s of steps) {
    const started = Date.now();
    try {
      await s.fn();
      check();
      console.log(`ok   ${s.name} (${Date.now() - started} ms)`);
    } catch (e) {
      console.log(`FAIL ${s.name}\n${e.stack}\n${logs()}`);
      await stop();
      process.exit(1);
    }
  }
}

function stopServe(serve, signal = 'SIGTERM') {
  return new Promise((resolve) => {
    if (serve.exited) return resolve(serve.exited);
    serve.child.on('exit', (code, sig) => resolve({ code, signal: sig }));
    serve.child.kill(signal);
  });
}

const quietLogs = {
  logger: () => ({ info() {}, warning() {}, debug() {}, error() {} }),
  plain: () => ({ info() {}, warning() {}, debug() {}, error() {} }),
};

// A client's sequence-number store that outlives its connections (jspurefix resets a new connection's own):
// pass the same one to every connect() of a client that keeps its numbers. `last` ({ sent, received }, what
// client.sequence() said at the end of an earlier run) makes it go on from there.
function sequenceStore(last = null) {
  let store = null;
  return {
    create(sessionId) {
      if (!store) {
        store = new jspurefix.MemorySessionStore(sessionId);
        if (last) {
          store.senderSeqNum = last.sent + 1;
          store.targetSeqNum = last.received + 1;
        }
      }
      return store;
    },
  };
}

// A jspurefix initiator logged on to our acceptor. Resolves with a client that sends messages by type, sends
// raw bytes, and waits for what comes back. `reset` (the default) logs on with ResetSeqNumFlag=Y, sequence
// numbers from 1; with reset false and a `store` from sequenceStore() the session goes on from the numbers an
// earlier connection of the same client left in it, as a client that keeps its numbers does.
function connect({ port, dictionary, sender = 'CLIENT1', target = 'TRANCHE', username, password, reset = true,
  store = null }) {
  const description = {
    application: {
      reconnectSeconds: 0,
      type: 'initiator',
      name: `client-${sender}`,
      tcp: { host: '127.0.0.1', port },
      protocol: 'ascii',
      dictionary,
    },
    EncryptMethod: 0,
    ResetSeqNumFlag: reset,
    HeartBtInt: 30,
    SenderCompId: sender,
    TargetCompID: target,
    BeginString: 'FIX.4.4',
  };
  if (username) description.Username = username;
  if (password) description.Password = password;

  return new Promise((resolve, reject) => {
    const received = [];
    const waiters = [];
    let session = null;
    let settled = false;
    class ClientSession extends jspurefix.AsciiSession {
      constructor(config) {
        super(config);
        this.logReceivedMsgs = false;
      }
      onApplicationMsg(msgType, view) {
        // Its sequence number and whether it was resent (PossDupFlag, answering our ResendRequest) beside it.
        const message = { msgType, seqNum: view.getTyped('MsgSeqNum'), possDup: view.getTyped('PossDupFlag') === true,
          ...view.toObject() };
        received.push(message);
        for (const w of [...waiters]) if (w.test(message)) w.done(message);
      }
      onReady() {
        session = this;
        if (!settled) {
          settled = true;
          resolve(client);
        }
      }
      onStopped(error) {
        client.stopped = error || true;
        if (!settled) {
          settled = true;
          reject(error || new Error('the session stopped before it was ready'));
        }
      }
      onLogon() { return true; }
      onDecoded() {}
      onEncoded() {}
      onMsg(msgType, view) {
        // Session-level messages (Reject 35=3, BusinessMessageReject 35=j) are kept too.
        if (msgType === '3' || msgType === 'j') {
          const message = { msgType, ...view.toObject() };
          received.push(message);
          for (const w of [...waiters]) if (w.test(message)) w.done(message);
        }
        super.onMsg(msgType, view);
      }
      sendMessage(type, body) { this.send(type, body); }
      writeRaw(text) { this.transport.duplex.writable.write(text); }
      nextSeqNum() { return this.lastSentSeqNum() + 1; }
      sequence() { return { sent: this.lastSentSeqNum(), received: this.sessionState.lastPeerMsgSeqNum }; }
    }
    class Launcher extends jspurefix.SessionLauncher {
      constructor() { super(description, null, quietLogs); }
      makeFactory(config) {
        if (store) config.sessionStoreFactory = store;
        return { makeSession: (c) => new ClientSession(c) };
      }
    }
    const launcher = new Launcher();
    const client = {
      received,
      stopped: false,
      send(type, body) { session.sendMessage(type, body); },
      raw(text) { session.writeRaw(text); },
      nextSeqNum() { return session.nextSeqNum(); },
      sequence() { return session.sequence(); },
      // The first message (already received or still to come) for which test() is true.
      waitFor(test, what, timeoutMs = 20000) {
        const found = received.find(test);
        if (found) return Promise.resolve(found);
        return new Promise((res, rej) => {
          const w = {
            test,
            done: (m) => {
              clearTimeout(w.timer);
              waiters.splice(waiters.indexOf(w), 1);
              res(m);
            },
          };
          w.timer = setTimeout(() => {
            waiters.splice(waiters.indexOf(w), 1);
            rej(new Error(`timed out waiting for ${what}; received:\n` +
              received.map((m) => JSON.stringify(m)).join('\n')));
          }, timeoutMs);
          waiters.push(w);
        });
      },
      logout() { session.done(); },
    };
    launcher.run().catch((e) => {
      if (!settled) {
        settled = true;
        reject(e);
      }
    });
  });
}

// A FIX message by hand (for garbled input): fields joined by SOH, with BodyLength and CheckSum computed
// unless `corrupt` says which to spoil.
function rawMessage(fields, { corruptChecksum = false } = {}) {
  const soh = '\x01';
  const body = fields.map(([t, v]) => `${t}=${v}`).join(soh) + soh;
  const head = `8=FIX.4.4${soh}9=${Buffer.byteLength(body)}${soh}`;
  let sum = 0;
  for (const b of Buffer.from(head + body)) sum = (sum + b) % 256;
  if (corruptChecksum) sum = (sum + 1) % 256;
  return `${head}${body}10=${String(sum).padStart(3, '0')}${soh}`;
}

function fixTime(date = new Date()) {
  const p = (n, w = 2) => String(n).padStart(w, '0');
  return `${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}-` +
    `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())}.${p(date.getUTCMilliseconds(), 3)}`;
}

module.exports = { freePort, tempDir, startServe, stopServe, runSteps, connect, sequenceStore, rawMessage, fixTime, jspurefix };
