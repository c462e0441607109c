/*
 * The local admin's pages: the app frame's side of App Bridge (answers to static/app-bridge.js),
 * toasts, and the store's own actions (test orders, cancel, refund, stock).
 * Only the app's frame, from the app's origin, is answered; what it sends is checked and bounded,
 * and shown with textContent only.
 */
(function () {
  'use strict';
  var CHANNEL = 'shopify-app-bridge-standin';
  var config = JSON.parse(document.getElementById('admin-config').textContent);
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, props) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) { node[key] = props[key]; });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      node.append(child instanceof Node ? child : document.createTextNode(child == null ? '' : String(child)));
    }
    return node;
  }

  // -- toasts ----------------------------------------------------------------------------------
  var toasts = {};
  function hideToast(id) {
    var entry = toasts[id];
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.node.remove();
    delete toasts[id];
  }
  function showToast(id, message, opts) {
    opts = opts || {};
    hideToast(id);
    var node = el('div', {className: 'toast' + (opts.isError ? ' toast-error' : ''), role: 'status'},
                  el('span', {className: 'toast-message'}, message));
    if (opts.action) {
      node.append(el('button', {type: 'button', className: 'toast-action', onclick: function () {
        if (opts.onAction) opts.onAction();
      }}, opts.action));
    }
    node.append(el('button', {type: 'button', className: 'toast-dismiss', title: 'Dismiss', onclick: function () {
      hideToast(id);
      if (opts.onDismiss) opts.onDismiss();
    }}, '×'));
    $('toasts').append(node);
    var duration = Math.min(Math.max(Number(opts.duration) || 5000, 1000), 60000);
    toasts[id] = {node: node, timer: setTimeout(function () { hideToast(id); }, duration)};
  }
  var flash = sessionStorage.getItem('admin-flash');
  if (flash) {
    sessionStorage.removeItem('admin-flash');
    showToast('flash', flash);
  }

  function post(url, body) {
    return fetch(url, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
      .then(function (r) {
        return r.json().catch(function () { return null; }).then(function (data) {
          if (!r.ok) throw new Error(data && data.error ? data.error : 'HTTP ' + r.status);
          return data;
        });
      });
  }
  function done(message) {
    sessionStorage.setItem('admin-flash', message);
    location.reload();
  }
  function fail(error) { showToast('error', error.message, {isError: true}); }

  // -- the staff member's language: the app gets it as the launch parameter ``locale`` -------------
  var language = $('admin-language');
  if (language) {
    language.addEventListener('change', function () {
      post(config.storeBase + '/language', {locale: language.value}).then(function () { location.reload(); }, fail);
    });
  }

  // -- installing the app ----------------------------------------------------------------------
  var install = $('install-app');
  if (install) {
    install.addEventListener('click', function () {
      install.disabled = true;
      post(config.appBase + '/install', {}).then(function () { location.reload(); },
                                                 function (e) { install.disabled = false; fail(e); });
    });
  }

  // -- the app frame ---------------------------------------------------------------------------
  var frame = $('app-frame');
  function reply(message) {
    message.channel = CHANNEL;
    frame.contentWindow.postMessage(message, config.appOrigin);
  }
  function text(value, limit) { return String(value == null ? '' : value).slice(0, limit); }
  function appPath(path) {
    return typeof path === 'string' && path.length <= 2048 && path.charAt(0) === '/' && path.charAt(1) !== '/';
  }
  function renderNav(items) {
    var nav = $('app-nav');
    if (!nav || !Array.isArray(items)) return;
    var home = items.filter(function (item) { return item && item.home && appPath(item.href); })[0];
    homePath = home ? config.appBase + home.href.split('?')[0] : null;
    nav.replaceChildren.apply(nav, items.slice(0, 20).filter(function (item) {
      return item && !item.home && appPath(item.href) && typeof item.label === 'string' && item.label.trim();
    }).map(function (item) {
      return el('li', {}, el('a', {href: config.appBase + item.href}, text(item.label, 64)));
    }));
    markCurrent();
  }
  var homePath = null;  // the app's rel="home" page: the app's own link stands for it
  function markCurrent() {
    var here = location.pathname;
    Array.prototype.forEach.call(document.querySelectorAll('#app-link, #app-nav a'), function (link) {
      var current = link.id === 'app-link' ? here === config.appBase || here === homePath : link.pathname === here;
      if (current) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
    });
  }
  // The app's <ui-title-bar>: its title and actions above the frame; a click runs the app's button.
  function renderTitleBar(msg) {
    var bar = $('title-bar');
    if (!bar) return;
    var actions = Array.isArray(msg.actions) ? msg.actions.slice(0, 10) : [];
    $('app-title').textContent = text(msg.title, 120);
    $('title-actions').replaceChildren.apply($('title-actions'), actions.map(function (action, index) {
      var variant = action && action.variant === 'primary' ? 'primary' : '';
      return el('button', {type: 'button', className: variant, disabled: Boolean(action && action.disabled),
                           onclick: function () { reply({type: 'titleBar:action', index: index}); }},
                text(action && action.label, 64));
    }));
    bar.hidden = !msg.title && !actions.length;
  }
  // The contextual save bar: shown while the app has unsaved changes; Save and Discard go back to it.
  function renderSaveBar(msg) {
    var bar = $('save-bar');
    if (!bar) return;
    bar.hidden = msg.showing !== true;
    $('save-bar-save').textContent = text(msg.saveLabel, 40) || 'Save';
    $('save-bar-discard').textContent = text(msg.discardLabel, 40) || 'Discard';
  }
  if ($('save-bar')) {
    $('save-bar-save').addEventListener('click', function () { reply({type: 'saveBar:save'}); });
    $('save-bar-discard').addEventListener('click', function () { reply({type: 'saveBar:discard'}); });
  }
  function navigate(url) {
    if (typeof url !== 'string' || url.length > 4096) return;
    var admin = /^shopify:(?:\/\/)?admin\/?([a-z_]*)/.exec(url);
    if (admin) {
      location.assign(config.storeBase + (admin[1] === 'products' || admin[1] === 'orders' ? '/' + admin[1] : ''));
      return;
    }
    var target;
    try { target = new URL(url); } catch (e) { return; }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return;
    // The app's own pages stay inside the admin; anything else replaces it, as on Shopify.
    location.assign(target.origin === config.appOrigin ? config.appBase + target.pathname + target.search : target.href);
  }
  var handlers = {
    idToken: function (msg) {
      post(config.storeBase + '/id-token', {}).then(function (data) {
        reply({type: 'response', id: msg.id, value: data.id_token});
      }, function (error) {
        reply({type: 'response', id: msg.id, error: error.message});
      });
    },
    'toast:show': function (msg) {
      var id = 'app-' + text(msg.toastId, 64);
      showToast(id, text(msg.message, 300), {
        duration: msg.duration, isError: msg.isError === true, action: msg.action ? text(msg.action, 40) : null,
        onAction: function () { reply({type: 'toast:action', toastId: text(msg.toastId, 64)}); },
        onDismiss: function () { reply({type: 'toast:dismiss', toastId: text(msg.toastId, 64)}); }
      });
    },
    'toast:hide': function (msg) { hideToast('app-' + text(msg.toastId, 64)); },
    navMenu: function (msg) { renderNav(msg.items); },
    history: function (msg) {
      if (!appPath(msg.path)) return;
      history.replaceState(null, '', config.appBase + (msg.path === '/' ? '' : msg.path));
      markCurrent();
    },
    titleBar: renderTitleBar,
    saveBar: renderSaveBar,
    navigate: function (msg) { navigate(msg.url); },
    loading: function (msg) { document.body.classList.toggle('loading', msg.on === true); }
  };
  if (frame) {
    window.addEventListener('message', function (event) {
      if (event.source !== frame.contentWindow || event.origin !== config.appOrigin) return;
      var msg = event.data;
      if (!msg || typeof msg !== 'object' || msg.channel !== CHANNEL || !handlers.hasOwnProperty(msg.type)) return;
      handlers[msg.type](msg);
    });
  }

  // -- orders ----------------------------------------------------------------------------------
  var orderForm = $('order-form');
  if (orderForm) {
    var template = orderForm.querySelector('.order-line');
    $('add-line').addEventListener('click', function () {
      var line = template.cloneNode(true);
      line.querySelector('input').value = '1';
      $('order-lines').append(line);
    });
    orderForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var lines = Array.prototype.map.call(orderForm.querySelectorAll('.order-line'), function (row) {
        return {sku: row.querySelector('select').value, quantity: Number(row.querySelector('input').value)};
      });
      var body = {lines: lines, country: $('order-country').value, email: $('order-email').value.trim(),
                  locale: $('order-locale').value};
      ['first_name', 'last_name', 'address1', 'city', 'zip'].forEach(function (name) {
        var value = $('order-' + name).value.trim();
        if (value) body[name] = value;
      });
      post(config.storeBase + '/admin/api/orders', body).then(function (data) {
        done('Order ' + data.name + ' placed');
      }, fail);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('form.cancel-order'), function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      post(config.storeBase + '/admin/api/orders/' + form.dataset.order + '/cancel',
           {reason: form.querySelector('select').value}).then(function (data) {
        done('Order ' + data.name + ' cancelled');
      }, fail);
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('form.refund-order'), function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var lines = Array.prototype.map.call(form.querySelectorAll('input[data-line]'), function (input) {
        return {line_item_id: Number(input.dataset.line), quantity: Number(input.value)};
      }).filter(function (line) { return line.quantity > 0; });
      if (!lines.length) { fail(new Error('Choose at least one item to refund')); return; }
      post(config.storeBase + '/admin/api/orders/' + form.dataset.order + '/refund',
           {lines: lines, restock: form.querySelector('input[type=checkbox]').checked}).then(function (data) {
        done('Refunded ' + data.amount + ' on ' + data.order.name);
      }, fail);
    });
  });

  // -- products and stock ----------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll('form.stock-row'), function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      // The row's inputs sit in its table cells, tied to this form by their form attribute.
      var changed = Array.prototype.filter.call(form.elements, function (input) {
        return input.dataset.location && input.value !== input.defaultValue;
      });
      if (!changed.length) { fail(new Error('Nothing changed')); return; }
      changed.reduce(function (previous, input) {
        return previous.then(function () {
          return post(config.storeBase + '/admin/api/inventory', {sku: form.dataset.sku,
            location_id: input.dataset.location, available: Number(input.value)});
        });
      }, Promise.resolve()).then(function () { done('Stock of ' + form.dataset.sku + ' saved'); }, fail);
    });
  });
})();
