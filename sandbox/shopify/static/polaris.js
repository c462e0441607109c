/*
 * A strict offline stand-in for Shopify's Polaris web components
 * (https://cdn.shopify.com/shopifycloud/polaris.js), served by the Shopify emulator's local admin
 * at the CDN's path. Production pages load Shopify's own script.
 *
 * Strict: the local admin serves this file with SCHEMA filled in from polaris-elements.json
 * (derived from @shopify/polaris-types by sandbox/shopify/polaris_schema.py). Any s-* or ui-*
 * element the real libraries do not define, or an attribute the real component does not have, is
 * reported with console.error, which the browser tests count as a failure.
 *
 * Usable: the components render plain, labelled HTML in the light DOM (no shadow root), so tests
 * reach a field's <input> as `s-text-field[name=x] input`. Fields are form-associated (their
 * name/value is submitted with the surrounding <form>, reset restores them), expose
 * .value/.checked, and fire input/change on the host. It is no look-alike: just enough of
 * Polaris' behaviour and look to use and test the pages.
 */
(function () {
  'use strict';
  var SCHEMA = /*SCHEMA*/null;
  if (!SCHEMA || !window.customElements || customElements.get('s-page')) return;
  var ELEMENTS = SCHEMA.elements;

  // -- the strict check -----------------------------------------------------------------------
  var reported = {};
  function report(key, message) {
    if (reported[key]) return;
    reported[key] = true;
    console.error('Polaris stand-in: ' + message);
  }
  function allowedAttribute(el, tag, name) {
    if (ELEMENTS[tag].attributes.indexOf(name) >= 0 || SCHEMA.global_attributes.indexOf(name) >= 0) return true;
    if (SCHEMA.global_prefixes.some(function (p) { return name.indexOf(p) === 0; })) return true;
    return Object.keys(SCHEMA.within).some(function (parent) {
      var extra = SCHEMA.within[parent][tag];
      return extra && el.parentElement && el.parentElement.closest(parent) && extra.attributes.indexOf(name) >= 0;
    });
  }
  function check(el) {
    var tag = el.localName;
    if (!/^(s|ui)-/.test(tag)) return;
    if (!ELEMENTS[tag]) { report(tag, '<' + tag + '> is not a Polaris or App Bridge element'); return; }
    for (var i = 0; i < el.attributes.length; i++) {
      var name = el.attributes[i].name;
      if (!allowedAttribute(el, tag, name)) report(tag + ' ' + name, '<' + tag + '> has no attribute "' + name + '"');
    }
  }
  function checkTree(root) {
    if (root.nodeType !== 1) return;
    check(root);
    root.querySelectorAll('*').forEach(check);
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      if (r.type === 'attributes') check(r.target); else r.addedNodes.forEach(checkTree);
    });
  }).observe(document.documentElement, {childList: true, subtree: true, attributes: true});
  checkTree(document.documentElement);

  // -- look -----------------------------------------------------------------------------------
  var CSS = [
    's-page{display:block;max-width:62rem;margin:0 auto;padding:1rem;font:14px/1.45 system-ui,sans-serif;color:#303030}',
    's-page[inlinesize=large]{max-width:none}s-page[inlinesize=small]{max-width:40rem}',
    '.s-h1{font-size:20px;margin:0 0 1rem}',
    's-section{display:block;background:#fff;border-radius:.75rem;padding:1rem;margin-bottom:1rem;box-shadow:0 1px 0 #d4d4d4,0 0 0 1px #e3e3e3}',
    's-section s-section{box-shadow:none;padding:0;background:none}',
    '.s-h2{font-size:14px;font-weight:650;margin:0 0 .5rem}',
    's-stack{display:flex;flex-direction:column;gap:var(--s-gap,0)}s-stack[direction=inline]{flex-direction:row;flex-wrap:wrap;align-items:center}',
    's-grid{display:grid;gap:var(--s-gap,0)}s-box,s-grid-item,s-query-container{display:block}',
    's-query-container{container-type:inline-size}',
    's-heading{display:block;font-weight:650;margin:0 0 .25rem}s-paragraph{display:block;margin:0 0 .5rem}',
    's-text[tone=critical],s-paragraph[tone=critical]{color:#8e0b21}s-text[color=subdued],s-paragraph[color=subdued]{color:#616161}',
    's-text[type=strong]{font-weight:650}',
    's-link{display:inline}s-link a{color:#005bd3}',
    's-button{display:inline-block}s-button[inlinesize=fill]{display:block}',
    '.s-button{font:inherit;padding:.3rem .75rem;border:1px solid #b5b5b5;border-radius:.5rem;background:#fff;color:#303030;cursor:pointer;text-decoration:none;display:inline-block}',
    's-button[variant=primary] .s-button{background:#303030;color:#fff;border-color:#303030}',
    's-button[tone=critical] .s-button{color:#8e0b21}s-button[tone=critical][variant=primary] .s-button{background:#c70a24;color:#fff;border-color:#c70a24}',
    's-button[variant=tertiary] .s-button{border-color:transparent;background:none}',
    '.s-button:disabled,.s-button[aria-disabled=true]{opacity:.5;cursor:default}',
    's-button-group{display:flex;gap:.5rem;flex-wrap:wrap}',
    's-badge,s-chip{display:inline-block;font-size:12px;padding:0 .5rem;border-radius:1rem;background:#e3e3e3}',
    '[tone=success]:is(s-badge,s-banner){background:#cdfee1}[tone=critical]:is(s-badge,s-banner){background:#fed1d7}',
    '[tone=warning]:is(s-badge,s-banner){background:#ffeb78}[tone=info]:is(s-badge,s-banner){background:#e0f0ff}',
    's-banner{display:block;position:relative;border-radius:.75rem;padding:.75rem 3rem .75rem 1rem;margin-bottom:1rem;background:#e0f0ff}',
    's-banner>button.s-internal{position:absolute;top:.5rem;right:.5rem}',
    's-divider{display:block;border-top:1px solid #e3e3e3;margin:.5rem 0}',
    's-spinner{display:inline-block;width:20px;height:20px;border:3px solid #d4d4d4;border-top-color:#303030;border-radius:50%;animation:s-spin 1s linear infinite}',
    's-spinner[size=large]{width:44px;height:44px}@keyframes s-spin{to{transform:rotate(360deg)}}',
    's-icon{display:inline-block;width:1em}',
    's-table{display:table;width:100%;border-collapse:collapse}s-table[loading]{opacity:.6}',
    's-table-header-row,s-table-row{display:table-row}s-table-body{display:table-row-group}',
    's-table-header,s-table-cell{display:table-cell;text-align:left;padding:.5rem;border-bottom:1px solid #ebebeb;vertical-align:top}',
    's-table-header{font-weight:600;color:#616161}.s-filters{display:table-caption;caption-side:top;padding-bottom:.5rem}',
    '.s-pager{display:table-caption;caption-side:bottom;text-align:center;padding:.5rem}',
    '.s-filters[hidden],.s-pager[hidden]{display:none}',
    '.s-field{display:block;margin:0 0 .75rem}.s-label{display:block;margin-bottom:.25rem}',
    '.s-control{display:flex;align-items:center;gap:.25rem}',
    '.s-control input,.s-control select,.s-control textarea{font:inherit;flex:1;padding:.3rem .5rem;border:1px solid #8a8a8a;border-radius:.5rem;background:#fff;min-width:0}',
    '.s-details{color:#616161;font-size:13px;margin-top:.25rem}.s-error{color:#8e0b21;font-size:13px;margin-top:.25rem}',
    '[aria-invalid=true]{border-color:#c70a24!important;background:#fff4f4!important}',
    '.s-check{display:flex;gap:.5rem;align-items:flex-start}',
    '.s-visually-hidden{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}',
    's-option,s-option-group{display:none}s-choice{display:block}s-choice-list{display:block;margin:0 0 .75rem}',
    's-choice-list fieldset{border:0;margin:0;padding:0}s-choice-list legend{padding:0;margin-bottom:.25rem}',
    's-modal,s-popover,s-tooltip{display:contents}',
    '.s-dialog{border:0;border-radius:.75rem;padding:0;min-width:min(32rem,90vw);box-shadow:0 8px 30px rgba(0,0,0,.3)}',
    '.s-dialog-head,.s-dialog-foot{display:flex;gap:.5rem;align-items:center;padding:.75rem 1rem;background:#f7f7f7}',
    '.s-dialog-head{justify-content:space-between}.s-dialog-foot{justify-content:flex-end}.s-dialog-body{padding:1rem}',
    '.s-popover{border:1px solid #d4d4d4;border-radius:.5rem;padding:.5rem;margin:0}',
    '.s-tip{position:fixed;background:#303030;color:#fff;border-radius:.4rem;padding:.2rem .5rem;font-size:12px;z-index:10}',
    's-empty-state{display:block;text-align:center;padding:2rem 1rem}',
    's-clickable{display:block;cursor:pointer}s-unordered-list,s-ordered-list{display:block;padding-left:1.25rem;margin:0 0 .5rem}',
    's-list-item{display:list-item}s-unordered-list s-list-item{list-style:disc}s-ordered-list s-list-item{list-style:decimal}',
    's-image img,s-thumbnail img{max-width:100%}s-thumbnail img{width:40px;height:40px;object-fit:cover;border-radius:.4rem}',
    's-avatar{display:inline-flex;width:28px;height:28px;border-radius:50%;background:#e3e3e3;align-items:center;justify-content:center;font-size:12px;overflow:hidden}',
    's-app-nav,ui-title-bar,ui-save-bar{display:none}'
  ].join('\n') +
    // The display rules above would beat the browser's own [hidden] rule: hidden stays hidden.
    '\n' + Object.keys(ELEMENTS).map(function (tag) { return tag + '[hidden]'; }).join(',') + '{display:none!important}' +
    '\n.s-plain{all:unset;display:block;cursor:pointer}.s-plain:focus-visible{outline:2px solid #005bd3}';
  var sheet = new CSSStyleSheet();  // not a <style>: constructed sheets pass a strict style-src
  sheet.replaceSync(CSS);
  document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);

  // -- helpers ----------------------------------------------------------------------------------
  var uid = 0;
  function nextId(prefix) { return 's-' + prefix + '-' + (++uid); }
  function el(tag, props) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (props[key] === null || props[key] === undefined || props[key] === false) return;
      if (key in node) node[key] = props[key]; else node.setAttribute(key, props[key]);
    });
    for (var i = 2; i < arguments.length; i++) if (arguments[i] != null) node.append(arguments[i]);
    return node;
  }
  function fire(host, type) { host.dispatchEvent(new Event(type, {bubbles: true})); }
  var SPACE = {none: '0', 'small-500': '.125rem', 'small-400': '.25rem', 'small-300': '.25rem', 'small-200': '.375rem',
               'small-100': '.5rem', small: '.5rem', base: '.75rem', 'large-100': '1rem', large: '1rem',
               'large-200': '1.25rem', 'large-300': '1.5rem', 'large-400': '2rem', 'large-500': '2.5rem'};
  function space(value) {
    return String(value || '').trim().split(/\s+/).map(function (v) { return SPACE[v] || '0'; }).join(' ');
  }

  // Keeps an element's authored content inside the wrapper it renders (a <button>, a label...),
  // also when a script later appends to or replaces the host's content. ``container`` is the
  // host's own child that holds ``inner`` (``inner`` itself by default); ``skip`` spares nodes.
  // ``inner`` may be a function answering the current wrapper (a button that became a link).
  function keepInside(host, inner, container, skip) {
    var current = typeof inner === 'function' ? inner : function () { return inner; };
    function gather() {
      var into = current(), holder = container || into;
      Array.prototype.slice.call(host.childNodes).forEach(function (node) {
        if (node !== holder && !(skip && skip(node))) into.append(node);
      });
      if (holder.parentNode !== host) host.append(holder);
    }
    gather();
    new MutationObserver(gather).observe(host, {childList: true});
  }

  // Keeps a part the element renders (its heading, a close button) in place when a script
  // replaces the host's content (banner.textContent = message).
  function keepPart(host, part, atStart) {
    function place() { if (part.parentNode !== host) { if (atStart) host.prepend(part); else host.append(part); } }
    place();
    new MutationObserver(place).observe(host, {childList: true});
  }

  // -- the base: attributes reflected as properties, render once, update on change ---------------
  class Base extends HTMLElement {
    connectedCallback() {
      if (!this._rendered) { this._rendered = true; this.render(); }
      this.update();
    }
    attributeChangedCallback() { if (this._rendered) this.update(); }
    render() {}
    update() {}
  }
  function define(tag, cls) {
    var spec = ELEMENTS[tag];
    cls = cls || class extends Base {};
    Object.defineProperty(cls, 'observedAttributes', {get: function () { return spec.attributes; }});
    var names = {};
    spec.attributes.forEach(function (a) { names[a] = a; });
    Object.keys(spec.properties).forEach(function (p) { names[p] = spec.properties[p]; });
    Object.keys(names).forEach(function (prop) {
      if (prop in cls.prototype) return;  // the component's own accessor, or HTMLElement's
      var attr = names[prop];
      var flag = spec.booleans.indexOf(attr) >= 0;
      Object.defineProperty(cls.prototype, prop, {
        configurable: true,
        get: function () { return flag ? this.hasAttribute(attr) : this.getAttribute(attr); },
        set: function (v) {
          if (flag) this.toggleAttribute(attr, Boolean(v));
          else if (v === null || v === undefined) this.removeAttribute(attr);
          else this.setAttribute(attr, String(v));
        }
      });
    });
    customElements.define(tag, cls);
  }

  // -- layout and text ----------------------------------------------------------------------------
  function headingAbove(host, tag, className) {
    var h = el(tag, {className: className + ' s-internal'});
    keepPart(host, h, true);
    return h;
  }
  define('s-page', class extends Base {
    render() { this._h = headingAbove(this, 'h1', 's-h1'); }
    update() { this._h.textContent = this.getAttribute('heading') || ''; this._h.hidden = !this._h.textContent; }
  });
  define('s-section', class extends Base {
    render() {
      var depth = 0;
      for (var p = this.parentElement; p; p = p.parentElement) if (p.localName === 's-section') depth++;
      this._h = headingAbove(this, depth ? 'h3' : 'h2', 's-h2');
    }
    update() {
      this._h.textContent = this.getAttribute('heading') || '';
      this._h.hidden = !this._h.textContent;
      if (this.getAttribute('accessibilitylabel')) this.setAttribute('aria-label', this.getAttribute('accessibilitylabel'));
      this.setAttribute('role', 'region');
      this.style.padding = this.hasAttribute('padding') && this.getAttribute('padding') === 'none' ? '0' : '';
    }
  });
  function boxStyle(host) {
    var s = host.style;
    s.setProperty('--s-gap', space(host.getAttribute('gap')));
    s.padding = host.hasAttribute('padding') ? space(host.getAttribute('padding')) : '';
    if (host.getAttribute('paddingblock')) s.paddingBlock = space(host.getAttribute('paddingblock'));
    if (host.getAttribute('paddinginline')) s.paddingInline = space(host.getAttribute('paddinginline'));
    if (host.getAttribute('gridtemplatecolumns')) s.gridTemplateColumns = host.getAttribute('gridtemplatecolumns');
    if (host.getAttribute('gridcolumn')) s.gridColumn = host.getAttribute('gridcolumn');
    if (host.getAttribute('alignitems')) s.alignItems = host.getAttribute('alignitems');
    if (host.getAttribute('justifycontent')) s.justifyContent = host.getAttribute('justifycontent');
    // Sizes: Polaris' SizeUnits (px, %, 0) or auto/none, as the CSS property of the same name.
    [['inlinesize', 'inlineSize'], ['blocksize', 'blockSize'], ['mininlinesize', 'minInlineSize'],
     ['maxinlinesize', 'maxInlineSize'], ['minblocksize', 'minBlockSize'], ['maxblocksize', 'maxBlockSize']].forEach(function (pair) {
      var value = host.getAttribute(pair[0]);
      s[pair[1]] = value && /^(\d+(\.\d+)?(px|%)|0|auto|none)$/.test(value) ? value : '';
    });
    if (host.getAttribute('paddingblockstart')) s.paddingBlockStart = space(host.getAttribute('paddingblockstart'));
    if (host.getAttribute('paddingblockend')) s.paddingBlockEnd = space(host.getAttribute('paddingblockend'));
    if (host.getAttribute('paddinginlinestart')) s.paddingInlineStart = space(host.getAttribute('paddinginlinestart'));
    if (host.getAttribute('paddinginlineend')) s.paddingInlineEnd = space(host.getAttribute('paddinginlineend'));
    if (host.getAttribute('background')) s.background = '#f7f7f7';
    if (host.getAttribute('border')) s.border = '1px solid #e3e3e3';
    if (host.getAttribute('borderradius')) s.borderRadius = '.5rem';
    if (host.getAttribute('accessibilitylabel')) host.setAttribute('aria-label', host.getAttribute('accessibilitylabel'));
    if (host.getAttribute('accessibilityvisibility') === 'exclusive') host.classList.add('s-visually-hidden');
  }
  ['s-stack', 's-grid', 's-grid-item', 's-box'].forEach(function (tag) {
    define(tag, class extends Base { update() { boxStyle(this); } });
  });
  define('s-heading', class extends Base {
    update() {
      var level = 2;  // below the page's h1, and one deeper per titled section around it
      for (var p = this.parentElement; p; p = p.parentElement) if (p.localName === 's-section' && p.getAttribute('heading')) level++;
      this.setAttribute('role', 'heading');
      this.setAttribute('aria-level', String(Math.min(level, 6)));
    }
  });
  ['s-text', 's-paragraph', 's-number', 's-query-container'].forEach(function (tag) {
    define(tag, class extends Base {
      update() { if (this.getAttribute('accessibilityvisibility') === 'exclusive') this.classList.add('s-visually-hidden'); }
    });
  });
  define('s-divider', class extends Base { update() { this.setAttribute('role', 'separator'); } });
  define('s-spinner', class extends Base {
    update() {
      this.setAttribute('role', 'status');
      this.setAttribute('aria-label', this.getAttribute('accessibilitylabel') || 'Loading');
    }
  });
  define('s-icon', class extends Base { update() { this.setAttribute('aria-hidden', 'true'); } });
  define('s-badge');
  define('s-progress', class extends Base {
    render() { this._p = el('progress', {className: 's-internal'}); this.append(this._p); }
    update() {
      this._p.max = Number(this.getAttribute('max')) || 1;
      this._p.value = Number(this.getAttribute('value')) || 0;
      this._p.setAttribute('aria-label', this.getAttribute('accessibilitylabel') || '');
    }
  });
  define('s-unordered-list', class extends Base { update() { this.setAttribute('role', 'list'); } });
  define('s-ordered-list', class extends Base { update() { this.setAttribute('role', 'list'); } });
  define('s-list-item', class extends Base { update() { this.setAttribute('role', 'listitem'); } });
  define('s-empty-state', class extends Base {
    render() { this._h = headingAbove(this, 'h2', 's-h2'); }
    update() { this._h.textContent = this.getAttribute('heading') || ''; }
  });
  define('s-banner', class extends Base {
    render() {
      this._h = headingAbove(this, 'h2', 's-h2');
      this._close = el('button', {type: 'button', className: 's-button s-internal', 'aria-label': 'Dismiss'}, '\u00d7');
      this._close.addEventListener('click', () => {
        fire(this, 'dismiss');
        this.hidden = true;
        fire(this, 'afterhide');
      });
      keepPart(this, this._close, false);
    }
    update() {
      this._h.textContent = this.getAttribute('heading') || '';
      this._h.hidden = !this._h.textContent;
      this._close.hidden = !this.hasAttribute('dismissible');
      this.setAttribute('role', this.getAttribute('tone') === 'critical' ? 'alert' : 'status');
    }
  });
  define('s-chip', class extends Base {
    render() {
      this._remove = el('button', {type: 'button', className: 's-internal', 'aria-label': 'Remove'}, '\u00d7');
      this._remove.addEventListener('click', () => fire(this, 'remove'));
      keepPart(this, this._remove, false);
    }
    update() { this._remove.hidden = !this.hasAttribute('removable'); }
  });
  function imageElement(tag, attrs) {
    define(tag, class extends Base {
      render() {
        this._img = el('img', {className: 's-internal'});
        this._img.addEventListener('load', () => fire(this, 'load'));
        this._img.addEventListener('error', () => fire(this, 'error'));
        this.append(this._img);
      }
      update() {
        attrs.forEach((a) => {
          if (this.hasAttribute(a)) this._img.setAttribute(a, this.getAttribute(a)); else this._img.removeAttribute(a);
        });
        this._img.alt = this.getAttribute('alt') || '';
        this._img.hidden = !this.getAttribute('src');
      }
    });
  }
  imageElement('s-image', ['src', 'srcset', 'sizes', 'loading']);
  imageElement('s-thumbnail', ['src']);
  define('s-avatar', class extends Base {
    update() {
      var src = this.getAttribute('src');
      this.setAttribute('role', 'img');
      this.setAttribute('aria-label', this.getAttribute('alt') || this.getAttribute('initials') || '');
      this.replaceChildren(src ? el('img', {src: src, alt: ''}) : (this.getAttribute('initials') || ''));
    }
  });

  window.__polarisStandIn = {define: define, el: el, fire: fire, keepInside: keepInside, keepPart: keepPart, nextId: nextId, Base: Base,
                             check: checkTree, space: space};
})();
