"""The strict Polaris stand-in's schema, and every admin template and page script held to it.

The vendored ``sandbox/shopify/static/polaris-elements.json`` must be what ``polaris_schema``
derives from the pinned ``@shopify/polaris-types`` / ``@shopify/app-bridge-types`` (so it cannot
drift from them, nor be widened by hand); every ``s-*``/``ui-*`` element, attribute and ``h()``
event the admin uses must be in it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.shopify import polaris_check, polaris_schema

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "integration" / "templates" / "admin").rglob("*.html"))
SCRIPTS = sorted((ROOT / "integration" / "static" / "admin").glob("*.js"))


@pytest.fixture(scope="module")
def schema():
    return polaris_schema.load()


def test_the_vendored_schema_is_what_the_pinned_packages_describe():
    if not (polaris_schema.NODE_MODULES / "polaris-types" / "dist" / "custom-elements.json").exists():
        pytest.skip("extensions/node_modules has no @shopify/polaris-types: run npm ci --prefix extensions")
    derived = polaris_schema.derive()
    pins = json.loads((ROOT / "extensions" / "package.json").read_text())["devDependencies"]
    assert derived["source"] == {name: pins[name] for name in ("@shopify/polaris-types", "@shopify/app-bridge-types")}
    assert polaris_schema.OUTPUT.read_text(encoding="utf-8") == polaris_schema.render(derived), (
        "the vendored schema differs: python -m sandbox.shopify.polaris_schema")


def test_the_schema_holds_the_real_components_with_their_real_attributes(schema):
    elements = schema["elements"]
    table = elements["s-table"]
    assert set(table["events"]) == {"nextpage", "previouspage"}
    assert {"paginate", "hasnextpage", "haspreviouspage", "loading"} <= set(table["attributes"])
    assert table["properties"]["hasNextPage"] == "hasnextpage"
    assert {"commandfor", "command", "href", "type", "variant"} <= set(elements["s-button"]["attributes"])
    assert {"label", "details", "error", "name", "value"} <= set(elements["s-text-field"]["attributes"])
    assert "children" not in elements["s-table-row"]["attributes"]  # the types' name for content
    # App Bridge's own elements, from its .d.ts; rel="home" only on an s-app-nav's links.
    assert elements["ui-save-bar"] == {"attributes": ["discardconfirmation", "id"], "events": ["hide", "show"],
                                       "booleans": [], "properties": {}}
    assert elements["ui-title-bar"]["attributes"] == ["title"]
    assert "rel" not in elements["s-link"]["attributes"]
    assert schema["within"]["s-app-nav"]["s-link"]["attributes"] == ["href", "rel"]
    assert "ui-nav-menu" not in elements  # App Bridge's older nav: the pages use s-app-nav


def test_templates_use_only_polaris_elements_and_attributes(schema):
    assert TEMPLATES, "no admin templates found"
    problems = [f"{path.relative_to(ROOT)}: {problem}" for path in TEMPLATES
                for problem in polaris_check.html_problems(path.read_text(encoding="utf-8"), schema)]
    assert problems == []


def test_page_scripts_build_only_polaris_elements_with_their_attributes_and_events(schema):
    assert SCRIPTS, "no admin scripts found"
    problems = [f"{path.relative_to(ROOT)}: {problem}" for path in SCRIPTS
                for problem in polaris_check.script_problems(path.read_text(encoding="utf-8"), schema)]
    assert problems == []


def test_an_unknown_element_or_attribute_in_a_template_is_reported(schema):
    template = """{% extends "admin/base.html" %}{% block content %}
<s-section heading="{{ _('Stock') }}" {% if x %}padding="none"{% endif %}>
  <s-card>no such component</s-card>
  <s-text-field name="sku" label="SKU" helptext="not Polaris' name for it"></s-text-field>
  <s-button variant="primary" commandFor="m" command="--show" onclick="go()">Go</s-button>
  <s-link href="/admin" rel="home">outside s-app-nav</s-link>
  <s-app-nav><s-link href="/admin" rel="home">Home</s-link></s-app-nav>
  <s-table paginate hasNextPage data-kind="x" aria-label="{{ a > b }}"></s-table>
</s-section>{% endblock %}"""
    assert polaris_check.html_problems(template, schema) == [
        "line 3: <s-card> is not a Polaris or App Bridge element",
        'line 4: <s-text-field> has no attribute "helptext"',
        'line 5: <s-button> has no attribute "onclick"',
        'line 6: <s-link> has no attribute "rel"',
    ]


def test_an_unknown_attribute_or_event_in_an_h_call_is_reported(schema):
    script = """
const row = h('s-table-row', {}, h('s-table-cell', {}, name));
const save = h('s-button', {variant: 'primary', 'accessibilityLabel': t('save'), onClick: () => { go({a: 1}); },
                            ...extra, tone: cond ? 'critical' : null});
const bad = h('s-button', {size: 'slim', onNextPage: () => {}});
const card = h('s-card', {title: 'x'});
const table = h('s-table', {onnextpage: more, hasNextPage: true, label: `a, ${b}`});
const plain = h('div', {whatever: 1});
"""
    assert polaris_check.script_problems(script, schema) == [
        'line 5: <s-button> has no attribute "size" (size)',
        'line 5: <s-button> has no event "nextpage" (onNextPage)',
        "line 6: <s-card> is not a Polaris or App Bridge element",
        'line 7: <s-table> has no attribute "label" (label)',
    ]
