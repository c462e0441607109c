/*
 * A local stand-in for Shopify's App Bridge (https://cdn.shopify.com/shopifycloud/app-bridge.js),
 * served by the Shopify emulator at the CDN's path, for apps framed by its local admin. Offline
 * there is no CDN; production pages load Shopify's own script.
 *
 * What it provides, as the real one does (https://shopify.dev/docs/api/app-home):
 *   shopify.config        apiKey (<meta name="shopify-api-key">), appOrigins, disabledFeatures,
 *                         shop, host, locale (from the launch URL, kept for the tab's session)
 *   shopify.environment   {embedded, mobile: false, pos: false}
 *   shopify.idToken()     a session token (ID token) from the admin, cached until shortly before it expires
 *   fetch()               requests to the app's origin (and appOrigins) carry
 *                         "Authorization: Bearer <token>"; a 401 with
 *                         X-Shopify-Retry-Invalid-Session-Request: 1 is retried once with a fresh token
 *   shopify.toast         show(message, {duration, isError, action, onAction, onDismiss}) -> id, hide(id)
 *   shopify.loading(on)   the admin's loading bar
 *   <s-app-nav>           its <s-link href [rel=home]> children become the app's items in the admin's navigation
 *   <ui-title-bar title>  the admin's title bar; its <button>/<a> children its actions
 *   save bar              <form data-save-bar>: a change shows the admin's save bar; Save submits the form,
 *                         Discard resets it; <ui-save-bar id> with shopify.saveBar.show/hide/toggle(id)
 *   navigation            the admin's address bar follows the app's URL (loads, pushState,
 *                         replaceState); open(url, "_top") and shopify://admin/... links navigate the admin
 * Everything goes to the parent admin by postMessage, to the admin's origin only (the origin this
 * script is served from), and only the parent's answers are read.
 */
(function () {
  'use strict';
  if (window.shopify && window.shopify.__standIn) return;

  var CHANNEL = 'shopify-app-bridge-standin';
  var LAUNCH = ['embedded', 'hmac', 'host', 'id_token', 'locale', 'session', 'shop', 'timestamp'];
  var script = document.currentScript;
  var ADMIN_ORIGIN = new URL(script ? script.src : location.href).origin;

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? (el.getAttribute('content') || '').trim() : '';
  }
  function list(value) {
    return value.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
  }

  var params = new URLSearchParams(location.search);
  var kept = {};
  try { kept = JSON.parse(sessionStorage.getItem(CHANNEL) || '{}') || {}; } catch (e) { kept = {}; }
  var config = {
    apiKey: meta('shopify-api-key'),
    appOrigins: list(meta('shopify-app-origins')),
    disabledFeatures: list(meta('shopify-disabled-features')),
    shop: params.get('shop') || kept.shop || '',
    host: params.get('host') || kept.host || '',
    locale: params.get('locale') || kept.locale || 'en'
  };
  try {
    sessionStorage.setItem(CHANNEL, JSON.stringify({shop: config.shop, host: config.host, locale: config.locale}));
  } catch (e) { /* storage off: the URL still carries them */ }

  var embedded = window.top !== window.self;
  if (!embedded) {
    // Opened outside the admin: like the real App Bridge, go to the app inside the admin.
    if (config.apiKey && /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test(config.shop)) {
      location.assign(ADMIN_ORIGIN + '/store/' + config.shop.split('.')[0] + '/apps/' +
                      encodeURIComponent(config.apiKey) + location.pathname);
    }
  }

  function send(type, fields) {
    var message = {channel: CHANNEL, type: type};
    for (var key in fields) message[key] = fields[key];
    window.parent.postMessage(message, ADMIN_ORIGIN);
  }

  var sequence = 0;
  var pending = {};
  function ask(type, fields) {
    return new Promise(function (resolve, reject) {
      var id = ++sequence;
      pending[id] = {resolve: resolve, reject: reject};
      send(type, Object.assign({id: id}, fields || {}));
      setTimeout(function () {
        if (pending[id]) { delete pending[id]; reject(new Error('App Bridge: the admin did not answer')); }
      }, 10000);
    });
  }

  var toastCallbacks = {};
  window.addEventListener('message', function (event) {
    if (event.source !== window.parent || event.origin !== ADMIN_ORIGIN) return;
    var msg = event.data;
    if (!msg || typeof msg !== 'object' || msg.channel !== CHANNEL) return;
    if (msg.type === 'response' && pending[msg.id]) {
      var waiting = pending[msg.id];
      delete pending[msg.id];
      if (msg.error) waiting.reject(new Error(String(msg.error))); else waiting.resolve(msg.value);
    } else if ((msg.type === 'toast:action' || msg.type === 'toast:dismiss') && toastCallbacks[msg.toastId]) {
      var callbacks = toastCallbacks[msg.toastId];
      if (msg.type === 'toast:dismiss') delete toastCallbacks[msg.toastId];
      var callback = msg.type === 'toast:action' ? callbacks.onAction : callbacks.onDismiss;
      if (typeof callback === 'function') callback();
    } else if (msg.type === 'saveBar:save' || msg.type === 'saveBar:discard') {
      onSaveBar(msg.type === 'saveBar:save' ? 'save' : 'discard');
    } else if (msg.type === 'titleBar:action' && typeof msg.index === 'number') {
      onTitleAction(msg.index);
    }
  });

  // -- ID tokens -----------------------------------------------------------------------------
  var cached = null;
  function expiry(token) {
    try {
      var part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part)).exp * 1000;
    } catch (e) { return 0; }
  }
  function idToken() {
    if (cached && cached.expires - Date.now() > 10000) return Promise.resolve(cached.token);
    return ask('idToken').then(function (token) {
      if (typeof token !== 'string' || !token) throw new Error('App Bridge: no ID token');
      cached = {token: token, expires: expiry(token)};
      return token;
    });
  }

  // -- fetch ---------------------------------------------------------------------------------
  var nativeFetch = window.fetch.bind(window);
  function authenticates(url) {
    var target = new URL(url, location.href);
    if (target.origin === location.origin) return true;
    if (target.protocol === location.protocol && target.hostname.endsWith('.' + location.hostname)) return true;
    return config.appOrigins.some(function (origin) {
      try { return new URL(origin.indexOf('://') < 0 ? 'https://' + origin : origin).origin === target.origin; }
      catch (e) { return false; }
    });
  }
  function authorized(request, token) {
    var copy = new Request(request);
    copy.headers.set('Authorization', 'Bearer ' + token);
    if (!copy.headers.has('Accept-Language')) copy.headers.set('Accept-Language', config.locale);
    return copy;
  }
  window.fetch = function (input, init) {
    if (config.disabledFeatures.indexOf('fetch') >= 0 || !embedded) return nativeFetch(input, init);
    var request = new Request(input, init);
    if (!authenticates(request.url) || request.headers.has('Authorization')) return nativeFetch(request);
    var spare = request.clone();
    return idToken().then(function (token) {
      return nativeFetch(authorized(request, token));
    }).then(function (response) {
      if (response.status !== 401 || response.headers.get('X-Shopify-Retry-Invalid-Session-Request') !== '1') {
        return response;
      }
      cached = null;  // the server refused this token: fetch a fresh one and retry once
      return idToken().then(function (token) { return nativeFetch(authorized(spare, token)); });
    });
  };

  // -- toasts and loading --------------------------------------------------------------------
  var toast = {
    show: function (message, opts) {
      opts = opts || {};
      var id = 'toast-' + (++sequence);
      toastCallbacks[id] = {onAction: opts.onAction, onDismiss: opts.onDismiss};
      send('toast:show', {toastId: id, message: String(message), duration: Number(opts.duration) || 5000,
                          isError: Boolean(opts.isError), action: opts.action ? String(opts.action) : null});
      return id;
    },
    hide: function (id) {
      delete toastCallbacks[id];
      send('toast:hide', {toastId: String(id)});
    }
  };

  // -- navigation ----------------------------------------------------------------------------
  function appPath() {
    var query = new URLSearchParams(location.search);
    LAUNCH.forEach(function (name) { query.delete(name); });
    var rest = query.toString();
    return location.pathname + (rest ? '?' + rest : '');
  }
  function syncAddress() { if (embedded) send('history', {path: appPath()}); }
  ['pushState', 'replaceState'].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      syncAddress();
      return result;
    };
  });
  window.addEventListener('popstate', syncAddress);

  function leavesApp(url, target) {
    return /^shopify:/.test(url) || target === '_top' || target === '_parent';
  }
  var nativeOpen = window.open.bind(window);
  window.open = function (url, target, features) {
    var text = url === undefined ? '' : String(url);
    if (embedded && leavesApp(text, target)) {
      send('navigate', {url: /^shopify:/.test(text) ? text : new URL(text, location.href).href, target: '_top'});
      return null;
    }
    return nativeOpen(url, target, features);
  };
  document.addEventListener('click', function (event) {
    var link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    if (!embedded || !link || event.defaultPrevented) return;
    var href = link.getAttribute('href');
    if (!leavesApp(href, link.getAttribute('target'))) return;
    event.preventDefault();
    send('navigate', {url: /^shopify:/.test(href) ? href : link.href, target: '_top'});
  });

  // -- elements that configure the admin ---------------------------------------------------------
  // Each is hidden in the app and reports what it holds to the admin, again whenever it changes.
  function configElement(tag, report, methods) {
    if (!window.customElements || customElements.get(tag)) return;
    var cls = class extends HTMLElement {
      connectedCallback() {
        this.hidden = true;
        var send = function () { report(this); }.bind(this);
        send();
        this._observer = new MutationObserver(send);
        this._observer.observe(this, {childList: true, subtree: true, attributes: true, characterData: true});
      }
      disconnectedCallback() {
        if (this._observer) this._observer.disconnect();
        report(null);
      }
    };
    Object.keys(methods || {}).forEach(function (name) { cls.prototype[name] = methods[name]; });
    customElements.define(tag, cls);
  }
  function label(node) { return node.textContent.replace(/\s+/g, ' ').trim(); }

  // <s-app-nav> with <s-link href rel="home"> children: the app's items in the admin's navigation.
  configElement('s-app-nav', function (nav) {
    var items = nav ? Array.prototype.filter.call(nav.children, function (el) {
      return el.localName === 's-link';
    }).map(function (link) {
      return {label: label(link), href: link.getAttribute('href') || '', home: link.getAttribute('rel') === 'home'};
    }) : [];
    if (embedded) send('navMenu', {items: items});
  });

  // <ui-title-bar title> with <button>/<a> children: the admin's title bar and its actions.
  var titleBar = null;
  function titleActions() {
    return titleBar ? Array.prototype.filter.call(titleBar.children, function (el) {
      return el.localName === 'button' || el.localName === 'a';
    }) : [];
  }
  configElement('ui-title-bar', function (bar) {
    titleBar = bar;
    if (!embedded) return;
    send('titleBar', {title: bar ? bar.getAttribute('title') || '' : '', actions: titleActions().map(function (el) {
      return {label: label(el), variant: el.getAttribute('variant') || '', tone: el.getAttribute('tone') || '',
              disabled: el.hasAttribute('disabled')};
    })});
  });

  // -- the contextual save bar ---------------------------------------------------------------
  // A <form data-save-bar>: a change in it shows the admin's save bar; Save submits the form
  // (its submit event), Discard resets it; submit and reset hide the bar. A <ui-save-bar id>
  // shows by shopify.saveBar.show(id) and its <button variant="primary"> / <button> are Save /
  // Discard.
  var saveBar = null;  // what the admin's bar acts on: {form} or {element}
  function showSaveBar(owner, labels) {
    saveBar = owner;
    if (embedded) send('saveBar', Object.assign({showing: true}, labels || {}));
  }
  function hideSaveBar(owner) {
    if (!saveBar || (owner && saveBar.form !== owner.form && saveBar.element !== owner.element)) return;
    saveBar = null;
    if (embedded) send('saveBar', {showing: false});
  }
  function savingForm(event) {
    var target = event.target instanceof Element ? event.target : null;
    return target && target.closest('form[data-save-bar]');
  }
  ['input', 'change'].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = savingForm(event);
      if (form && !(saveBar && saveBar.form === form)) showSaveBar({form: form});
    });
  });
  document.addEventListener('submit', function (event) {
    if (event.target.matches && event.target.matches('form[data-save-bar]')) hideSaveBar({form: event.target});
  });
  document.addEventListener('reset', function (event) {
    if (event.target.matches && event.target.matches('form[data-save-bar]')) hideSaveBar({form: event.target});
  });
  function saveBarButtons(element) {
    var buttons = Array.prototype.filter.call(element.children, function (el) { return el.localName === 'button'; });
    return {
      save: buttons.filter(function (b) { return b.getAttribute('variant') === 'primary'; })[0] || null,
      discard: buttons.filter(function (b) { return b.getAttribute('variant') !== 'primary'; })[0] || null
    };
  }
  configElement('ui-save-bar', function () {}, {
    show: function () {
      var b = saveBarButtons(this);
      showSaveBar({element: this}, {saveLabel: b.save ? label(b.save) : '', discardLabel: b.discard ? label(b.discard) : ''});
      this.dispatchEvent(new Event('show'));
      return Promise.resolve();
    },
    hide: function () {
      var was = saveBar && saveBar.element === this;
      hideSaveBar({element: this});
      if (was) this.dispatchEvent(new Event('hide'));
      return Promise.resolve();
    },
    toggle: function () { return saveBar && saveBar.element === this ? this.hide() : this.show(); }
  });
  if (customElements.get('ui-save-bar')) {
    Object.defineProperty(customElements.get('ui-save-bar').prototype, 'showing', {
      get: function () { return Boolean(saveBar && saveBar.element === this); }
    });
  }
  function saveBarElement(id) {
    var element = document.getElementById(id);
    if (!element || element.localName !== 'ui-save-bar') throw new Error('App Bridge: no <ui-save-bar id="' + id + '">');
    return element;
  }
  function onSaveBar(action) {
    if (!saveBar) return;
    if (saveBar.form) {
      if (action === 'save') saveBar.form.requestSubmit(); else saveBar.form.reset();
    } else {
      var button = saveBarButtons(saveBar.element)[action];
      if (button) button.click();
    }
  }
  function onTitleAction(index) {
    var action = titleActions()[index];
    if (action && !action.hasAttribute('disabled')) action.click();
  }

  window.shopify = {
    __standIn: true,
    config: config,
    environment: {embedded: embedded, mobile: false, pos: false},
    idToken: idToken,
    toast: toast,
    loading: function (on) { send('loading', {on: on !== false}); },
    saveBar: {
      show: function (id) { return saveBarElement(id).show(); },
      hide: function (id) { return saveBarElement(id).hide(); },
      toggle: function (id) { return saveBarElement(id).toggle(); },
      // Nothing to confirm offline: the admin's own leave dialog is not stood in for.
      leaveConfirmation: function () { return Promise.resolve(); }
    }
  };
  syncAddress();
})();
