"""A Goodcang return through GoodcangProvider against the Goodcang emulator: submitted ->
received (收货完成) -> processed (处理完成) with graded units, the stock a sellable unit puts back,
and the refusals."""

from __future__ import annotations

import pytest

from connectors.errors import AuthError, PermanentError
from integration.domain.warehousing import Line, ReturnAddress, ReturnedLine, ReturnRequest, ReturnState
from tests.connectors.test_goodcang import SHIP, order


def shipped(provider, emulator, reference: str, *lines: tuple[str, int]) -> None:
    provider.create_outbound(order(reference, *lines))
    emulator.sim.advance(SHIP)
    assert emulator.sim.orders[reference].status == "shipped"


def drained(provider, cursor: str | None = None) -> tuple[dict, str]:
    changed, has_more = {}, True
    while has_more:
        page = provider.inventory_changes(cursor)
        changed.update({(r.warehouse_code, r.sku): r for r in page.records})
        cursor, has_more = page.next_cursor, page.has_more
    return changed, cursor


def test_return_lifecycle_with_graded_units_puts_sellable_ones_back(goodcang_provider, goodcang_emulator):
    shipped(goodcang_provider, goodcang_emulator, "RET-ORDER", ("MUG-BLUE", 3))
    rma = goodcang_provider.create_return(ReturnRequest("RMA-1", "RET-ORDER", (Line("MUG-BLUE", 3),)))
    assert rma.label_url is None  # Goodcang labels are files, not links
    assert rma.address == ReturnAddress(name="Returns USEA", address1="1200 Returns Way", city="Ontario",
                                        zip="91761", country_code="US", province="CA")
    authorized = goodcang_provider.get_return("RMA-1", rma.external_id)
    assert (authorized.state, authorized.lines) == (ReturnState.AUTHORIZED, ())
    _, cursor = drained(goodcang_provider)

    goodcang_emulator.sim.receive_return("RMA-1")
    received = goodcang_provider.get_return("RMA-1", rma.external_id)
    assert received.state is ReturnState.RECEIVED  # Goodcang counts units by grade only once processed
    assert drained(goodcang_provider, cursor)[0] == {}

    goodcang_emulator.sim.inspect_return("RMA-1", {"MUG-BLUE": ["sellable", "unsellable", "sellable"]})
    inspected = goodcang_provider.get_return("RMA-1", rma.external_id)
    assert inspected.state is ReturnState.INSPECTED
    assert inspected.lines == (ReturnedLine("MUG-BLUE", 2, "sellable", True),
                               ReturnedLine("MUG-BLUE", 1, "unsellable", False))
    changed, _ = drained(goodcang_provider, cursor)
    assert set(changed) == {("USEA", "MUG-BLUE")} and changed[("USEA", "MUG-BLUE")].on_hand == 49  # 50 - 3 + 2


def test_a_written_off_return_adds_no_stock(goodcang_provider, goodcang_emulator):
    shipped(goodcang_provider, goodcang_emulator, "RET-ORDER", ("TEE-M", 1))
    rma = goodcang_provider.create_return(ReturnRequest("RMA-2", "RET-ORDER", (Line("TEE-M", 1),)))
    _, cursor = drained(goodcang_provider)
    goodcang_emulator.sim.plan_return("RMA-2", "unsellable")
    goodcang_emulator.sim.advance(goodcang_emulator.sim.return_transit + goodcang_emulator.sim.inspect_after)
    inspected = goodcang_provider.get_return("RMA-2", rma.external_id)
    assert (inspected.state, inspected.lines) == (ReturnState.INSPECTED,
                                                  (ReturnedLine("TEE-M", 1, "unsellable", False),))
    assert drained(goodcang_provider, cursor)[0] == {}


def test_an_unknown_return_status_reads_authorized_and_is_reported(goodcang_emulator, make_goodcang_provider):
    unknown = []
    provider = make_goodcang_provider(goodcang_emulator, on_unknown=unknown.append)
    shipped(provider, goodcang_emulator, "RET-ORDER", ("MUG-BLUE", 1))
    rma = provider.create_return(ReturnRequest("RMA-3", "RET-ORDER", (Line("MUG-BLUE", 1),)))
    goodcang_emulator.sim.inspect_return("RMA-3")
    goodcang_emulator.return_status_override["RMA-3"] = 9  # a status Goodcang's doc does not list
    status = provider.get_return("RMA-3", rma.external_id)
    assert (status.state, status.lines) == (ReturnState.AUTHORIZED, ())
    assert [(u.field, u.value) for u in unknown] == [("return.asro_status", "9")]


def test_returns_are_refused_with_bad_credentials_an_unknown_rma_or_another_accounts(
        goodcang_provider, goodcang_emulator, make_goodcang_emulator, make_goodcang_provider):
    shipped(goodcang_provider, goodcang_emulator, "RET-ORDER", ("MUG-BLUE", 1))
    rma = goodcang_provider.create_return(ReturnRequest("RMA-4", "RET-ORDER", (Line("MUG-BLUE", 1),)))
    forged = make_goodcang_provider(goodcang_emulator, credentials={"app_key": "gc-test-app-key",
                                                                   "app_token": "forged"})
    with pytest.raises(AuthError):
        forged.get_return("RMA-4", rma.external_id)
    with pytest.raises(PermanentError) as unknown:
        goodcang_provider.get_return("RMA-4", "RG1149-000000-0000")
    assert unknown.value.code == "not_found"
    with pytest.raises(PermanentError):
        goodcang_provider.get_return("RMA-OTHER", rma.external_id)
    other = make_goodcang_emulator()  # another account, whose numbers look like ours
    other_provider = make_goodcang_provider(other)
    shipped(other_provider, other, "THEIRS", ("MUG-BLUE", 1))
    theirs = other_provider.create_return(ReturnRequest("RMA-THEIRS", "THEIRS", (Line("MUG-BLUE", 1),)))
    with pytest.raises(PermanentError):
        goodcang_provider.get_return("RMA-THEIRS", theirs.external_id)
