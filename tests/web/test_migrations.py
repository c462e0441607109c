"""The migrations build exactly the models' schema, from empty, on each backend."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from integration import migrate
from integration.models import Base


def test_upgrade_from_empty_matches_models_and_downgrades(database_url):
    engine = create_engine(database_url)
    # The fixture's database is already at head: go down to empty and back up.
    migrate.downgrade(database_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(database_url)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        assert compare_metadata(ctx, Base.metadata) == []
    engine.dispose()
