"""A WINIT RMA through WinitProvider against the WINIT emulator: authorized -> received ->
inspected (graded), the stock a sellable unit puts back, and the refusals."""

from __future__ import annotations

import pytest

from connectors.errors import AuthError, PermanentError
from integration.domain.warehousing import Line, ReturnAddress, ReturnedLine, ReturnRequest, ReturnState
from sandbox.warehouses.winit import WinitEmulator
from tests.connectors.test_winit import order
from tests.winit_fixtures import WINIT_PLATFORM, WINIT_TOKEN, winit_credentials, winit_provider_for


def shipped(provider, emulator, reference: str, *lines: tuple[str, int]) -> None:
    provider.create_outbound(order(reference, *lines))
    emulator.sim.advance(2 * 3600)  # picked and shipped
    assert emulator.sim.orders[reference].status == "shipped"


def drained(provider, cursor: str | None = None) -> tuple[list, str]:
    page = provider.inventory_changes(cursor)
    records = list(page.records)
    while page.has_more:
        page = provider.inventory_changes(page.next_cursor)
        records += page.records
    return records, page.next_cursor


def test_rma_lifecycle_with_a_graded_inspection_puts_sellable_units_back(winit_provider, winit_emulator):
    shipped(winit_provider, winit_emulator, "RET-ORD", ("MUG-BLUE", 2))
    rma = winit_provider.create_return(ReturnRequest("RMA-1", "RET-ORD", (Line("MUG-BLUE", 2),)))
    # No label at WINIT: the customer sends the parcel to the warehouse's published address.
    assert rma.label_url is None
    assert rma.address == ReturnAddress(name="DEWH Warehouse", address1="Retourenweg 12", city="Hamburg",
                                        zip="21079", country_code="DE")
    authorized = winit_provider.get_return("RMA-1", rma.external_id)
    assert (authorized.state, authorized.lines) == (ReturnState.AUTHORIZED, ())
    _, cursor = drained(winit_provider)

    winit_emulator.sim.receive_return("RMA-1")
    received = winit_provider.get_return("RMA-1", rma.external_id)
    assert received.state is ReturnState.RECEIVED
    assert received.lines == (ReturnedLine("MUG-BLUE", 2),)  # in, not graded yet
    assert drained(winit_provider, cursor)[0] == []  # nothing is stock before the inspection

    winit_emulator.sim.inspect_return("RMA-1", {"MUG-BLUE": ["sellable", "unsellable"]})
    inspected = winit_provider.get_return("RMA-1", rma.external_id)
    assert inspected.state is ReturnState.INSPECTED
    assert inspected.lines == (ReturnedLine("MUG-BLUE", 1, "GOOD", True),
                               ReturnedLine("MUG-BLUE", 1, "DEFECTIVE", False))
    records, _ = drained(winit_provider, cursor)
    assert [(r.warehouse_code, r.sku, r.on_hand) for r in records] == [("DEWH", "MUG-BLUE", 99)]  # 100 - 2 + 1
    assert winit_emulator.sim.written_off == {("DEWH", "MUG-BLUE"): 1}


def test_a_written_off_return_moves_on_the_clock_and_adds_no_stock(winit_provider, winit_emulator):
    shipped(winit_provider, winit_emulator, "RET-ORD", ("MUG-RED", 1))
    winit_emulator.sim.plan_return("RMA-2", "unsellable")
    rma = winit_provider.create_return(ReturnRequest("RMA-2", "RET-ORD", (Line("MUG-RED", 1),)))
    _, cursor = drained(winit_provider)
    winit_emulator.sim.advance(winit_emulator.sim.return_transit)
    assert winit_provider.get_return("RMA-2", rma.external_id).state is ReturnState.RECEIVED
    winit_emulator.sim.advance(winit_emulator.sim.inspect_after)
    inspected = winit_provider.get_return("RMA-2", rma.external_id)
    assert (inspected.state, inspected.lines) == (ReturnState.INSPECTED,
                                                  (ReturnedLine("MUG-RED", 1, "DEFECTIVE", False),))
    assert [r.sku for r in drained(winit_provider, cursor)[0]] == []


def test_an_unknown_return_status_reads_authorized_and_is_reported(winit_emulator, redis_conn):
    unknown = []
    provider = winit_provider_for(winit_emulator, redis_conn, on_unknown=unknown.append)
    shipped(provider, winit_emulator, "RET-ORD", ("MUG-BLUE", 1))
    rma = provider.create_return(ReturnRequest("RMA-3", "RET-ORD", (Line("MUG-BLUE", 1),)))
    winit_emulator.sim.inspect_return("RMA-3")
    winit_emulator.actions.return_status_override["RMA-3"] = "QC"  # a code our table does not know
    status = provider.get_return("RMA-3", rma.external_id)
    assert (status.state, status.lines) == (ReturnState.AUTHORIZED, ())  # nothing counted as received early
    assert [(u.field, u.value) for u in unknown] == [("return.status", "QC")]


def test_returns_are_refused_with_a_bad_signature_an_unknown_rma_or_another_accounts(
        winit_provider, winit_emulator, redis_conn):
    shipped(winit_provider, winit_emulator, "RET-ORD", ("MUG-BLUE", 1))
    rma = winit_provider.create_return(ReturnRequest("RMA-4", "RET-ORD", (Line("MUG-BLUE", 1),)))
    forged = winit_provider_for(winit_emulator, redis_conn, credentials=winit_credentials(token="0" * 32))
    with pytest.raises(AuthError):
        forged.get_return("RMA-4", rma.external_id)
    with pytest.raises(PermanentError) as unknown:
        winit_provider.get_return("RMA-4", "RMA999999")
    assert unknown.value.code == "not_found"
    with pytest.raises(PermanentError):  # that number is not this reference's RMA
        winit_provider.get_return("RMA-OTHER", rma.external_id)
    other = WinitEmulator("other@example.com", WINIT_TOKEN, platform=WINIT_PLATFORM, seed=9).start()
    try:
        other.sim.add_sku("MUG-BLUE")
        other.sim.set_stock("DEWH", "MUG-BLUE", 5)
        other.sim.create_order("THEIRS", "DEWH", [("MUG-BLUE", 1)], {})
        theirs = other.sim.create_return("RMA-THEIRS", "THEIRS", [("MUG-BLUE", 1)])
        with pytest.raises(PermanentError):  # another account's RMA is not ours to read
            winit_provider.get_return("RMA-THEIRS", theirs.external_id)
    finally:
        other.stop()


def test_an_address_line_without_the_published_layout_gives_no_address(winit_emulator, redis_conn):
    unknown = []
    provider = winit_provider_for(winit_emulator, redis_conn, on_unknown=unknown.append)
    winit_emulator.sim.return_addresses["DEWH"] = {"address1": "Am Airport 3", "city": "Frankfurt", "zip": "",
                                                   "country_code": "DE"}
    shipped(provider, winit_emulator, "RET-ORD", ("MUG-BLUE", 1))
    rma = provider.create_return(ReturnRequest("RMA-5", "RET-ORD", (Line("MUG-BLUE", 1),)))
    assert rma.address is None and rma.external_id
    assert [(u.field, u.value) for u in unknown] == [("warehouse.warehouseAddress", "unrecognised layout")]
