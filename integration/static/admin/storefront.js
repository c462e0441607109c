// The Storefront page: the stock status block's settings and wording, saved through App Bridge's
// save bar, and a live preview of the block (the server words it exactly as the storefront does).
import {api, clearError, clearFormErrors, formError, h, showError, t, toast} from './nearstock.js';

const form = document.getElementById('storefront-form');
const field = (name) => form.querySelector(`[name="${CSS.escape(name)}"]`);
const languageSelect = document.getElementById('language');
const stateSelect = document.getElementById('preview-state');
const textsBox = document.getElementById('texts');
const SETTINGS = ['allow_preorder', 'back_in_stock', 'low_stock_threshold', 'notify_per_unit'];
const BOOLEAN = new Set(['allow_preorder', 'back_in_stock']);

let saved = null; // the settings as stored
let catalog = null; // GET /api/storefront/texts: defaults and saved wording per language
let drafts = {}; // language -> key -> unsaved wording
let language = 'en';

function setValue(el, value) {
  if (BOOLEAN.has(el.getAttribute('name'))) {
    el.checked = Boolean(value);
    el.toggleAttribute('checked', Boolean(value));
  } else {
    el.value = value ?? '';
    el.setAttribute('value', value ?? '');
  }
}

function currentSettings() {
  const out = {};
  for (const name of SETTINGS) {
    const el = field(name);
    out[name] = BOOLEAN.has(name) ? Boolean(el.checked) : el.value;
  }
  return out;
}

function asNumber(value) {
  const n = Number(value);
  return value === '' || value === null || Number.isNaN(n) ? value : n;
}

function changedSettings() {
  const now = currentSettings();
  const out = {};
  for (const name of SETTINGS) {
    const value = BOOLEAN.has(name) ? now[name] : asNumber(now[name]);
    if (value !== saved[name]) out[name] = value;
  }
  return out;
}

function savedText(lang, key) {
  return catalog.texts[lang][key].custom || '';
}

function showTexts() {
  const fields = catalog.keys.map(({key, placeholders}) => {
    const value = drafts[language]?.[key] ?? savedText(language, key);
    const hint = [t('default_is', {text: catalog.texts[language][key].default})];
    if (placeholders.length) hint.push(t('placeholders', {names: placeholders.map((p) => `{${p}}`).join(' ')}));
    const el = h('s-text-field', {
      name: `texts.${language}.${key}`, label: t(`key_${key}`), maxlength: catalog.max_length,
      placeholder: catalog.texts[language][key].default, details: hint.join(' · '),
    });
    el.addEventListener('input', () => typed(key, el));
    el.addEventListener('change', () => typed(key, el));
    setValue(el, value);
    return el;
  });
  textsBox.replaceChildren(...fields);
}

function typed(key, el) {
  const value = el.value ?? '';
  drafts[language] = drafts[language] || {};
  if (value === savedText(language, key)) delete drafts[language][key];
  else drafts[language][key] = value;
  el.removeAttribute('error');
  schedulePreview();
}

// -- preview ---------------------------------------------------------------------------------------

let timer = null;
let asked = 0;

function schedulePreview() {
  clearTimeout(timer);
  timer = setTimeout(showPreview, 250);
}

async function showPreview() {
  const mine = ++asked;
  const now = currentSettings();
  const settings = {allow_preorder: now.allow_preorder};
  const threshold = asNumber(now.low_stock_threshold);
  if (Number.isInteger(threshold) && threshold >= 0) settings.low_stock_threshold = threshold;
  try {
    const block = await api('/api/storefront/preview', {method: 'POST', body: {
      state: stateSelect.value || 'preorder', language, settings, texts: drafts[language] || {},
    }});
    if (mine === asked) render(block);
  } catch (error) {
    if (mine === asked) formError(form, error); // a text the server refuses: beside that field
  }
}

/** The block's own rule (extensions/stock-status/assets/stock-status.js, default settings: the
 *  count shown below 10, the estimate shown, back-in-stock offered). */
function render(block) {
  const root = document.getElementById('preview');
  const low = block.code === 'low_stock' && !(block.quantity < 10);
  root.dataset.code = block.code;
  document.getElementById('preview-status').textContent = low ? block.plain : block.status;
  const eta = document.getElementById('preview-eta');
  eta.textContent = block.eta || '';
  eta.hidden = !block.eta;
  document.getElementById('preview-notify').hidden = !block.subscribe;
  const names = new Intl.DisplayNames([document.documentElement.lang || 'en'], {type: 'region'});
  document.getElementById('preview-where').textContent = t(block.sample_warehouse ? 'preview_sample' : 'preview_where',
    {country: names.of(block.market)});
}

// -- load, save, discard ---------------------------------------------------------------------------

function fill() {
  for (const name of SETTINGS) setValue(field(name), saved[name]);
  drafts = {};
  showTexts();
  schedulePreview();
}

async function load() {
  try {
    // One after the other: a first call may be the one that installs the shop (token exchange).
    const settings = await api('/api/storefront/settings');
    const texts = await api('/api/storefront/texts');
    saved = settings.settings;
    catalog = texts;
    document.getElementById('add-block').setAttribute('href', settings.theme_editor.add_block);
    document.getElementById('app-embed').setAttribute('href', settings.theme_editor.app_embed);
    fill();
  } catch (error) {
    showError(error.message);
  }
}

function showLanguage(lang) {
  language = lang;
  setValue(languageSelect, lang);
  showTexts();
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearFormErrors(form);
  clearError();
  const settings = changedSettings();
  const texts = Object.fromEntries(Object.entries(drafts).filter(([, byKey]) => Object.keys(byKey).length));
  try {
    if (Object.keys(settings).length) saved = (await api('/api/storefront/settings', {method: 'PUT', body: settings})).settings;
    if (Object.keys(texts).length) catalog = await api('/api/storefront/texts', {method: 'PUT', body: {texts}});
    drafts = {};
    showTexts();
    toast(t('saved'));
    schedulePreview();
  } catch (error) {
    const [, lang] = /^texts\.([^.]+)\./.exec(error.field || '') || [];
    if (lang && lang !== language) showLanguage(lang); // the refused text is on another language
    formError(form, error);
    toast(error.message, {isError: true});
  }
});

form.addEventListener('reset', (event) => {
  event.preventDefault();
  clearFormErrors(form);
  fill();
});

for (const name of SETTINGS) {
  field(name).addEventListener('change', schedulePreview);
  field(name).addEventListener('input', schedulePreview);
}
languageSelect.addEventListener('change', () => {
  showLanguage(languageSelect.value);
  schedulePreview();
});
stateSelect.addEventListener('change', schedulePreview);
load();
