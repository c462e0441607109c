// What every admin page shares: the API call, its strings, element building, formatting, the
// server-paginated table and the chart. An ES module; each page's own script imports from it.
// App Bridge's fetch adds the session token to every call to our origin.

const lang = document.documentElement.lang || 'en';

function readStrings(id) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : {};
}
const strings = {...readStrings('ns-base-strings'), ...readStrings('ns-strings')};

/** The page's translated string `key`, its `%(name)s` placeholders filled from `vars`. */
export function t(key, vars) {
  const text = strings[key] ?? key;
  if (!vars) return text;
  return text.replace(/%\((\w+)\)s/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

/** JSON in, JSON out; a refused call throws ApiError with the server's message. */
export async function api(path, {method = 'GET', body} = {}) {
  const init = {method, headers: {Accept: 'application/json', 'Accept-Language': lang}};
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', t('network_error'));
  }
  let data = null;
  try {
    data = response.status === 204 ? null : await response.json();
  } catch {
    data = null; // not JSON: a proxy's error page, say
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || 'error', error.message || t('request_failed'), error.field);
  }
  return data;
}

/** An element: attributes set as given (null/false skipped, true as empty), `on<event>` functions
 *  as listeners, children appended (strings as text, never as HTML). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// -- links inside the app -------------------------------------------------------------------------

// Launch parameters a page of the app needs again when the merchant moves to another one inside
// the frame: the shop (the page may only be framed by its admin), the host and the admin's language.
const KEPT = ['shop', 'host', 'embedded', 'locale'];

/** `path` of this app, with the launch parameters the current page was opened with. */
export function inAppHref(path) {
  const here = new URLSearchParams(location.search);
  const url = new URL(path, location.origin);
  for (const name of KEPT) if (here.has(name)) url.searchParams.set(name, here.get(name));
  return url.pathname + url.search + url.hash;
}

// The templates' own links to other pages (`href="/admin/..."`) get the launch parameters too.
// Not the app nav: the admin itself opens those with the parameters.
for (const link of document.querySelectorAll('s-page [href^="/admin"]')) {
  link.setAttribute('href', inAppHref(link.getAttribute('href')));
}

export function toast(message, {isError = false} = {}) {
  window.shopify?.toast.show(message, {isError});
}

const numbers = new Intl.NumberFormat(lang);
const dates = new Intl.DateTimeFormat(lang, {dateStyle: 'medium'});
const dateTimes = new Intl.DateTimeFormat(lang, {dateStyle: 'medium', timeStyle: 'short'});
export const formatNumber = (n) => (n === null || n === undefined ? '' : numbers.format(n));
export const formatDate = (iso) => (iso ? dates.format(new Date(iso)) : '');
export const formatDateTime = (iso) => (iso ? dateTimes.format(new Date(iso)) : '');
export function formatMoney(amount, currency) {
  if (amount === null || amount === undefined) return '';
  try {
    return new Intl.NumberFormat(lang, {style: 'currency', currency}).format(Number(amount));
  } catch {
    return `${numbers.format(Number(amount))} ${currency || ''}`.trim(); // an unknown currency code
  }
}

// -- form fields (Polaris elements hold their value as a property; a plain input inside as a fallback)

export function fieldValue(el) {
  if ('value' in el) return String(el.value ?? '');
  const inner = el.querySelector('input, select, textarea');
  return inner ? inner.value : el.getAttribute('value') || '';
}

export function setField(el, value) {
  const text = value === null || value === undefined ? '' : String(value);
  el.setAttribute('value', text);
  if ('value' in el) el.value = text;
  const inner = el.querySelector('input, select, textarea');
  if (inner) inner.value = text;
}

export function isChecked(el) {
  if ('checked' in el) return Boolean(el.checked);
  return Boolean(el.querySelector('input')?.checked);
}

export function setChecked(el, on) {
  if (on) el.setAttribute('checked', '');
  else el.removeAttribute('checked');
  if ('checked' in el) el.checked = Boolean(on);
  const inner = el.querySelector('input');
  if (inner) inner.checked = Boolean(on);
}

// -- errors -------------------------------------------------------------------------------------

/** The page's error banner (in admin/base.html) shows `message`; `clearError` hides it. */
export function showError(message) {
  const banner = document.getElementById('ns-error');
  banner.textContent = message;
  banner.hidden = false;
}

export function clearError() {
  document.getElementById('ns-error').hidden = true;
}

/** An ApiError on a form: beside the field the server named, else in the banner. */
export function formError(form, error) {
  const name = error.field && CSS.escape(error.field);
  const field = name && form.querySelector(`[name="${name}"]`);
  if (field) {
    field.setAttribute('error', error.message);
    field.focus?.();
  } else {
    showError(error.message);
  }
}

export function clearFormErrors(form) {
  for (const field of form.querySelectorAll('[error]')) field.removeAttribute('error');
}

/** Saves what `path` answers as a file named `filename`. A plain link would carry no session
 *  token, so the file is fetched (App Bridge adds the token) and saved from memory. */
export async function downloadFile(path, filename) {
  const response = await fetch(path);
  if (!response.ok) {
    let message = t('request_failed');
    try {
      message = (await response.json()).error.message;
    } catch {
      // not JSON: keep the generic message
    }
    throw new ApiError(response.status, 'error', message);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = h('a', {href: url, download: filename, hidden: true});
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// -- lists --------------------------------------------------------------------------------------

function toggleAttribute(el, name, on) {
  if (on) el.setAttribute(name, '');
  else el.removeAttribute(name);
}

/** Wires an `<s-table>` (with an `<s-table-body>`) to a server-paginated list. `load(page)` answers
 *  `{items, page, has_next_page, has_previous_page}`, `row(item)` makes an `<s-table-row>`;
 *  `empty`, if given, is shown instead of the table when the first page is empty. */
export function pagedTable(table, {load, row, empty = null}) {
  const body = table.querySelector('s-table-body');
  let page = 1;
  async function show(wanted) {
    table.setAttribute('loading', '');
    try {
      const data = await load(wanted);
      page = data.page;
      body.replaceChildren(...data.items.map(row));
      toggleAttribute(table, 'hasnextpage', data.has_next_page);
      toggleAttribute(table, 'haspreviouspage', data.has_previous_page);
      if (empty) {
        const none = data.items.length === 0 && page === 1;
        empty.hidden = !none;
        table.hidden = none;
      }
      clearError();
    } catch (error) {
      showError(error.message);
    } finally {
      table.removeAttribute('loading');
    }
  }
  table.setAttribute('paginate', '');
  table.addEventListener('nextpage', () => show(page + 1));
  table.addEventListener('previouspage', () => show(Math.max(1, page - 1)));
  return {reload: () => show(1), refresh: () => show(page)};
}

// -- charts -------------------------------------------------------------------------------------

// uPlot (canvas, ~50 kB) is loaded on the first chart only: most pages draw none.
const PALETTE = ['#2c6ecb', '#e5a100', '#1f9e6e', '#c4314b', '#7c5ac2', '#5c6ac4'];
let uPlotLoading = null;

function loadUPlot() {
  if (!uPlotLoading) {
    const base = new URL('../vendor/uplot/', import.meta.url);
    document.head.append(h('link', {rel: 'stylesheet', href: new URL('uPlot.min.css', base).href}));
    uPlotLoading = new Promise((resolve, reject) => {
      const script = h('script', {src: new URL('uPlot.iife.min.js', base).href});
      script.addEventListener('load', () => resolve(window.uPlot));
      script.addEventListener('error', () => reject(new Error(t('request_failed'))));
      document.head.append(script);
    });
  }
  return uPlotLoading;
}

/** A line chart of `series` ([{name, values}]) over `labels` (ISO dates) in `container`, with the
 *  same figures as a table under a disclosure, for screen readers and for reading exact values. */
export async function lineChart(container, {labels, series, caption}) {
  const UPlot = await loadUPlot();
  const dayLabel = new Intl.DateTimeFormat(lang, {month: 'short', day: 'numeric'});
  const x = labels.map((d) => Date.parse(d) / 1000);
  const plotArea = h('div', {'aria-hidden': 'true'});
  const table = h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, t('date')), ...series.map((s) => h('th', {scope: 'col'}, s.name)))),
    h('tbody', {}, ...labels.map((d, i) => h('tr', {},
      h('th', {scope: 'row'}, formatDate(d)),
      ...series.map((s) => h('td', {}, formatNumber(s.values[i])))))));
  container.replaceChildren(
    h('figure', {'aria-label': caption}, plotArea),
    h('details', {}, h('summary', {}, t('show_as_table')), table),
  );
  return new UPlot({
    width: Math.max(320, container.clientWidth || 640),
    height: 240,
    fmtDate: () => (date) => dayLabel.format(date),
    series: [{}, ...series.map((s, i) => ({label: s.name, stroke: PALETTE[i % PALETTE.length], width: 2}))],
    scales: {x: {time: true}},
  }, [x, ...series.map((s) => s.values)], plotArea);
}
