// The loyalty page: the program switch, earning rules, tiers and perks, the member list with a
// member's ledger and manual adjustments, and the CSV exports. Every label comes from the page's
// strings; customer data is written as text, never as HTML.
import {
  api, clearError, clearFormErrors, downloadFile, fieldValue, formError, formatDateTime, formatNumber, h, isChecked,
  pagedTable, setChecked, setField, showError, t, toast,
} from './nearstock.js';

const $ = (selector, root = document) => root.querySelector(selector);

const field = (form, name) => form.querySelector(`[name="${CSS.escape(name)}"]`);

// -- program and earning rules ------------------------------------------------------------------

const enabledSwitch = $('#program-enabled');
const rulesForm = $('#rules-form');
const NUMBERS = ['points_per_currency', 'local_multiplier'];
const INTEGERS = ['points_expiry_days', 'signup_bonus', 'birthday_bonus', 'feedback_bonus'];
const CHOICES = ['earn_on', 'tier_basis'];
let program = null;

function fillRules() {
  setChecked(enabledSwitch, program.enabled);
  enabledSwitch.removeAttribute('disabled');
  for (const name of [...NUMBERS, ...INTEGERS, ...CHOICES]) setField(field(rulesForm, name), program[name]);
  setField(field(rulesForm, 'member_days'), program.member_days.join(', '));
}

function parseMemberDays(text) {
  const days = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (/^\d{1,2}$/.test(part)) days.push(Number(part));
    else if (/^\d{4}-\d{2}-\d{2}$/.test(part)) days.push(part);
    else return null;
  }
  return days;
}

function readRules() {
  const body = {};
  for (const name of [...NUMBERS, ...CHOICES]) body[name] = fieldValue(field(rulesForm, name)).trim();
  for (const name of INTEGERS) {
    const text = fieldValue(field(rulesForm, name)).trim();
    body[name] = /^-?\d+$/.test(text) ? Number(text) : text; // the server names what is wrong
  }
  const days = parseMemberDays(fieldValue(field(rulesForm, 'member_days')));
  if (days === null) {
    const error = {field: 'member_days', message: t('member_days_invalid')};
    throw error;
  }
  body.member_days = days;
  return body;
}

async function loadProgram() {
  const data = await api('/api/loyalty/program');
  program = data.program;
  fillRules();
  fillTiers(data.tiers);
}

enabledSwitch.addEventListener('change', async () => {
  const wanted = isChecked(enabledSwitch);
  enabledSwitch.setAttribute('disabled', '');
  try {
    program = (await api('/api/loyalty/program', {method: 'PUT', body: {enabled: wanted}})).program;
    toast(t(program.enabled ? 'program_on' : 'program_off'));
    clearError();
  } catch (error) {
    showError(error.message);
  } finally {
    setChecked(enabledSwitch, program.enabled);
    enabledSwitch.removeAttribute('disabled');
  }
});

rulesForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFormErrors(rulesForm);
  try {
    program = (await api('/api/loyalty/program', {method: 'PUT', body: readRules()})).program;
    fillRules();
    toast(t('rules_saved'));
    clearError();
  } catch (error) {
    formError(rulesForm, error);
  }
});

// A discarded edit (the save bar's Discard) shows the saved rules again.
rulesForm.addEventListener('reset', () => setTimeout(() => program && fillRules()));

// -- tiers and perks ----------------------------------------------------------------------------

const tiersForm = $('#tiers-form');
const tierList = $('#tiers');
const PERKS = ['free_shipping_days', 'priority_support', 'birthday_gift'];
let savedTiers = [];

function tierRow(tier, index) {
  const at = (name) => `tiers[${index}].${name}`;
  const row = h('s-box', {padding: 'base', border: 'base', borderradius: 'base', 'data-tier': ''},
    h('s-grid', {gridtemplatecolumns: 'repeat(auto-fit, minmax(180px, 1fr))', gap: 'base'},
      h('s-text-field', {name: at('name'), label: t('tier_name'), value: tier.name, maxlength: 64, required: true}),
      h('s-number-field', {name: at('threshold'), label: t('threshold'), value: tier.threshold, min: 0, step: 1,
        inputmode: 'decimal'}),
      h('s-number-field', {name: at('multiplier'), label: t('multiplier'), value: tier.multiplier, min: 1, max: 100,
        step: 0.1, inputmode: 'decimal'})),
    h('s-stack', {direction: 'inline', gap: 'base', paddingblockstart: 'base', alignitems: 'center'},
      ...PERKS.map((perk) => h('s-checkbox', {name: at(perk), label: t(perk), checked: Boolean(tier[perk])})),
      h('s-button', {type: 'button', tone: 'critical', variant: 'tertiary', onclick: () => removeTier(row)},
        t('remove_tier'))));
  return row;
}

function renumberTiers() {
  // Field names carry the index the server uses in its messages ("tiers[1].name").
  [...tierList.children].forEach((row, index) => {
    for (const el of row.querySelectorAll('[name^="tiers["]')) {
      el.setAttribute('name', el.getAttribute('name').replace(/^tiers\[\d+\]/, `tiers[${index}]`));
    }
  });
  $('#no-tiers').hidden = tierList.children.length > 0;
}

function removeTier(row) {
  row.remove();
  renumberTiers();
  tiersForm.dispatchEvent(new Event('change', {bubbles: true})); // the save bar sees the edit
}

function fillTiers(tiers) {
  savedTiers = tiers;
  tierList.replaceChildren(...tiers.map(tierRow));
  renumberTiers();
}

function readTiers() {
  return [...tierList.children].map((row, index) => {
    const get = (name) => row.querySelector(`[name="${CSS.escape(`tiers[${index}].${name}`)}"]`);
    const tier = {name: fieldValue(get('name')).trim(), threshold: fieldValue(get('threshold')).trim() || '0',
      multiplier: fieldValue(get('multiplier')).trim() || '1'};
    for (const perk of PERKS) tier[perk] = isChecked(get(perk));
    return tier;
  });
}

$('#add-tier').addEventListener('click', () => {
  const next = tierList.children.length;
  tierList.append(tierRow({name: '', threshold: '', multiplier: '1'}, next));
  renumberTiers();
  field(tiersForm, `tiers[${next}].name`)?.focus?.();
});

tiersForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFormErrors(tiersForm);
  try {
    const data = await api('/api/loyalty/tiers', {method: 'PUT', body: {tiers: readTiers()}});
    fillTiers(data.tiers);
    toast(t('tiers_saved'));
    clearError();
    customers.refresh(); // members' tiers are re-checked
  } catch (error) {
    formError(tiersForm, error);
  }
});

tiersForm.addEventListener('reset', () => setTimeout(() => fillTiers(savedTiers)));

// -- members ------------------------------------------------------------------------------------

const search = $('#customer-search');
const cell = (...children) => h('s-table-cell', {}, ...children);
let query = '';

function customerRow(item) {
  return h('s-table-row', {},
    cell(item.number),
    cell(item.email || ''),
    cell(item.tier ? h('s-badge', {tone: 'info'}, item.tier) : t('no_tier')),
    cell(formatNumber(item.balance)),
    cell(formatNumber(item.lifetime_earned)),
    cell(h('s-button', {variant: 'tertiary', commandfor: 'ledger-modal', command: '--show',
      accessibilitylabel: t('view_points_of', {id: item.number}), onclick: () => openLedger(item.customer_id)},
    t('view'))));
}

const customers = pagedTable($('#customers'), {
  load: (page) => api(`/api/loyalty/customers?page=${page}&limit=25&q=${encodeURIComponent(query)}`),
  row: customerRow,
  empty: $('#customers-empty'),
});

let searchTimer = null;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    query = fieldValue(search).trim();
    search.removeAttribute('error');
    customers.reload();
  }, 250);
});

// -- one member's ledger and adjustments --------------------------------------------------------

const adjustForm = $('#adjust-form');
const adjustButton = $('#adjust-submit');
let current = null; // the customer gid whose ledger is open
let requestKey = null; // one per intended adjustment: a resent request posts nothing twice

function newRequestKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function ledgerRow(entry) {
  return h('s-table-row', {},
    cell(formatDateTime(entry.created_at)),
    cell(h('s-text', {tone: entry.points < 0 ? 'critical' : 'success'},
      `${entry.points > 0 ? '+' : ''}${formatNumber(entry.points)}`)),
    cell(t(`kind_${entry.kind}`)),
    cell(entry.reason || ''));
}

function showSummary(data) {
  const id = data.customer_id.split('/').pop();
  $('#ledger-summary').textContent = t('summary', {id, balance: formatNumber(data.balance),
    tier: data.tier ? data.tier.name : t('no_tier')});
}

const ledger = pagedTable($('#ledger'), {
  async load(page) {
    const data = await api(`/api/loyalty/customers/${encodeURIComponent(current)}/ledger?page=${page}&limit=10`);
    showSummary(data);
    return data;
  },
  row: ledgerRow,
});

function openLedger(customerId) {
  current = customerId;
  requestKey = newRequestKey();
  adjustForm.reset();
  clearFormErrors(adjustForm);
  for (const name of ['points', 'reason']) setField(field(adjustForm, name), '');
  $('#ledger-summary').textContent = '';
  ledger.reload();
}

adjustForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFormErrors(adjustForm);
  const pointsText = fieldValue(field(adjustForm, 'points')).trim();
  const body = {points: /^-?\d+$/.test(pointsText) ? Number(pointsText) : pointsText,
    reason: fieldValue(field(adjustForm, 'reason')), request_key: requestKey};
  adjustButton.setAttribute('loading', '');
  try {
    const result = await api(`/api/loyalty/customers/${encodeURIComponent(current)}/adjustments`,
      {method: 'POST', body});
    requestKey = newRequestKey(); // done: the next adjustment is a new one
    for (const name of ['points', 'reason']) setField(field(adjustForm, name), '');
    toast(t('adjusted', {balance: formatNumber(result.balance)}));
    ledger.reload();
    customers.refresh();
  } catch (error) {
    formError(adjustForm, error); // the same key is sent again on retry: still one entry
  } finally {
    adjustButton.removeAttribute('loading');
  }
});

// -- exports ------------------------------------------------------------------------------------

async function download(what) {
  try {
    await downloadFile(`/api/loyalty/export.csv?what=${what}`, `loyalty-${what}.csv`);
  } catch (error) {
    showError(error.message);
  }
}

$('#export-customers').addEventListener('click', () => download('customers'));
$('#export-ledger').addEventListener('click', () => download('ledger'));

// -- start --------------------------------------------------------------------------------------

loadProgram().catch((error) => showError(error.message));
customers.reload();
