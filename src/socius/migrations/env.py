"""Alembic environment: migrations run on a plain psycopg connection, one process at a time."""

from alembic import context
from sqlalchemy import create_engine, pool, text

from socius.models import Base

config = context.config
target_metadata = Base.metadata
MIGRATION_LOCK = 7_205_519  # advisory lock: several processes starting at once migrate one after another


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _ours(name, type_, parent_names) -> bool:
    """The job queue's tables belong to procrastinate, not to our models."""
    return not (type_ == "table" and name and name.startswith("procrastinate_"))


def _run(connection) -> None:
    context.configure(
        connection=connection, target_metadata=target_metadata, compare_type=True, include_name=_ours
    )
    with context.begin_transaction():
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        context.run_migrations()


run_migrations_online()
