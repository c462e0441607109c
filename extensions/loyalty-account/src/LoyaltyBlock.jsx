// The customer's points, tier and rewards on their Profile page (new customer accounts), built
// with the customer account Polaris web components.
import '@shopify/ui-extensions/preact';
import {render} from 'preact';
import {useEffect, useState} from 'preact/hooks';

import {fetchLoyalty} from './loyalty-api.js';

export default async () => {
  render(<LoyaltyBlock />, document.body);
};

function LoyaltyBlock() {
  const [state, setState] = useState({status: 'loading', data: null});
  useEffect(() => {
    fetchLoyalty().then(
      (data) => setState({status: 'ready', data}),
      () => setState({status: 'error', data: null}),
    );
  }, []);
  const t = shopify.i18n.translate;

  if (state.status === 'loading') {
    return (
      <s-section heading={t('heading')}>
        <s-spinner accessibilityLabel={t('loading')} />
      </s-section>
    );
  }
  if (state.status === 'error') {
    return (
      <s-section heading={t('heading')}>
        <s-banner tone="critical">{t('error')}</s-banner>
      </s-section>
    );
  }
  const {data} = state;
  if (!data.program.enabled) return null; // the shop has no loyalty program on: nothing to show
  return (
    <s-section heading={t('heading')}>
      <s-stack gap="base">
        <Points data={data} />
        <Tier data={data} />
        <Perks data={data} />
        <Rewards data={data} />
      </s-stack>
    </s-section>
  );
}

function Points({data}) {
  const t = shopify.i18n.translate;
  const n = shopify.i18n.formatNumber;
  return (
    <s-stack gap="small-200">
      <s-heading>{t('points', {count: data.balance, points: n(data.balance)})}</s-heading>
      {data.held > 0 && <s-text color="subdued">{t('held', {points: n(data.held)})}</s-text>}
      {!data.enrolled && <s-text>{t('not_enrolled')}</s-text>}
    </s-stack>
  );
}

function Tier({data}) {
  const t = shopify.i18n.translate;
  if (!data.tier && !data.next_tier) return null;
  return (
    <s-stack direction="inline" gap="small-200" alignItems="center">
      {data.tier && <s-badge>{t('tier', {name: data.tier.name})}</s-badge>}
      {data.next_tier && (
        <s-text color="subdued">{t('next_tier', {name: data.next_tier.name, needed: data.next_tier.needed})}</s-text>
      )}
    </s-stack>
  );
}

// What the tier gives, from the endpoint's perks (facts, worded here in the customer's language).
function Perks({data}) {
  const t = shopify.i18n.translate;
  const priority = (data.perks || []).find((perk) => perk.code === 'priority_after_sales');
  if (!priority) return null;
  return (
    <s-stack gap="small-200">
      <s-heading>{t('perks')}</s-heading>
      <s-text>{t('priority_after_sales')}</s-text>
      {priority.returns_approved_automatically && priority.handled_first && (
        <s-text color="subdued">{t('priority_after_sales_detail')}</s-text>
      )}
    </s-stack>
  );
}

function Rewards({data}) {
  const t = shopify.i18n.translate;
  const n = shopify.i18n.formatNumber;
  const codes = data.rewards.filter((r) => r.code);
  const money = (amount) => shopify.i18n.formatCurrency(Number(amount), {currency: data.program.currency || 'EUR'});
  return (
    <s-stack gap="small-200">
      <s-heading>{t('rewards')}</s-heading>
      {codes.length === 0 && (data.redeemable || []).length === 0 && <s-text color="subdued">{t('no_rewards')}</s-text>}
      {codes.map((reward) => (
        <s-text key={reward.id}>{t('reward_code', {code: reward.code})}</s-text>
      ))}
      {(data.redeemable || []).map((option) => (
        <s-text key={option.points}>
          {t('redeemable', {points: n(option.points), value: option.amount ? money(option.amount) : t('percent_off', {percentage: option.percentage})})}
        </s-text>
      ))}
    </s-stack>
  );
}
