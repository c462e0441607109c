/*
 * Polaris stand-in, part 2 (served as one script with polaris.js): actions (s-button, s-link,
 * s-clickable), form fields and the table. Every field renders a real, labelled <input>,
 * <select> or <textarea>; the host is form-associated, so its name and value go with its <form>.
 */
(function () {
  'use strict';
  var P = window.__polarisStandIn;
  if (!P) return;
  var define = P.define, el = P.el, fire = P.fire, keepInside = P.keepInside, nextId = P.nextId, Base = P.Base;

  // -- actions --------------------------------------------------------------------------------
  // command="--show" commandFor="id": what the real components do with invoker commands.
  function runCommand(host) {
    var target = host.getAttribute('commandfor') && document.getElementById(host.getAttribute('commandfor'));
    if (target && typeof target.polarisCommand === 'function') target.polarisCommand(host.getAttribute('command') || '--auto', host);
  }
  function navigate(host, href) {
    var target = host.getAttribute('target');
    if (target === '_blank' || target === '_top' || /^shopify:/.test(href)) window.open(href, target === '_blank' ? '_blank' : '_top');
    else location.assign(href);
  }
  // s-button / s-link / s-clickable: a real <button> (inside a form it submits or resets it),
  // or a real <a href> when the host has an href.
  function actionElement(tag, className) {
    define(tag, class extends Base {
      render() {
        this._inner = this._control();
        keepInside(this, () => this._inner);
      }
      // A link when it has an href, else a button; a script that sets or removes the href later
      // swaps one for the other, content and all.
      _control() {
        var inner = el(this.getAttribute('href') ? 'a' : 'button', {className: className});
        inner.addEventListener('click', (event) => {
          var href = this.getAttribute('href');
          if (this.hasAttribute('disabled') || this.hasAttribute('loading')) { event.preventDefault(); return; }
          if (this.getAttribute('commandfor')) { event.preventDefault(); runCommand(this); return; }
          if (href && (this.getAttribute('target') === '_top' || /^shopify:/.test(href))) {
            event.preventDefault();
            navigate(this, href);
          }
        });
        return inner;
      }
      update() {
        if (Boolean(this.getAttribute('href')) !== (this._inner.localName === 'a')) {
          var old = this._inner;
          this._inner = this._control();
          this._inner.append.apply(this._inner, Array.prototype.slice.call(old.childNodes));
          old.replaceWith(this._inner);
        }
        var inner = this._inner;
        if (inner.localName === 'a') {
          inner.href = this.getAttribute('href');
          ['target', 'download'].forEach((a) => {
            if (this.hasAttribute(a)) inner.setAttribute(a, this.getAttribute(a)); else inner.removeAttribute(a);
          });
          inner.setAttribute('aria-disabled', String(this.hasAttribute('disabled')));
        } else {
          inner.type = ['submit', 'reset'].indexOf(this.getAttribute('type')) >= 0 ? this.getAttribute('type') : 'button';
          inner.disabled = this.hasAttribute('disabled');
        }
        if (this.getAttribute('accessibilitylabel')) inner.setAttribute('aria-label', this.getAttribute('accessibilitylabel'));
        else inner.removeAttribute('aria-label');
        inner.setAttribute('aria-busy', String(this.hasAttribute('loading')));
        if (this.getAttribute('command') && this.getAttribute('commandfor')) {
          inner.setAttribute('aria-controls', this.getAttribute('commandfor'));
        }
      }
      click() { this._inner ? this._inner.click() : super.click(); }
      focus() { this._inner ? this._inner.focus() : super.focus(); }
    });
  }
  actionElement('s-button', 's-button');
  actionElement('s-link', 's-anchor');
  actionElement('s-clickable', 's-plain');
  define('s-button-group');

  // -- fields ---------------------------------------------------------------------------------
  // label, details and error around a control; aria-describedby/invalid tie them to it.
  function frame(host, control) {
    var id = nextId('field');
    control.id = id;
    host._label = el('label', {htmlFor: id, className: 's-label'});
    host._details = el('div', {className: 's-details', id: id + '-details'});
    host._error = el('div', {className: 's-error', id: id + '-error'});
    host._prefix = el('span', {className: 's-prefix'});
    host._suffix = el('span', {className: 's-suffix'});
    host.append(el('div', {className: 's-field s-internal'}, host._label,
                   el('div', {className: 's-control'}, host._prefix, control, host._suffix), host._details, host._error));
  }
  function frameUpdate(host, control) {
    host._label.textContent = host.getAttribute('label') || '';
    host._label.classList.toggle('s-visually-hidden', host.getAttribute('labelaccessibilityvisibility') === 'exclusive');
    if (!host.getAttribute('label') && host.getAttribute('accessibilitylabel')) {
      control.setAttribute('aria-label', host.getAttribute('accessibilitylabel'));
    }
    host._details.textContent = host.getAttribute('details') || '';
    host._error.textContent = host.getAttribute('error') || '';
    host._prefix.textContent = host.getAttribute('prefix') || (host.getAttribute('currencycode') || '');
    host._suffix.textContent = host.getAttribute('suffix') || '';
    var described = [host.getAttribute('details') && host._details.id, host.getAttribute('error') && host._error.id];
    control.setAttribute('aria-describedby', described.filter(Boolean).join(' '));
    control.setAttribute('aria-invalid', String(Boolean(host.getAttribute('error'))));
    control.disabled = host.hasAttribute('disabled');
    control.required = host.hasAttribute('required');
    if ('readOnly' in control) control.readOnly = host.hasAttribute('readonly');
  }

  // Form-associated: the host's name/value goes with the form; reset restores the value attribute.
  class Field extends Base {
    static get formAssociated() { return true; }
    constructor() { super(); this._internals = this.attachInternals(); }
    get form() { return this._internals.form; }
    relay(control) {
      ['input', 'change'].forEach((type) => control.addEventListener(type, (event) => {
        event.stopPropagation();  // the host fires it, as the real (shadow DOM) component does
        this._dirty = true;  // the merchant's value now: a new value attribute no longer replaces it
        this.sync();
        fire(this, type);
      }));
      ['focus', 'blur'].forEach((type) => control.addEventListener(type, () => this.dispatchEvent(new Event(type))));
    }
    sync() { this._internals.setFormValue(this.hasAttribute('name') ? this.formValue() : null); }
    // The form resets the inner control after the host: bring the host's value back after both.
    formResetCallback() { this.reset(); this.sync(); queueMicrotask(() => { this.reset(); this.sync(); }); }
    focus() { var c = this.querySelector('input,select,textarea'); if (c) c.focus(); }
  }

  var INPUT_TYPES = {'s-text-field': 'text', 's-email-field': 'email', 's-url-field': 'url', 's-search-field': 'search',
                     's-password-field': 'password', 's-number-field': 'number', 's-money-field': 'number',
                     's-date-field': 'date', 's-color-field': 'text', 's-text-area': null};
  Object.keys(INPUT_TYPES).forEach(function (tag) {
    define(tag, class extends Field {
      render() {
        var input = INPUT_TYPES[tag] ? el('input', {type: INPUT_TYPES[tag]}) : el('textarea');
        if (tag === 's-money-field') { input.step = '0.01'; input.inputMode = 'decimal'; }
        this._input = input;
        frame(this, input);
        this.relay(input);
        input.value = this.getAttribute('value') || '';
      }
      update() {
        var input = this._input;
        frameUpdate(this, input);
        input.defaultValue = this.getAttribute('value') || '';  // what a form reset brings back
        if (!this._dirty) input.value = input.defaultValue;
        ['placeholder', 'min', 'max', 'step', 'maxlength', 'minlength', 'autocomplete', 'rows', 'inputmode'].forEach((a) => {
          if (this.hasAttribute(a)) input.setAttribute(a, this.getAttribute(a)); else if (a !== 'step' || tag !== 's-money-field') input.removeAttribute(a);
        });
        this.sync();
      }
      formValue() { return this._input.value; }
      reset() { this._dirty = false; this._input.value = this.getAttribute('value') || ''; }
      get value() { return this._input ? this._input.value : (this.getAttribute('value') || ''); }
      set value(v) {
        if (!this._input) { this.setAttribute('value', v == null ? '' : String(v)); return; }
        this._input.value = v == null ? '' : String(v);
        this._dirty = true;
        this.sync();
      }
    });
  });

  // s-select: a <select> built from its s-option / s-option-group children.
  define('s-select', class extends Field {
    render() {
      this._select = el('select');
      frame(this, this._select);
      this.relay(this._select);
      this._build();
      var own = this._select.closest('.s-internal');
      // A page sets new options with select.replaceChildren(...options), which in Polaris (shadow
      // DOM) leaves the rendered field alone: here, put it back.
      P.keepPart(this, own, true);
      // Options added, removed or changed later rebuild it (not the select's own changes).
      new MutationObserver((records) => {
        if (records.some(function (r) { return !own.contains(r.target); })) this._build();
      }).observe(this, {subtree: true, childList: true, attributes: true, characterData: true,
                        attributeFilter: ['value', 'label', 'disabled', 'selected']});
    }
    _build() {
      if (this._building) return;
      var current = this._select.options.length ? this._select.value : null;
      var options = [];
      if (this.getAttribute('placeholder')) options.push(el('option', {value: '', disabled: true}, this.getAttribute('placeholder')));
      function option(o) {
        var node = el('option', {value: o.getAttribute('value') || '', disabled: o.hasAttribute('disabled')}, o.textContent.trim());
        node.defaultSelected = o.hasAttribute('selected');
        return node;
      }
      Array.prototype.forEach.call(this.children, function (child) {
        if (child.localName === 's-option') options.push(option(child));
        if (child.localName === 's-option-group') {
          var group = el('optgroup', {label: child.getAttribute('label') || '', disabled: child.hasAttribute('disabled')});
          Array.prototype.forEach.call(child.querySelectorAll('s-option'), function (o) { group.append(option(o)); });
          options.push(group);
        }
      });
      this._select.replaceChildren.apply(this._select, options);
      var wanted = current !== null && this._dirty ? current : this.getAttribute('value');
      if (wanted !== null) this._select.value = wanted;
      if (this._select.selectedIndex < 0 && this.getAttribute('placeholder')) this._select.selectedIndex = 0;
      this.sync();
    }
    update() {
      frameUpdate(this, this._select);
      if (!this._dirty && this.hasAttribute('value')) this._select.value = this.getAttribute('value');
      this.sync();
    }
    formValue() { return this._select.value; }
    reset() { this._dirty = false; this._build(); }
    get value() { return this._select ? this._select.value : this.getAttribute('value'); }
    set value(v) {
      if (!this._select) { this.setAttribute('value', String(v)); return; }
      this._select.value = String(v);
      this._dirty = true;
      this.sync();
    }
  });
  define('s-option');
  define('s-option-group');

  // s-checkbox / s-switch: one real checkbox (a switch has role=switch).
  function checkElement(tag, role) {
    define(tag, class extends Field {
      render() {
        var id = nextId('check');
        this._box = el('input', {type: 'checkbox', id: id, role: role});
        this._label = el('label', {htmlFor: id});
        this._details = el('div', {className: 's-details', id: id + '-details'});
        this._error = el('div', {className: 's-error', id: id + '-error'});
        this.append(el('div', {className: 's-field s-internal'}, el('div', {className: 's-check'}, this._box, this._label),
                       this._details, this._error));
        this.relay(this._box);
        this._box.checked = this.hasAttribute('checked');
      }
      update() {
        var box = this._box;
        this._label.textContent = this.getAttribute('label') || '';
        this._label.classList.toggle('s-visually-hidden', this.getAttribute('labelaccessibilityvisibility') === 'exclusive');
        if (this.getAttribute('accessibilitylabel')) box.setAttribute('aria-label', this.getAttribute('accessibilitylabel'));
        this._details.textContent = this.getAttribute('details') || '';
        this._error.textContent = this.getAttribute('error') || '';
        box.setAttribute('aria-describedby', [this.getAttribute('details') && this._details.id,
                                              this.getAttribute('error') && this._error.id].filter(Boolean).join(' '));
        box.setAttribute('aria-invalid', String(Boolean(this.getAttribute('error'))));
        box.disabled = this.hasAttribute('disabled');
        box.required = this.hasAttribute('required');
        box.indeterminate = this.hasAttribute('indeterminate');
        box.defaultChecked = this.hasAttribute('checked');
        if (!this._dirty) box.checked = box.defaultChecked;
        this.sync();
      }
      formValue() { return this._box.checked ? (this.getAttribute('value') || 'on') : null; }
      reset() { this._dirty = false; this._box.checked = this.hasAttribute('checked'); }
      get checked() { return this._box ? this._box.checked : this.hasAttribute('checked'); }
      set checked(v) {
        if (!this._box) { this.toggleAttribute('checked', Boolean(v)); return; }
        this._box.checked = Boolean(v);
        this._dirty = true;
        this.sync();
      }
      get value() { return this.getAttribute('value') || 'on'; }
      set value(v) { this.setAttribute('value', String(v)); }
    });
  }
  checkElement('s-checkbox', null);
  checkElement('s-switch', 'switch');

  // s-choice-list: its s-choice children become radios (or checkboxes with `multiple`).
  define('s-choice-list', class extends Field {
    render() {
      var id = nextId('choices');
      this._legend = el('div', {className: 's-label', id: id + '-label'});
      this._details = el('div', {className: 's-details'});
      this._error = el('div', {className: 's-error'});
      this.prepend(el('div', {className: 's-internal'}, this._legend));
      this.append(el('div', {className: 's-internal'}, this._details, this._error));
      this.setAttribute('aria-labelledby', this._legend.id);
      this._group = id;
    }
    choiceChanged() {
      this._dirty = true;
      this.sync();
      fire(this, 'input');
      fire(this, 'change');
    }
    _choices() { return Array.prototype.slice.call(this.querySelectorAll('s-choice')); }
    update() {
      this._legend.textContent = this.getAttribute('label') || '';
      this._legend.classList.toggle('s-visually-hidden', this.getAttribute('labelaccessibilityvisibility') === 'exclusive');
      this._details.textContent = this.getAttribute('details') || '';
      this._error.textContent = this.getAttribute('error') || '';
      this.setAttribute('role', this.hasAttribute('multiple') ? 'group' : 'radiogroup');
      this._choices().forEach(function (c) { if (c._rendered) c.update(); });
      this.sync();
    }
    formValue() {
      var name = this.getAttribute('name');
      var data = new FormData();
      this.values.forEach(function (v) { data.append(name, v); });
      return data;
    }
    reset() { this._dirty = false; this._choices().forEach(function (c) { c.reset(); }); }
    get values() { return this._choices().filter(function (c) { return c.checked; }).map(function (c) { return c.value; }); }
    set values(list) {
      var wanted = (list || []).map(String);
      this._choices().forEach(function (c) { c.checked = wanted.indexOf(c.value) >= 0; });
      this._dirty = true;
      this.sync();
    }
  });
  define('s-choice', class extends Base {
    render() {
      var id = nextId('choice');
      // Owned by no form (form= names no element): the list submits the values, not the inputs;
      // a radio group needs only the shared name.
      this._input = el('input', {type: 'radio', id: id});
      this._input.setAttribute('form', 's-no-form');
      var label = el('label', {htmlFor: id});
      keepInside(this, label, el('span', {className: 's-check s-internal'}, this._input, label),
                 function (node) { return node.slot === 'details'; });
      this._input.checked = this.hasAttribute('selected');
      ['input', 'change'].forEach((type) => this._input.addEventListener(type, (event) => {
        event.stopPropagation();  // the list fires its own input/change
        var list = this.closest('s-choice-list');
        if (type === 'change' && list) list.choiceChanged();
      }));
    }
    update() {
      var list = this.closest('s-choice-list');
      this._input.type = list && list.hasAttribute('multiple') ? 'checkbox' : 'radio';
      this._input.name = list ? list._group || '' : '';
      this._input.value = this.getAttribute('value') || '';
      this._input.disabled = this.hasAttribute('disabled') || Boolean(list && list.hasAttribute('disabled'));
      if (this.getAttribute('accessibilitylabel')) this._input.setAttribute('aria-label', this.getAttribute('accessibilitylabel'));
    }
    reset() { this._input.checked = this.hasAttribute('selected'); }
    get checked() { return this._input ? this._input.checked : this.hasAttribute('selected'); }
    set checked(v) { if (this._input) this._input.checked = Boolean(v); else this.toggleAttribute('selected', Boolean(v)); }
    get value() { return this.getAttribute('value') || ''; }
    set value(v) { this.setAttribute('value', String(v)); }
  });

  // -- the table --------------------------------------------------------------------------------
  // Table semantics by ARIA roles on the parts; with `paginate`, Previous/Next buttons that fire
  // previouspage/nextpage (the page loads the rows), enabled by haspreviouspage/hasnextpage.
  // Laid out so rows arriving move nothing they need not: the `filters` slot sits in a caption
  // box of its own (its own display kept: a grid stays a grid); the pager shows once there is
  // something to page through (rows, or another page), so it does not jump down when the first
  // rows come in. (No room is held for rows while loading: how many come is not known, and room
  // held for ten that collapses to one moves the page as much.)
  define('s-table', class extends Base {
    render() {
      this._previous = el('button', {type: 'button', className: 's-button', 'aria-label': 'Previous page'}, '\u2039');
      this._next = el('button', {type: 'button', className: 's-button', 'aria-label': 'Next page'}, '\u203a');
      this._previous.addEventListener('click', () => fire(this, 'previouspage'));
      this._next.addEventListener('click', () => fire(this, 'nextpage'));
      this._pager = el('nav', {className: 's-pager s-internal', 'aria-label': 'Pagination'}, this._previous, ' ', this._next);
      this._filters = el('div', {className: 's-filters s-internal'});
      P.keepPart(this, this._filters, true);
      P.keepPart(this, this._pager, false);
      var body = () => this.querySelector('s-table-body');
      this._watchBody = () => {
        var current = body();
        if (current && current !== this._watched) {
          this._watched = current;
          new MutationObserver(() => this.update()).observe(current, {childList: true});
        }
      };
      var place = () => {
        Array.prototype.forEach.call(this.children, (child) => {
          if (child.slot === 'filters') this._filters.append(child);
        });
        this._filters.hidden = !this._filters.firstElementChild;
        this.update();  // rows came or went: the pager follows
      };
      place();
      new MutationObserver(place).observe(this, {childList: true});
    }
    update() {
      this._watchBody();
      var rows = Boolean(this.querySelector('s-table-body > s-table-row'));
      var loading = this.hasAttribute('loading');
      this.setAttribute('role', 'table');
      this.setAttribute('aria-busy', String(loading));
      this._pager.hidden = !this.hasAttribute('paginate') ||
        !(rows || this.hasAttribute('haspreviouspage') || this.hasAttribute('hasnextpage'));
      this._previous.disabled = !this.hasAttribute('haspreviouspage') || loading;
      this._next.disabled = !this.hasAttribute('hasnextpage') || loading;
    }
  });
  [['s-table-header-row', 'row'], ['s-table-body', 'rowgroup'], ['s-table-row', 'row'],
   ['s-table-header', 'columnheader'], ['s-table-cell', 'cell']].forEach(function (pair) {
    define(pair[0], class extends Base { update() { this.setAttribute('role', pair[1]); } });
  });
})();
