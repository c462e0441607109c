"""The Amazon application settings: optional, but whole when given."""

import json

import pytest

from integration.config import AMAZON_APP_VARIABLES, Config, ConfigError
from tests.unit.test_config import production_env

AMAZON = {
    "AMAZON_APPLICATION_ID": "amzn1.sp.solution.0000-1111",
    "AMAZON_LWA_CLIENT_ID": "amzn1.application-oa2-client.abc",
    "AMAZON_LWA_CLIENT_SECRET": "amzn1.oa2-cs.v1.very-secret",
}


def test_production_runs_without_amazon():
    cfg = Config.from_env(production_env())
    assert not cfg.amazon_enabled
    assert (cfg.amazon_application_id, cfg.amazon_lwa_client_id, cfg.amazon_lwa_client_secret) == ("", "", "")
    assert cfg.amazon_endpoint == "" and cfg.amazon_draft_app is False


def test_amazon_application_is_read_and_its_secret_kept_out_of_the_summary():
    cfg = Config.from_env(production_env(**AMAZON, AMAZON_DRAFT_APP="true"))
    assert cfg.amazon_enabled and cfg.amazon_draft_app
    assert cfg.amazon_application_id == AMAZON["AMAZON_APPLICATION_ID"]
    assert cfg.amazon_lwa_client_id == AMAZON["AMAZON_LWA_CLIENT_ID"]
    assert cfg.amazon_lwa_client_secret == AMAZON["AMAZON_LWA_CLIENT_SECRET"]
    summary = cfg.public_summary()
    assert "amazon_lwa_client_secret" not in summary and "very-secret" not in json.dumps(summary)
    assert summary["amazon_lwa_client_id"] == AMAZON["AMAZON_LWA_CLIENT_ID"]


@pytest.mark.parametrize("missing", AMAZON_APP_VARIABLES)
@pytest.mark.parametrize("mode", ["production", "development"])
def test_a_partial_amazon_application_stops_start_up_naming_the_missing_one(missing, mode, tmp_path):
    env = {**production_env(**AMAZON), "NEARSTOCK_ENV": mode, "NEARSTOCK_INSTANCE_PATH": str(tmp_path)}
    del env[missing]
    with pytest.raises(ConfigError) as err:
        Config.from_env(env)
    message = str(err.value)
    assert message.startswith(f"{missing} is required when AMAZON_") and "\n" not in message


@pytest.mark.parametrize(("name", "value"), [("AMAZON_ENDPOINT", "http://127.0.0.1:8002"),
                                             ("AMAZON_DRAFT_APP", "1")])
def test_amazon_options_without_the_application_are_refused(name, value):
    with pytest.raises(ConfigError, match=f"^{name} is set but AMAZON_APPLICATION_ID is not"):
        Config.from_env(production_env(**{name: value}))


def test_draft_app_false_alone_is_harmless():
    assert Config.from_env(production_env(AMAZON_DRAFT_APP="false")).amazon_draft_app is False


@pytest.mark.parametrize(("name", "value"), [("AMAZON_DRAFT_APP", "maybe"), ("AMAZON_ENDPOINT", "ftp://x")])
def test_invalid_amazon_values_are_refused(name, value):
    with pytest.raises(ConfigError, match=f"^{name} must be"):
        Config.from_env(production_env(**AMAZON, **{name: value}))


def test_amazon_endpoint_is_normalised(tmp_path):
    cfg = Config.from_env({"NEARSTOCK_ENV": "testing", "NEARSTOCK_INSTANCE_PATH": str(tmp_path), **AMAZON,
                           "AMAZON_ENDPOINT": " http://127.0.0.1:8002/ "})
    assert cfg.amazon_endpoint == "http://127.0.0.1:8002"
