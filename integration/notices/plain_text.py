"""The plain-text part of a notice, derived from its HTML: paragraphs and rows become lines, links
keep their address, styles and scripts drop out. A small tokenizer rather than an HTML parser
library: the input is our own templates' output, and this is on every notice's hot path."""

from __future__ import annotations

import html
import re

SPACES = re.compile(r"[ \t\r\n\f\v]+")
_PARAGRAPH = ("p", "div", "h1", "h2", "h3", "table", "ul", "ol")  # a blank line before and after
# What an element adds to the text where it opens and where it closes (when not skipped).
_OPENING = {**dict.fromkeys(_PARAGRAPH, "\n\n"), "tr": "\n", "br": "\n", "li": "\n- "}
_CLOSING = {**dict.fromkeys(_PARAGRAPH, "\n\n"), "th": ": "}
_QUOTED = r"(?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+"  # a tag's attributes: quoted values may hold ">"


def _raw_text(name: str) -> str:
    """A style or script element: its content is text up to the closing tag, never markup."""
    return rf"<(?i:{name}){_QUOTED}>[^<]*+(?:<(?!/(?i:{name}))[^<]*+)*+(?:</(?i:{name}){_QUOTED}>)?"


# One token of our own e-mail markup: text, a comment or declaration, a style or script element
# (never shown), a tag, or a lone "<". All found by one ``findall`` (C; possessive quantifiers, so
# no backtracking); the loop in html_to_text then only branches per token.
_TOKEN = re.compile(rf"([^<]++)|<!--.*?-->|<[!?][^>]*+>|{_raw_text('style')}|{_raw_text('script')}"
                    rf"|<(/?)([a-zA-Z][^\s/>]*+)({_QUOTED})>|(<)", re.S)
_ATTR = re.compile(r"([^\s=/>]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_SKIPPED = frozenset(("style", "head", "title", "script"))
_VOID = frozenset(("br", "img", "meta", "link", "hr"))
_BLANK_LINES = re.compile(r"\n{3,}")
# Whitespace that needs collapsing (a run of two, or anything but a space): a lone space, by far
# the commonest, is not even matched, which keeps these substitutions cheap.
_RUNS = re.compile(r"[\t\n\r\f\v][ \t\n\r\f\v]*| [ \t\n\r\f\v]+")
_INLINE_RUNS = re.compile(r"[\t\r\f\v][ \t\r\f\v]*| [ \t\r\f\v]+")
_LINE_EDGES = re.compile(r" \n ?|\n ")


def _attributes(source: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for m in _ATTR.finditer(source):
        value = m.group(2) if m.group(2) is not None else m.group(3) if m.group(3) is not None else m.group(4)
        out.setdefault(m.group(1).lower(), html.unescape(value) if value is not None else None)
    return out


def html_to_text(markup: str) -> str:
    """Paragraphs as blank lines, list items as "- ", table headers as "label: ", links as
    "label <url>", elements marked ``data-text="skip"`` (and head, style, script) left out."""
    out: list[str] = []
    skip = 0  # depth inside skipped elements
    stack: list[str] = []  # open elements, a skipped one as "!tag"
    link: str | None = None  # the open link's address
    label: list[str] = []  # the open link's text
    for text, closing, tag, rest, lone in _TOKEN.findall(markup):
        if text or lone:
            if not skip:
                if text == "\n":
                    text = " "  # the commonest token: the line break between two tags
                elif lone:
                    text = lone
                else:
                    if "&" in text:
                        text = html.unescape(text)
                    text = _RUNS.sub(" ", text)  # ASCII only: keep the no-break spaces Babel puts in "4,90 €"
                (out if link is None else label).append(text)
            continue
        if not tag:
            continue  # comment, declaration, style, script
        tag = tag.lower()
        if not closing:
            # Only a link's href and data-text are ever read: parse attributes only for those.
            attributes = _attributes(rest) if rest and (tag == "a" or "data-text" in rest.lower()) else None
            if tag in _SKIPPED or (attributes is not None and attributes.get("data-text") == "skip"):
                skip += 1
                if tag not in _VOID:
                    stack.append("!" + tag)
            else:
                if tag not in _VOID:
                    stack.append(tag)
                if not skip:
                    if tag in _OPENING:
                        out.append(_OPENING[tag])
                    elif tag == "a":
                        link, label = attributes.get("href") if attributes else None, []
            if not rest.endswith("/"):
                continue
            # <x/>: closed at once, as html.parser does
        while stack:
            open_tag = stack.pop()
            if open_tag[0] == "!":
                skip -= 1
                open_tag = open_tag[1:]
            if open_tag == tag:
                break
        if skip:
            continue
        if tag == "a" and link is not None:
            words = _RUNS.sub(" ", "".join(label)).strip(" ")
            href, link = link, None
            if href and not href.startswith("mailto:") and href != words:
                out.append(f"{words} <{href}>" if words else href)
            else:
                out.append(words)
        elif tag in _CLOSING:
            out.append(_CLOSING[tag])
    # Each line's runs of spaces as one, no space at either end, at most one blank line in a row.
    text = _LINE_EDGES.sub("\n", _INLINE_RUNS.sub(" ", "".join(out)))
    return _BLANK_LINES.sub("\n\n", text).strip() + "\n"
