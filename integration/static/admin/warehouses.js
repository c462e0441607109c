// The warehouses page: connect a 3PL account with its provider's own fields, import its
// warehouses, map each to a Shopify location with its handling time, transit days per country and
// priority, exclusion rules and stock buffers. Every value is checked again on the server; its
// error lands on the field it names.
import {api, clearError, clearFormErrors, formError, h, showError, t, toast} from './nearstock.js';

const $ = (id) => document.getElementById(id);
const state = {providers: [], accounts: [], warehouses: [], locations: [], suggestions: {}, countries: []};

function option(value, label, selected) {
  return h('s-option', {value, selected: selected || null}, label);
}

function setOptions(select, options, value) {
  select.replaceChildren(...options.map(([v, label]) => option(v, label, v === value)));
  select.setAttribute('value', value ?? '');
  select.value = value ?? '';
}

function countryOptions(withAny) {
  return [...(withAny ? [['*', t(withAny)]] : []), ...state.countries.map((c) => [c.code, c.name])];
}

// A country select holds ~250 options; a shop with many warehouses and transit rows has dozens of
// them. Those already on the page at load get only their current choice and the whole list on
// first focus or press (before the list opens), so the page answers at once.
function countrySelect(attrs, options, value, {lazy = true} = {}) {
  const select = h('s-select', attrs);
  if (!lazy) {
    setOptions(select, options, value || '');
    return select;
  }
  const chosen = options.find(([v]) => v === (value || '')) || options[0];
  setOptions(select, [chosen], chosen[0]);
  const fill = () => {
    select.removeEventListener('focus', fill);
    select.removeEventListener('pointerdown', fill);
    setOptions(select, options, select.value);
  };
  select.addEventListener('focus', fill);
  select.addEventListener('pointerdown', fill);
  return select;
}

function hide(modal) {
  $(modal).hideOverlay?.();
}

async function run(action, {form} = {}) {
  clearError();
  if (form) clearFormErrors(form);
  try {
    const message = await action();
    if (message) toast(message);
    return true;
  } catch (error) {
    if (form) formError(form, error); else showError(error.message);
    return false;
  }
}

// -- connect -------------------------------------------------------------------------------------

function credentialField(field, {keep = false, value = ''} = {}) {
  const help = [t(field.help), keep ? t('keep') : '', field.required || keep ? '' : t('optional')].filter(Boolean).join(' ');
  const attrs = {name: `credentials.${field.name}`, label: t(field.label), details: help,
    required: field.required && !keep};
  if (field.type === 'select') {  // Polaris' s-select has no maxlength: its options bound the value
    const select = h('s-select', attrs);
    const options = field.options.map((o) => [o.value, t(o.label)]);
    setOptions(select, field.required ? options : [['', t('choose')], ...options], value || (field.required && options[0] ? options[0][0] : ''));
    return select;
  }
  const tag = {password: 's-password-field', url: 's-url-field'}[field.type] || 's-text-field';
  return h(tag, {...attrs, maxlength: field.max_length, value: value || null, autocomplete: 'off'});
}

function readCredentials(container) {
  const out = {};
  for (const el of container.querySelectorAll('[name^="credentials."]')) {
    const value = (el.value || '').trim();
    if (value) out[el.getAttribute('name').slice('credentials.'.length)] = value;
  }
  return out;
}

function selectedProvider() {
  return state.providers.find((p) => p.name === $('connect-form').querySelector('[name=provider]').value);
}

function providerChanged(demo = null) {
  const p = selectedProvider();
  if (!p) return;
  const form = $('connect-form');
  clearFormErrors(form);
  $('connect-fields').replaceChildren(...p.fields.map((f) => credentialField(f, {value: demo ? demo[f.name] : ''})));
  form.querySelector('[name=endpoint]').hidden = !p.endpoint;
  $('connect-demo').hidden = !p.demo;
  const noAmazon = p.amazon_accounts !== undefined && p.amazon_accounts.length === 0;
  $('connect-no-amazon').hidden = !noAmazon;
  if (noAmazon) $('connect-submit').setAttribute('disabled', ''); else $('connect-submit').removeAttribute('disabled');
}

function fillDemo() {
  // Development only: the server offers a demo account when the warehouse emulators run.
  const p = selectedProvider();
  if (!p || !p.demo) return;
  const form = $('connect-form');
  form.querySelector('[name=name]').value = t('demo_name', {provider: p.label});
  form.querySelector('[name=endpoint]').value = '';
  providerChanged(p.demo.credentials);
}

async function connect() {
  const form = $('connect-form');
  const p = selectedProvider();
  const body = {provider: p.name, credentials: readCredentials(form)};
  const name = form.querySelector('[name=name]').value.trim();
  const endpoint = form.querySelector('[name=endpoint]').value.trim();
  if (name) body.name = name;
  if (p.endpoint && endpoint) body.endpoint = endpoint;
  $('connect-submit').setAttribute('loading', '');
  const ok = await run(async () => {
    const {discovery: d} = await api('/api/warehouse-accounts', {method: 'POST', body});
    return t('connected', {found: d.found, created: d.created.length});
  }, {form});
  $('connect-submit').removeAttribute('loading');
  if (ok) {
    hide('connect-modal');
    form.querySelector('[name=name]').value = '';
    form.querySelector('[name=endpoint]').value = '';
    providerChanged();
    await refresh();
  }
}

// -- accounts ------------------------------------------------------------------------------------

let pendingDelete = null;
let pendingCredentials = null;

function accountRow(a) {
  const provider = state.providers.find((p) => p.name === a.provider);
  const act = (label, onclick, attrs = {}) => h('s-button', {variant: 'tertiary', onclick, ...attrs}, label);
  return h('s-table-row', {'data-account': a.id},
    h('s-table-cell', {}, a.name),
    h('s-table-cell', {}, provider ? provider.label : a.provider),
    h('s-table-cell', {}, String(a.warehouses)),
    h('s-table-cell', {}, h('s-badge', {tone: a.active ? 'success' : 'warning'}, a.active ? t('active') : t('paused'))),
    h('s-table-cell', {}, h('s-button-group', {},
      act(t('discover'), () => run(async () => {
        const {discovery: d} = await api(`/api/warehouse-accounts/${a.id}/discover`, {method: 'POST'});
        await refresh();
        return t('discovered', {found: d.found, created: d.created.length});
      })),
      act(a.active ? t('pause') : t('resume'), () => run(async () => {
        await api(`/api/warehouse-accounts/${a.id}`, {method: 'PATCH', body: {active: !a.active}});
        await refresh();
        return t('saved');
      })),
      provider && provider.fields.length && provider.name !== 'fba'
        ? act(t('replace_credentials'), () => {
          pendingCredentials = a;
          $('credentials-fields').replaceChildren(...provider.fields.map((f) => credentialField(f, {keep: true})));
          $('credentials-modal').showOverlay?.();
        }, {commandfor: 'credentials-modal', command: '--show'})
        : null,
      act(t('delete'), () => {
        pendingDelete = a;
        $('delete-text').textContent = t('delete_text', {name: a.name});
      }, {tone: 'critical', commandfor: 'delete-modal', command: '--show'}))));
}

function showAccounts() {
  const none = state.accounts.length === 0;
  $('accounts-empty').hidden = !none;
  $('accounts').hidden = none;
  $('accounts').querySelector('s-table-body').replaceChildren(...state.accounts.map(accountRow));
}

// -- warehouses ----------------------------------------------------------------------------------

function transitRow(row, {lazy = false} = {}) {
  const box = h('s-stack', {direction: 'inline', gap: 'base', 'data-transit-row': ''});
  const country = countrySelect({label: t('country')}, [['', t('choose')], ...countryOptions('any_other_country')],
    row.country, {lazy});
  box.append(country,
    h('s-number-field', {label: t('min_days'), min: 0, max: 60, step: 1, value: row.min_days ?? 1}),
    h('s-number-field', {label: t('max_days'), min: 0, max: 60, step: 1, value: row.max_days ?? 3}),
    h('s-button', {variant: 'tertiary', icon: 'delete', accessibilitylabel: t('remove'), onclick: () => {
      const list = box.parentElement;
      box.remove();
      renumber(list);
    }}, t('remove')));
  return box;
}

// The server names a bad row by its position (transit_days[2].max_days): the rows' field names follow it.
function renumber(list) {
  list.querySelectorAll('[data-transit-row]').forEach((row, i) => {
    const [country, low, high] = row.querySelectorAll('s-select, s-number-field');
    country.setAttribute('name', `transit_days[${i}].country`);
    low.setAttribute('name', `transit_days[${i}].min_days`);
    high.setAttribute('name', `transit_days[${i}].max_days`);
  });
}

function readTransit(list) {
  return [...list.querySelectorAll('[data-transit-row]')].map((row) => {
    const [country, low, high] = row.querySelectorAll('s-select, s-number-field');
    const num = (el) => (el.value === '' || el.value === null ? null : Number(el.value));
    return {country: country.value, min_days: num(low), max_days: num(high)};
  });
}

function warehouseForm(w) {
  const location = h('s-select', {name: 'location_shopify_id', label: t('location')});
  setOptions(location, [['', t('not_mapped')],
    ...state.locations.map((l) => [l.id, l.country_code ? `${l.name} (${l.country_code})` : l.name])], w.location_shopify_id || '');
  const suggestions = (state.suggestions[w.id] || []).map((s) => h('s-stack', {direction: 'inline', gap: 'small'},
    h('s-text', {tone: 'neutral'}, t('suggested', {name: s.name, reasons: s.reasons.join(', ')})),
    h('s-button', {variant: 'tertiary', onclick: () => { location.value = s.location_shopify_id; location.setAttribute('value', s.location_shopify_id); }},
      t('use_suggestion'))));
  const country = countrySelect({name: 'country_code', label: t('served_country')},
    [['', t('choose')], ...countryOptions(null)], w.country_code);
  const transit = h('s-stack', {gap: 'small', 'data-transit': ''}, ...w.transit_rows.map((row) => transitRow(row, {lazy: true})));
  renumber(transit);
  const form = h('form', {'data-warehouse': w.id},
    h('s-stack', {gap: 'base'},
      h('s-heading', {}, `${w.code} · ${w.name}`),
      h('s-stack', {direction: 'inline', gap: 'base'},
        h('s-text-field', {name: 'name', label: t('name'), value: w.name, maxlength: 255, required: true}),
        country,
        h('s-switch', {name: 'active', label: t('routes'), checked: w.active || null})),
      location, ...suggestions,
      h('s-stack', {direction: 'inline', gap: 'base'},
        h('s-number-field', {name: 'handling_hours', label: t('handling'), suffix: t('hours'), details: t('handling_details'),
          min: 1, max: 720, step: 1, value: w.handling_hours}),
        h('s-number-field', {name: 'priority', label: t('priority'), details: t('priority_details'),
          min: 0, max: 1000, step: 1, value: w.priority})),
      h('s-heading', {}, t('transit')),
      w.transit_rows.length ? null : h('s-paragraph', {'data-no-transit': ''}, t('no_transit')),
      transit,
      h('s-button-group', {},
        h('s-button', {onclick: () => {
          transit.append(transitRow({}));
          renumber(transit);
          form.querySelector('[data-no-transit]')?.remove();
        }}, t('add_country')),
        h('s-button', {type: 'submit', variant: 'primary'}, t('save')))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = (name) => form.querySelector(`[name="${name}"]`).value;
    const body = {
      name: value('name'), location_shopify_id: value('location_shopify_id') || null,
      handling_hours: Number(value('handling_hours')), priority: Number(value('priority')),
      active: Boolean(form.querySelector('[name=active]').checked), transit_days: readTransit(transit),
    };
    if (value('country_code')) body.country_code = value('country_code');
    run(async () => {
      await api(`/api/warehouses/${w.id}`, {method: 'PATCH', body});
      await loadWarehouses();
      return t('saved_warehouse', {code: w.code});
    }, {form});
  });
  return form;
}

async function loadWarehouses() {
  const [ws, locs, sug] = await Promise.all([api('/api/warehouses'), api('/api/locations'), api('/api/warehouses/suggestions')]);
  state.warehouses = ws.warehouses;
  state.locations = locs.locations;
  state.suggestions = Object.fromEntries(sug.suggestions.map((s) => [s.warehouse_id, s.suggestions]));
  $('warehouses-section').hidden = $('rules-section').hidden = state.warehouses.length === 0;
  $('warehouses').replaceChildren(...state.warehouses.map(warehouseForm));
  setOptions($('rule-form').querySelector('[name=warehouse_id]'), state.warehouses.map((w) => [String(w.id), `${w.code} · ${w.name}`]),
    state.warehouses[0] ? String(state.warehouses[0].id) : '');
}

// -- rules ---------------------------------------------------------------------------------------

async function loadRules() {
  const {rules} = await api('/api/routing-rules');
  const code = (id) => (state.warehouses.find((w) => w.id === id) || {code: String(id)}).code;
  const countryName = (cc) => (state.countries.find((c) => c.code === cc) || {name: cc}).name;
  $('rules-empty').hidden = rules.length > 0;
  $('rules').hidden = rules.length === 0;
  $('rules').querySelector('s-table-body').replaceChildren(...rules.map((r) => h('s-table-row', {},
    h('s-table-cell', {}, code(r.warehouse_id)),
    h('s-table-cell', {}, r.sku || t('any_sku')),
    h('s-table-cell', {}, r.country_code ? countryName(r.country_code) : t('any_country')),
    h('s-table-cell', {}, h('s-button', {variant: 'tertiary', tone: 'critical', onclick: () => run(async () => {
      await api(`/api/routing-rules/${r.id}`, {method: 'DELETE'});
      await loadRules();
      return t('rule_removed');
    })}, t('remove'))))));
}

// -- settings ------------------------------------------------------------------------------------

async function loadSettings() {
  const {settings: s} = await api('/api/settings');
  const form = $('settings-form');
  const set = (name, value) => { const el = form.querySelector(`[name="${name}"]`); el.value = String(value); el.setAttribute('value', String(value)); };
  form.querySelector('[name=split_orders]').checked = s.split_orders;
  set('safety_stock', s.safety_stock);
  set('low_stock_threshold', s.low_stock_threshold);
  set('channel_buffers.shopify', s.channel_buffers.shopify || 0);
  set('channel_buffers.amazon', s.channel_buffers.amazon || 0);
}

// -- wiring --------------------------------------------------------------------------------------

async function refresh() {
  const data = await api('/api/warehouse-accounts');
  state.accounts = data.accounts;
  showAccounts();
  await loadWarehouses();
  await loadRules();
}

async function start() {
  const [providers, countries] = await Promise.all([api('/api/warehouse-providers'), api('/api/countries')]);
  state.providers = providers.providers;
  state.countries = countries.countries;
  const provider = $('connect-form').querySelector('[name=provider]');
  setOptions(provider, state.providers.map((p) => [p.name, p.label]), state.providers[0]?.name);
  provider.addEventListener('change', () => providerChanged());
  providerChanged();
  setOptions($('rule-form').querySelector('[name=country_code]'), [['', t('any_country')], ...countryOptions(null)], '');
  await Promise.all([refresh(), loadSettings()]);
}

$('connect-demo').addEventListener('click', fillDemo);
$('connect-submit').addEventListener('click', connect);
$('connect-form').addEventListener('submit', (event) => { event.preventDefault(); connect(); });

$('delete-confirm').addEventListener('click', () => run(async () => {
  hide('delete-modal');
  await api(`/api/warehouse-accounts/${pendingDelete.id}`, {method: 'DELETE'});
  await refresh();
  return t('deleted');
}));

$('credentials-submit').addEventListener('click', async () => {
  const form = $('credentials-form');
  const ok = await run(async () => {
    await api(`/api/warehouse-accounts/${pendingCredentials.id}`, {method: 'PATCH', body: {credentials: readCredentials(form)}});
    return t('credentials_saved');
  }, {form});
  if (ok) hide('credentials-modal');
});

$('rule-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  const body = {warehouse_id: Number(form.querySelector('[name=warehouse_id]').value)};
  const sku = form.querySelector('[name=sku]').value.trim();
  const cc = form.querySelector('[name=country_code]').value;
  if (sku) body.sku = sku;
  if (cc) body.country_code = cc;
  run(async () => {
    await api('/api/routing-rules', {method: 'POST', body});
    form.querySelector('[name=sku]').value = '';
    await loadRules();
    return t('rule_added');
  }, {form});
});

$('settings-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  const num = (name) => Number(form.querySelector(`[name="${name}"]`).value);
  run(async () => {
    await api('/api/settings', {method: 'PATCH', body: {
      split_orders: Boolean(form.querySelector('[name=split_orders]').checked),
      safety_stock: num('safety_stock'), low_stock_threshold: num('low_stock_threshold'),
      channel_buffers: {shopify: num('channel_buffers.shopify'), amazon: num('channel_buffers.amazon')}}});
    await loadSettings();
    return t('settings_saved');
  }, {form});
});
$('settings-form').addEventListener('reset', () => { loadSettings().catch((error) => showError(error.message)); });

start().catch((error) => showError(error.message));
