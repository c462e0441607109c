"""Return rules and the local warehouse of a return (integration.domain.returns)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integration.domain.returns import (
    APPROVE,
    DECLINE,
    DECLINE_FINAL_SALE,
    DECLINE_OTHER,
    DECLINE_PERIOD_ENDED,
    WAIT,
    RequestedLine,
    ReturnRules,
    ReturnSite,
    choose_return_warehouse,
    decide,
    market_region,
    reason_code,
    rma_reference,
)

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
LINES = [RequestedLine("MUG", 1, "SIZE_TOO_SMALL")]


def test_inside_the_window_an_auto_approving_shop_approves_and_another_waits_for_the_merchant():
    delivered = NOW - timedelta(days=10)
    assert decide(LINES, ReturnRules(auto_approve=True), delivered_at=delivered, now=NOW).outcome == APPROVE
    assert decide(LINES, ReturnRules(), delivered_at=delivered, now=NOW).outcome == WAIT


def test_a_priority_member_is_approved_without_the_merchant_but_not_past_the_policy():
    delivered = NOW - timedelta(days=10)
    assert decide(LINES, ReturnRules(), delivered_at=delivered, now=NOW, priority=True).outcome == APPROVE
    late = decide(LINES, ReturnRules(window_days=5), delivered_at=delivered, now=NOW, priority=True)
    assert (late.outcome, late.decline_reason) == (DECLINE, DECLINE_PERIOD_ENDED)


def test_declines_name_shopifys_reason_the_window_final_sale_and_refused_reasons():
    delivered = NOW - timedelta(days=31)
    assert decide(LINES, ReturnRules(window_days=30, auto_approve=True), delivered_at=delivered,
                  now=NOW).decline_reason == DECLINE_PERIOD_ENDED
    final = decide(LINES, ReturnRules(non_returnable_skus=frozenset({"MUG"}), auto_approve=True),
                   delivered_at=NOW, now=NOW)
    assert (final.outcome, final.decline_reason, final.note) == (DECLINE, DECLINE_FINAL_SALE, "not returnable: MUG")
    refused = decide([RequestedLine("MUG", 1, None)], ReturnRules(accepted_reasons=frozenset({"DEFECTIVE"})),
                     delivered_at=NOW, now=NOW)
    assert (refused.outcome, refused.decline_reason) == (DECLINE, DECLINE_OTHER)
    assert "UNKNOWN" in refused.note
    accepted = decide([RequestedLine("MUG", 1, "DEFECTIVE")], ReturnRules(accepted_reasons=frozenset({"DEFECTIVE"})),
                      delivered_at=NOW, now=NOW)
    assert accepted.outcome == WAIT


def test_a_return_goes_to_the_warehouse_of_the_customers_country_then_region_then_the_shipper():
    us = ReturnSite(1, "US", "NA")
    de = ReturnSite(2, "DE", "EU")
    fr = ReturnSite(3, "FR", None, priority=50)
    assert choose_return_warehouse([us, de, fr], "DE", shipped_from=1) == 2
    assert choose_return_warehouse([us, de, fr], "at", shipped_from=1) == 3  # EU by country; priority first
    assert choose_return_warehouse([us, de], "CA", shipped_from=2) == 1  # North America
    assert choose_return_warehouse([us, de], "JP", shipped_from=2) == 2  # none local: the shipper
    assert choose_return_warehouse([ReturnSite(2, "DE", accepts_returns=False), us], "DE", shipped_from=1) == 1


def test_regions_and_references():
    assert (market_region("de"), market_region("US"), market_region("JP"), market_region(None)) == ("EU", "NA", None,
                                                                                                  None)
    assert rma_reference(42) == "NSR00000042"


def test_shopifys_reason_handles_and_legacy_values_read_as_one_reason():
    assert reason_code("size-too-small") == reason_code("SIZE_TOO_SMALL") == "SIZE_TOO_SMALL"
    assert reason_code("defective") == "DEFECTIVE"
    assert reason_code("arrived-too-late") == "OTHER"  # a reason the shop defined itself
    assert reason_code(None) == reason_code("") == "UNKNOWN"
