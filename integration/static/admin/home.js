// The admin home: the setup guide (each step ticked by the shop's real state, with a link to the
// page that does it), the health of every connection, open alerts, and the catalog import.
import {api, clearError, formatDateTime, formatNumber, h, inAppHref, showError, t, toast} from './nearstock.js';

const ACTIVE_IMPORT = ['pending', 'running', 'processing'];

function stepHelp(step) {
  if (step.id === 'map_locations') {
    return t('help_map_locations', {mapped: formatNumber(step.mapped), warehouses: formatNumber(step.warehouses)});
  }
  if (step.id === 'storefront_block' && step.seen_at) return t('help_storefront_seen', {date: formatDateTime(step.seen_at)});
  if (step.id === 'test_notice' && step.last) return t('help_test_notice_status', {status: step.last.status});
  return t(`help_${step.id}`);
}

function renderSteps(setup) {
  document.getElementById('setup-progress').textContent = t('progress', {done: setup.done, total: setup.total});
  document.getElementById('setup-steps').replaceChildren(...setup.steps.map((step) => h('s-list-item', {},
    h('s-stack', {id: `step-${step.id}`, direction: 'inline', gap: 'small-200', alignitems: 'center',
                  'data-done': step.done ? 'true' : 'false'},
      h('s-icon', {type: step.done ? 'check-circle-filled' : 'circle', tone: step.done ? 'success' : 'neutral'}),
      h('s-text', {accessibilityvisibility: 'exclusive'}, step.done ? t('done') : t('to_do')),
      h('s-text', {type: 'strong'}, t(`step_${step.id}`)),
      h('s-text', {color: 'subdued'}, stepHelp(step)),
      h('s-link', {href: inAppHref(`/admin/${step.page}`)}, t(`go_${step.page}`))))));
}

function statusBadge(status, active = true) {
  if (!active) return h('s-badge', {tone: 'neutral'}, t('inactive'));
  const tone = {ok: 'success', error: 'critical', unknown: 'neutral'}[status] || 'neutral';
  return h('s-badge', {tone}, t(status in {ok: 1, error: 1} ? status : 'unknown'));
}

function errorLine(connection) {
  const failed = connection.last_error;
  if (!failed) return null;
  return h('s-paragraph', {tone: 'critical'},
    t('last_error', {date: formatDateTime(failed.at), message: failed.error || failed.operation}));
}

function alertBadge(count) {
  return count ? h('s-badge', {tone: 'warning'}, t('alerts_count', {n: formatNumber(count)})) : null;
}

function card(id, title, badges, ...lines) {
  return h('s-box', {id, padding: 'base', border: 'base', borderradius: 'base'},
    h('s-stack', {gap: 'small-200'},
      h('s-stack', {direction: 'inline', gap: 'small-200', alignitems: 'center'}, h('s-heading', {}, title), ...badges),
      ...lines.filter(Boolean)));
}

function shopifyCard(shopify) {
  const lines = [];
  if (shopify.token !== 'ok') lines.push(h('s-paragraph', {tone: 'critical'}, t(`token_${shopify.token}`)));
  lines.push(h('s-paragraph', {}, shopify.last_webhook_at
    ? t('last_webhook', {date: formatDateTime(shopify.last_webhook_at)}) : t('no_webhook')));
  const run = shopify.last_import;
  if (run) lines.push(h('s-paragraph', {}, t('last_import_at', {date: formatDateTime(run.started_at), status: run.status})));
  lines.push(errorLine(shopify));
  return card('health-shopify', t('shopify'), [statusBadge(shopify.token === 'ok' ? shopify.status : 'error')], ...lines);
}

function warehouseCard(account) {
  return card(`health-warehouse-${account.id}`, account.name || account.provider,
    [statusBadge(account.status, account.active), alertBadge(account.open_alerts)],
    h('s-paragraph', {color: 'subdued'}, `${account.provider} · ${t('warehouses_count', {n: formatNumber(account.warehouses)})}`),
    h('s-paragraph', {}, account.last_poll_at ? t('last_poll', {date: formatDateTime(account.last_poll_at)}) : t('no_poll')),
    errorLine(account));
}

function amazonCard(account) {
  return card(`health-amazon-${account.id}`, `${t('amazon')} · ${account.name || account.seller_id}`,
    [statusBadge(account.status, account.active), alertBadge(account.open_alerts)],
    h('s-paragraph', {color: 'subdued'}, t('marketplaces_count', {n: formatNumber(account.marketplaces.length)})),
    h('s-paragraph', {}, account.last_import_at
      ? t('last_order_import', {date: formatDateTime(account.last_import_at), orders: formatNumber(account.orders)})
      : t('no_order_import')),
    errorLine(account));
}

function renderHealth(health) {
  const cards = [shopifyCard(health.shopify)];
  if (health.warehouses.length) cards.push(...health.warehouses.map(warehouseCard));
  else cards.push(h('s-paragraph', {id: 'health-no-warehouse'}, t('no_warehouse'), ' ',
    h('s-link', {href: inAppHref('/admin/warehouses')}, t('go_warehouses'))));
  if (health.amazon.length) cards.push(...health.amazon.map(amazonCard));
  else cards.push(h('s-paragraph', {}, t('no_amazon')));
  document.getElementById('health').replaceChildren(...cards);
  document.getElementById('health-loading').hidden = true;

  const alerts = document.getElementById('alerts');
  alerts.replaceChildren(...health.open_alerts.map((alert) => h('s-list-item', {},
    h('s-text', {type: 'strong'}, alert.kind), ' · ', formatDateTime(alert.created_at), ' · ', alert.message)));
  document.getElementById('alerts-empty').hidden = health.open_alerts.length > 0;
}

let waitedForImport = 0;
let followTimer = null;

function renderImport(run) {
  document.getElementById('import').textContent = run
    ? t('import_line', {status: run.status, locations: run.locations, variants: run.variants, levels: run.inventory_levels})
      + (run.error ? ` · ${run.error}` : '')
    : t('no_import');
}

async function refresh() {
  try {
    const home = await api('/api/home');
    renderSteps(home.setup);
    renderHealth(home.health);
    document.getElementById('shop').textContent = t('shop_line', {domain: home.shop.domain,
                                                                  status: home.health.shopify.shop_status});
    if (home.shop.email) {
      document.getElementById('test-notice-to').textContent = t('test_to', {email: home.shop.email});
    }
    const run = home.health.shopify.last_import;
    renderImport(run);
    clearError();
    // Follow an import in progress, and the first one, which starts just after the install.
    clearTimeout(followTimer);
    if (run ? ACTIVE_IMPORT.includes(run.status) : ++waitedForImport <= 20) followTimer = setTimeout(refresh, 3000);
  } catch (error) {
    showError(error.message);
  }
}

document.getElementById('reimport').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  button.setAttribute('loading', '');
  try {
    await api('/api/imports', {method: 'POST'});
    toast(t('import_started'));
    refresh();
  } catch (error) {
    toast(error.message, {isError: true});
  } finally {
    button.removeAttribute('loading');
  }
});

// -- test notice: one per click (the key makes a retried request the same notice) -------------

const fieldValue = (el) => el.value ?? el.querySelector('select')?.value ?? '';

document.getElementById('test-send').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  button.setAttribute('loading', '');
  try {
    const {notification} = await api('/api/notifications/test', {method: 'POST', body: {
      kind: fieldValue(document.getElementById('test-kind')) || 'shipped',
      locale: fieldValue(document.getElementById('test-locale')) || 'en',
      key: crypto.randomUUID(),
    }});
    toast(t('test_sent', {email: notification.recipient}));
    refresh();
  } catch (error) {
    toast(error.message, {isError: true});
  } finally {
    button.removeAttribute('loading');
  }
});

refresh();
