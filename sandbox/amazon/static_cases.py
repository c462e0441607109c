"""Amazon's static sandbox, played from the official models (``x-amzn-api-sandbox.static``).

Given a folder of SP-API models (Swagger 2.0) at run time -- nothing is copied into the project --
the emulator answers like ``sandbox.sellingpartnerapi-*.amazon.com``: a request whose parameters
match a case's ``request.parameters`` gets that case's ``response`` with the status it is listed
under. A parameter without ``value`` is a wildcard; among matching cases the one matching the
most values wins (``TEST_CASE_400`` beats a catch-all). No match: 400 ``InvalidInput``.
Rates and bursts come from each operation's "Usage Plan" table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

API_NAMES = {"orders_2026-01-01": "orders", "ordersV0": "ordersV0", "listingsItems_2021-08-01": "listings",
             "feeds_2021-06-30": "feeds", "fbaInventory": "fbaInventory",
             "fulfillmentOutbound_2020-07-01": "fbaOutbound", "tokens_2021-03-01": "tokens",
             "notifications": "notifications"}
METHODS = ("get", "put", "post", "delete", "patch")
_PLAN = re.compile(r"\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|")


def usage_plan(description: str) -> tuple[float, float] | None:
    """(rate, burst) from an operation description's "Usage Plan" table."""
    match = _PLAN.search(description or "")
    return (float(match.group(1)), float(match.group(2))) if match else None


@dataclass
class Case:
    status: int
    parameters: dict
    response: dict | None


@dataclass
class Route:
    key: str
    method: str
    template: str
    regex: re.Pattern
    parameters: dict[str, dict]
    plan: tuple[float, float] | None
    cases: list[Case] = field(default_factory=list)

    def location(self, name: str) -> str:
        if name == "body":
            return "body"
        return (self.parameters.get(name) or {}).get("in", "query")


def load_routes(models_dir: str | Path) -> list[Route]:
    routes = []
    for path in sorted(Path(models_dir).glob("*.json")):
        api = API_NAMES.get(path.stem, path.stem)
        model = json.loads(path.read_text(encoding="utf-8"))
        for template, item in model.get("paths", {}).items():
            shared = {p["name"]: p for p in item.get("parameters", []) if isinstance(p, dict)}
            pattern = re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$")
            for method in METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                params = {**shared, **{p["name"]: p for p in op.get("parameters", [])}}
                route = Route(f"{api}.{op['operationId']}", method.upper(), template, pattern, params,
                              usage_plan(op.get("description", "")))
                for status, response in op.get("responses", {}).items():
                    for case in (response.get("x-amzn-api-sandbox") or {}).get("static", []):
                        route.cases.append(Case(int(status), (case.get("request") or {}).get("parameters") or {},
                                                case.get("response")))
                routes.append(route)
    return routes


def _same(expected, actual: str | None, location: str) -> bool:
    if location == "query":
        if actual is None:
            return False
        if isinstance(expected, list):
            return [str(v) for v in expected] == actual.split(",")
        if isinstance(expected, bool):
            return actual == ("true" if expected else "false")
        return str(expected) == actual
    return actual is not None and str(expected) == actual


class StaticSandbox:
    def __init__(self, models_dir: str | Path) -> None:
        self.routes = load_routes(models_dir)
        if not self.routes:
            raise ValueError(f"no SP-API models in {models_dir}")

    def plans(self) -> dict[str, tuple[float, float]]:
        return {r.key: r.plan for r in self.routes if r.plan}

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method == method:
                match = route.regex.match(path)
                if match:
                    return route, {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    def answer(self, route: Route, path_params: dict[str, str], query: dict[str, list[str]],
               body) -> tuple[int, dict | None]:
        best: tuple[int, Case] | None = None
        for case in route.cases:
            score = 0
            for name, spec in case.parameters.items():
                if not isinstance(spec, dict) or "value" not in spec:
                    continue
                location = route.location(name)
                if location == "body":  # an absent body reads as {} (clients drop empty JSON bodies)
                    ok = spec["value"] == (body if body is not None else {})
                elif location == "path":
                    ok = _same(spec["value"], path_params.get(name), "path")
                else:
                    ok = _same(spec["value"], (query.get(name) or [None])[0], "query")
                if not ok:
                    break
                score += 1
            else:
                if best is None or score > best[0]:
                    best = (score, case)
        if best is None:
            return 400, {"errors": [{"code": "InvalidInput", "message": "Could not match input arguments",
                                     "details": f"No static sandbox case of {route.key} matches this request."}]}
        case = best[1]
        return case.status, case.response if case.status != 204 else None
