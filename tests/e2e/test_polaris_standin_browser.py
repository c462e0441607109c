"""The Polaris and App Bridge stand-ins the emulator's local admin serves, in a real browser
(headless system Chromium): a page of the app's origin (routed by the test, not one of the app's
own) loads both scripts from the emulator and is used the way a merchant and the page tests use
the admin's pages: labelled fields, form submission and reset, table pagination events, a modal,
then, inside the local admin's frame, the title bar and the contextual save bar. Last, the strict
check: an element or attribute Polaris does not have is a console error.
"""

from __future__ import annotations

import pytest

from tests.admin_frame_stack import framed  # noqa: F401 - the "framed" fixture
from tests.conftest import API_KEY
from tests.e2e.test_storefront_browser import browser  # noqa: F401 - the "browser" fixture
from tests.shopify_fixtures import SHOPIFY_SHOP

pytestmark = pytest.mark.e2e

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="shopify-api-key" content="{api_key}">
<script src="{admin}/shopifycloud/app-bridge.js"></script>
<script src="{admin}/shopifycloud/polaris.js"></script>
</head><body>
<ui-title-bar title="Stand-in"><button variant="primary" id="export">Export</button></ui-title-bar>
<ui-save-bar id="bar"><button variant="primary" id="keep">Keep</button><button id="drop">Drop</button></ui-save-bar>
<s-page heading="Stand-in">
  <form id="settings" data-save-bar>
    <s-section heading="Settings">
      <s-text-field name="sender" label="Sender name" value="Acme" details="Shown in every notice"></s-text-field>
      <s-number-field name="threshold" label="Low stock" value="5" min="0"></s-number-field>
      <s-select name="mode" label="Mode" value="b">
        <s-option value="a">Alpha</s-option><s-option value="b">Beta</s-option>
      </s-select>
      <s-checkbox name="preorder" label="Pre-order"></s-checkbox>
      <s-switch name="enabled" label="Enabled" checked></s-switch>
      <s-choice-list name="days" label="Days" multiple>
        <s-choice value="mon" selected>Monday</s-choice><s-choice value="tue">Tuesday</s-choice>
      </s-choice-list>
      <s-button type="submit" variant="primary">Save settings</s-button>
    </s-section>
  </form>
  <s-section heading="Orders">
    <s-table id="list" paginate hasnextpage>
      <s-table-header-row><s-table-header>Order</s-table-header></s-table-header-row>
      <s-table-body><s-table-row><s-table-cell>#1001</s-table-cell></s-table-row></s-table-body>
    </s-table>
    <s-table id="plain">
      <s-grid slot="filters" gridtemplatecolumns="1fr 1fr" gap="base">
        <s-text-field name="q" label="Search"></s-text-field><s-select name="kind" label="Kind"></s-select>
      </s-grid>
      <s-table-header-row><s-table-header>Rule</s-table-header></s-table-header-row>
      <s-table-body><s-table-row><s-table-cell>Never DE</s-table-cell></s-table-row></s-table-body>
    </s-table>
    <s-table id="pending" paginate loading>
      <s-table-header-row><s-table-header>Notice</s-table-header></s-table-header-row>
      <s-table-body></s-table-body>
    </s-table>
    <s-box id="held" minblocksize="120px" maxinlinesize="50%"></s-box>
    <s-button commandfor="confirm" command="--show">Delete order</s-button>
    <s-button id="editor" target="_blank">Theme editor</s-button>
    <s-modal id="confirm" heading="Delete it?">
      <s-paragraph>Gone for good.</s-paragraph>
      <s-button slot="primary-action" variant="primary" tone="critical" commandfor="confirm" command="--hide">
        Yes, delete</s-button>
    </s-modal>
  </s-section>
</s-page>
<script>
  window.seen = [];
  const form = document.getElementById('settings');
  form.addEventListener('submit', (e) => { e.preventDefault(); seen.push(['submit', [...new FormData(form)]]); });
  form.addEventListener('reset', () => seen.push(['reset']));
  const note = (id, types) => types.forEach((type) => document.getElementById(id).addEventListener(type, (e) => {
    const button = e.currentTarget.localName === 'button';
    seen.push(e.currentTarget === form ? [type, e.target.localName] : [button ? id : type]);
  }));
  note('settings', ['input', 'change']);
  note('list', ['nextpage', 'previouspage']);
  note('confirm', ['show', 'hide']);
  ['export', 'keep', 'drop'].forEach((id) => note(id, ['click']));
</script>
</body></html>"""


@pytest.fixture
def standin(framed, browser):  # noqa: F811 - pytest fixtures, imported above
    """A page with ``PAGE`` at ``<app>/standin`` (and the emulator's scripts), console errors kept."""
    html = PAGE.replace("{api_key}", API_KEY).replace("{admin}", framed.emulator.url)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.route(lambda url: url.startswith(f"{framed.app_url}/standin"),
               lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
    # The emulator's scripts, fetched through the route too: Chromium refuses a routed (so not
    # loopback) page's requests to loopback addresses (Local Network Access).
    page.route(lambda url: url.startswith(f"{framed.emulator.url}/shopifycloud/"),
               lambda route: route.fulfill(response=route.fetch()))
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    yield framed, page, problems
    context.close()


def seen(target) -> list:
    return target.evaluate("window.seen.splice(0)")


def test_fields_tables_and_modals_work_like_polaris(standin):
    from playwright.sync_api import expect

    stack, page, problems = standin
    page.goto(f"{stack.app_url}/standin")
    expect(page.get_by_role("heading", level=1)).to_have_text("Stand-in")

    # Labelled fields in the light DOM, their details tied to the input.
    sender = page.get_by_label("Sender name")
    expect(sender).to_have_value("Acme")
    expect(page.get_by_label("Mode")).to_have_value("b")  # its value attribute, once its options are parsed
    expect(page.locator("s-text-field[name=sender] .s-details")).to_have_text("Shown in every notice")
    assert page.locator("#" + sender.get_attribute("aria-describedby")).inner_text() == "Shown in every notice"
    page.locator("s-text-field[name=sender] input").fill("Acme Berlin")
    page.locator("s-select[name=mode] select").select_option("a")
    page.get_by_label("Pre-order").check()
    page.get_by_role("switch", name="Enabled").uncheck()
    page.get_by_label("Tuesday").check()
    events = seen(page)
    # input/change come from the hosts, as from the real components.
    assert ["input", "s-text-field"] in events and ["change", "s-select"] in events
    hosts = ("s-checkbox", "s-switch", "s-choice-list")
    assert all([kind, tag] in events for kind in ("input", "change") for tag in hosts)
    assert all(target.startswith("s-") for _, target in events)
    assert page.evaluate("""() => {
        const $ = (tag) => document.querySelector(tag);
        return [$('s-text-field').value, $('s-select').value, $('s-checkbox').checked, $('s-switch').checked,
                $('s-choice-list').values];
    }""") == ["Acme Berlin", "a", True, False, ["mon", "tue"]]

    # A submit button submits the form with each named field's value; reset brings back the defaults.
    page.get_by_role("button", name="Save settings").click()
    assert seen(page) == [["submit", [["sender", "Acme Berlin"], ["threshold", "5"], ["mode", "a"], ["preorder", "on"],
                                      ["days", "mon"], ["days", "tue"]]]]
    page.evaluate("document.getElementById('settings').reset()")
    expect(sender).to_have_value("Acme")
    expect(page.get_by_label("Mode")).to_have_value("b")
    expect(page.get_by_role("switch", name="Enabled")).to_be_checked()
    expect(page.get_by_label("Tuesday")).not_to_be_checked()
    assert page.evaluate("document.querySelector('s-choice-list').values") == ["mon"]
    assert seen(page) == [["reset"]]  # and no input/change: a reset is not the merchant's edit

    # A script that sets new options (select.replaceChildren, as the pages do) keeps the field.
    page.evaluate("""() => {
        const select = document.querySelector('s-select');
        const gamma = document.createElement('s-option');
        gamma.setAttribute('value', 'c');
        gamma.textContent = 'Gamma';
        select.replaceChildren(gamma);
        select.setAttribute('value', 'c');
    }""")
    expect(page.get_by_label("Mode")).to_have_value("c")
    expect(page.locator("s-select[name=mode] option")).to_have_text(["Gamma"])

    # An error shows under the field and marks it invalid.
    page.evaluate("document.querySelector('s-number-field').setAttribute('error', 'Must be 0 or more')")
    expect(page.locator("s-number-field .s-error")).to_have_text("Must be 0 or more")
    expect(page.get_by_label("Low stock")).to_have_attribute("aria-invalid", "true")

    # Pagination: the buttons follow hasnextpage/haspreviouspage (attributes or properties) and loading.
    previous, following = page.get_by_role("button", name="Previous page"), page.get_by_role("button", name="Next page")
    expect(previous).to_be_disabled()
    following.click()
    page.evaluate("const t = document.getElementById('list'); t.hasPreviousPage = true; t.hasNextPage = false")
    expect(following).to_be_disabled()
    previous.click()
    assert seen(page) == [["nextpage"], ["previouspage"]]
    page.evaluate("document.getElementById('list').loading = true")
    expect(previous).to_be_disabled()
    expect(page.locator("#list")).to_have_attribute("aria-busy", "true")
    page.evaluate("document.getElementById('list').hidden = true")  # what pagedTable does for an empty list
    expect(page.locator("#list")).to_be_hidden()

    # A modal opens from commandFor/command="--show" and closes from "--hide" (and Escape).
    dialog = page.get_by_role("dialog", name="Delete it?")
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Delete order").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Gone for good.")
    dialog.get_by_role("button", name="Yes, delete").click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Delete order").click()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.wait_for_function("window.seen.length === 4")
    assert seen(page) == [["show"], ["hide"], ["show"], ["hide"]]
    # ... and from Polaris' overlay methods, as a page's script opens and closes it.
    page.evaluate("document.getElementById('confirm').showOverlay()")
    expect(dialog).to_be_visible()
    page.evaluate("document.getElementById('confirm').hideOverlay()")
    expect(dialog).to_be_hidden()
    page.evaluate("document.getElementById('confirm').toggleOverlay()")
    expect(dialog).to_be_visible()
    page.evaluate("document.getElementById('confirm').toggleOverlay()")
    expect(dialog).to_be_hidden()
    assert seen(page) == [["show"], ["hide"], ["show"], ["hide"]]

    # A button given an href (as a page does once it knows the URL) becomes a link, text and all.
    expect(page.get_by_role("button", name="Theme editor")).to_be_visible()
    page.evaluate("document.getElementById('editor').setAttribute('href', 'https://example.com/editor')")
    editor = page.get_by_role("link", name="Theme editor")
    expect(editor).to_have_attribute("href", "https://example.com/editor")
    expect(editor).to_have_attribute("target", "_blank")
    assert problems == []


def test_tables_and_boxes_keep_their_layout_while_rows_load(standin):
    """A page's layout must not move when its data arrive (issue 21: CLS <= 0.05)."""
    from playwright.sync_api import expect

    stack, page, problems = standin
    page.goto(f"{stack.app_url}/standin")
    # Without `paginate`, no pager; filters keep their own layout (a grid lays its fields side by side).
    plain = page.locator("#plain")
    expect(plain.get_by_role("button", name="Next page")).to_be_hidden()
    search, kind = page.get_by_label("Search").bounding_box(), page.get_by_label("Kind").bounding_box()
    assert abs(search["y"] - kind["y"]) < 2 and kind["x"] > search["x"] + search["width"]
    # Loading, no rows yet: nothing to page through yet (no pager to push down when rows come).
    pending = page.locator("#pending")
    expect(pending.get_by_role("navigation", name="Pagination")).to_be_hidden()
    page.evaluate("""() => {
        const table = document.getElementById('pending');
        const row = document.createElement('s-table-row');
        row.append(Object.assign(document.createElement('s-table-cell'), {textContent: 'Shipped'}));
        table.querySelector('s-table-body').append(row);
        table.hasNextPage = true;
        table.loading = false;
    }""")
    expect(pending.get_by_role("navigation", name="Pagination")).to_be_visible()
    expect(pending.get_by_role("button", name="Next page")).to_be_enabled()
    # Polaris' box sizes.
    box = page.evaluate("""() => { const s = getComputedStyle(document.getElementById('held'));
        return [s.minHeight, s.maxWidth]; }""")
    assert box == ["120px", "50%"]
    assert problems == []


def test_title_bar_and_save_bar_in_the_admin(standin):
    from playwright.sync_api import expect

    stack, page, problems = standin
    stack.emulator.admin.install(SHOPIFY_SHOP)
    page.goto(f"{stack.admin_url}/standin")
    app = page.frame_locator("#app-frame")
    expect(app.get_by_label("Sender name")).to_have_value("Acme")
    frame = next(f for f in page.frames if f.url.startswith(f"{stack.app_url}/standin"))

    # <ui-title-bar>: its title and actions in the admin; an action clicks the app's button.
    expect(page.locator("#app-title")).to_have_text("Stand-in")
    page.locator("#title-actions button", has_text="Export").click()
    save_bar = page.locator("#save-bar")
    expect(save_bar).to_be_hidden()

    # A change in a <form data-save-bar> shows the save bar; Discard resets the form.
    app.locator("s-text-field[name=sender] input").fill("Acme Lyon")
    expect(save_bar).to_be_visible()
    save_bar.get_by_role("button", name="Discard").click()
    expect(save_bar).to_be_hidden()
    expect(app.get_by_label("Sender name")).to_have_value("Acme")

    # Save submits it (its submit event), and the bar goes.
    app.get_by_label("Pre-order").check()
    expect(save_bar).to_be_visible()
    save_bar.get_by_role("button", name="Save").click()
    expect(save_bar).to_be_hidden()
    events = [e for e in seen(frame) if e[0] in ("submit", "reset", "export")]
    assert events[0] == ["export"] and events[1] == ["reset"]
    assert events[2] == ["submit", [["sender", "Acme"], ["threshold", "5"], ["mode", "b"], ["preorder", "on"],
                                    ["enabled", "on"], ["days", "mon"]]]

    # shopify.saveBar with a <ui-save-bar>: its buttons' labels, and their clicks.
    frame.evaluate("shopify.saveBar.show('bar')")
    expect(save_bar).to_be_visible()
    save_bar.get_by_role("button", name="Keep").click()
    frame.wait_for_function("window.seen.some((e) => e[0] === 'keep')")  # the click reached the app
    assert frame.evaluate("document.getElementById('bar').showing") is True
    frame.evaluate("shopify.saveBar.hide('bar')")
    expect(save_bar).to_be_hidden()
    assert seen(frame) == [["keep"]]

    # shopify.loading(): the admin's loading bar.
    frame.evaluate("shopify.loading(true)")
    expect(page.locator("body")).to_have_class("loading")
    frame.evaluate("shopify.loading(false)")
    expect(page.locator("body")).not_to_have_class("loading")
    assert problems == []


def test_an_element_or_attribute_polaris_does_not_have_is_a_console_error(standin):
    from playwright.sync_api import expect

    stack, page, problems = standin
    page.goto(f"{stack.app_url}/standin")
    expect(page.get_by_label("Sender name")).to_have_value("Acme")
    assert problems == []
    page.evaluate("""() => {
        const field = document.querySelector('s-text-field');
        field.setAttribute('helptext', 'not Polaris');           // an attribute it does not have
        document.body.append(document.createElement('s-card'));  // an element Polaris does not have
        document.querySelector('s-badge, s-page').setAttribute('data-ok', '1');  // data-* is fine
    }""")
    for _ in range(100):  # console messages arrive asynchronously
        if len(problems) >= 2:
            break
        page.wait_for_timeout(50)
    assert sorted(problems) == [
        'console.error: Polaris stand-in: <s-card> is not a Polaris or App Bridge element',
        'console.error: Polaris stand-in: <s-text-field> has no attribute "helptext"',
    ]
