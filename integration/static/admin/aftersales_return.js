// One return: what comes back and why, where it stands, its timeline; the merchant's decision
// while it waits for them.
import {api, formatDateTime, formatMoney, formatNumber, h, inAppHref, showError, t, toast} from './nearstock.js';
import {approveReturn, askToDecline, returnBadge} from './aftersales_parts.js';

const returnId = Number(location.pathname.split('/').pop());
const $ = (id) => document.getElementById(id);

function step(e) {
  return h('s-list-item', {},
    h('s-stack', {gap: 'small-300'},
      h('s-text', {color: 'subdued'}, h('time', {datetime: e.at}, formatDateTime(e.at))),
      h('s-text', {type: 'strong'}, t(`step_${e.kind}`))));
}

function show(ret) {
  const name = ret.name || `#${ret.id}`;
  document.querySelector('s-page').setAttribute('heading', name);
  document.title = `${name} · Nearstock`;
  $('return-facts').replaceChildren(
    returnBadge(ret.status), h('s-badge', {}, t(`kind_${ret.kind}`)),
    h('s-link', {href: inAppHref(`/admin/orders/${ret.order.id}`)}, ret.order.name),
    h('s-text', {}, ret.order.country || ''),
    ret.warehouse ? h('s-text', {}, ret.warehouse.name) : null,
    ret.rma.external_id ? h('s-text', {}, `RMA ${ret.rma.external_id}`) : null,
    ret.refund.amount ? h('s-text', {}, formatMoney(ret.refund.amount, ret.refund.currency)) : null);
  $('return-lines').querySelector('s-table-body').replaceChildren(...ret.lines.map((line) => h('s-table-row', {},
    h('s-table-cell', {}, line.sku || ''),
    h('s-table-cell', {}, formatNumber(line.quantity)),
    h('s-table-cell', {}, t(`reason_${line.reason}`)),
    h('s-table-cell', {}, formatNumber(line.received)),
    h('s-table-cell', {}, formatNumber(line.sellable)),
    h('s-table-cell', {}, line.grade || ''))));
  $('return-timeline').replaceChildren(...(ret.timeline.length ? ret.timeline.map(step)
    : [h('s-list-item', {}, t('no_events'))]));
  $('return-actions').hidden = ret.status !== 'requested';
  $('return-summary').hidden = false;
  $('return-history').hidden = false;
}

async function load() {
  show(await api(`/api/returns/${returnId}`));
}

$('return-approve').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  button.setAttribute('loading', '');
  try {
    await approveReturn(returnId);
    await load();
  } catch (error) {
    toast(error.message, {isError: true});
  } finally {
    button.removeAttribute('loading');
  }
});
$('return-decline').addEventListener('click', () => askToDecline(returnId, load));

try {
  await load();
} catch (error) {
  showError(error.message);
} finally {
  $('return-loading').hidden = true;
}
