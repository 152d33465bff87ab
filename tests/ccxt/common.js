// What the ccxt checks share: decimal strings as integers of 1e-8 (never through a double), and a GET to the
// venue trusting only the test CA (NODE_EXTRA_CA_CERTS).
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

module.exports = { units, getter };
