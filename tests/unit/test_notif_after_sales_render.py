"""What the after-sales notices show: the warehouse's address or the label button and the
return-by date for an approved return, the refund in the customer's number format, the claim's
and the decline's wording per case. (That every kind renders in all 8 languages with nothing left
in English is test_notif_render.py's, which walks every kind and variant.)"""

from __future__ import annotations

import pytest

from integration.notices import render as rendering
from integration.notices import samples
from integration.notices.outbox import CATEGORY
from integration.notices.required_context import problems

AFTER_SALES = [k for k, c in CATEGORY.items() if c == "after_sales"]


def show(kind: str, locale: str, variant: str | None = None, **changes) -> rendering.Rendered:
    ctx = {**samples.sample_context(kind, variant), **changes}
    return rendering.render(kind, ctx, locale=locale, branding=rendering.SAMPLE_BRANDING, links=samples.SAMPLE_LINKS,
                            country="DE")


def test_every_after_sales_kind_has_previews_that_pass_its_own_checks():
    assert len(AFTER_SALES) == 9
    for kind in AFTER_SALES:
        for variant in samples.variants(kind):
            assert problems(kind, samples.sample_context(kind, variant)) == [], (kind, variant)
        assert problems(kind, {}) != []


def test_an_approved_return_shows_the_warehouse_address_and_the_return_by_date():
    out = show("return_approved", "de-DE", "address")
    lines = out.text.splitlines()
    block = lines[lines.index("Acme Returns c/o Berlin-Tegel"):][:5]
    assert block == ["Acme Returns c/o Berlin-Tegel", "Flughafenstraße 12", "Tor 4", "13405 Berlin", "Deutschland"]
    assert "Bitte senden Sie das Paket bis zum 14. Dezember 2026 ab." in out.text
    assert "Rücksendenummer RMA-DE-000311" in out.text and "Rücksendeetikett" not in out.text
    assert out.subject == "Ihre Rücksendung für Bestellung #1042 ist genehmigt"


def test_an_approved_return_with_a_label_shows_the_label_button_instead():
    out = show("return_approved", "fr", "label")
    assert 'href="https://labels.example/rma/RMA-DE-000311.pdf"' in out.html
    assert "Imprimer votre étiquette de retour" in out.text and "Flughafenstraße" not in out.text
    assert "Veuillez envoyer le colis au plus tard le 14 décembre 2026." in out.text


@pytest.mark.parametrize(("locale", "euros", "yen"), [
    ("de-DE", "49,90\xa0€", "4.990\xa0¥"), ("de-CH", "EUR\xa049.90", "¥\xa04\u2019990"),
    ("fr", "49,90\xa0€", "4\u202f990\xa0JPY"), ("en-US", "€49.90", "¥4,990"), ("ja", "€49.90", "￥4,990"),
    ("nl", "€\xa049,90", "JP¥\xa04.990"), ("es", "49,90\xa0€", "4.990\xa0JPY"), ("zh-CN", "€49.90", "JP¥4,990"),
])
def test_a_refund_is_shown_in_the_customers_number_format(locale, euros, yen):
    out = show("refund_processed", locale)
    assert euros in out.text and euros in out.subject
    # A currency without cents (Babel knows which) shows none.
    assert yen in show("refund_processed", locale, amount="4990", currency="JPY").text


def test_each_decline_reason_and_claim_case_says_its_own_thing():
    assert "Die Rückgabefrist für diese Bestellung ist abgelaufen." in show("return_declined", "de").text
    final = show("return_declined", "de", "final_sale").text
    assert "Endverkauf" in final and "Rückgabefrist" not in final
    other = show("return_declined", "de", "other")
    assert "Unser Hinweis: Opened items can only be returned within 14 days." in other.text  # the merchant's words
    headlines = {variant: show("claim_opened", "de", variant).html for variant in samples.variants("claim_opened")}
    assert "Ihr Paket ist offenbar verloren gegangen" in headlines["lost"]
    assert "Ihre Bestellung ist beschädigt angekommen" in headlines["damaged"]
    assert "In Ihrer Bestellung fehlt etwas" in headlines["missing_part"]
    settled = {variant: show("claim_settled", "de", variant).text for variant in samples.variants("claim_settled")}
    assert "Wir senden Ihnen Ersatz" in settled["reshipped"] and "erstattet" in settled["refunded"]
    assert "nicht anerkennen" in settled["rejected"]


def test_a_replacement_links_to_its_own_parcel():
    out = show("replacement_shipped", "it")
    assert 'href="https://www.dhl.com/track?tracking-id=JJD000390007795433"' in out.html
    assert out.subject == "Il prodotto sostitutivo per l'ordine #1042 è in viaggio"
    assert "DHL" in out.text and "JJD000390007795433" in out.text and "4 dicembre 2026" in out.text
