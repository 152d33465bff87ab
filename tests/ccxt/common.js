// What the ccxt checks share: decimal strings as integers of 1e-8 (never through a double), a GET to the
// venue trusting only the test CA (NODE_EXTRA_CA_CERTS), ccxt fenced to the paths a check opens, and a named
// step.
'use strict';
const https = require('https');

function units(text) {
  const [whole, frac = ''] = String(text).split('.');
  const sign = whole.startsWith('-') ? -1n : 1n;
  return sign * (BigInt(whole.replace('-', '') || '0') * 100000000n + BigInt((frac + '00000000').slice(0, 8)));
}

function getter(base) {
  return (pathAndQuery) => new Promise((resolve, reject) => {
    https.get(base + pathAndQuery, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`${res.statusCode} ${body}`))));
    }).on('error', reject);
  });
}

// Points every API ccxt knows (REST and WebSocket) at a path the venue does not serve, so that a call the check
// did not expect fails (404); the caller then opens the ones its market serves on the returned `api`. Every
// REST request's method and path is recorded in `requested`.
function fence(ex, base, requested) {
  const wsBase = base.replace(/^https/, 'wss');
  const api = ex.urls.api;
  for (const k of Object.keys(api)) if (typeof api[k] === 'string') api[k] = `${base}/unserved/${k}`;
  for (const k of Object.keys(api.ws)) if (typeof api.ws[k] === 'string') api.ws[k] = `${wsBase}/unserved/${k}`;
  const fetch = ex.fetch.bind(ex);
  ex.fetch = (url, method = 'GET', headers = undefined, body = undefined) => {
    requested.push(`${method} ${new URL(url).pathname}`);
    return fetch(url, method, headers, body);
  };
  return api;
}

// `step(name, fn)`: runs fn and says "ok - <label>name (<ms> ms)".
function stepper(label = '') {
  return async (name, fn) => {
    const t = Date.now();
    await fn();
    console.log(`ok - ${label}${name} (${Date.now() - t} ms)`);
  };
}

module.exports = { units, getter, fence, stepper };
