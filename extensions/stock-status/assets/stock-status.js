/* Nearstock stock status: variant switching from the server-rendered data, live refresh from the
   app proxy, back-in-stock sign-up. Texts are set with textContent only. Budget: 2 KB gzipped. */
(() => {
  const q = (r, s) => r.querySelector(s);
  const embed = q(document, 'template[data-nearstock-embed]');
  if (embed && !q(document, '[data-nearstock]')) {
    const form = q(document, 'form[action*="/cart/add"]');
    if (form) form.after(embed.content.cloneNode(true));
  }
  document.querySelectorAll('[data-nearstock]').forEach((root) => {
    const d = root.dataset;
    const under = +d.countUnder || 0;
    const seen = {};
    let cur = d.variant;
    const tpl = q(root, 'template[data-ns-variants]');
    if (tpl) {
      tpl.content.querySelectorAll('[data-v]').forEach((i) => {
        const v = i.dataset;
        seen[v.v] = { code: v.c, quantity: v.q === '' ? null : +v.q, status: v.s, plain: v.p, eta: v.e };
      });
    }
    const show = (s) => {
      if (!s) return;
      const low = s.code === 'low_stock' && !(under && s.quantity < under);
      d.code = s.code;
      q(root, '[data-ns-s]').textContent = low ? s.plain : s.status;
      const e = q(root, '[data-ns-e]');
      e.textContent = s.eta || '';
      e.hidden = d.showEta !== 'true' || !s.eta;
      q(root, '[data-ns-n]').hidden = d.notify !== 'true' || s.code !== 'out_of_stock';
    };
    const live = (id) => {
      const p = new URLSearchParams({ variant_id: id, country: d.country, locale: d.locale });
      fetch(`${d.proxy}/stock?${p}`, { headers: { Accept: 'application/json' } })
        .then((r) => (r.ok ? r.json() : null))
        .then((s) => {
          if (s && s.code) {
            seen[id] = s;
            if (id === cur) show(s);
          }
        })
        .catch(() => {});
    };
    const select = (id) => {
      id = String(id || '');
      if (!id || id === cur) return;
      cur = id;
      show(seen[id]);
      live(id);
    };
    document.addEventListener('change', (e) => {
      const t = e.target;
      if (t.name === 'id' && t.form && /\/cart\/add/.test(t.form.getAttribute('action'))) select(t.value);
    });
    document.addEventListener('variant:change', (e) => {
      const v = e.detail && (e.detail.variant || e.detail);
      if (v) select(v.id);
    });
    const f = q(root, 'form[data-ns-f]');
    if (f) {
      f.addEventListener('submit', (e) => {
        e.preventDefault();
        const m = q(f, '[data-ns-m]');
        const b = q(f, 'button');
        b.disabled = true;
        fetch(f.action, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({
            email: f.elements.email.value, variant_id: cur, locale: d.locale, country: d.country,
            product_path: location.pathname,
          }),
        })
          .then((r) => {
            m.textContent = r.ok ? d.msgOk : r.status === 429 ? d.msgWait : d.msgErr;
            if (r.ok) f.elements.email.value = '';
          })
          .catch(() => { m.textContent = d.msgErr; })
          .finally(() => { b.disabled = false; });
      });
    }
    (window.requestIdleCallback || setTimeout)(() => live(cur));
  });
})();
