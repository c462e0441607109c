"""The vendored schema of Polaris web components and App Bridge's own elements, derived from
Shopify's published types, for the strict offline stand-in (``static/polaris.js``) and the
template checks (``polaris_check``).

    python -m sandbox.shopify.polaris_schema      rewrites static/polaris-elements.json

Sources (pinned in ``extensions/package.json``, installed by ``npm ci --prefix extensions``):
``@shopify/polaris-types``' ``dist/custom-elements.json`` (every ``s-*`` tag with its HTML
attributes and events) and ``@shopify/app-bridge-types``' ``dist/index.d.ts`` (``s-app-nav``,
``ui-title-bar``, ``ui-save-bar``, ``ui-modal``: TypeScript interfaces, read with a small parser
for the one shape they use). Attribute names are lower case: HTML folds an attribute's case
(``commandFor`` is ``commandfor``), and the packages list them so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "extensions" / "node_modules" / "@shopify"
OUTPUT = Path(__file__).resolve().parent / "static" / "polaris-elements.json"

APP_BRIDGE_TAGS = ("s-app-nav", "ui-title-bar", "ui-save-bar", "ui-modal")
# Content, not an attribute: the types name an element's children as a "children" property.
NOT_ATTRIBUTES = frozenset({"children"})
# HTML's global attributes (https://html.spec.whatwg.org/#global-attributes), valid on every
# element, plus role; aria-* and data-* are matched by prefix. Event handler attributes (on*) are
# not here: the admin's pages run no inline script.
GLOBAL_ATTRIBUTES = sorted({
    "accesskey", "autocapitalize", "autofocus", "class", "contenteditable", "dir", "draggable",
    "enterkeyhint", "hidden", "id", "inert", "inputmode", "is", "itemid", "itemprop", "itemref",
    "itemscope", "itemtype", "lang", "nonce", "part", "popover", "role", "slot", "spellcheck", "style",
    "tabindex", "title", "translate", "writingsuggestions"})
GLOBAL_PREFIXES = ["aria-", "data-"]


def polaris_elements(custom_elements: dict) -> dict[str, dict]:
    """Each ``s-*`` custom element of a custom-elements.json manifest: its attributes and events
    (and, for the stand-in, its boolean attributes and camel-case properties)."""
    out: dict[str, dict] = {}
    for module in custom_elements["modules"]:
        for declaration in module.get("declarations", []):
            tag = declaration.get("tagName")
            if not declaration.get("customElement") or not tag:
                continue
            declared = [a for a in declaration.get("attributes", [])
                        if a.get("name") and a["name"] not in NOT_ATTRIBUTES]
            events = {e["name"] for e in declaration.get("events", []) if e.get("name")}
            out[tag] = {
                "attributes": sorted({a["name"].lower() for a in declared}),
                "events": sorted(events),
                # For the stand-in's properties: which attributes are present/absent switches, and the
                # property an attribute reflects where its name differs (hasNextPage -> hasnextpage).
                "booleans": sorted({a["name"].lower() for a in declared if a.get("type", {}).get("text") == "boolean"}),
                "properties": {a["fieldName"]: a["name"].lower() for a in sorted(declared, key=lambda a: a["name"])
                               if a.get("fieldName", a["name"]) != a["name"]
                               and a["fieldName"].lower() == a["name"].lower()},
            }
    return out


def _interfaces(source: str) -> dict[str, tuple[list[str], str]]:
    """``interface Name [extends A, B] { ... }`` blocks of a .d.ts: name -> (bases, body)."""
    found = {}
    for match in re.finditer(r"^(?:export )?interface (\w+)(?: extends ([^{]+))? \{\n(.*?)^\}", source, re.M | re.S):
        bases = [b.strip() for b in (match.group(2) or "").split(",") if b.strip()]
        found[match.group(1)] = ([b for b in bases if re.fullmatch(r"\w+", b)], match.group(3))
    return found


def _properties(name: str, interfaces: dict) -> set[str]:
    """The properties an interface declares, its own and its bases', at the top level of its body."""
    if name not in interfaces:
        return set()
    bases, body = interfaces[name]
    own = set(re.findall(r"^\t(\w+)\??:", body, re.M))
    return own.union(*(_properties(base, interfaces) for base in bases))


def app_bridge_elements(index_dts: str) -> dict[str, dict]:
    """App Bridge's elements from ``interface AppBridgeElements { "tag": XAttributes; ... }``; the
    events are the ``addEventListener(type: "a" | "b")`` types of the matching ``_XElement``."""
    interfaces = _interfaces(index_dts)
    _, mapping = interfaces["AppBridgeElements"]
    tags = dict(re.findall(r'^\t"([\w-]+)": (\w+);', mapping, re.M))
    out = {}
    for tag in APP_BRIDGE_TAGS:
        attributes = {p.lower() for p in _properties(tags[tag], interfaces)} - NOT_ATTRIBUTES
        element = "_" + tags[tag].removesuffix("Attributes") + "Element"
        listener = re.search(r"addEventListener\?\(type: ([^,]+),", interfaces.get(element, ([], ""))[1])
        events = re.findall(r'"(\w+)"', listener.group(1)) if listener else []
        out[tag] = {"attributes": sorted(attributes), "events": sorted(events), "booleans": [], "properties": {}}
    return out


def app_nav_link(index_dts: str) -> dict:
    """The attributes of an ``<s-link>`` inside ``<s-app-nav>`` (``rel="home"`` is App Bridge's)."""
    attributes = _properties("SAppNavLinkAttributes", _interfaces(index_dts)) - NOT_ATTRIBUTES
    return {"attributes": sorted(a.lower() for a in attributes), "events": [], "booleans": [], "properties": {}}


def derive(packages: Path = NODE_MODULES) -> dict:
    """The schema from the installed packages."""
    polaris = packages / "polaris-types"
    bridge = packages / "app-bridge-types"
    index_dts = (bridge / "dist" / "index.d.ts").read_text(encoding="utf-8")
    elements = polaris_elements(json.loads((polaris / "dist" / "custom-elements.json").read_text(encoding="utf-8")))
    elements.update(app_bridge_elements(index_dts))
    return {
        "source": {name: json.loads((path / "package.json").read_text(encoding="utf-8"))["version"]
                   for name, path in (("@shopify/polaris-types", polaris), ("@shopify/app-bridge-types", bridge))},
        "global_attributes": GLOBAL_ATTRIBUTES,
        "global_prefixes": GLOBAL_PREFIXES,
        "elements": dict(sorted(elements.items())),
        # An element inside the given parent may also take these (App Bridge reads them there).
        "within": {"s-app-nav": {"s-link": app_nav_link(index_dts)}},
    }


def render(schema: dict) -> str:
    """The vendored file's text: one element per line, so a diff shows what changed."""
    lines = ["{"]
    for key in ("source", "global_attributes", "global_prefixes"):
        lines.append(f"  {json.dumps(key)}: {json.dumps(schema[key])},")
    lines.append('  "elements": {')
    items = list(schema["elements"].items())
    for i, (tag, spec) in enumerate(items):
        lines.append(f"    {json.dumps(tag)}: {json.dumps(spec)}{',' if i < len(items) - 1 else ''}")
    lines.append("  },")
    lines.append(f'  "within": {json.dumps(schema["within"])}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def load() -> dict:
    """The vendored schema, as the stand-in reads it."""
    return json.loads(OUTPUT.read_text(encoding="utf-8"))


def main() -> None:
    OUTPUT.write_text(render(derive()), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
