import json

import pytest
from cryptography.fernet import Fernet

from integration.config import REQUIRED_IN_PRODUCTION, Config, ConfigError


def production_env(**overrides):
    env = {
        "NEARSTOCK_ENV": "production",
        "DATABASE_URL": "postgresql://u:pw@db/nearstock",
        "REDIS_URL": "redis://cache:6379/0",
        "SECRET_KEY": "s" * 40,
        "NEARSTOCK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "APP_URL": "https://app.nearstock.test",
        "SHOPIFY_API_KEY": "key",
        "SHOPIFY_API_SECRET": "secret",
        "SMTP_URL": "smtp://mail:25",
    }
    env.update(overrides)
    return env


@pytest.mark.parametrize("name", REQUIRED_IN_PRODUCTION)
def test_production_refuses_to_start_without_each_secret(name):
    env = production_env()
    del env[name]
    with pytest.raises(ConfigError) as err:
        Config.from_env(env)
    assert str(err.value) == f"{name} is required when NEARSTOCK_ENV=production"


def test_production_is_the_default_mode():
    with pytest.raises(ConfigError, match="DATABASE_URL is required"):
        Config.from_env({})


def test_production_config_reads_everything():
    cfg = Config.from_env(production_env(LOG_LEVEL="debug", PORT="9000"))
    assert cfg.is_production and cfg.log_json
    assert cfg.database_url == "postgresql+psycopg://u:pw@db/nearstock"
    assert cfg.log_level == "DEBUG" and cfg.port == 9000
    assert cfg.app_url == "https://app.nearstock.test"
    summary = cfg.public_summary()
    assert "pw" not in json.dumps(summary)
    assert "secret_key" not in summary and "shopify_api_secret" not in summary


def test_bad_encryption_key_names_the_variable():
    with pytest.raises(ConfigError, match="NEARSTOCK_ENCRYPTION_KEY entry 2"):
        Config.from_env(production_env(NEARSTOCK_ENCRYPTION_KEY=Fernet.generate_key().decode() + ",nope"))


def test_rotation_keys_are_kept_in_order():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    cfg = Config.from_env(production_env(NEARSTOCK_ENCRYPTION_KEY=f"{new}, {old}"))
    assert cfg.encryption_keys == (new, old)


@pytest.mark.parametrize(
    ("name", "value"), [("NEARSTOCK_ENV", "staging"), ("LOG_LEVEL", "loud"), ("PORT", "http")]
)
def test_invalid_values_are_refused(name, value):
    with pytest.raises(ConfigError, match=name):
        Config.from_env(production_env(**{name: value}))


def test_development_generates_secrets_once_and_keeps_them(tmp_path):
    env = {"NEARSTOCK_ENV": "development", "NEARSTOCK_INSTANCE_PATH": str(tmp_path)}
    first = Config.from_env(env)
    second = Config.from_env(env)
    assert first.secret_key and first.secret_key == second.secret_key
    assert first.encryption_keys == second.encryption_keys
    Fernet(first.encryption_keys[0])  # a usable key
    assert first.database_url == f"sqlite:///{tmp_path / 'nearstock.sqlite3'}"
    assert first.redis_url == "" and first.smtp_url == ""
    assert (tmp_path / "dev-secrets.json").stat().st_mode & 0o077 == 0
    assert not first.log_json


def test_app_url_is_the_one_given_whatever_the_process_port():
    # honcho gives the worker PORT=8100; the public URL stays the web's.
    cfg = Config.from_env(production_env(APP_URL="https://app.nearstock.test/", PORT="8100"))
    assert cfg.app_url == "https://app.nearstock.test"


def test_app_url_outside_production_falls_back_to_this_process_port(tmp_path):
    env = {"NEARSTOCK_ENV": "development", "NEARSTOCK_INSTANCE_PATH": str(tmp_path), "PORT": "9100"}
    assert Config.from_env(env).app_url == "http://127.0.0.1:9100"
    assert Config.from_env({**env, "APP_URL": "http://127.0.0.1:9000"}).app_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize("value", ["app.nearstock.test", "ftp://app.nearstock.test", "https://",
                                   "https://app.nearstock.test/?shop=x", "https://app.nearstock.test/#top",
                                   "https://user:pw@app.nearstock.test", "https://app.nearstock.test:99999"])
def test_malformed_app_url_is_refused(value):
    with pytest.raises(ConfigError, match="APP_URL") as err:
        Config.from_env(production_env(APP_URL=value))
    assert "pw" not in str(err.value)


def test_cron_speedup_compresses_the_schedule_outside_production(tmp_path):
    env = {"NEARSTOCK_ENV": "development", "NEARSTOCK_INSTANCE_PATH": str(tmp_path)}
    assert Config.from_env(env).cron_speedup == 1
    assert Config.from_env({**env, "NEARSTOCK_CRON_SPEEDUP": "20"}).cron_speedup == 20


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "fast", "3601"])
def test_cron_speedup_must_be_a_sane_whole_number(tmp_path, value):
    env = {"NEARSTOCK_ENV": "testing", "NEARSTOCK_INSTANCE_PATH": str(tmp_path), "NEARSTOCK_CRON_SPEEDUP": value}
    with pytest.raises(ConfigError, match="NEARSTOCK_CRON_SPEEDUP must be a whole number"):
        Config.from_env(env)


def test_production_refuses_a_compressed_schedule():
    with pytest.raises(ConfigError, match="must be 1 when NEARSTOCK_ENV=production"):
        Config.from_env(production_env(NEARSTOCK_CRON_SPEEDUP="10"))
    assert Config.from_env(production_env(NEARSTOCK_CRON_SPEEDUP="1")).cron_speedup == 1


def test_the_shopify_sandbox_names_the_demo_store_outside_production_only(tmp_path):
    value = {"shop": "nearstock-demo.myshopify.com", "admin_url": "http://127.0.0.1:9001/store/nearstock-demo",
             "storefront_url": "http://127.0.0.1:8002/"}
    env = {"NEARSTOCK_ENV": "development", "NEARSTOCK_INSTANCE_PATH": str(tmp_path)}
    assert Config.from_env(env).shopify_sandbox == {}
    assert Config.from_env({**env, "SHOPIFY_SANDBOX": json.dumps(value)}).shopify_sandbox == {
        **value, "storefront_url": "http://127.0.0.1:8002"}
    with pytest.raises(ConfigError, match=r"SHOPIFY_SANDBOX .*cannot be set when NEARSTOCK_ENV=production"):
        Config.from_env(production_env(SHOPIFY_SANDBOX=json.dumps(value)))


@pytest.mark.parametrize("value", ["[]", "{", '{"shop": "evil.com"}', '{"shop": 1}',
                                   '{"shop": "a.myshopify.com", "admin_url": "javascript:x"}',
                                   '{"shop": "a.myshopify.com", "extra": 1}'])
def test_a_malformed_shopify_sandbox_is_refused(tmp_path, value):
    env = {"NEARSTOCK_ENV": "development", "NEARSTOCK_INSTANCE_PATH": str(tmp_path), "SHOPIFY_SANDBOX": value}
    with pytest.raises(ConfigError, match="SHOPIFY_SANDBOX must be JSON"):
        Config.from_env(env)
