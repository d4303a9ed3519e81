"""Database engine, sessions and migrations (Alembic), for SQLite files and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class DatabaseError(Exception):
    """The database is unreachable or not migrated; the message says what to do."""


# Connections kept open per process. SQLAlchemy's default (5) is below the web inbox's concurrency:
# with eight reviewers at once every request beyond the fifth opened a new connection (for
# PostgreSQL a new server process) and closed it again. 10 kept + 10 overflow stays far below
# PostgreSQL's default max_connections (100) with the daemon, the inbox and a CLI running.
POOL_SIZE = 10


def create_db_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``. SQLite files get their folder created, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        pool: dict[str, Any] = {}
        if path and path != ":memory:":  # a file: pooled (an in-memory database keeps one per thread)
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            pool["pool_size"] = POOL_SIZE
        engine = sa.create_engine(
            url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}, **pool
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=POOL_SIZE)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


# Bound parameters per statement: SQLite allows 32,766 (250,000 in some builds) and PostgreSQL 65,535, so one large poll
# (tens of thousands of mentions in one transaction) is written in statements of at most this many.
MAX_BIND_PARAMS = 10_000


def insert_ignore(session: Session, table: sa.Table, rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL: concurrent writers of the same row both succeed.

    Large row lists go out in several statements inside the caller's transaction, so they still commit
    (or roll back) together.
    """
    if not rows:
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing(index_elements=list(keys))
    # executemany: the statement is compiled once (a multi-VALUES statement compiles one bind
    # parameter per value, which cost ~1 ms per mention), and the driver batches the rows.
    per_statement = max(1, MAX_BIND_PARAMS // max(1, len(rows[0])))
    for start in range(0, len(rows), per_statement):
        session.execute(statement, rows[start : start + per_statement])


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    cfg = _alembic_config(engine)
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"cannot reach the database at {safe_url(engine)}: {_first_line(exc)}") from exc


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def check_ready(engine: Engine) -> None:
    """Raise :class:`DatabaseError` unless the database is reachable and at the latest migration."""
    try:
        current = current_revision(engine)
    except sa.exc.OperationalError as exc:
        raise DatabaseError(f"cannot reach the database at {safe_url(engine)}: {_first_line(exc)}") from exc
    head = head_revision()
    if current != head:
        raise DatabaseError(
            f"the database at {safe_url(engine)} is at migration {current or 'none'}, expected {head}; "
            "run `social-care db upgrade`"
        )


def safe_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", exc)) or exc.__class__.__name__
    return text.strip().splitlines()[0]
