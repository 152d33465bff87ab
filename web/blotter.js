// Tranche's blotter: the HTTP API and its event stream (docs/api.md), shown and steered from a page. No build
// step and no framework: the daemon serves this file as it is. Every value from the server is written with
// textContent (never as HTML). The token lives in this tab's sessionStorage only; it is sent as a bearer
// header to the API and as the stream's first message, never as a cookie.
'use strict';

const state = {
  token: sessionStorage.getItem('tranche.token') || '',
  me: null,
  parents: new Map(),  // id -> parent JSON
  fills: [],           // newest first
  lastSeq: 0,
  ws: null,
  wsRetry: 500,
  route: null,
  charts: {},
  killSwitches: [],
};
const MAX_FILLS = 200;
const $ = (sel) => document.querySelector(sel);

// --- the API ---

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
  if (response.status === 401) { signOut('The token was refused.'); throw new Error('unauthorized'); }
  return { status: response.status, ok: response.ok, json };
}

function errorOf(r) {
  return (r.json && (r.json.error || r.json.text)) || `HTTP ${r.status}`;
}

// --- formatting ---

function time(ns) {
  if (!ns) return '';
  const d = new Date(Number(BigInt(ns) / 1000000n));
  return d.toISOString().slice(11, 23);
}
function num(x, digits = 2) {
  return x === null || x === undefined || Number.isNaN(x) ? '' : Number(x).toFixed(digits);
}
function cell(tr, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '' : String(text);
  if (cls) td.className = cls;
  tr.appendChild(td);
  return td;
}
function button(label, action, onClick, disabled = false) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.dataset.action = action;
  b.disabled = disabled;
  b.addEventListener('click', onClick);
  return b;
}
const canTrade = () => state.me && (state.me.role === 'trader' || state.me.role === 'admin');
const isAdmin = () => state.me && state.me.role === 'admin';
const isFinal = (p) => ['filled', 'canceled', 'expired', 'rejected'].includes(p.state);

// --- signing in and out ---

async function signIn(token) {
  state.token = token;
  const r = await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
  if (r.status !== 200) {
    $('#login-error').textContent = r.status === 401 ? 'That token is not one this server knows.' : `HTTP ${r.status}`;
    state.token = '';
    return;
  }
  state.me = await r.json();
  sessionStorage.setItem('tranche.token', token);
  $('#login').hidden = true;
  $('#sign-out').hidden = false;
  $('#who').textContent = `${state.me.token} (${state.me.role})`;
  $('#order-panel').hidden = !canTrade();
  $('#kill').hidden = !isAdmin();
  await reload();
  connect();
  route();
  setInterval(refreshSlow, 2000);
}

function signOut(message) {
  sessionStorage.removeItem('tranche.token');
  state.token = '';
  state.me = null;
  if (state.ws) state.ws.close();
  $('#login').hidden = false;
  $('#desk').hidden = true;
  $('#parent-page').hidden = true;
  $('#sign-out').hidden = true;
  $('#kill').hidden = true;
  $('#release').hidden = true;
  $('#login-error').textContent = message || '';
}

// --- the state, from REST, then kept by the stream ---

async function reload() {
  const [parents, fills] = await Promise.all([api('GET', '/api/v1/parents'), api('GET', '/api/v1/fills')]);
  state.parents.clear();
  for (const p of parents.json.parents) state.parents.set(p.id, p);
  state.fills = fills.json.fills.slice(-MAX_FILLS).reverse();
  $('#market-clock').textContent = `${time(parents.json.now_ns)} (${parents.json.clock} clock)`;
  renderParents();
  renderFills();
  await refreshSlow();
}

async function refreshSlow() {
  if (!state.me) return;
  const [positions, venues, risk] = await Promise.all([
    api('GET', '/api/v1/positions'), api('GET', '/api/v1/venues'), api('GET', '/api/v1/risk')]);
  renderPositions(positions.json.positions);
  renderVenues(venues.json.venues);
  $('#market-clock').textContent = `${time(venues.json.now_ns)} (${state.me.clock} clock)`;
  renderKill(risk.json.kill_switches);
  if (state.route && state.route.parent) renderParentPage(state.route.parent);
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const from = state.lastSeq > 0 ? `?from=${state.lastSeq + 1}` : '';
  const ws = new WebSocket(`${scheme}://${location.host}/api/v1/stream${from}`);
  state.ws = ws;
  ws.addEventListener('open', () => ws.send(JSON.stringify({ token: state.token })));
  // A message is one event, or an array of them when the server had several waiting for us.
  ws.addEventListener('message', (m) => {
    const data = JSON.parse(m.data);
    for (const e of Array.isArray(data) ? data : [data]) onEvent(e);
  });
  ws.addEventListener('close', () => {
    $('#stream-state').textContent = 'reconnecting';
    $('#stream-state').className = 'pill';
    if (!state.me) return;
    setTimeout(connect, state.wsRetry);
    state.wsRetry = Math.min(state.wsRetry * 2, 10000);
  });
}

function onEvent(e) {
  if (e.type === 'hello') {
    $('#stream-state').textContent = 'live';
    $('#stream-state').className = 'pill live';
    state.wsRetry = 500;
    return;
  }
  if (e.type === 'gap') { reload(); return; }  // older than the server keeps: read the state again
  if (e.seq) state.lastSeq = Math.max(state.lastSeq, e.seq);
  if (e.ts_ns) $('#market-clock').textContent = `${time(e.ts_ns)} (${state.me.clock} clock)`;
  if (e.parent && e.parent.state) state.parents.set(e.parent.id, e.parent);
  if (e.type === 'fill') {
    state.fills.unshift({ received_ns: e.ts_ns, parent_id: e.child.parent_id, venue: e.fill.venue, side: e.child.side,
      base_qty: e.fill.qty, price: e.fill.price, liquidity: e.fill.liquidity });
    state.fills.length = Math.min(state.fills.length, MAX_FILLS);
    renderFills();
  }
  if (e.kill_switch) refreshSlow();
  if (e.parent || e.child) scheduleRender();
  // The open parent's children and TCA as they change (read again at most twice a second).
  const about = e.child ? e.child.parent_id : e.parent ? e.parent.id : null;
  if (state.route && state.route.parent && about === state.route.parent) refreshParentSoon();
}

let parentRefresh = null;
function refreshParentSoon() {
  if (parentRefresh) return;
  parentRefresh = setTimeout(() => {
    parentRefresh = null;
    if (state.route && state.route.parent) renderParentPage(state.route.parent);
  }, 500);
}

let renderPending = false;
function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  requestAnimationFrame(() => {
    renderPending = false;
    renderParents();
    if (state.route && state.route.parent) renderParentHeader(state.route.parent);
  });
}

// --- the desk ---

function renderParents() {
  const body = $('#parents tbody');
  body.replaceChildren();
  const list = [...state.parents.values()].sort((a, b) => b.id - a.id);
  $('#parents-count').textContent = `${list.filter((p) => !isFinal(p)).length} working, ${list.length} in memory`;
  for (const p of list) {
    const tr = document.createElement('tr');
    tr.dataset.parentId = p.id;
    tr.dataset.state = p.state;
    if (isFinal(p)) tr.className = 'ended';
    const id = document.createElement('a');
    id.href = `#/parent/${p.id}`;
    id.textContent = p.id;
    const first = document.createElement('td');
    first.appendChild(id);
    tr.appendChild(first);
    cell(tr, p.client_order_id);
    cell(tr, p.owner);
    cell(tr, p.side, p.side);
    cell(tr, p.qty, 'num');
    cell(tr, p.instrument);
    cell(tr, p.auto ? `auto: ${p.auto.chose}` : p.algo);
    cell(tr, p.phase === 'paused' ? 'paused' : p.state, 'state');
    const bar = document.createElement('td');
    bar.appendChild(progressBar(p));
    tr.appendChild(bar);
    cell(tr, p.average_price || '', 'num');
    cell(tr, p.limit || 'market', 'num');
    const actions = document.createElement('td');
    if (canTrade() && !isFinal(p)) {
      if (p.phase === 'paused') actions.appendChild(button('Resume', 'resume', () => act(p.id, 'resume')));
      else actions.appendChild(button('Pause', 'pause', () => act(p.id, 'pause'), p.state !== 'working'));
      actions.appendChild(button('Cancel', 'cancel', () => act(p.id, 'cancel'), p.state === 'pending_cancel'));
    }
    tr.appendChild(actions);
    body.appendChild(tr);
  }
}

function progressBar(p) {
  const qty = Number(p.qty);
  const box = document.createElement('div');
  box.className = 'progress';
  box.title = `executed ${p.executed} of ${p.qty}, schedule ${p.scheduled}`;
  const done = document.createElement('div');
  done.className = 'done';
  done.style.width = `${Math.min(100, (100 * Number(p.executed)) / qty)}%`;
  const due = document.createElement('div');
  due.className = 'due';
  due.style.left = `${Math.min(100, (100 * Number(p.scheduled)) / qty)}%`;
  box.append(done, due);
  return box;
}

async function act(id, action) {
  const r = await api('POST', `/api/v1/parents/${id}/${action}`, action === 'cancel' ? { reason: 'from the blotter' } : undefined);
  if (!r.ok) alert(`${action}: ${errorOf(r)}`);
  if (r.json && r.json.parent) { state.parents.set(r.json.parent.id, r.json.parent); scheduleRender(); }
}

function renderFills() {
  const body = $('#fills tbody');
  body.replaceChildren();
  for (const f of state.fills.slice(0, 50)) {
    const tr = document.createElement('tr');
    cell(tr, time(f.received_ns));
    cell(tr, f.parent_id);
    cell(tr, f.venue);
    cell(tr, f.side, f.side);
    cell(tr, f.base_qty, 'num');
    cell(tr, f.price, 'num');
    cell(tr, f.liquidity);
    body.appendChild(tr);
  }
}

function renderPositions(list) {
  const body = $('#positions tbody');
  body.replaceChildren();
  for (const p of list) {
    const tr = document.createElement('tr');
    cell(tr, p.account);
    cell(tr, p.instrument);
    cell(tr, p.qty, 'num');
    cell(tr, p.average_entry, 'num');
    cell(tr, p.realized_pnl, 'num');
    body.appendChild(tr);
  }
}

function renderVenues(list) {
  const body = $('#venues tbody');
  body.replaceChildren();
  for (const v of list) {
    const tr = document.createElement('tr');
    cell(tr, v.id);
    cell(tr, v.state);
    cell(tr, v.fills, 'num');
    cell(tr, v.rejects, 'num');
    cell(tr, v.round_trip_p50_ns ? `${num(v.round_trip_p50_ns / 1e6, 1)} ms` : '', 'num');
    cell(tr, v.orders_budget_left === null || v.orders_budget_left === undefined ? '∞' : num(v.orders_budget_left, 1), 'num');
    body.appendChild(tr);
  }
}

function renderKill(list) {
  state.killSwitches = list;
  const banner = $('#kill-banner');
  banner.hidden = list.length === 0;
  banner.textContent = list.map((k) => `KILL SWITCH ENGAGED (${k.scope}${k.target ? ' ' + k.target : ''}): ${k.reason}`).join(' · ');
  $('#release').hidden = !(isAdmin() && list.length > 0);
}

// --- the order form ---

let orderCount = 0;
async function submitOrder(event) {
  event.preventDefault();
  const form = new FormData($('#order-form'));
  const order = {
    client_order_id: form.get('client_order_id') || `blotter-${Date.now().toString(36)}-${++orderCount}`,
    instrument: form.get('instrument'),
    side: form.get('side'),
    qty: form.get('qty'),
    algo: form.get('algo'),
  };
  if (form.get('limit')) order.limit = form.get('limit');
  if (form.get('horizon')) order.horizon = form.get('horizon');
  const r = await api('POST', '/api/v1/parents', order);
  const out = $('#order-result');
  if (r.status === 201 || r.status === 200) {
    out.textContent = `parent ${r.json.parent.id} ${r.status === 200 ? '(already submitted)' : 'accepted'}: ${r.json.text || ''}`;
    out.className = '';
    state.parents.set(r.json.parent.id, r.json.parent);
    scheduleRender();
    $('#order-form').elements.client_order_id.value = '';
  } else {
    out.textContent = `refused: ${errorOf(r)}`;
    out.className = 'error';
  }
}

// --- the kill switch, behind a confirmation ---

function openKill() {
  $('#kill-reason').value = '';
  $('#kill-error').textContent = '';
  $('#kill-dialog').showModal();
}
async function confirmKill() {
  const reason = $('#kill-reason').value.trim();
  if (!reason) { $('#kill-error').textContent = 'Say why: it is journaled.'; return; }
  const r = await api('POST', '/api/v1/kill', { reason });
  if (!r.ok) { $('#kill-error').textContent = errorOf(r); return; }
  $('#kill-dialog').close();
  renderKill(r.json.kill_switches);
}
async function releaseKill() {
  if (!confirm('Release the kill switch? Orders may leave again.')) return;
  for (const k of state.killSwitches) {
    const r = await api('POST', '/api/v1/kill/release', { scope: k.scope, target: k.target || undefined, reason: 'released from the blotter' });
    if (r.ok) renderKill(r.json.kill_switches);
    else alert(`release: ${errorOf(r)}`);
  }
}

// --- one parent ---

function route() {
  if (!state.me) return;
  const m = /^#\/parent\/(\d+)$/.exec(location.hash);
  state.route = m ? { parent: Number(m[1]) } : { parent: null };
  $('#desk').hidden = !!state.route.parent;
  $('#parent-page').hidden = !state.route.parent;
  if (state.route.parent) {
    for (const c of Object.values(state.charts)) c.destroy();
    state.charts = {};
    renderParentPage(state.route.parent);
  }
}

function renderParentHeader(id) {
  const p = state.parents.get(id);
  if (!p) return;
  $('#parent-title').textContent = `Parent ${p.id}: ${p.side} ${p.qty} ${p.instrument} by ${p.auto ? `auto (chose ${p.auto.chose}: ${p.auto.why})` : p.algo}`;
  $('#parent-summary').textContent = `${p.phase === 'paused' ? 'paused' : p.state} · executed ${p.executed} (schedule ${p.scheduled}) · ` +
    `average ${p.average_price || '-'} · limit ${p.limit || 'market'} · owner ${p.owner} · client id ${p.client_order_id}` +
    (p.done_text ? ` · ${p.done_text}` : '');
  const actions = $('#parent-actions');
  actions.replaceChildren();
  if (canTrade() && !isFinal(p)) {
    if (p.phase === 'paused') actions.appendChild(button('Resume', 'resume', () => act(p.id, 'resume')));
    else actions.appendChild(button('Pause', 'pause', () => act(p.id, 'pause')));
    actions.appendChild(button('Cancel', 'cancel', () => act(p.id, 'cancel')));
  }
  $('#amend-form').hidden = !(canTrade() && !isFinal(p) && p.owner === `api/${state.me.token}`);
}

async function renderParentPage(id) {
  const [detail, tca, series] = await Promise.all([
    api('GET', `/api/v1/parents/${id}`), api('GET', `/api/v1/parents/${id}/tca`), api('GET', `/api/v1/parents/${id}/series?points=1500`)]);
  if (detail.status !== 200) {
    $('#parent-title').textContent = `Parent ${id}: ${errorOf(detail)}`;
    return;
  }
  state.parents.set(id, detail.json.parent);
  renderParentHeader(id);
  const children = $('#children tbody');
  children.replaceChildren();
  for (const c of detail.json.child_orders.slice().reverse()) {
    const tr = document.createElement('tr');
    cell(tr, c.child_id);
    cell(tr, c.venue);
    cell(tr, c.type);
    cell(tr, c.price, 'num');
    cell(tr, c.qty, 'num');
    cell(tr, c.cum_qty, 'num');
    cell(tr, c.status);
    children.appendChild(tr);
  }
  renderTca(tca);
  if (series.status === 200 && series.json.kept) renderCharts(series.json);  // else: the charts stay as they were
}

function renderTca(r) {
  const body = $('#tca tbody');
  body.replaceChildren();
  if (r.status !== 200) { $('#tca-state').textContent = errorOf(r); return; }
  const t = r.json.tca;
  $('#tca-state').textContent = r.json.final ? 'final' : 'so far';
  const rows = [
    ['Implementation shortfall', `${num(t.implementation_shortfall_bps)} bps`],
    ['  spread', `${num(t.spread_bps)} bps`], ['  impact', `${num(t.impact_bps)} bps`],
    ['  delay', `${num(t.delay_bps)} bps`], ['  fees', `${num(t.fees_bps)} bps`],
    ['  opportunity', `${num(t.opportunity_bps)} bps`],
    ['Arrival price', num(t.arrival_price, 4)], ['Average price', num(t.average_price, 4)],
    ['VWAP slippage', t.vwap_slippage_bps === null ? 'no prints' : `${num(t.vwap_slippage_bps)} bps`],
    ['Fill ratio', num(t.fill_ratio, 4)], ['Participation', num(t.participation, 4)],
    ...t.markouts.map((m) => [`Markout ${m.horizon_s} s`, m.bps === null ? 'not yet' : `${num(m.bps)} bps`]),
  ];
  // The pre-trade estimate the kernel made when the algo started, and how far the realised cost fell from it.
  const e = r.json.estimate;
  if (e && e.cost_bps !== null) {
    rows.push([`Pre-trade estimate (${e.model})`, `${num(e.cost_bps)} bps, risk ${num(e.risk_bps)} bps`]);
    rows.push(['  realised − estimate', e.error_bps === null ? 'once final' : `${num(e.error_bps)} bps`]);
  }
  for (const [k, v] of rows) {
    const tr = document.createElement('tr');
    cell(tr, k);
    cell(tr, v, 'num');
    body.appendChild(tr);
  }
}

function renderCharts(s) {
  if (typeof uPlot === 'undefined') return;
  const secs = (ns) => Number(BigInt(ns) / 1000000n) / 1000;
  // Price: the benchmark mid as a line, our fills as points at their price.
  const times = [...new Set([...s.mids.map((m) => secs(m[0])), ...s.fills.map((f) => secs(f[0]))])].sort((a, b) => a - b);
  const mid = new Map(s.mids.map((m) => [secs(m[0]), m[1]]));
  const fill = new Map(s.fills.map((f) => [secs(f[0]), f[1]]));
  let last = null;
  const midLine = times.map((t) => (mid.has(t) ? (last = mid.get(t)) : last));
  const fillPoints = times.map((t) => (fill.has(t) ? fill.get(t) : null));
  const width = Math.max(320, $('#price-chart').clientWidth - 8);
  const priceData = [times, midLine, fillPoints];
  if (state.charts.price) state.charts.price.setData(priceData);
  else state.charts.price = new uPlot({ width, height: 240, scales: { x: { time: true } }, axes: [{}, { size: 70 }],
    series: [{}, { label: s.benchmark, stroke: '#4c9aff', width: 1 },
      { label: 'fills', stroke: '#3fb27f', width: 0, points: { show: true, size: 7, fill: '#3fb27f' } }] }, priceData, $('#price-chart'));
  // Progress: what the schedule wants by then against what was executed.
  const progress = [s.progress.map((p) => secs(p[0])), s.progress.map((p) => p[1]), s.progress.map((p) => p[2])];
  if (state.charts.progress) state.charts.progress.setData(progress);
  else state.charts.progress = new uPlot({ width, height: 240, scales: { x: { time: true } }, axes: [{}, { size: 60 }],
    series: [{}, { label: 'schedule', stroke: '#d29922', width: 1 }, { label: 'executed', stroke: '#3fb27f', width: 2 }] },
  progress, $('#progress-chart'));
}

async function amend(event) {
  event.preventDefault();
  const id = state.route.parent;
  const form = new FormData($('#amend-form'));
  const body = { client_order_id: `blotter-amend-${Date.now().toString(36)}` };
  if (form.get('qty')) body.qty = form.get('qty');
  if (form.get('limit')) body.limit = form.get('limit');
  const r = await api('PATCH', `/api/v1/parents/${id}`, body);
  $('#amend-result').textContent = r.ok ? 'amended' : `refused: ${errorOf(r)}`;
  if (r.ok) { state.parents.set(id, r.json.parent); renderParentHeader(id); }
}

// --- wiring ---

document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', (e) => { e.preventDefault(); signIn($('#token').value.trim()); });
  $('#sign-out').addEventListener('click', () => signOut(''));
  $('#order-form').addEventListener('submit', submitOrder);
  $('#amend-form').addEventListener('submit', amend);
  $('#kill').addEventListener('click', openKill);
  $('#kill-cancel').addEventListener('click', () => $('#kill-dialog').close());
  $('#kill-confirm').addEventListener('click', confirmKill);
  $('#release').addEventListener('click', releaseKill);
  window.addEventListener('hashchange', route);
  if (state.token) signIn(state.token);
});
