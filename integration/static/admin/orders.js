// The orders list: filters and search on the server, one page at a time.
import {api, formatDateTime, h, inAppHref, pagedTable, showError, t} from './nearstock.js';
import {parcel, reasonBadge, shipBy, statusBadge} from './order_parts.js';

const table = document.getElementById('orders-table');
const empty = document.getElementById('orders-empty');
const list = document.getElementById('orders-list');
const noMatch = document.getElementById('orders-no-match');
const fields = ['q', 'status', 'reason', 'warehouse', 'country'].map((name) => document.getElementById(`orders-${name}`));
document.getElementById('orders-connect').setAttribute('href', inAppHref('/admin/warehouses'));

function filters() {
  const query = new URLSearchParams();
  for (const field of fields) {
    const value = (field.value || '').trim();
    if (value) query.set(field.getAttribute('name'), value);
  }
  return query;
}

function routedTo(order) {
  const names = [];
  for (const line of order.lines) {
    for (const route of line.routes) {
      if (route.warehouse && !names.includes(route.warehouse.name)) names.push(route.warehouse.name);
    }
  }
  return h('s-stack', {gap: 'small-300'},
    names.length ? h('s-text', {}, names.join(', ')) : h('s-text', {color: 'subdued'}, t('not_routed_yet')),
    order.reasons.length ? h('s-stack', {direction: 'inline', gap: 'small-300'}, order.reasons.map(reasonBadge)) : null);
}

function row(order) {
  const linkId = `order-link-${order.id}`;
  const open = order.outbounds.filter((o) => o.ship_by);
  const parcels = order.outbounds.flatMap((o) => o.parcels);
  return h('s-table-row', {clickdelegate: linkId},
    h('s-table-cell', {}, h('s-link', {id: linkId, href: inAppHref(`/admin/orders/${order.id}`),
                                       accessibilitylabel: t('open_order', {name: order.name})}, order.name)),
    h('s-table-cell', {}, formatDateTime(order.received_at)),
    h('s-table-cell', {}, order.country || ''),
    h('s-table-cell', {}, routedTo(order)),
    h('s-table-cell', {}, statusBadge(order.status)),
    h('s-table-cell', {}, open.length ? h('s-stack', {gap: 'small-300'}, open.map(shipBy)) : ''),
    h('s-table-cell', {}, parcels.length ? h('s-stack', {gap: 'small-300'}, parcels.map(parcel)) : ''));
}

const paged = pagedTable(table, {
  async load(page) {
    const query = filters();
    const filtered = [...query.keys()].length > 0;
    query.set('page', page);
    const data = await api(`/api/orders?${query}`);
    const none = data.items.length === 0 && data.page === 1;
    // No orders at all: say how they come. None that match: say so, and keep the filters in view.
    empty.hidden = !(none && !filtered);
    list.hidden = none && !filtered;
    noMatch.hidden = !(none && filtered);
    return data;
  },
  row,
});

let typing = null;
fields[0].addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => paged.reload(), 300);
});
for (const field of fields.slice(1)) field.addEventListener('change', () => paged.reload());

async function loadWarehouses() {
  try {
    const {warehouses} = await api('/api/warehouses');
    fields[3].append(...warehouses.map((w) => h('s-option', {value: w.id}, w.name || w.code)));
  } catch (error) {
    showError(error.message);
  }
}

loadWarehouses();
paged.reload();
