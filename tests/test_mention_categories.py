"""mention_categories (migration 0004): always what the classifications say, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from social_care import models as m
from social_care.app import SocialCare
from social_care.db import session_scope, upgrade

from .web.conftest import database_at, insert_draft, web_config


def stored(engine: Engine) -> set[tuple[int, str]]:
    with engine.connect() as connection:
        return {(int(i), c) for i, c in connection.execute(sa.text("SELECT mention_id, category FROM mention_categories"))}


def derived(engine: Engine) -> set[tuple[int, str]]:
    with session_scope(engine) as session:
        return {(c.mention_id, name) for c in session.exec(sa.select(m.Classification)).scalars()  # type: ignore[call-overload]
                for name in c.categories}


def test_categories_follow_inserts_updates_and_deletes(engine: Engine) -> None:
    first = insert_draft(engine, 1, intent="complaint", categories=["delivery", "refund_return"])
    insert_draft(engine, 2, intent="complaint", categories=["delivery", "delivery"])  # a repeat is stored once
    insert_draft(engine, 3)  # no categories
    assert stored(engine) == derived(engine) and len(stored(engine)) == 3
    core = SocialCare(web_config(), engine=engine)
    assert [r.id for r in core.queue(filters={"category": "refund_return"})] == [first]

    with session_scope(engine) as session:  # a reclassification replaces the rows
        cls = session.exec(sa.select(m.Classification).where(m.Classification.mention_id == 1)).scalars().one()  # type: ignore[call-overload]
        cls.categories = ["wrong_item"]
        session.add(cls)
    assert stored(engine) == derived(engine)
    assert core.queue(filters={"category": "refund_return"}) == []
    assert [r.id for r in core.queue(filters={"category": "wrong_item"})] == [first]

    with engine.begin() as connection:  # a bulk statement, then deletes
        connection.execute(sa.text("""UPDATE classifications SET categories = '["payment_billing"]' WHERE mention_id > 1"""))
        connection.execute(sa.text("DELETE FROM classifications WHERE mention_id = 3"))
    assert stored(engine) == derived(engine)
    assert {c for _, c in stored(engine)} == {"wrong_item", "payment_billing"}


def test_the_migration_fills_the_table_from_what_is_stored(db_url: str) -> None:
    with database_at(db_url, "0003") as engine:
        insert_draft(engine, 1, intent="complaint", categories=["delivery"])
        insert_draft(engine, 2)
        upgrade(engine)
        assert stored(engine) == derived(engine) == {(1, "delivery")}
        insert_draft(engine, 3, intent="complaint", categories=["customer_service"])
        assert stored(engine) == derived(engine)
