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
 *   <ui-nav-menu>         its links become the app's items in the admin's navigation
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

  // -- <ui-nav-menu> -------------------------------------------------------------------------
  if (window.customElements && !customElements.get('ui-nav-menu')) {
    customElements.define('ui-nav-menu', class extends HTMLElement {
      connectedCallback() {
        this.hidden = true;  // it configures the admin's navigation; nothing shows in the app
        var report = function () {
          var items = Array.prototype.slice.call(this.children).filter(function (el) {
            return el.tagName === 'A';
          }).map(function (a) {
            return {label: a.textContent.trim(), href: a.getAttribute('href') || '', home: a.rel === 'home'};
          });
          if (embedded) send('navMenu', {items: items});
        }.bind(this);
        report();
        this._observer = new MutationObserver(report);
        this._observer.observe(this, {childList: true, subtree: true, attributes: true, characterData: true});
      }
      disconnectedCallback() {
        if (this._observer) this._observer.disconnect();
        if (embedded) send('navMenu', {items: []});
      }
    });
  }

  window.shopify = {
    __standIn: true,
    config: config,
    environment: {embedded: embedded, mobile: false, pos: false},
    idToken: idToken,
    toast: toast,
    loading: function (on) { send('loading', {on: on !== false}); }
  };
  syncAddress();
})();
