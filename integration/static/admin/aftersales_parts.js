// What both after-sales pages share: a return's status badge, and the merchant's decision on a
// return waiting for them (approve at once; decline through the modal with Shopify's reason).
import {api, fieldValue, h, t, toast} from './nearstock.js';

const STATUS_TONE = {
  requested: 'warning', approved: 'info', authorized: 'info', received: 'info', inspected: 'info',
  closed: 'success', declined: 'neutral', cancelled: 'neutral',
};
export const returnBadge = (status) => h('s-badge', {tone: STATUS_TONE[status] || 'neutral'}, t(`status_${status}`));

export async function approveReturn(id) {
  const ret = await api(`/api/returns/${id}/approve`, {method: 'POST'});
  toast(t('approved_toast'));
  return ret;
}

const modal = document.getElementById('decline-modal');
const declineForm = document.getElementById('decline-form');
let declining = null;

/** The modal's confirm button declines return `id`, then calls `done(return)`. */
export function askToDecline(id, done) {
  declining = {id, done};
}

document.getElementById('decline-confirm').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  if (!declining) return;
  const note = fieldValue(declineForm.querySelector('[name=note]')).trim();
  const body = {reason: fieldValue(declineForm.querySelector('[name=reason]')) || 'OTHER'};
  if (note) body.note = note;
  button.setAttribute('loading', '');
  try {
    const ret = await api(`/api/returns/${declining.id}/decline`, {method: 'POST', body});
    toast(t('declined_toast'));
    // Polaris' s-modal closes by hideOverlay(); the offline stand-in names it hide().
    (modal.hideOverlay || modal.hide)?.call(modal);
    const {done} = declining;
    declining = null;
    await done(ret);
  } catch (error) {
    toast(error.message, {isError: true});
  } finally {
    button.removeAttribute('loading');
  }
});
