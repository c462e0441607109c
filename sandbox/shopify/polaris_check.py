"""Whether markup uses only real Polaris web components and App Bridge elements, with only the
attributes and events they have (the schema is ``polaris_schema.load()``). The same rules as the
stand-in's own check in the browser (``static/polaris.js``), for templates and page scripts
before they run:

* ``html_problems(text, schema)``: every ``s-*``/``ui-*`` element of an HTML (Jinja) template.
  Jinja statements and comments are dropped and expressions stand as one word, so
  ``value="{{ x }}"`` is an attribute value like any other, and ``{% if %}disabled{% endif %}`` an
  attribute.
* ``script_problems(text, schema)``: every ``h('s-…', {…})`` call of a page script (the shared
  ``h`` of ``integration/static/admin/nearstock.js``): its tag, its object's literal keys as
  attributes, and its ``on…`` keys as events of that element.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

JINJA_STATEMENT = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
JINJA_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
CHECKED = re.compile(r"^(?:s|ui)-")


def attribute_allowed(schema: dict, tag: str, name: str, ancestors: list[str] | None) -> bool:
    """``name`` on ``tag``: its own, HTML's global ones, or one App Bridge reads inside a parent
    (``ancestors`` None: any parent, for a script whose element's place is not known)."""
    if name in schema["elements"][tag]["attributes"] or name in schema["global_attributes"]:
        return True
    if any(name.startswith(prefix) for prefix in schema["global_prefixes"]):
        return True
    return any(name in within[tag]["attributes"] for parent, within in schema["within"].items()
               if tag in within and (ancestors is None or parent in ancestors))


class _Checker(HTMLParser):
    def __init__(self, schema: dict) -> None:
        super().__init__(convert_charrefs=True)
        self.schema = schema
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if CHECKED.match(tag):
            line = self.getpos()[0]
            if tag not in self.schema["elements"]:
                self.problems.append(f"line {line}: <{tag}> is not a Polaris or App Bridge element")
            else:
                for name, _value in attrs:
                    if not attribute_allowed(self.schema, tag, name, self.open):
                        self.problems.append(f'line {line}: <{tag}> has no attribute "{name}"')
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open.pop() != tag:
                pass


def html_problems(text: str, schema: dict) -> list[str]:
    """What in a template is not Polaris: one message per unknown element or attribute."""
    checker = _Checker(schema)
    checker.feed(JINJA_EXPRESSION.sub("x", JINJA_STATEMENT.sub(" ", text)))
    checker.close()
    return checker.problems


H_CALL = re.compile(r"\bh\(\s*(['\"])([\w-]+)\1\s*(,\s*\{)?")
KEY = re.compile(r"""^\s*(?:(['"])([\w-]+)\1|([A-Za-z_$][\w$]*))\s*(?::|$)""", re.S)
QUOTES = "'\"`"
OPENERS, CLOSERS = "([{", ")]}"


def _object_source(text: str, start: int) -> str:
    """The object literal that opens at ``text[start] == '{'``, braces matched, strings skipped."""
    depth, i, quote = 0, start, None
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in QUOTES:
            quote = c
        elif c in OPENERS:
            depth += 1
        elif c in CLOSERS:
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return text[start + 1:]


def _top_level_entries(body: str) -> list[str]:
    """The object's entries: ``body`` split at its top-level commas."""
    entries, depth, quote, current = [], 0, None, []
    i = 0
    while i < len(body):
        c = body[i]
        current.append(c)
        if quote:
            if c == "\\" and i + 1 < len(body):
                i += 1
                current.append(body[i])
            elif c == quote:
                quote = None
        elif c in QUOTES:
            quote = c
        elif c in OPENERS:
            depth += 1
        elif c in CLOSERS:
            depth -= 1
        elif c == "," and depth == 0:
            entries.append("".join(current[:-1]))
            current = []
        i += 1
    entries.append("".join(current))
    return [entry for entry in entries if entry.strip()]


def object_keys(body: str) -> list[str]:
    """The literal keys of an object literal's body (``...spread`` and computed keys left out)."""
    keys = []
    for entry in _top_level_entries(body):
        if entry.strip().startswith("..."):
            continue
        match = KEY.match(entry)
        if match:
            keys.append(match.group(2) or match.group(3))
    return keys


def script_problems(text: str, schema: dict) -> list[str]:
    """What in a page script's ``h('s-…', {…})`` calls is not Polaris."""
    problems = []
    for call in H_CALL.finditer(text):
        tag = call.group(2)
        if not CHECKED.match(tag):
            continue
        line = text.count("\n", 0, call.start()) + 1
        if tag not in schema["elements"]:
            problems.append(f"line {line}: <{tag}> is not a Polaris or App Bridge element")
            continue
        if not call.group(3):
            continue
        for key in object_keys(_object_source(text, call.end() - 1)):
            if re.match(r"^on[A-Za-z]", key):  # h() adds on<event> as a listener of <event>
                if key[2:].lower() not in schema["elements"][tag]["events"]:
                    problems.append(f'line {line}: <{tag}> has no event "{key[2:].lower()}" ({key})')
            elif not attribute_allowed(schema, tag, key.lower(), None):
                problems.append(f'line {line}: <{tag}> has no attribute "{key.lower()}" ({key})')
    return problems
