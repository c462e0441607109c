/* Nearstock loyalty block: balance, tier, codes, history and redemption, from the app proxy.
   Loaded deferred; texts are set with textContent only. */
(() => {
  document.querySelectorAll('[data-nearstock-loyalty]').forEach((root) => {
    const d = root.dataset;
    const q = (s) => root.querySelector(s);
    const fill = (t, v) => (t || '').replace(/\{(\w+)\}/g, (_, k) => (v[k] ?? ''));
    const el = (tag, text) => {
      const e = document.createElement(tag);
      e.textContent = text;
      return e;
    };
    const day = (iso) => (iso || '').slice(0, 10);
    const list = (sel, items) => {
      const box = q(sel);
      box.replaceChildren(...items);
      box.hidden = !items.length;
    };
    const say = (t) => {
      q('[data-nl-msg]').textContent = t || '';
    };
    let redeem;
    const render = (v) => {
      q('[data-nl-balance]').textContent = Number(v.balance).toLocaleString(d.locale);
      const tier = q('[data-nl-tier]');
      tier.hidden = !v.tier;
      tier.textContent = v.tier ? fill(d.tTier, { name: v.tier.name }) : '';
      const next = q('[data-nl-next]');
      next.hidden = !v.next_tier;
      next.textContent = v.next_tier ? fill(d.tNext, { points: v.next_tier.needed, name: v.next_tier.name }) : '';
      list('[data-nl-codes]', v.rewards.filter((r) => r.code).map((r) =>
        el('li', fill(d.tCode, { code: r.code, date: day(r.ends_at) }))));
      const cur = v.program.currency || '';
      list('[data-nl-redeem]', d.redeem === 'true' ? (v.redeemable || []).map((o) => {
        const value = o.amount ? `${o.amount} ${cur}` : `${Math.round(o.percentage * 100)}%`;
        const b = el('button', fill(d.tRedeem, { points: o.points, value }));
        b.type = 'button';
        b.addEventListener('click', () => redeem(o.points, b));
        return b;
      }) : []);
      const kind = (k) => d[`k${k.charAt(0).toUpperCase()}${k.slice(1)}`] || k;
      list('[data-nl-history]', v.history.slice(0, +d.history || 0).map((h) =>
        el('li', `${h.points > 0 ? '+' : ''}${h.points} · ${kind(h.kind)} · ${day(h.created_at)}`)));
    };
    const load = () => fetch(`${d.proxy}/loyalty`, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : null))
      .then((v) => v && render(v))
      .catch(() => {});
    redeem = (points, b) => {
      b.disabled = true;
      const key = (self.crypto && crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}${Math.random()}`)
        .replace(/[^\w]/g, '').slice(0, 32);
      fetch(`${d.proxy}/loyalty/redeem`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ points, request_key: key }),
      })
        .then((r) => {
          say(r.ok ? d.tRedeemed : d.tError);
          load();
          if (r.ok) setTimeout(load, 4000); // the code is made at Shopify a moment later
        })
        .catch(() => say(d.tError))
        .finally(() => {
          b.disabled = false;
        });
    };
    load();
  });
})();
