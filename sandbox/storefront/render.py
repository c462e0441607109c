"""Liquid rendering the way a Shopify theme does it, for the sandbox storefront (python-liquid).

Only what the theme and the Nearstock extension use is provided: the ``t`` filter reading the
extension's ``locales/*.json`` in the request's language, ``asset_url``, ``{% render %}`` of the
extension's (then the theme's) snippets, ``{% schema %}`` blocks read for setting defaults and
removed before rendering, and the objects ``product``, ``localization``, ``request``, ``block``,
``shop``. Unknown filters are errors, as in Shopify.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from liquid import BaseLoader, Environment
from liquid.exceptions import TemplateNotFoundError
from liquid.filter import with_context
from liquid.loader import TemplateSource

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extensions" / "stock-status"
THEME = Path(__file__).resolve().parent / "theme"
_SCHEMA = re.compile(r"{%-?\s*schema\s*-?%}(.*?){%-?\s*endschema\s*-?%}", re.S)


def split_schema(source: str) -> tuple[str, dict]:
    """(the template without its schema, the schema)."""
    match = _SCHEMA.search(source)
    if not match:
        return source, {}
    return source[:match.start()] + source[match.end():], json.loads(match.group(1))


def setting_defaults(schema: dict) -> dict:
    return {s["id"]: s.get("default") for s in schema.get("settings", ()) if "id" in s}


class ThemeLoader(BaseLoader):
    """``blocks/x``, ``layout/x``, ``sections/x`` by path; a bare name is a snippet, looked up in
    the extension first (that is what ``{% render %}`` inside an app block reaches), then the
    theme."""

    def __init__(self, extension: Path = EXTENSION, theme: Path = THEME) -> None:
        self.extension, self.theme = extension, theme

    def _path(self, name: str) -> Path:
        name = name.removesuffix(".liquid")
        if name.startswith("blocks/"):
            return self.extension / f"{name}.liquid"
        if name.startswith(("layout/", "sections/")):
            return self.theme / f"{name}.liquid"
        for folder in (self.extension / "snippets", self.theme / "snippets"):
            path = folder / f"{name}.liquid"
            if path.is_file():
                return path
        raise TemplateNotFoundError(name)

    def get_source(self, env, template_name, *, context=None, **kwargs) -> TemplateSource:
        path = self._path(template_name)
        if not path.is_file():
            raise TemplateNotFoundError(template_name)
        text, _schema = split_schema(path.read_text(encoding="utf-8"))
        return TemplateSource(text, str(path), None)


class Translations:
    """The extension's storefront strings by locale (``en.default.json`` is the fallback)."""

    def __init__(self, folder: Path = EXTENSION / "locales") -> None:
        self.by_locale: dict[str, dict] = {}
        self.default = "en"
        for path in folder.glob("*.json"):
            if path.name.endswith(".schema.json"):
                continue
            name = path.name.removesuffix(".json")
            if name.endswith(".default"):
                name = self.default = name.removesuffix(".default")
            self.by_locale[name] = json.loads(path.read_text(encoding="utf-8"))

    def lookup(self, key: str, locale: str) -> str:
        for candidate in (locale, locale.split("-")[0], self.default):
            node = self.by_locale.get(candidate)
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, str):
                return node
        return f"translation missing: {locale}.{key}"


def make_environment(translations: Translations | None = None, *, asset_base: str = "/ext/stock-status/assets",
                     loader: BaseLoader | None = None) -> Environment:
    env = Environment(loader=loader or ThemeLoader())
    strings = translations or Translations()

    @with_context
    def t(key, *, context, **values):
        request = context.resolve("request") or {}
        locale = (request.get("locale") or {}).get("iso_code", "en") if isinstance(request, dict) else "en"
        text = strings.lookup(str(key), locale)
        for name, value in values.items():
            text = text.replace("{{ " + name + " }}", str(value))
        return text

    env.filters["t"] = t
    env.filters["asset_url"] = lambda name: f"{asset_base}/{name}"
    env.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False).replace("</", "<\\/")
    return env


def block_schema(name: str, extension: Path = EXTENSION) -> dict:
    return split_schema((extension / "blocks" / f"{name}.liquid").read_text(encoding="utf-8"))[1]
