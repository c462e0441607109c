/*
 * Polaris stand-in, part 3 (served as one script with polaris.js): what opens over the page.
 * s-modal is a native modal <dialog> (focus trap, Escape, focus back to the opener), s-popover a
 * native popover; both open from `<s-button commandFor="id" command="--show|--hide|--toggle">`
 * or their show()/hide()/toggle() methods. s-tooltip shows for the element whose interestFor
 * names it, on hover and on keyboard focus.
 */
(function () {
  'use strict';
  var P = window.__polarisStandIn;
  if (!P) return;
  var define = P.define, el = P.el, fire = P.fire, keepInside = P.keepInside, nextId = P.nextId, Base = P.Base;

  function command(host, cmd) {
    if (cmd === '--show') host.show();
    else if (cmd === '--hide') host.hide();
    else if (cmd === '--toggle' || cmd === '--auto') host.toggle();
  }
  var ACTION_SLOTS = ['primary-action', 'secondary-actions'];

  define('s-modal', class extends Base {
    render() {
      var id = nextId('modal');
      this._title = el('h2', {className: 's-h2', id: id + '-title'});
      var close = el('button', {type: 'button', className: 's-button', 'aria-label': 'Close'}, '\u00d7');
      close.addEventListener('click', () => this.hide());
      this._body = el('div', {className: 's-dialog-body'});
      this._foot = el('div', {className: 's-dialog-foot'});
      this._dialog = el('dialog', {className: 's-dialog s-internal'},
                        el('div', {className: 's-dialog-head'}, this._title, close), this._body, this._foot);
      // hide as it starts to close (Escape: cancel; hide(): at once), afterhide once it has.
      this._dialog.addEventListener('cancel', () => this._closing());
      this._dialog.addEventListener('close', () => { this._closing(); fire(this, 'afterhide'); });
      var isAction = function (node) { return node.nodeType === 1 && ACTION_SLOTS.indexOf(node.slot) >= 0; };
      keepInside(this, this._body, this._dialog, isAction);
      var gatherActions = () => {
        Array.prototype.filter.call(this.childNodes, isAction).forEach((node) => {
          if (node.slot === 'primary-action') this._foot.append(node); else this._foot.prepend(node);
        });
      };
      gatherActions();
      new MutationObserver(gatherActions).observe(this, {childList: true});
    }
    update() {
      this._title.textContent = this.getAttribute('heading') || '';
      if (this.getAttribute('heading')) this._dialog.setAttribute('aria-labelledby', this._title.id);
      else this._dialog.removeAttribute('aria-labelledby');
      if (this.getAttribute('accessibilitylabel')) this._dialog.setAttribute('aria-label', this.getAttribute('accessibilitylabel'));
    }
    polarisCommand(cmd) { command(this, cmd); }
    get open() { return Boolean(this._dialog && this._dialog.open); }
    show() {
      if (!this._dialog || this._dialog.open) return;
      this._dialog.showModal();
      this._shown = true;
      fire(this, 'show');
      fire(this, 'aftershow');
    }
    _closing() {
      if (!this._shown) return;
      this._shown = false;
      fire(this, 'hide');
    }
    hide() {
      if (!this._dialog || !this._dialog.open) return;
      this._closing();
      this._dialog.close();
    }
    toggle() { if (this.open) this.hide(); else this.show(); }
    // Polaris' own method names (BaseOverlayMethods in polaris.d.ts), which the pages call.
    showOverlay() { this.show(); }
    hideOverlay() { this.hide(); }
    toggleOverlay() { this.toggle(); }
  });

  define('s-popover', class extends Base {
    render() {
      this._pop = el('div', {className: 's-popover s-internal', popover: 'auto'});
      this._pop.addEventListener('toggle', (event) => {
        var opened = event.newState === 'open';
        fire(this, opened ? 'show' : 'hide');
        fire(this, 'toggle');
        fire(this, opened ? 'aftershow' : 'afterhide');
        fire(this, 'aftertoggle');
      });
      keepInside(this, this._pop);
    }
    polarisCommand(cmd, invoker) {
      if (invoker) {  // below the button that opened it
        var box = invoker.getBoundingClientRect();
        this._pop.style.position = 'fixed';
        this._pop.style.inset = (box.bottom + 4) + 'px auto auto ' + box.left + 'px';
      }
      command(this, cmd);
    }
    get open() { return Boolean(this._pop && this._pop.matches(':popover-open')); }
    show() { if (this._pop && !this.open) this._pop.showPopover(); }
    hide() { if (this._pop && this.open) this._pop.hidePopover(); }
    toggle() { if (this.open) this.hide(); else this.show(); }
  });

  define('s-tooltip', class extends Base {
    render() {
      this._tip = el('div', {className: 's-tip s-internal', role: 'tooltip', id: nextId('tip'), hidden: true});
      keepInside(this, this._tip);
    }
    showFor(invoker) {
      var box = invoker.getBoundingClientRect();
      this._tip.style.inset = (box.bottom + 4) + 'px auto auto ' + box.left + 'px';
      this._tip.hidden = false;
      var control = invoker.querySelector('button,a,input') || invoker;
      control.setAttribute('aria-describedby', this._tip.id);
    }
    hide() { if (this._tip) this._tip.hidden = true; }
  });
  function tooltipOf(event) {
    var invoker = event.target instanceof Element ? event.target.closest('[interestfor]') : null;
    var tip = invoker && document.getElementById(invoker.getAttribute('interestfor'));
    return tip && tip.localName === 's-tooltip' && tip._rendered ? {invoker: invoker, tip: tip} : null;
  }
  ['mouseover', 'focusin'].forEach(function (type) {
    document.addEventListener(type, function (event) { var t = tooltipOf(event); if (t) t.tip.showFor(t.invoker); });
  });
  ['mouseout', 'focusout'].forEach(function (type) {
    document.addEventListener(type, function (event) { var t = tooltipOf(event); if (t) t.tip.hide(); });
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') document.querySelectorAll('s-tooltip').forEach(function (t) { if (t.hide) t.hide(); });
  });
})();
