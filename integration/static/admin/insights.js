// The Insights page: demand shifts, restock suggestions (approve -> inbound shipment, dismiss),
// transfers (accept, dismiss) and test-sale gates, each a server-paginated table with its sort,
// the page's market and warehouse filters, a CSV export and the chart of the row picked.
// The whole body shows at once, after the first answers: nothing moves while the lists load.
import {api, clearError, clearFormErrors, downloadFile, formError, formatDate, formatNumber, h, lineChart, pagedTable,
  showError, t, toast} from './nearstock.js';

const lang = document.documentElement.lang || 'en';
const percent = new Intl.NumberFormat(lang, {style: 'percent', maximumFractionDigits: 1});
const marketSelect = document.querySelector('s-select[name=market]');
const warehouseSelect = document.querySelector('s-select[name=warehouse]');
const approveModal = document.getElementById('approve-modal');
let warehouses = []; // the shop's, from the first answer: the filters and the gates' charts
let approving = null;

// A field's value: the element's property (Polaris), else its attribute (before it upgrades).
function valueOf(field) {
  return String(field.value ?? field.getAttribute('value') ?? '').trim();
}

const cell = (...children) => h('s-table-cell', {}, ...children);
const place = (w) => `${w.name} (${w.country_code})`;
const ratio = (value) => (value === null || value === undefined ? '' : percent.format(value));

function sortOf(kind) {
  return valueOf(document.querySelector(`s-select[name=sort][data-list=${kind}]`));
}

function filterParams(page, kind) {
  const params = new URLSearchParams({page: String(page), limit: '10'});
  const warehouse = warehouses.find((w) => String(w.id) === valueOf(warehouseSelect));
  // A gate is per market: with a warehouse picked (and no market), the gates of its market.
  const market = valueOf(marketSelect) || (kind === 'gates' && warehouse ? warehouse.country_code : '');
  if (market) params.set('market', market);
  if (valueOf(warehouseSelect) && kind !== 'gates') params.set('warehouse', valueOf(warehouseSelect));
  if (kind && kind !== 'gates' && sortOf(kind)) params.set('sort', sortOf(kind));
  return params;
}

function fillFilters(list) {
  if (warehouses.length || !list.length) return;
  warehouses = list;
  warehouseSelect.append(...list.map((w) => h('s-option', {value: String(w.id)}, place(w))));
  const markets = [...new Set(list.map((w) => w.country_code))].sort();
  marketSelect.append(...markets.map((m) => h('s-option', {value: m}, m)));
}

// -- charts -------------------------------------------------------------------------------------

async function drawChart(kind, warehouse, sku) {
  const box = document.getElementById(`${kind}-chart`);
  const data = await api(`/api/insights/series/${warehouse.id}/${encodeURIComponent(sku)}`);
  if (!data.history) {
    box.replaceChildren(h('s-paragraph', {color: 'subdued'}, t('no_chart', {sku, warehouse: warehouse.name})));
    return;
  }
  // Censored days are null: uPlot leaves a gap there instead of drawing zero demand.
  await lineChart(box, {
    labels: data.days,
    series: [
      {name: t('net_demand'), values: data.demand},
      {name: t('forecast'), values: data.forecast},
      {name: t('stock'), values: data.stock},
    ],
    caption: t('chart_caption', {sku, warehouse: warehouse.name}),
  });
}

function chartButton(kind, warehouse, sku) {
  return h('s-button', {variant: 'tertiary', icon: 'chart-line', accessibilitylabel: `${t('chart')} ${sku}`,
    onClick: () => drawChart(kind, warehouse, sku).catch((error) => showError(error.message))}, sku);
}

function statusBadge(status) {
  const tone = {open: 'info', approved: 'success', accepted: 'success', dismissed: 'neutral'}[status] || 'neutral';
  return h('s-badge', {tone}, t(status));
}

// -- the lists ----------------------------------------------------------------------------------

function shiftRow(s) {
  return h('s-table-row', {id: `shift-${s.id}`},
    cell(chartButton('shifts', s.warehouse, s.sku)),
    cell(place(s.warehouse)),
    cell(s.ended_on ? h('s-badge', {}, t('ended', {date: formatDate(s.ended_on)}))
      : h('s-badge', {tone: s.direction === 'rise' ? 'success' : 'warning'}, t(s.direction))),
    cell(ratio(s.change_pct / 100)),
    cell(`${formatNumber(round(s.baseline_daily))} → ${formatNumber(round(s.recent_daily))}`),
    cell(formatDate(s.detected_on)),
    cell(s.reason || ''));
}

function round(value) {
  return value === null || value === undefined ? null : Math.round(value * 10) / 10;
}

function suggestionRow(s) {
  const open = s.status === 'open';
  return h('s-table-row', {id: `suggestion-${s.id}`},
    cell(chartButton('suggestions', s.warehouse, s.sku)),
    cell(place(s.warehouse)),
    cell(statusBadge(s.status)),
    cell(formatNumber(s.quantity)),
    cell(formatDate(s.order_by)),
    cell(formatNumber(round(s.forecast_daily))),
    cell(t(`policy_${s.policy}`)),
    cell(open ? h('s-button-group', {},
      h('s-button', {slot: 'primary-action', variant: 'primary', commandfor: 'approve-modal', command: '--show',
        accessibilitylabel: `${t('approve')} ${s.sku}`, onClick: () => openApproval(s)}, t('approve')),
      h('s-button', {slot: 'secondary-actions', accessibilitylabel: `${t('dismiss')} ${s.sku}`,
        onClick: (event) => decide(event, `/api/insights/suggestions/${s.id}/dismiss`, 'dismissed_toast', lists.suggestions)},
      t('dismiss'))) : ''));
}

function transferRow(x) {
  const open = x.status === 'open';
  return h('s-table-row', {id: `transfer-${x.id}`},
    cell(chartButton('transfers', x.to_warehouse, x.sku)),
    cell(`${place(x.from_warehouse)} → ${place(x.to_warehouse)}`),
    cell(statusBadge(x.status)),
    cell(formatNumber(x.quantity)),
    cell(formatDate(x.expected_arrival)),
    cell(open ? h('s-button-group', {},
      h('s-button', {slot: 'primary-action', variant: 'primary', accessibilitylabel: `${t('accept')} ${x.sku}`,
        onClick: (event) => decide(event, `/api/insights/transfers/${x.id}/accept`, 'accepted_toast', lists.transfers)},
      t('accept')),
      h('s-button', {slot: 'secondary-actions', accessibilitylabel: `${t('dismiss')} ${x.sku}`,
        onClick: (event) => decide(event, `/api/insights/transfers/${x.id}/dismiss`, 'dismissed_toast', lists.transfers)},
      t('dismiss'))) : ''));
}

const VERDICT_TONES = {proven: 'success', testing: 'info', stop: 'critical'};

function gateWarehouse(gate) {
  const chosen = warehouses.find((w) => String(w.id) === valueOf(warehouseSelect) && w.country_code === gate.market);
  return chosen || warehouses.find((w) => w.country_code === gate.market) || null;
}

function gateRow(gate) {
  const warehouse = gateWarehouse(gate);
  return h('s-table-row', {id: `gate-${gate.id}`},
    cell(warehouse ? chartButton('gates', warehouse, gate.sku) : gate.sku),
    cell(gate.market),
    cell(h('s-badge', {tone: VERDICT_TONES[gate.verdict] || 'neutral'}, t(gate.verdict))),
    cell(formatNumber(gate.batch_size)),
    cell(formatNumber(gate.sessions)),
    cell(formatNumber(gate.orders)),
    cell(ratio(gate.conversion)),
    cell(ratio(gate.bad_review_rate)),
    cell(ratio(gate.return_rate)));
}

const ROWS = {shifts: shiftRow, suggestions: suggestionRow, transfers: transferRow, gates: gateRow};
const FIRST = {}; // kind -> the first row of its first page: the chart drawn before any pick

function firstChart(kind, item) {
  if (kind === 'transfers') return [item.to_warehouse, item.sku];
  if (kind === 'gates') return gateWarehouse(item) && [gateWarehouse(item), item.sku];
  return [item.warehouse, item.sku];
}

function makeList(kind) {
  const table = document.getElementById(`${kind}-table`);
  const empty = document.getElementById(`${kind}-empty`);
  return pagedTable(table, {
    async load(page) {
      const data = await api(`/api/insights/${kind}?${filterParams(page, kind)}`);
      if (data.warehouses) fillFilters(data.warehouses);
      const filtered = Boolean(valueOf(marketSelect) || valueOf(warehouseSelect));
      const none = data.items.length === 0 && data.page === 1;
      empty.hidden = !none || filtered;
      table.hidden = none && !filtered;
      FIRST[kind] = data.page === 1 && data.items.length ? firstChart(kind, data.items[0]) : null;
      // An empty list has no chart: its box holds no space (set before the body shows).
      document.getElementById(`${kind}-chart`).hidden = data.items.length === 0 && data.page === 1;
      const rows = data.items.map(ROWS[kind]);
      return {...data, items: rows.length || !filtered ? rows : [h('s-table-row', {}, cell(t('no_match')))]};
    },
    row: (element) => element,
  });
}

const lists = Object.fromEntries(Object.keys(ROWS).map((kind) => [kind, makeList(kind)]));

function drawFirstCharts() {
  return Promise.all(Object.keys(ROWS).map((kind) => {
    if (!FIRST[kind]) {
      document.getElementById(`${kind}-chart`).replaceChildren();
      return null;
    }
    return drawChart(kind, ...FIRST[kind]).catch((error) => showError(error.message));
  }));
}

async function reloadAll() {
  await Promise.all(Object.values(lists).map((list) => list.reload()));
  await drawFirstCharts();
}

// -- decisions ----------------------------------------------------------------------------------

async function decide(event, path, message, list) {
  const button = event.currentTarget;
  button.setAttribute('loading', '');
  try {
    await api(path, {method: 'POST'});
    toast(t(message));
    clearError();
    await list.refresh();
  } catch (error) {
    toast(error.message, {isError: true});
  } finally {
    button.removeAttribute('loading');
  }
}

function openApproval(suggestion) {
  approving = suggestion;
  document.getElementById('approve-text').textContent = t('approve_text', {
    warehouse: suggestion.warehouse.name, quantity: formatNumber(suggestion.quantity), sku: suggestion.sku});
}

document.getElementById('approve-confirm').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  if (!approving) return;
  button.setAttribute('loading', '');
  try {
    await api(`/api/insights/suggestions/${approving.id}/approve`, {method: 'POST'});
    toast(t('approved_toast'));
    // Polaris' s-modal closes by hideOverlay(); the offline stand-in names it hide().
    (approveModal.hideOverlay || approveModal.hide)?.call(approveModal);
    approving = null;
    await lists.suggestions.refresh();
  } catch (error) {
    toast(error.message, {isError: true});
  } finally {
    button.removeAttribute('loading');
  }
});

// -- test-sale gates ----------------------------------------------------------------------------

const gateForm = document.getElementById('gate-form');
gateForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFormErrors(gateForm);
  const field = (name) => valueOf(gateForm.querySelector(`[name=${name}]`));
  const batch = Number(field('batch_size'));
  try {
    await api('/api/insights/gates', {method: 'POST', body: {
      sku: field('sku'), market: field('market').toUpperCase(), batch_size: Number.isFinite(batch) ? batch : field('batch_size')}});
    toast(t('gate_started'));
    await lists.gates.reload();
  } catch (error) {
    formError(gateForm, error);
  }
});

// -- exports ------------------------------------------------------------------------------------

async function download(what) {
  try {
    const params = filterParams(1, what);
    params.delete('page');
    params.delete('limit');
    params.delete('sort');
    params.set('what', what);
    await downloadFile(`/api/insights/export.csv?${params}`, `insights-${what}.csv`);
  } catch (error) {
    showError(error.message);
  }
}

for (const button of document.querySelectorAll('[data-export]')) {
  button.addEventListener('click', () => download(button.dataset.export));
}
for (const select of document.querySelectorAll('s-select[name=sort]')) {
  select.addEventListener('change', () => lists[select.dataset.list].reload());
}
marketSelect.addEventListener('change', reloadAll);
warehouseSelect.addEventListener('change', reloadAll);

// -- start --------------------------------------------------------------------------------------

// The lists first, then the body at once (its chart boxes hold their height), then the charts.
Promise.all(Object.values(lists).map((list) => list.reload())).finally(() => {
  document.getElementById('insights-loading').hidden = true;
  document.getElementById('insights-body').hidden = false;
  drawFirstCharts();
});
