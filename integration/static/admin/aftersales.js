// The after-sales page: per-warehouse NPS, promise-kept and ratings with their weekly charts, the
// top return reasons per SKU x market, comment themes per language, the returns (filtered, with
// the merchant's decision on those waiting), the return rules, reships and claims. Customer text
// (comments' words) is always written as text, never as HTML.
import {
  api, clearFormErrors, fieldValue, formatDate, formatMoney, formatNumber, formError, h, inAppHref, isChecked,
  lineChart, pagedTable, setChecked, setField, showError, t, toast,
} from './nearstock.js';
import {approveReturn, askToDecline, returnBadge} from './aftersales_parts.js';

const $ = (selector, root = document) => root.querySelector(selector);
const cell = (...children) => h('s-table-cell', {}, ...children);
const NONE = '–';
const figure = (value) => (value === null || value === undefined ? NONE : formatNumber(value));
const percents = new Intl.NumberFormat(document.documentElement.lang, {style: 'percent', maximumFractionDigits: 1});
const percent = (value) => (value === null || value === undefined ? NONE : percents.format(value / 100));
const months = new Intl.DateTimeFormat(document.documentElement.lang, {month: 'long', year: 'numeric', timeZone: 'UTC'});
const language = (code) => {
  try {
    return new Intl.DisplayNames([document.documentElement.lang], {type: 'language'}).of(code);
  } catch {
    return code;
  }
};

// -- figures --------------------------------------------------------------------------------------

function warehouseCard(w) {
  return h('s-box', {padding: 'base', border: 'base', borderradius: 'base'},
    h('s-heading', {}, w.name || t('no_warehouse')),
    h('s-paragraph', {}, t('nps', {score: figure(w.nps.score)})),
    h('s-paragraph', {}, t('kept', {rate: percent(w.kept.rate)})),
    h('s-paragraph', {}, t('average_rating', {average: figure(w.averages.rating)})),
    h('s-paragraph', {tone: 'neutral'}, t('answers', {n: formatNumber(w.answers)})));
}

async function loadFigures() {
  const days = Number(fieldValue($('#period')) || 84);
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86400000);
  const range = `from=${from.toISOString().slice(0, 10)}&to=${to.toISOString().slice(0, 10)}`;
  try {
    const [figures, reasons] = await Promise.all([
      api(`/api/aftersales/warehouses?${range}`), api(`/api/aftersales/reasons?${range}`)]);
    showReasons(reasons);
    const named = figures.warehouses.filter((w) => w.id !== null);
    $('#warehouse-cards').replaceChildren(...named.map(warehouseCard));
    const lines = (pick) => [{name: t('all_warehouses'), values: figures.overall.weeks.map(pick)},
      ...named.map((w) => ({name: w.name, values: w.weeks.map(pick)}))];
    await lineChart($('#chart-nps'), {labels: figures.weeks, series: lines((wk) => wk.nps.score), caption: t('chart_nps')});
    await lineChart($('#chart-kept'), {labels: figures.weeks, series: lines((wk) => wk.kept.rate), caption: t('chart_kept')});
    await lineChart($('#chart-rating'), {labels: figures.weeks, series: lines((wk) => wk.averages.rating),
                                         caption: t('chart_rating')});
  } catch (error) {
    showError(error.message);
  }
}

function showReasons(data) {
  // The latest week first; within a week, the most units first (as the server sorts them).
  const groups = [...data.groups].sort((a, b) => b.week.localeCompare(a.week));
  $('#reasons-table s-table-body').replaceChildren(...groups.map((g) => h('s-table-row', {},
    cell(g.sku || ''), cell(g.market || ''), cell(formatDate(g.week)), cell(formatNumber(g.units)),
    cell(g.reasons.map((r) => t('reason_units', {reason: t(`reason_${r.reason}`), n: formatNumber(r.units)})).join(', ')))));
  $('#reasons-empty').hidden = groups.length > 0;
  $('#reasons-table').hidden = groups.length === 0;
}

async function loadThemes() {
  try {
    const data = await api('/api/aftersales/themes');
    const rows = [];
    for (const month of [...data.months].reverse()) {
      for (const [lang, found] of Object.entries(month.languages)) {
        rows.push(h('s-table-row', {},
          cell(months.format(new Date(`${month.month}-01T00:00:00Z`))),
          cell(language(lang)), cell(formatNumber(found.comments)),
          cell(found.themes.map((x) => t('theme', {term: x.term, praise: formatNumber(x.praise),
                                                    complaints: formatNumber(x.complaints)})).join('; '))));
      }
    }
    $('#themes-table s-table-body').replaceChildren(...rows);
    $('#themes-empty').hidden = rows.length > 0;
    $('#themes-table').hidden = rows.length === 0;
  } catch (error) {
    showError(error.message);
  }
}

// -- returns --------------------------------------------------------------------------------------

const filters = ['q', 'status', 'warehouse', 'market'].map((name) => $(`#returns-${name}`));

function returnRow(ret) {
  const linkId = `return-link-${ret.id}`;
  const name = ret.name || `#${ret.id}`;
  const waiting = ret.status === 'requested';
  return h('s-table-row', {id: `return-${ret.id}`},
    cell(h('s-link', {id: linkId, href: inAppHref(`/admin/aftersales/returns/${ret.id}`),
                      accessibilitylabel: t('open_return', {name})}, name)),
    cell(formatDate(ret.created_at)),
    cell(ret.order.country || ''),
    cell(ret.warehouse ? ret.warehouse.name : ''),
    cell(returnBadge(ret.status)),
    cell(waiting ? h('s-button-group', {},
      h('s-button', {slot: 'primary-action', variant: 'primary', accessibilitylabel: `${t('approve')} ${name}`,
        onClick: (event) => decide(event, ret.id)}, t('approve')),
      h('s-button', {slot: 'secondary-actions', commandfor: 'decline-modal', command: '--show',
        accessibilitylabel: `${t('decline')} ${name}`, onClick: () => askToDecline(ret.id, () => returns.refresh())},
      t('decline'))) : ''));
}

async function decide(event, id) {
  const button = event.currentTarget;
  button.setAttribute('loading', '');
  try {
    await approveReturn(id);
    await returns.refresh();
  } catch (error) {
    toast(error.message, {isError: true});
  } finally {
    button.removeAttribute('loading');
  }
}

const returns = pagedTable($('#returns-table'), {
  load(page) {
    const query = new URLSearchParams({page, limit: 25});
    for (const field of filters) {
      const value = fieldValue(field).trim();
      if (value) query.set(field.getAttribute('name'), value);
    }
    return api(`/api/returns?${query}`);
  },
  row: returnRow,
  empty: $('#returns-empty'),
});

let typing = null;
filters[0].addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(() => returns.reload(), 300);
});
for (const field of filters.slice(1)) field.addEventListener('change', () => returns.reload());

async function loadWarehouses() {
  try {
    const {warehouses} = await api('/api/warehouses');
    filters[2].append(...warehouses.map((w) => h('s-option', {value: w.id}, w.name || w.code)));
  } catch (error) {
    showError(error.message);
  }
}

// -- rules ----------------------------------------------------------------------------------------

const rulesForm = $('#rules-form');
const named = (form, name) => form.querySelector(`[name="${CSS.escape(name)}"]`);

async function loadRules() {
  try {
    const rules = await api('/api/returns/rules');
    setField(named(rulesForm, 'window_days'), rules.window_days);
    for (const box of rulesForm.querySelectorAll('s-checkbox[name=accepted_reasons]')) {
      setChecked(box, rules.accepted_reasons.includes(box.getAttribute('value')));
    }
    setField(named(rulesForm, 'non_returnable_skus'), rules.non_returnable_skus.join('\n'));
    setChecked(named(rulesForm, 'auto_approve'), rules.auto_approve);
    setChecked(named(rulesForm, 'reship_when_lost'), rules.reship_when_lost);
  } catch (error) {
    showError(error.message);
  }
}

rulesForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFormErrors(rulesForm);
  const days = fieldValue(named(rulesForm, 'window_days')).trim();
  const body = {
    window_days: /^\d+$/.test(days) ? Number(days) : days,
    accepted_reasons: [...rulesForm.querySelectorAll('s-checkbox[name=accepted_reasons]')]
      .filter(isChecked).map((box) => box.getAttribute('value')),
    non_returnable_skus: fieldValue(named(rulesForm, 'non_returnable_skus')).split('\n').map((s) => s.trim())
      .filter(Boolean),
    auto_approve: isChecked(named(rulesForm, 'auto_approve')),
    reship_when_lost: isChecked(named(rulesForm, 'reship_when_lost')),
  };
  try {
    await api('/api/returns/rules', {method: 'PUT', body});
    toast(t('saved_rules'));
  } catch (error) {
    formError(rulesForm, error);
  }
});

// -- reships and claims ---------------------------------------------------------------------------

const parcelForm = $('#parcel-form');
const claimForm = $('#claim-form');
const parcelSelect = named(claimForm, 'shipment_id');

parcelForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const q = fieldValue(named(parcelForm, 'order')).trim();
  if (!q) return;
  try {
    const {items} = await api(`/api/orders?${new URLSearchParams({q, limit: 10})}`);
    const options = items.flatMap((order) => order.outbounds.flatMap((o) => o.parcels.map((p) => h('s-option', {value: p.id},
      t('parcel', {order: order.name, carrier: p.carrier || '', number: p.tracking_number || ''})))));
    // Only the options change: the element keeps whatever it renders itself.
    for (const option of parcelSelect.querySelectorAll('s-option')) option.remove();
    parcelSelect.append(...(options.length ? options : [h('s-option', {value: ''}, t('no_parcels'))]));
    await Promise.resolve(); // the element takes in its new options first
    setField(parcelSelect, options.length ? options[0].getAttribute('value') : '');
  } catch (error) {
    formError(parcelForm, error);
  }
});

function claimBody() {
  const amount = fieldValue(named(claimForm, 'amount')).trim();
  const notes = fieldValue(named(claimForm, 'notes')).trim();
  const body = {
    shipment_id: Number(fieldValue(parcelSelect)) || fieldValue(parcelSelect),
    against: fieldValue(named(claimForm, 'against')) || 'carrier',
    kind: fieldValue(named(claimForm, 'kind')) || 'lost',
    amount: amount || '0',
    photo_urls: fieldValue(named(claimForm, 'photo_urls')).split('\n').map((s) => s.trim()).filter(Boolean),
  };
  if (notes) body.notes = notes;
  return body;
}

claimForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFormErrors(claimForm);
  try {
    await api('/api/returns/claims', {method: 'POST', body: claimBody()});
    toast(t('claim_opened'));
    await claims.reload();
  } catch (error) {
    formError(claimForm, error);
  }
});

$('#reship-button').addEventListener('click', async () => {
  clearFormErrors(claimForm);
  const {shipment_id: shipmentId, kind} = claimBody();
  try {
    await api('/api/returns/reships', {method: 'POST', body: {shipment_id: shipmentId, reason: kind}});
    toast(t('reship_sent'));
    await reships.reload();
  } catch (error) {
    formError(claimForm, error);
  }
});

async function settle(event, claim, outcome) {
  const button = event.currentTarget;
  button.setAttribute('loading', '');
  try {
    await api(`/api/returns/claims/${claim.id}/settle`, {method: 'POST', body: {outcome}});
    toast(t(`settle_${outcome}`));
    await claims.refresh();
  } catch (error) {
    toast(error.message, {isError: true});
  } finally {
    button.removeAttribute('loading');
  }
}

const claims = pagedTable($('#claims-table'), {
  load: (page) => api(`/api/returns/claims?page=${page}&limit=10`),
  row: (claim) => h('s-table-row', {id: `claim-${claim.id}`},
    cell(h('s-link', {href: inAppHref(`/admin/orders/${claim.order_id}`)}, `#${claim.id}`)),
    cell(t(`problem_${claim.kind}`)), cell(t(`against_${claim.against}`)),
    cell(formatMoney(claim.amount_claimed, claim.currency)),
    cell(h('s-badge', {tone: claim.status === 'open' ? 'warning' : 'neutral'}, t(`status_${claim.status}`))),
    cell(claim.status === 'open' ? h('s-button-group', {},
      h('s-button', {slot: 'primary-action', onClick: (event) => settle(event, claim, 'refunded')}, t('settle_refunded')),
      h('s-button', {slot: 'secondary-actions', onClick: (event) => settle(event, claim, 'rejected')},
        t('settle_rejected'))) : '')),
});

const reships = pagedTable($('#reships-table'), {
  load: (page) => api(`/api/returns/reships?page=${page}&limit=10`),
  row: (r) => h('s-table-row', {},
    cell(h('s-link', {href: inAppHref(`/admin/orders/${r.order_id}`)}, `#${r.order_id}`)),
    cell(t(`problem_${r.reason}`)),
    cell(r.lines.map((l) => t('units', {sku: l.sku, n: formatNumber(l.quantity)})).join(', ')),
    cell(h('s-badge', {}, t(`status_${r.status}`))),
    cell(formatDate(r.created_at))),
});

// -- start ----------------------------------------------------------------------------------------

$('#period').addEventListener('change', loadFigures);
loadFigures();
loadThemes();
loadWarehouses();
loadRules();
returns.reload();
claims.reload();
reships.reload();
