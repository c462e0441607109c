// The stock page: SKUs x warehouses from GET /api/stock (paged on the server by SKU), filters and
// search, and a SKU's daily stock and sales per warehouse from GET /api/stock/<sku>/history.
import {api, clearError, formatNumber, h, lineChart, pagedTable, showError, t} from './nearstock.js';

const table = document.getElementById('stock-table');
const head = document.getElementById('stock-head');
const list = document.getElementById('stock-list');
const empty = document.getElementById('stock-empty');
const warehouseSelect = document.querySelector('s-select[name=warehouse]');
const filterSelect = document.querySelector('s-select[name=filter]');
const search = document.querySelector('s-search-field[name=q]');
const history = document.getElementById('sku-history');
const daysSelect = document.querySelector('s-select[name=days]');

let columns = []; // the warehouses of the current answer (all, or the one filtered on)
let amazon = false;
let openSku = null;

// A field's value: the element's property (Polaris), else its attribute (before it upgrades).
function valueOf(field) {
  return String(field.value ?? field.getAttribute('value') ?? '').trim();
}

function query(page) {
  const params = new URLSearchParams({page: String(page), limit: '25'});
  if (valueOf(warehouseSelect)) params.set('warehouse', valueOf(warehouseSelect));
  if (valueOf(filterSelect)) params.set('filter', valueOf(filterSelect));
  if (valueOf(search)) params.set('q', valueOf(search));
  return params;
}

function filtered() {
  return Boolean(valueOf(warehouseSelect) || valueOf(filterSelect) || valueOf(search));
}

function badge(state) {
  if (state.out) return h('s-badge', {tone: 'critical'}, t('out'));
  if (state.low) return h('s-badge', {tone: 'warning'}, t('low'));
  return null;
}

function drawHead() {
  head.replaceChildren(
    h('s-table-header', {listslot: 'primary'}, t('sku')),
    h('s-table-header', {listslot: 'secondary'}, t('product')),
    h('s-table-header', {listslot: 'inline'}, t('status')),
    ...columns.map((w) => h('s-table-header', {}, w.name)),
    h('s-table-header', {format: 'numeric'}, t('shopify')),
    amazon ? h('s-table-header', {format: 'numeric'}, t('amazon')) : null,
  );
}

function fillWarehouseOptions(warehouses) {
  if (warehouseSelect.querySelectorAll('s-option').length > 1) return; // filled on the first answer
  warehouseSelect.append(...warehouses.map((w) => h('s-option', {value: String(w.id)}, w.name)));
}

function warehouseCell(item, warehouse) {
  const cell = item.warehouses.find((c) => c.warehouse_id === warehouse.id);
  if (!cell) return h('s-table-cell', {}, h('s-text', {color: 'subdued'}, t('not_stocked')));
  return h('s-table-cell', {},
    h('s-stack', {gap: 'small-300'},
      h('s-text', {}, t('on_hand', {n: formatNumber(cell.on_hand)})),
      h('s-text', {color: 'subdued'}, t('reserved', {n: formatNumber(cell.reserved)})),
      h('s-text', {color: 'subdued'}, t('inbound', {n: formatNumber(cell.inbound)})),
      h('s-text', {fontweight: 'bold'}, t('available', {n: formatNumber(cell.available)})),
      warehouse.selling ? badge(cell) : h('s-badge', {}, t('not_selling'))));
}

let rowNumber = 0;
function row(item) {
  rowNumber += 1;
  const id = `sku-open-${rowNumber}`;
  return h('s-table-row', {clickdelegate: id},
    h('s-table-cell', {}, h('s-link', {id, onclick: () => openHistory(item)}, item.sku)),
    h('s-table-cell', {}, item.title),
    h('s-table-cell', {}, badge(item)),
    ...columns.map((w) => warehouseCell(item, w)),
    h('s-table-cell', {}, formatNumber(item.channels.shopify)),
    amazon ? h('s-table-cell', {}, formatNumber(item.channels.amazon)) : null);
}

function noMatchRow() {
  return h('s-table-row', {}, h('s-table-cell', {}, t('no_match')));
}

async function load(page) {
  const data = await api(`/api/stock?${query(page)}`);
  if (!valueOf(warehouseSelect)) fillWarehouseOptions(data.warehouses);
  columns = data.warehouses;
  amazon = data.amazon;
  const nothing = data.items.length === 0 && data.page === 1 && !filtered();
  empty.hidden = !nothing;
  list.hidden = nothing;
  if (nothing) {
    document.getElementById('stock-empty-text').textContent =
      t(data.warehouses.length === 0 ? 'no_warehouse' : 'no_catalog');
  }
  drawHead();
  // The rows are made here, where the answer's warehouse columns are known.
  const rows = data.items.map(row);
  return {...data, items: rows.length || data.page > 1 ? rows : [noMatchRow()]};
}

const paged = pagedTable(table, {load, row: (element) => element});

async function openHistory(item) {
  openSku = item;
  history.hidden = false;
  const heading = document.getElementById('sku-heading');
  heading.textContent = t('history_of', {sku: item.sku, title: item.title});
  const days = valueOf(daysSelect) || '30';
  try {
    const data = await api(`/api/stock/${encodeURIComponent(item.sku)}/history?days=${days}`);
    clearError();
    document.getElementById('sku-none').hidden = data.warehouses.length > 0;
    const stockChart = document.getElementById('sku-stock-chart');
    const salesChart = document.getElementById('sku-sales-chart');
    if (!data.warehouses.length) {
      stockChart.replaceChildren();
      salesChart.replaceChildren();
      return;
    }
    await lineChart(stockChart, {
      labels: data.days,
      series: data.warehouses.map((w) => ({name: w.name, values: w.stock})),
      caption: t('stock_caption', {sku: data.sku, days: data.days.length}),
    });
    await lineChart(salesChart, {
      labels: data.days,
      series: data.warehouses.map((w) => ({name: w.name, values: w.sold})),
      caption: t('sales_caption', {sku: data.sku, days: data.days.length}),
    });
    history.scrollIntoView({block: 'start'});
  } catch (error) {
    showError(error.message);
  }
}

let typing = null;
search.addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => paged.reload(), 300);
});
warehouseSelect.addEventListener('change', () => paged.reload());
filterSelect.addEventListener('change', () => paged.reload());
daysSelect.addEventListener('change', () => openSku && openHistory(openSku));
document.getElementById('sku-close').addEventListener('click', () => {
  history.hidden = true;
  openSku = null;
});

paged.reload();
