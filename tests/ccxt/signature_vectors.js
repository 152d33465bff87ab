// Prints the requests ccxt signs for each call of tranche exchange --protocol binance, with a fixed key,
// secret and clock: the vectors binance_venue_test.cpp (CcxtSignatures) checks our signing and the venue against.
// Usage (in tests/ccxt): node signature_vectors.js
'use strict';
const ccxt = require('ccxt');
const ex = new ccxt.pro.binance({ apiKey: 'the-key', secret: 'the-secret', options: { defaultType: 'spot', recvWindow: 5000 } });
ex.milliseconds = () => 1723161360000;
ex.nonce = () => 1723161360000;
ex.markets = { 'ETH/USDT': { id: 'ETHUSDT', symbol: 'ETH/USDT', spot: true, type: 'spot' } };
ex.markets_by_id = { ETHUSDT: [ex.markets['ETH/USDT']] };
const reqs = [
  ['order', 'private', 'POST', { symbol: 'ETHUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '2600.00', newClientOrderId: 'x-ccxt-1', newOrderRespType: 'FULL' }],
  ['order', 'private', 'POST', { symbol: 'ETHUSDT', side: 'BUY', type: 'MARKET', quantity: '0.5', newClientOrderId: 'x-ccxt-2', newOrderRespType: 'FULL' }],
  ['order', 'private', 'GET', { symbol: 'ETHUSDT', orderId: '1' }],
  ['order', 'private', 'DELETE', { symbol: 'ETHUSDT', orderId: '1' }],
  ['order/cancelReplace', 'private', 'POST', { symbol: 'ETHUSDT', side: 'BUY', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '2601.00', cancelReplaceMode: 'STOP_ON_FAILURE', cancelOrderId: '1' }],
  ['openOrders', 'private', 'GET', { symbol: 'ETHUSDT' }],
  ['openOrders', 'private', 'DELETE', { symbol: 'ETHUSDT' }],
  ['account', 'private', 'GET', {}],
  ['myTrades', 'private', 'GET', { symbol: 'ETHUSDT', fromId: '1' }],
];
for (const [path, api, method, params] of reqs) {
  const r = ex.sign(path, api, method, { ...params });
  const u = new URL(r.url);
  console.log(JSON.stringify({ method, path: u.pathname, query: u.search.slice(1), body: r.body || '' }));
}
console.log(JSON.stringify({ ws: ex.signParams({}) }));
console.log(JSON.stringify({ ws: ex.signParams({ symbol: 'ETHUSDT', side: 'SELL', type: 'LIMIT', timeInForce: 'GTC', quantity: '0.01', price: '2800.00' }) }));
