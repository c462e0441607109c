// The Notices page: which kinds go out (one switch each, saved at once), branding (a save-bar
// form), a live preview of any kind in any language with the branding as typed, the log with
// retries, and the customers who unsubscribed.
import {api, clearError, clearFormErrors, formatDateTime, formError, h, pagedTable, showError, t, toast} from './nearstock.js';

const BASE = '/api/notifications';
const BRANDING = ['logo_url', 'primary_color', 'accent_color', 'sender_name', 'reply_to'];
const PREVIEW_DELAY_MS = 300; // typing a colour fires an event per key: render once it pauses
const TONES = {sent: 'success', failed: 'critical', queued: 'info', sending: 'info', skipped: 'neutral'};

const form = document.getElementById('branding');
const field = (name) => document.querySelector(`[name="${name}"]`);
const kindLabel = (kind) => t('kinds')[kind] || kind;
let saved = {};

// -- kinds --------------------------------------------------------------------------------------

/** The kind's switch (the template's, or a new one for a kind it does not list), set and live. */
function kindSwitch({kind, enabled}) {
  const control = document.querySelector(`#kinds s-switch[name="kind_${CSS.escape(kind)}"]`)
    || h('s-switch', {label: kindLabel(kind), name: `kind_${kind}`});
  control.checked = enabled;
  control.removeAttribute('disabled');
  control.addEventListener('change', async () => {
    const wanted = Boolean(control.checked);
    control.setAttribute('disabled', '');
    try {
      await api(`${BASE}/kinds/${encodeURIComponent(kind)}`, {method: 'PUT', body: {enabled: wanted}});
      toast(t(wanted ? 'kind_on' : 'kind_off', {kind: kindLabel(kind)}));
      clearError();
    } catch (error) {
      control.checked = !wanted;
      showError(error.message);
    } finally {
      control.removeAttribute('disabled');
    }
  });
  return control;
}

// -- branding -----------------------------------------------------------------------------------

function fillForm(settings) {
  saved = settings;
  for (const name of BRANDING) field(name).value = settings[name] || '';
}

function formValues() {
  return Object.fromEntries(BRANDING.map((name) => [name, (field(name).value || '').trim()]));
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFormErrors(form);
  try {
    fillForm(await api(`${BASE}/settings`, {method: 'PUT', body: formValues()}));
    toast(t('saved'));
    clearError();
  } catch (error) {
    formError(form, error);
  }
});

form.addEventListener('reset', (event) => {
  event.preventDefault(); // the fields are web components: put back what was loaded ourselves
  clearFormErrors(form);
  fillForm(saved);
  schedulePreview();
});

// -- preview ------------------------------------------------------------------------------------

const frame = document.getElementById('preview');
const subject = document.getElementById('preview-subject');
let previewTimer = null;
let previewCall = 0;

async function showPreview() {
  const call = ++previewCall;
  const query = new URLSearchParams({locale: field('preview_locale').value || 'en', part: 'json', ...formValues()});
  try {
    const data = await api(`${BASE}/preview/${encodeURIComponent(field('preview_kind').value || 'shipped')}?${query}`);
    if (call !== previewCall) return; // a later change already asked for a newer preview
    clearFormErrors(form);
    subject.textContent = data.subject;
    frame.srcdoc = data.html; // sandboxed: no scripts, no access to this page
  } catch (error) {
    if (call === previewCall) formError(form, error); // a value the save would refuse too: say which
  }
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(showPreview, PREVIEW_DELAY_MS);
}

for (const name of BRANDING) {
  field(name).addEventListener('input', schedulePreview);
  field(name).addEventListener('change', schedulePreview);
}
field('preview_kind').addEventListener('change', showPreview);
field('preview_locale').addEventListener('change', showPreview);

// -- the log ------------------------------------------------------------------------------------

function retryButton(item) {
  const button = h('s-button', {accessibilitylabel: t('retry_label', {id: item.id})}, t('retry'));
  button.addEventListener('click', async () => {
    if (button.hasAttribute('loading')) return; // one click, one retry
    button.setAttribute('loading', '');
    try {
      await api(`${BASE}/${item.id}/retry`, {method: 'POST'});
      toast(t('retried'));
    } catch (error) {
      // 409: no longer failed (retried from another tab): the refreshed row shows its state.
      if (error.status !== 409) showError(error.message);
    }
    log.refresh();
  });
  return button;
}

function logRow(item) {
  return h('s-table-row', {},
    h('s-table-cell', {}, formatDateTime(item.created_at)),
    h('s-table-cell', {}, kindLabel(item.kind)),
    h('s-table-cell', {}, item.order_name || ''),
    h('s-table-cell', {}, item.recipient || ''),
    h('s-table-cell', {}, h('s-badge', {tone: TONES[item.status] || 'neutral'}, t('statuses')[item.status] || item.status),
      item.last_error ? h('s-paragraph', {color: 'subdued'}, item.last_error) : null),
    h('s-table-cell', {}, String(item.attempts)),
    h('s-table-cell', {}, item.retryable ? retryButton(item) : ''));
}

function logQuery(page) {
  const query = new URLSearchParams({page});
  for (const [param, name] of [['status', 'log_status'], ['kind', 'log_kind'], ['q', 'log_q']]) {
    const value = (field(name).value || '').trim();
    if (value) query.set(param, value);
  }
  return query;
}

const log = pagedTable(document.getElementById('log'), {
  load: (page) => api(`${BASE}?${logQuery(page)}`),
  row: logRow,
  empty: document.getElementById('log-empty'),
});
field('log_status').addEventListener('change', () => log.reload());
field('log_kind').addEventListener('change', () => log.reload());
field('log_q').addEventListener('change', () => log.reload()); // Enter or leaving the field

// -- unsubscribes -------------------------------------------------------------------------------

function unsubscribeRow(item) {
  const button = h('s-button', {accessibilitylabel: t('resubscribe_label', {email: item.email})}, t('resubscribe'));
  button.addEventListener('click', async () => {
    button.setAttribute('loading', '');
    try {
      await api(`${BASE}/unsubscribes/${item.id}/resubscribe`, {method: 'POST', body: {}});
      toast(t('resubscribed'));
      unsubscribes.reload();
    } catch (error) {
      showError(error.message);
      button.removeAttribute('loading');
    }
  });
  const categories = t('categories');
  return h('s-table-row', {},
    h('s-table-cell', {}, item.email),
    h('s-table-cell', {}, item.opted_out.map((c) => categories[c] || c).join(', ')),
    h('s-table-cell', {}, formatDateTime(item.updated_at)),
    h('s-table-cell', {}, button));
}

const unsubscribes = pagedTable(document.getElementById('unsubscribes'), {
  load: (page) => {
    const query = new URLSearchParams({page});
    const email = (field('unsub_email').value || '').trim();
    if (email) query.set('email', email);
    return api(`${BASE}/unsubscribes?${query}`);
  },
  row: unsubscribeRow,
  empty: document.getElementById('unsubscribes-empty'),
});
field('unsub_email').addEventListener('change', () => unsubscribes.reload());

// -- start --------------------------------------------------------------------------------------

async function start() {
  try {
    const settings = await api(`${BASE}/settings`);
    document.getElementById('kinds').replaceChildren(...settings.kinds.map(kindSwitch));
    fillForm(settings);
  } catch (error) {
    showError(error.message);
  }
  showPreview();
  log.reload();
  unsubscribes.reload();
}

start();
