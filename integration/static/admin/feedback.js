// The feedback page: customers' ratings per warehouse, a weekly chart, and the ratings with their
// comments (customer text: always written as text, never as HTML), filtered and paged.
import {api, formatDate, formatNumber, h, inAppHref, lineChart, pagedTable, showError, t} from './nearstock.js';

const $ = (selector) => document.querySelector(selector);
const period = $('#period');
const warehouseFilter = $('#filter-warehouse');
const ratingFilter = $('#filter-rating');
const cell = (...children) => h('s-table-cell', {}, ...children);

function selected(el) {
  if ('value' in el) return String(el.value ?? '');
  return el.querySelector('select')?.value ?? el.getAttribute('value') ?? '';
}

function stars(n) {
  // Five characters for the eye, the number for screen readers.
  return h('s-text', {accessibilityvisibility: 'visible'}, h('span', {'aria-hidden': 'true'},
    '★'.repeat(n) + '☆'.repeat(5 - n)), h('s-text', {accessibilityvisibility: 'exclusive'}, t('stars', {n})));
}

const average = (value) => (value === null ? '–' : formatNumber(value));

function warehouseCard(w) {
  return h('s-box', {padding: 'base', border: 'base', borderradius: 'base'},
    h('s-heading', {}, w.name || t('no_warehouse')),
    h('s-paragraph', {}, `${t('average')}: ${average(w.average)}`),
    h('s-paragraph', {tone: 'neutral'}, t('ratings_count', {count: formatNumber(w.count)})));
}

let warehousesListed = false;

function listWarehouses(warehouses) {
  // The filter offers the shop's warehouses that have ratings (once: filtering keeps the list).
  if (warehousesListed) return;
  warehousesListed = true;
  warehouseFilter.append(...warehouses.filter((w) => w.id !== null)
    .map((w) => h('s-option', {value: w.id}, w.name)));
}

async function loadSummary() {
  try {
    const data = await api(`/api/feedback/summary?days=${encodeURIComponent(selected(period) || '90')}`);
    $('#overall').textContent = data.count
      ? t('overall', {count: formatNumber(data.count), average: average(data.average)})
      : t('no_ratings');
    $('#per-warehouse').replaceChildren(...data.warehouses.map(warehouseCard));
    listWarehouses(data.warehouses);
    const series = [{name: t('all_warehouses'), values: data.overall.averages},
      ...data.series.map((s) => ({name: s.name || t('no_warehouse'), values: s.averages}))];
    await lineChart($('#chart'), {labels: data.weeks, series, caption: t('chart_caption')});
  } catch (error) {
    showError(error.message);
  }
}

function ratingRow(item) {
  return h('s-table-row', {},
    cell(h('s-link', {href: inAppHref(`/admin/orders/${item.order_id}`)}, item.order_name || `#${item.order_id}`)),
    cell(stars(item.rating)),
    cell(item.comment || ''),
    cell(item.warehouses.length ? item.warehouses.map((w) => w.name).join(', ') : t('no_warehouse')),
    cell(formatDate(item.created_at)));
}

function ratingsPath(page) {
  const params = new URLSearchParams({page, limit: 25});
  const warehouse = selected(warehouseFilter);
  const rating = selected(ratingFilter);
  if (warehouse) params.set('warehouse', warehouse);
  if (rating) params.set('rating', rating);
  return `/api/feedback?${params}`;
}

const ratings = pagedTable($('#ratings'), {
  load: (page) => api(ratingsPath(page)),
  row: ratingRow,
  empty: $('#ratings-empty'),
});

period.addEventListener('change', loadSummary);
warehouseFilter.addEventListener('change', () => ratings.reload());
ratingFilter.addEventListener('change', () => ratings.reload());

loadSummary();
ratings.reload();
