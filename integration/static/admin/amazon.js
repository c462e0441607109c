// Amazon: the seller accounts (disconnect after a confirmation), connecting one (Seller Central's
// consent, opened at the top level: it cannot be framed), and the imported orders with where each
// one's shipment confirmation to Amazon stands, paginated on the server.
import {
  api, clearError, formatDateTime, formatMoney, formatNumber, h, pagedTable, showError, t, toast,
} from './nearstock.js';

const lang = document.documentElement.lang || 'en';
// Marketplace id -> country (https://developer-docs.amazon.com/sp-api/docs/marketplace-ids);
// the country's name comes from the browser in the merchant's language.
const MARKETPLACES = {
  A1PA6795UKMFR9: 'DE', A13V1IB3VIYZZH: 'FR', APJ6JRA9NG5V4: 'IT', A1RKKUPIHCS9HS: 'ES', A1F83G8C2ARO7P: 'GB',
  A1805IZSGTT6HS: 'NL', AMEN7PMS3EDWL: 'BE', A2NODRKZP88ZB9: 'SE', A1C3SOZRARQ6R3: 'PL', A33AVAJ2PDY3EV: 'TR',
  ATVPDKIKX0DER: 'US', A2EUQ1WTGCTBG2: 'CA', A1AM78C64UM0Y8: 'MX', A2Q3Y263D00KWC: 'BR',
  A1VC38T7YXB528: 'JP', A39IBJ37TRP1C6: 'AU', A19VAU5U5O7RUS: 'SG', A21TJRUUN4KGV: 'IN',
};
const regionNames = new Intl.DisplayNames([lang], {type: 'region'});
const marketplaceName = (id) => (MARKETPLACES[id] ? regionNames.of(MARKETPLACES[id]) : id);
const STATE_TONES = {confirmed: 'success', pending: 'info', failed: 'critical', unshipped: 'neutral',
                     fulfilled_by_amazon: 'neutral', cancelled: 'neutral'};

const cell = (...children) => h('s-table-cell', {}, ...children);

// -- accounts -----------------------------------------------------------------------------------

const accountsTable = document.getElementById('accounts-table');
const modal = document.getElementById('disconnect-modal');
let disconnecting = null;

function accountRow(account) {
  const label = account.name || account.seller_id;
  return h('s-table-row', {id: `account-${account.id}`},
    cell(label),
    cell(account.seller_id),
    cell(account.region.toUpperCase()),
    cell(account.marketplaces.map(marketplaceName).join(', ')),
    cell(h('s-badge', {tone: account.active ? 'success' : 'neutral'}, account.active ? t('connected') : t('disconnected'))),
    cell(account.active ? h('s-button', {
      variant: 'tertiary', tone: 'critical', commandfor: 'disconnect-modal', command: '--show',
      accessibilitylabel: `${t('disconnect')} ${label}`,
      onClick: () => {
        disconnecting = account;
        document.getElementById('disconnect-text').textContent = t('disconnect_text', {name: label});
      },
    }, t('disconnect')) : ''));
}

async function loadAccounts() {
  accountsTable.setAttribute('loading', '');
  try {
    const data = await api('/api/amazon/accounts');
    accountsTable.querySelector('s-table-body').replaceChildren(...data.accounts.map(accountRow));
    accountsTable.hidden = data.accounts.length === 0;
    document.getElementById('accounts-empty').hidden = data.accounts.length > 0;
    document.getElementById('amazon-disabled').hidden = data.connect_enabled;
    document.getElementById('amazon-connect').hidden = !data.connect_enabled;
  } catch (error) {
    showError(error.message);
  } finally {
    accountsTable.removeAttribute('loading');
  }
}

document.getElementById('disconnect-confirm').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  if (!disconnecting) return;
  button.setAttribute('loading', '');
  try {
    await api(`/api/amazon/accounts/${disconnecting.id}`, {method: 'DELETE'});
    toast(t('disconnected_toast'));
    // Polaris' s-modal closes by hideOverlay(); the offline stand-in names it hide().
    (modal.hideOverlay || modal.hide)?.call(modal);
    disconnecting = null;
    loadAccounts();
  } catch (error) {
    toast(error.message, {isError: true});
  } finally {
    button.removeAttribute('loading');
  }
});

// -- connect ------------------------------------------------------------------------------------

const boxes = Object.keys(MARKETPLACES)
  .map((id) => h('s-checkbox', {name: 'marketplaces', value: id, label: marketplaceName(id)}))
  .sort((a, b) => a.getAttribute('label').localeCompare(b.getAttribute('label'), lang));
document.getElementById('amazon-marketplaces').replaceChildren(...boxes);

const isChecked = (box) => box.checked ?? box.querySelector('input')?.checked ?? box.hasAttribute('checked');
const nameField = document.getElementById('amazon-name');

document.getElementById('amazon-start').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  const marketplaces = boxes.filter(isChecked).map((box) => box.getAttribute('value'));
  if (marketplaces.length === 0) {
    showError(t('choose_marketplace'));
    return;
  }
  const name = (nameField.value ?? nameField.querySelector('input')?.value ?? '').trim();
  button.setAttribute('loading', '');
  try {
    const {url} = await api('/api/amazon/connect', {method: 'POST', body: name ? {marketplaces, name} : {marketplaces}});
    clearError();
    window.open(url, '_top'); // Seller Central refuses to be framed
  } catch (error) {
    showError(error.message);
  } finally {
    button.removeAttribute('loading');
  }
});

// -- orders -------------------------------------------------------------------------------------

const statusSelect = document.getElementById('order-status');
const selectedStatus = () => statusSelect.value ?? statusSelect.querySelector('select')?.value ?? '';

function orderRow(order) {
  const state = h('s-stack', {direction: 'inline', gap: 'small-200', alignitems: 'center'},
    h('s-badge', {tone: STATE_TONES[order.state] || 'neutral'}, t(`state_${order.state}`)));
  if (order.shipments) {
    state.append(h('s-text', {color: 'subdued'},
      t('parcels', {confirmed: formatNumber(order.confirmed), shipments: formatNumber(order.shipments)})));
  }
  if (order.confirmation_error) state.append(h('s-text', {tone: 'critical'}, order.confirmation_error));
  return h('s-table-row', {id: `order-${order.id}`},
    cell(h('s-stack', {gap: 'small-100'}, h('s-text', {type: 'strong'}, order.name || order.amazon_order_id),
                              h('s-text', {color: 'subdued'}, order.amazon_order_id))),
    cell(marketplaceName(order.marketplace_id)),
    cell(order.account.name || ''),
    cell(formatDateTime(order.created_at)),
    cell(order.total === null ? '' : formatMoney(order.total, order.currency)),
    cell(order.fulfillment === 'amazon' ? t('by_amazon') : t('by_merchant')),
    cell(state));
}

const orders = pagedTable(document.getElementById('orders-table'), {
  load: (page) => {
    const query = new URLSearchParams({page: String(page), limit: '25'});
    if (selectedStatus()) query.set('status', selectedStatus());
    return api(`/api/amazon/orders?${query}`);
  },
  row: orderRow,
  empty: document.getElementById('orders-empty'),
});
statusSelect.addEventListener('change', () => orders.reload());

loadAccounts();
orders.reload();
