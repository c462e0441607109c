"""The plain-text part of a notice, derived from its HTML: paragraphs and rows become lines, links
keep their address, styles and scripts drop out. A small tokenizer rather than an HTML parser
library: the input is our own templates' output, and this is on every notice's hot path."""

from __future__ import annotations

import html
import re

SPACES = re.compile(r"[ \t\r\n\f\v]+")
_PARAGRAPH = {"p", "div", "h1", "h2", "h3", "table", "ul", "ol"}
_LINE = {"tr", "li", "br"}


# One token of our own e-mail markup: a comment or declaration, a tag, or text. This replaces
# html.parser.HTMLParser (a pure-Python state machine: a third of a notice's render time);
# the input is always what our templates produced (well-formed, data escaped by Jinja).
_TOKEN = re.compile(r"<!--.*?-->|<[!?][^>]*>|<(/?)([a-zA-Z][^\s/>]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>|([^<]+|<)",
                    re.S)
_ATTR = re.compile(r"([^\s=/>]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_RAW_TEXT = ("style", "script")  # their content is text up to the closing tag, never markup
_SKIPPED = ("style", "head", "title", "script")
_VOID = ("br", "img", "meta", "link", "hr")


def _attributes(source: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for m in _ATTR.finditer(source):
        value = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4)
        out.setdefault(m.group(1).lower(), html.unescape(value) if value is not None else None)
    return out


class _TextMaker:
    """The plain-text part: paragraphs as blank lines, list items as "- ", table headers as
    "label: ", links as "label <url>", elements marked ``data-text="skip"`` left out."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.skip = 0  # depth inside skipped elements
        self.stack: list[tuple[str, bool]] = []
        self.link: str | None = None
        self.link_text: list[str] = []

    def feed(self, markup: str) -> None:
        pos, size, match = 0, len(markup), _TOKEN.match
        while pos < size:
            m = match(markup, pos)
            pos = m.end()
            closing, tag, rest, text = m.groups()
            if text is not None:
                self.handle_data(html.unescape(text) if "&" in text else text)
                continue
            if tag is None:
                continue  # comment, doctype
            tag = tag.lower()
            if closing:
                self.handle_endtag(tag)
                continue
            # Only a link's href and data-text are ever read: parse attributes only for those.
            wanted = tag == "a" or "data-text" in rest.lower()
            self.handle_starttag(tag, _attributes(rest) if wanted else {})
            if rest.endswith("/"):
                self.handle_endtag(tag)  # <x/>: what HTMLParser does too
            elif tag in _RAW_TEXT:
                close = markup.lower().find(f"</{tag}", pos)
                close = size if close < 0 else close
                self.handle_data(markup[pos:close])
                pos = close

    def handle_starttag(self, tag: str, attributes: dict[str, str | None]) -> None:
        skipping = tag in _SKIPPED or attributes.get("data-text") == "skip"
        if tag not in _VOID:
            self.stack.append((tag, skipping))
        if skipping:
            self.skip += 1
        if self.skip:
            return
        if tag in _PARAGRAPH:
            self.out.append("\n\n")
        elif tag in _LINE:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")
        elif tag == "a":
            self.link, self.link_text = attributes.get("href"), []

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            open_tag, skipping = self.stack.pop()
            if skipping:
                self.skip -= 1
            if open_tag == tag:
                break
        if self.skip:
            return
        if tag == "a" and self.link is not None:
            label = SPACES.sub(" ", "".join(self.link_text)).strip(" ")
            href, self.link = self.link, None
            if href and not href.startswith("mailto:") and href != label:
                self.out.append(f"{label} <{href}>" if label else href)
            else:
                self.out.append(label)
        elif tag == "th":
            self.out.append(": ")
        if tag in _PARAGRAPH:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = SPACES.sub(" ", data)  # ASCII whitespace only: keep the no-break spaces Babel puts in "4,90 €"
        if self.link is not None:
            self.link_text.append(text)
        else:
            self.out.append(text)


def html_to_text(markup: str) -> str:
    maker = _TextMaker()
    maker.feed(markup)
    lines = [SPACES.sub(" ", line).strip(" ") for line in "".join(maker.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
