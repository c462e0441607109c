"""The plain-text part of every notice says what its HTML part shows, in every language.

Checked against an independent reader (the standard library's ``html.parser``) of the inlined
HTML the customer sees: every piece of visible text is in the text part, every link is there as
``label <address>``. One notice is also pinned word for word, so a change in the text's layout is
a decision, not an accident."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from integration.notices import plain_text, samples
from integration.notices import render as rendering
from integration.notices.outbox import KINDS, TRACKING_KINDS

SPACES = re.compile(r"[ \t\r\n\f\v]+")
HOSTILE = {"order_name": "#7 & <b>x</b> {{ y }}", "customer_name": "Zoë\n\tO'Neil &amp; Co",
           "tracking_number": "A&B<1>", "carrier_url": "https://t.example/?a=1&copy=2&b=<3>",
           "parcel_items": [{"name": "Mug &amp; <Cup>", "quantity": 1200}]}


class Visible(HTMLParser):
    """What a mail client shows: text outside head, style, script and data-text="skip" elements,
    and each link's address with its label."""

    HIDDEN = ("head", "style", "script", "title")
    VOID = ("br", "img", "meta", "link", "hr")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.texts: list[str] = []
        self.links: list[tuple[str, list[str]]] = []
        self.open_link: tuple[str, list[str]] | None = None

    def hidden(self) -> bool:
        return any(self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag not in self.VOID:
            self.stack.append(tag in self.HIDDEN or attributes.get("data-text") == "skip")
        if tag == "a" and not self.hidden() and attributes.get("href"):
            self.open_link = (attributes["href"], [])
            self.links.append(self.open_link)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()
        if tag == "a":
            self.open_link = None

    def handle_data(self, data):
        text = SPACES.sub(" ", data).strip(" ")
        if text and not self.hidden():
            self.texts.append(text)
            if self.open_link is not None:
                self.open_link[1].append(text)


def visible(html: str) -> Visible:
    reader = Visible()
    reader.feed(html)
    reader.close()
    return reader


def one_line(text: str) -> str:
    return SPACES.sub(" ", text)


def cases():
    for kind in KINDS:
        for variant in samples.variants(kind):
            for locale in rendering.SUPPORTED_LOCALES:
                yield kind, variant, locale


@pytest.mark.parametrize(("kind", "variant", "locale"), list(cases()))
@pytest.mark.parametrize("hostile", [False, True], ids=["sample", "hostile"])
def test_text_part_carries_everything_the_html_part_shows(kind, variant, locale, hostile):
    context = {**samples.sample_context(kind, variant), **(HOSTILE if hostile else {})}
    out = rendering.render(kind, context, locale=locale, branding=rendering.SAMPLE_BRANDING,
                           links=samples.SAMPLE_LINKS, country="DE")
    shown = visible(out.html)
    text = one_line(out.text)
    assert shown.texts
    for piece in shown.texts:
        assert piece in text, f"{kind}/{variant}/{locale}: {piece!r} is missing from the text part"
    for href, label in shown.links:
        words = " ".join(label)
        if href.startswith("mailto:") or href == words:
            assert words in text
        else:
            assert f"{words} <{href}>".strip() in text, f"{kind}/{variant}/{locale}: link {href!r}"
    if kind in TRACKING_KINDS:  # the order and its tracking link, in every language
        assert one_line(context["order_name"]) in text
        assert f"<{samples.SAMPLE_LINKS['tracking']}>" in text
    assert "<style" not in out.text and "display:none" not in out.text


def test_the_shipped_notice_in_german_word_for_word():
    context = {**samples.sample_context("shipped"), "order_name": "#10001"}
    out = rendering.render("shipped", context, locale="de", branding=rendering.SAMPLE_BRANDING,
                           links=samples.SAMPLE_LINKS)
    assert out.text == (
        "Acme Outdoor\n\n"
        "Ihre Bestellung ist unterwegs\n\n"
        "Hallo Ada,\n\n"
        "Gute Nachrichten: Ihre Bestellung #10001 hat unser Lager in Deutschland verlassen und ist jetzt bei DHL.\n\n"
        "Voraussichtliche Zustellung: zwischen dem 24. November 2026 und dem 26. November 2026\n\n"
        "Bestellung: #10001\n"
        "Paketdienst: DHL\n"
        "Sendungsnummer: JJD000390007795432 <https://www.dhl.com/track?tracking-id=JJD000390007795432>\n"
        "Versand aus: Berlin-Tegel, Deutschland\n\n"
        "- 2 \u00d7 Trail Mug — Blue\n"
        "- 1 \u00d7 Camp Stove\n\n"
        "Paket verfolgen <https://acme.myshopify.com/apps/nearstock/track?t=sample>\n\n"
        "Sie erhalten diese E-Mail, weil Sie bei Acme Outdoor bestellt haben.\n\n"
        "Von diesen E-Mails abmelden <https://app.example/notifications/unsubscribe/sample>\n\n"
        "Fragen? Antworten Sie einfach auf diese E-Mail.\n")


@pytest.mark.parametrize(("markup", "text"), [
    # raw <style> text, entities, self-closing <br/>
    ('<style>p > a { color: red }</style><h1>Hi &amp; welcome</h1><p>1 &lt; 2<br/>next</p>',
     "Hi & welcome\n\n1 < 2\nnext\n"),
    # skipped elements, upper-case tags, an address with an entity
    ('<div data-text="skip">preheader<p>x</p></div><p>Shown <A HREF="https://t.example/?a=1&amp;b=2">Track</A></p>',
     "Shown Track <https://t.example/?a=1&b=2>\n"),
    # mailto and bare addresses as they are, table headers, lists, comments
    ('<p><a href="mailto:s@x.example">s@x.example</a> <a href="https://x.example">https://x.example</a></p>'
     "<table><tr><th>Carrier</th><td>DHL</td></tr></table><ul><li>one</li><li>two</li></ul><!-- c -->",
     "s@x.example https://x.example\n\nCarrier: DHL\n\n- one\n- two\n"),
    # an entity for a line break or tab is a space, like any other whitespace in text
    ("<p>a&#10;b &#9;c</p>", "a b c\n"),
    # a link with no label shows its address; a link without href is its text
    ("<p>x<a href='q'>  </a>y <a>z</a></p>", "xqy z\n"),
    # ">" inside a quoted attribute is not the end of the tag; script text is never shown
    ('<p title="a > b">kept</p><SCRIPT>if (a<b) x("</p>")</script><p>end</p>', "kept\n\nend\n"),
    # a skipped element closed by its parent's end tag; an unclosed <style> hides the rest
    ("<div><p data-text=skip>gone<span>x</div><p>shown</p><style>p {}", "shown\n"),
    # no-break spaces (Babel puts them in amounts) are kept; runs of spaces are one
    ("<p>4,90\xa0€   total</p>", "4,90\xa0€ total\n"),
])
def test_plain_text_part(markup, text):
    assert plain_text.html_to_text(markup) == text
