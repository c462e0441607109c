"""The log privacy plugin (tests/log_privacy.py): what it collects from the fixtures, what it finds
in log text, and that a test whose output or process log holds personal data fails."""

from __future__ import annotations

from tests.log_privacy import ROOT, PersonalData, collect_personal_data


def test_collects_customers_from_fixture_sources(tmp_path):
    source = tmp_path / "fixtures.py"
    source.write_text(
        'BERLIN = Address(name="Erika Mustermann", address1="Hauptstraße 5", city="Berlin", phone="+49 30 1234567")\n'
        'order = make_order(shop, "o-1", email=f"c{i}@example.com")\n'
        'shop.email = "owner@acme.example"\n'
        'warehouse = make_warehouse(shop, account, "DEWH", "DE", name="Berlin Lager")\n'
        'customer = {"first_name": "Ada", "last_name": "Lovelace"}\n', encoding="utf-8")
    domains, values, phones = collect_personal_data([source])
    assert domains == {"example.com"}  # the merchant's acme.example is not a customer's
    assert values == {"Erika Mustermann", "Hauptstraße 5", "Lovelace"}  # "Ada": too short to tell from a word
    assert phones == {"+49 30 1234567"}


def test_finds_every_spelling_in_log_text():
    data = PersonalData({"example.com", "exämple.de"}, {"Erika Mustermann", "Hauptstraße 5"}, {"+49 30 1234567"})
    found = ['to=ADA@Example.COM', "GET /track?order=1&email=ada%40example.com HTTP/1.1", '"to": "x@ex\\u00e4mple.de"',
             'name=Erika+Mustermann', '{"address1": "Hauptstra\\u00dfe 5"}', "phone='+49301234567'",
             "tel: +49 (30) 123-4567"]
    assert all(data.hits(text) for text in found), [text for text in found if not data.hits(text)]
    clean = ["from owner@acme.example", "Erika Mustermannová", "order 4930123456789", "ada@example.community"]
    assert [text for text in clean if data.hits(text)] == []


def test_a_test_leaking_personal_data_fails_at_teardown(pytester, monkeypatch, capsys):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest("pytest_plugins = ['tests.log_privacy']")
    pytester.makepyfile(test_leaks="""
        import logging, sys

        def test_prints(): print("sent to ada@example.com")
        def test_logs(): logging.getLogger("x").warning("shipping to Erika Mustermann")
        def test_process_log(tmp_path): (tmp_path / "web.log").write_text("GET /track?email=ada%40example.com")
        def test_clean(tmp_path):
            print("sent by owner@acme.example")
            (tmp_path / "web.log").write_text("GET /healthz 200")
    """)
    # Its own process: what the inner tests log must not reach this test's captured output.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    capsys.readouterr()  # pytester echoes the inner output; it is the inner tests' leak, not this test's
    result.assert_outcomes(passed=4, errors=3)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_prints*", "*'@example.com'] in: sent to ada@example.com",
                                 "*ERROR at teardown of test_logs*", "*ERROR at teardown of test_process_log*"])
