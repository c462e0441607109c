// What the orders list and one order's page both show: status, routing and ship-by badges, a
// parcel's tracking link.
import {formatDateTime, h, t} from './nearstock.js';

const STATUS_TONE = {
  unrouted: 'caution', backordered: 'critical', pending: 'info', pushed: 'info', shipped: 'success',
  delivered: 'success', failed: 'critical', cancelled: 'neutral',
};
const REASON_TONE = {local: 'success', only_stock: 'info', abroad: 'neutral', split: 'caution', backordered: 'critical'};
const SLA_TONE = {on_time: 'success', late: 'warning', due: 'info', overdue: 'critical'};
export const statusBadge = (status) => h('s-badge', {tone: STATUS_TONE[status] || 'neutral'}, t(`status_${status}`));
export const reasonBadge = (reason) => h('s-badge', {tone: REASON_TONE[reason] || 'neutral'}, t(`reason_${reason}`));

/** The ship-by time and how it stands against the warehouse's handling time. */
export function shipBy(outbound) {
  if (!outbound.ship_by) return h('s-text', {color: 'subdued'}, t(`status_${outbound.status}`));
  return h('s-stack', {gap: 'small-500'},
    h('s-text', {}, formatDateTime(outbound.ship_by)),
    outbound.sla ? h('s-badge', {tone: SLA_TONE[outbound.sla]}, t(`sla_${outbound.sla}`)) : null,
    h('s-text', {color: 'subdued'}, t('handling', {hours: outbound.warehouse.handling_hours})));
}

/** A parcel: carrier and tracking number, linked to the carrier's page when there is one. */
export function parcel(p) {
  const label = [p.carrier, p.tracking_number].filter(Boolean).join(' ');
  return p.tracking_url
    ? h('s-link', {href: p.tracking_url, target: '_blank', accessibilitylabel: `${t('track')}: ${label}`}, label)
    : h('s-text', {}, label);
}
