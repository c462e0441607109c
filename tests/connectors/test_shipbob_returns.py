"""A ShipBob return through ShipBobProvider against the ShipBob emulator: AwaitingArrival ->
Processing -> Completed with Restock / Dispose actions, the return.* webhooks, the stock a
restocked unit puts back, and the refusals."""

from __future__ import annotations

import pytest

from connectors.errors import AuthError, PermanentError
from integration.domain.warehousing import Line, ReturnAddress, ReturnedLine, ReturnRequest, ReturnState
from tests.connectors.test_shipbob import HOUR, VENLO, outbound, receiver, stocked  # noqa: F401 - fixtures
from tests.shipbob_fixtures import SHIPBOB_CHANNEL, SHIPBOB_TOKEN


def drained(provider, cursor: str | None = None) -> tuple[dict, str]:
    """One full pass of inventory_changes: what changed since the last pass, and the cursor."""
    changed, has_more = {}, True
    while has_more:
        page = provider.inventory_changes(cursor)
        changed.update({(r.warehouse_code, r.sku): r for r in page.records})
        cursor, has_more = page.next_cursor, page.has_more
    return changed, cursor


def shipped_return(emulator, provider, reference: str, quantity: int = 2):
    provider.create_outbound(outbound(f"SO-{reference}", quantity=quantity))
    emulator.advance(40 * HOUR)
    return provider.create_return(ReturnRequest(reference, f"SO-{reference}", (Line("TEE-BLK-M", quantity),)))


def test_return_lifecycle_restocks_and_disposes(shipbob_emulator, stocked):  # noqa: F811
    rma = shipped_return(shipbob_emulator, stocked, "RMA-1")
    assert rma.label_url is None  # no label bought: the customer ships to the fulfillment center
    assert rma.address == ReturnAddress(name="Venlo (NL)", address1="Columbusweg 1", city="Venlo", zip="5928",
                                        country_code="NL", province="LI")
    authorized = stocked.get_return("RMA-1", rma.external_id)
    assert (authorized.state, authorized.lines) == (ReturnState.AUTHORIZED, ())
    _, cursor = drained(stocked)
    _, cursor = drained(stocked, cursor)

    shipbob_emulator.sim.receive_return("RMA-1")  # the merchant's reference finds ShipBob's return
    assert stocked.get_return("RMA-1", rma.external_id).state is ReturnState.RECEIVED
    shipbob_emulator.sim.inspect_return("RMA-1", {"TEE-BLK-M": ["unsellable", "sellable"]})
    inspected = stocked.get_return("RMA-1", rma.external_id)
    assert inspected.state is ReturnState.INSPECTED and inspected.updated_at is not None
    assert inspected.lines == (ReturnedLine("TEE-BLK-M", 1, "Restock", True),
                               ReturnedLine("TEE-BLK-M", 1, "Dispose", False))
    changed, _ = drained(stocked, cursor)
    assert changed[(VENLO, "TEE-BLK-M")].on_hand == 19  # 20 - 2 shipped + 1 restocked


def test_a_disposed_return_adds_no_stock(shipbob_emulator, stocked):  # noqa: F811
    rma = shipped_return(shipbob_emulator, stocked, "RMA-2", quantity=1)
    _, cursor = drained(stocked)
    _, cursor = drained(stocked, cursor)
    shipbob_emulator.sim.plan_return("RMA-2", "unsellable")
    shipbob_emulator.advance(shipbob_emulator.sim.return_transit + shipbob_emulator.sim.inspect_after)
    inspected = stocked.get_return("RMA-2", rma.external_id)
    assert inspected.lines == (ReturnedLine("TEE-BLK-M", 1, "Dispose", False),)
    assert drained(stocked, cursor)[0] == {}


def test_return_webhooks_carry_our_reference_and_the_state(make_shipbob_emulator, make_shipbob_provider,
                                                          receiver):  # noqa: F811
    inbox = receiver()
    emulator = make_shipbob_emulator(app_webhook_url=inbox.url)
    provider = make_shipbob_provider(emulator)
    emulator.set_stock(int(VENLO), "TEE-BLK-M", 5)
    rma = shipped_return(emulator, provider, "RMA-W", quantity=1)
    emulator.sim.inspect_return("RMA-W")
    assert emulator.flush_webhooks(10)
    returns = [(h, b) for h, b in inbox.requests if h.get("x-webhook-topic", "").startswith("return.")]
    events = [provider.parse_webhook(h, b) for h, b in returns]
    assert [(e.extra["topic"], e.returned.state) for e in events] == [
        ("return.created", ReturnState.AUTHORIZED), ("return.updated", ReturnState.RECEIVED),
        ("return.completed", ReturnState.INSPECTED)]
    assert all(e.kind == "return" and e.reference == "RMA-W" and e.returned.external_id == rma.external_id
               and e.returned.lines == () for e in events)  # the job reads the graded lines with get_return
    headers, body = returns[-1]
    with pytest.raises(PermanentError, match="signature"):
        provider.parse_webhook(headers, body.replace(b"RMA-W", b"RMA-X"))


def test_an_unknown_return_status_reads_authorized_and_is_reported(shipbob_emulator, make_shipbob_provider,
                                                                  stocked):  # noqa: F811
    unknown = []
    provider = make_shipbob_provider(shipbob_emulator, on_unknown=unknown.append)
    rma = shipped_return(shipbob_emulator, stocked, "RMA-3")
    shipbob_emulator.sim.inspect_return("RMA-3")
    shipbob_emulator.return_status_override[int(rma.external_id)] = "Quarantined"
    status = provider.get_return("RMA-3", rma.external_id)
    assert (status.state, status.lines) == (ReturnState.AUTHORIZED, ())
    assert [(u.field, u.value) for u in unknown] == [("return.status", "Quarantined")]


def test_returns_are_refused_with_a_bad_token_an_unknown_rma_or_another_channels(
        shipbob_emulator, make_shipbob_provider, stocked):  # noqa: F811
    rma = shipped_return(shipbob_emulator, stocked, "RMA-4")
    forged = make_shipbob_provider(shipbob_emulator, credentials={"token": "pat-forged"})
    with pytest.raises(AuthError):
        forged.get_return("RMA-4", rma.external_id)
    for reference, external_id in (("RMA-4", "999999"), ("RMA-4", "../order"), ("RMA-OTHER", rma.external_id)):
        with pytest.raises(PermanentError) as refused:
            stocked.get_return(reference, external_id)
        assert refused.value.code == "not_found"
    other_channel = make_shipbob_provider(shipbob_emulator, credentials={"token": SHIPBOB_TOKEN,
                                                                         "channel_id": str(SHIPBOB_CHANNEL + 1)})
    with pytest.raises(PermanentError) as refused:  # the id exists, but under another channel
        other_channel.get_return("RMA-4", rma.external_id)
    assert refused.value.code == "not_found"
