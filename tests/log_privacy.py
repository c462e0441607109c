"""A pytest plugin: no customer's personal data in any log line the suite emits.

Searched, once per test when it is torn down: everything the test's phases printed (stdout and
stderr are captured at file-descriptor level, so the app's structlog lines and the output of
subprocesses that inherit them are in it, as is pytest's own log capture), and every ``*.log`` file
left in the test's ``tmp_path`` — where a test sends the output of ``make run``, gunicorn or
workers it starts.

Searched for: the test customers' e-mail addresses (by domain), names, street addresses and
phone numbers, as the fixtures write them, collected from the test and sandbox sources at start
(a new fixture customer is covered without a list to keep up to date); JSON-escaped and
URL-encoded too, phone numbers in any spacing. A match fails the test's teardown, quoting the line.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (ROOT / "tests", ROOT / "sandbox")

_EMAIL = re.compile(r"[\w.%+{}-]+@((?:[\w-]+\.)+[a-z]{2,})\b", re.IGNORECASE)
# A person's field in a fixture: a keyword argument or a dict entry with a literal value.
_FIELD = re.compile(r"""\b(first_?name|last_?name|firstName|lastName|address1|address2|addressLine1|phone|"""
                    r"""phone_number|recipientName)["']?\s*[:=]\s*["']([^"'{}\n]+)["']""")
# "name" names products and warehouses too; beside an address it names the recipient.
_RECIPIENT = re.compile(r"""\bname["']?\s*[:=]\s*["']([^"'{}\n]+)["']""")
_ADDRESS_LINE = re.compile(r"address1|addressLine1")

# E-mail domains of the app and of merchants, not of customers.
SERVICE_DOMAINS = frozenset({"app.example", "acme.example", "mail.example", "x.example"})
# Field values that name no one: placeholders, and the warehouses' own addresses.
NOT_PERSONAL = frozenset({"firstName", "lastName", "Member", "Staff", "Suite 100", "Cicero (IL)", "5900 W Ogden Ave",
                          "17800 Perris Blvd", "Columbusweg 1", "Torstrasse 1", "Lagerstrasse 1"})
MIN_LENGTH = 5  # "Ada", "Bo", "X": too short to tell from any other word
MIN_PHONE_DIGITS = 7


def collect_personal_data(files: Iterable[Path]) -> tuple[set[str], set[str], set[str]]:
    """(customer e-mail domains, names and street addresses, phone numbers) in the sources."""
    domains, values, phones = set(), set(), set()
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            domains.update(m.group(1).lower() for m in _EMAIL.finditer(line))
            for m in _FIELD.finditer(line):
                (phones if m.group(1).startswith("phone") else values).add(m.group(2))
            if _ADDRESS_LINE.search(line):
                values.update(m.group(1) for m in _RECIPIENT.finditer(line))
    values = {v for v in values if len(v) >= MIN_LENGTH and v not in NOT_PERSONAL}
    return domains - SERVICE_DOMAINS, values, phones


_AT = re.compile(r"(?:@|%40)((?:[\w.%-]|\\u[0-9a-fA-F]{4})+)")  # the host after an @, JSON escapes included
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s./()-]*\d){6,}")  # MIN_PHONE_DIGITS or more


def _spellings(value: str) -> set[str]:
    """As written, JSON-escaped (ensure_ascii) and URL-encoded."""
    return {value, json.dumps(value)[1:-1], quote(value), quote_plus(value)}


class PersonalData:
    """Finds the collected values in text. Plain substring tests and two narrow regexes (the host
    after each @, each run of digits): one regex alternating over every value is a hundred times
    slower on log text."""

    def __init__(self, domains: Iterable[str], values: Iterable[str], phones: Iterable[str]) -> None:
        self.hosts = {spelling.lower() for domain in domains
                      for spelling in _spellings(domain) | {domain.encode("idna").decode()}}
        self.values = {spelling for value in values for spelling in _spellings(value)}
        self.phones = {digits for digits in (re.sub(r"\D", "", phone) for phone in phones)
                       if len(digits) >= MIN_PHONE_DIGITS}

    def hits(self, text: str) -> list[str]:
        found = [m.group(0) for m in _AT.finditer(text) if m.group(1).lower().rstrip(".") in self.hosts]
        found += [value for value in self.values if value in text
                  and re.search(r"(?<!\w)" + re.escape(value) + r"(?!\w)", text)]
        found += [m.group(0) for m in _DIGIT_RUN.finditer(text) if re.sub(r"\D", "", m.group(0)) in self.phones]
        return found

    def lines_with(self, texts: Iterable[str]) -> list[str]:
        """The lines of ``texts`` holding personal data, each with what it holds."""
        return [f"{hits} in: {line[:500]}" for text in texts if self.hits(text)
                for line in text.splitlines() for hits in [self.hits(line)] if hits]


@functools.cache
def personal_data() -> PersonalData:
    files = [path for root in SOURCES for path in root.rglob("*.py")]
    return PersonalData(*collect_personal_data(files))


def _log_files(item: pytest.Item) -> list[str]:
    tmp_path = getattr(item, "funcargs", {}).get("tmp_path")
    if tmp_path is None or not tmp_path.is_dir():
        return []
    return [f"{path}:\n{path.read_text(errors='replace')}" for path in sorted(tmp_path.rglob("*.log"))]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    if call.when != "teardown":
        return
    report = outcome.get_result()
    # The teardown report carries the captured output of all three phases.
    found = personal_data().lines_with([content for _title, content in report.sections] + _log_files(item))
    if not found:
        return
    message = "personal data in the logs:\n" + "\n".join(found)
    if report.passed:
        report.outcome, report.longrepr = "failed", message
    else:
        report.sections.append(("personal data in the logs", message))


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if config.getoption("capture") == "no":
        terminalreporter.write_line("log privacy: output capture is off (-s), so only the *.log files in the "
                                    "tests' tmp_path were searched for personal data", yellow=True)
