"""Each warehouse's after-sales figures over a period, week by week: average rating per dimension
and NPS (:func:`.scorecard.scorecard`) beside the promise-kept rate (:func:`.promises.kept_rate`,
whose warehouse x carrier groups are added up per warehouse here).

The period is a range of whole UTC days, ``since`` to ``until`` inclusive. Answers count in the
week of their first tap, parcels in the week of their promised day (as the two readers do).
"""

from __future__ import annotations

from datetime import date

from integration.feedback import promises, scorecard, scores

MAX_DAYS = 366


def _figures(tally: dict, kept: scores.Kept) -> dict:
    return {"answers": tally["answers"], "averages": tally["averages"], "nps": tally["nps"], "kept": kept.as_dict()}


def _empty_tally() -> dict:
    return scores.Tally().as_dict()


def warehouse_trends(shop_id: int, since: date, until: date) -> dict:
    """``weeks`` (Mondays), ``overall`` and ``warehouses`` (id, name), each with its totals and
    one entry per week: ``answers``, ``averages`` per dimension, ``nps``, ``kept`` (due, kept, rate)."""
    scores.check_span(since, until, MAX_DAYS)
    card = scorecard.scorecard(shop_id, (until - since).days + 1, now=scores.day_bounds(since, until)[1])
    rate = promises.kept_rate(shop_id, (until - since).days, today=until)
    weeks = rate["weeks"]  # Monday of since's week .. until's week (the scorecard's may run one further)
    card_index = {week: i for i, week in enumerate(card["weeks"])}

    def card_weeks(series: list[dict]) -> list[dict]:
        return [series[card_index[w]] if w in card_index else _empty_tally() for w in weeks]

    kept_total: dict[int | None, scores.Kept] = {}
    kept_weeks: dict[int | None, list[scores.Kept]] = {}
    names: dict[int | None, str | None] = {}
    for group in rate["groups"]:
        wid = group["warehouse_id"]
        names.setdefault(wid, group["warehouse"])
        kept_total.setdefault(wid, scores.Kept()).add(group["due"], group["kept"])
        series = kept_weeks.setdefault(wid, [scores.Kept() for _ in weeks])
        for tally, week in zip(series, group["weeks"], strict=True):
            tally.add(week["due"], week["kept"])
    cards = {w["id"]: w for w in card["warehouses"]}
    for wid, entry in cards.items():
        names[wid] = entry["name"]

    def kept_of(raw: dict) -> scores.Kept:
        return scores.Kept(raw["due"], raw["kept"])

    warehouses = []
    for wid in sorted(names, key=lambda w: (w is None, names[w] or "", w or 0)):
        entry = cards.get(wid)
        totals = entry if entry is not None else _empty_tally()
        weekly = card_weeks(entry["weeks"]) if entry is not None else [_empty_tally() for _ in weeks]
        kept = kept_weeks.get(wid) or [scores.Kept() for _ in weeks]
        warehouses.append({"id": wid, "name": names[wid], **_figures(totals, kept_total.get(wid, scores.Kept())),
                           "weeks": [_figures(t, k) for t, k in zip(weekly, kept, strict=True)]})
    overall_weeks = [_figures(t, kept_of(k)) for t, k in
                     zip(card_weeks(card["overall_weeks"]), rate["overall_weeks"], strict=True)]
    return {"from": since.isoformat(), "to": until.isoformat(), "weeks": weeks,
            "overall": {**_figures(card["overall"], kept_of(rate["overall"])), "weeks": overall_weeks},
            "warehouses": warehouses}
