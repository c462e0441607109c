// One order: where each line ships from and why, its warehouse orders, and its timeline.
import {api, formatDateTime, h, inAppHref, showError, t} from './nearstock.js';
import {parcel, reasonBadge, shipBy, statusBadge} from './order_parts.js';

const orderId = Number(location.pathname.split('/').pop());
const $ = (id) => document.getElementById(id);
$('order-back').setAttribute('href', inAppHref('/admin/orders'));

const NOTICE_TONE = {queued: 'info', sending: 'info', sent: 'success', failed: 'critical', skipped: 'neutral'};
const label = (prefix, value) => (value ? t(`${prefix}_${value}`) : '');
const warehouseName = (e) => (e.warehouse ? e.warehouse.name : '');
const language = (code) => {
  try {
    return new Intl.DisplayNames([document.documentElement.lang], {type: 'language'}).of(code);
  } catch {
    return code; // not a language tag Intl knows
  }
};

// What each step of the timeline says: a title, then details and badges.
const STEPS = {
  received: (e) => [t('step_received', {channel: label('channel', e.channel) || e.channel,
                                        country: e.country || t('unknown_country')})],
  routed: (e) => [
    e.warehouse ? t('step_routed', {warehouse: warehouseName(e)}) : t('step_backordered'),
    reasonBadge(e.reason),
    h('s-text', {color: 'subdued'}, t(`reason_help_${e.reason}`)),
    h('s-text', {}, e.lines.map((l) => t('units', {sku: l.sku, n: l.quantity})).join(', ')),
  ],
  pushed: (e) => [
    t('step_pushed', {warehouse: warehouseName(e), number: e.external_id || e.reference}),
    e.ship_by ? h('s-text', {color: 'subdued'}, t('step_ship_by', {date: formatDateTime(e.ship_by)})) : null,
  ],
  push_failed: (e) => [t('step_push_failed', {warehouse: warehouseName(e)}), h('s-text', {tone: 'critical'}, e.error)],
  shipped: (e) => [
    t('step_shipped', {carrier: e.carrier || t('unknown_carrier'), number: e.tracking_number}),
    e.sla ? h('s-badge', {tone: e.sla === 'late' ? 'warning' : 'success'}, t(`sla_${e.sla}`)) : null,
    e.tracking_url ? parcel(e) : null,
  ],
  tracking: (e) => [t('step_tracking', {status: label('tracking', e.status) || e.status}), e.location || null],
  exception: (e) => [
    t('step_exception', {reason: label('exception', e.reason) || label('tracking', e.status) || e.status}),
    h('s-badge', {tone: 'critical'}, label('exception', e.reason) || e.status),
    e.description ? h('s-text', {color: 'subdued'}, e.description) : null,
  ],
  delivered: (e) => [t('step_delivered'), h('s-badge', {tone: 'success'}, t('status_delivered'))],
  notice: (e) => [
    t('step_notice', {kind: label('kind', e.kind) || e.kind}),
    h('s-badge', {tone: NOTICE_TONE[e.status] || 'neutral'}, label('notice', e.status) || e.status),
    e.language ? h('s-text', {color: 'subdued'}, t('language', {language: language(e.language)})) : null,
  ],
  points: (e) => [
    t('step_points', {points: e.points > 0 ? `+${e.points}` : String(e.points)}),
    e.local ? h('s-text', {color: 'subdued'}, t('step_points_local')) : null,
  ],
  feedback: (e) => [t('step_feedback', {rating: e.rating}), e.comment ? h('s-text', {}, e.comment) : null],
  cancelled: () => [t('step_cancelled'), h('s-badge', {tone: 'neutral'}, t('status_cancelled'))],
};

function step(e) {
  const [title, ...details] = (STEPS[e.step] || (() => [e.step]))(e);
  return h('s-list-item', {},
    h('s-stack', {gap: 'small-300'},
      h('s-text', {color: 'subdued'}, h('time', {datetime: e.at}, formatDateTime(e.at))),
      h('s-text', {type: 'strong'}, title),
      details.filter(Boolean).length
        ? h('s-stack', {direction: 'inline', gap: 'small-300'}, details.filter(Boolean)) : null));
}

function show({order, events}) {
  document.querySelector('s-page').setAttribute('heading', order.name);
  document.title = `${order.name} · Nearstock`;
  $('order-facts').replaceChildren(
    statusBadge(order.status), ...order.reasons.map(reasonBadge),
    h('s-text', {}, formatDateTime(order.received_at)), h('s-text', {}, order.country || t('unknown_country')));
  $('order-lines-body').replaceChildren(...order.lines.flatMap((line) => {
    const routes = line.routes.length ? line.routes : [null];
    return routes.map((route) => h('s-table-row', {},
      h('s-table-cell', {}, line.sku || line.name),
      h('s-table-cell', {}, String(route ? route.quantity : line.quantity)),
      h('s-table-cell', {}, route && route.warehouse ? route.warehouse.name : t(route ? 'step_backordered' : 'not_routed_yet')),
      h('s-table-cell', {}, route ? reasonBadge(route.reason) : '')));
  }));
  $('order-outbounds-body').replaceChildren(...order.outbounds.map((o) => h('s-table-row', {},
    h('s-table-cell', {}, o.warehouse.name),
    h('s-table-cell', {}, statusBadge(o.status)),
    h('s-table-cell', {}, (o.external_ids.length ? o.external_ids : [o.external_id || o.reference]).join(', ')),
    h('s-table-cell', {}, shipBy(o)),
    h('s-table-cell', {}, o.parcels.length ? h('s-stack', {gap: 'small-300'}, o.parcels.map(parcel)) : ''))));
  $('order-timeline').replaceChildren(...(events.length ? events.map(step) : [h('s-list-item', {}, t('no_events'))]));
  $('order-summary').hidden = false;
  $('order-outbounds').hidden = order.outbounds.length === 0;
  $('order-history').hidden = false;
}

try {
  show(await api(`/api/orders/${orderId}`));
} catch (error) {
  showError(error.message);
} finally {
  $('order-loading').hidden = true;
}
