"""mention categories: one row per (mention, category), kept by triggers from classifications

The queue's category filter was a LIKE over the classification's JSON list. PostgreSQL cannot
estimate that (it guessed 42 rows of a million where 100,000 match), so it scanned every
classification and sorted: 1.0-1.2 s a page at a million mentions. Filtering through this table
(EXISTS on its primary key) gives the planner real statistics, so it walks the queue in priority
order and stops after a page, on SQLite and PostgreSQL alike.

The rows are derived from ``classifications.categories`` by triggers in the same transaction as
each insert, update and delete of a classification, so they cannot disagree with it whichever
code writes. As with 0003: SQLite drops triggers with their table, so a migration that rebuilds
``classifications`` must create them again (tests/test_mention_categories.py checks them at head).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

EVENTS = ("insert", "update", "delete")

SQLITE_TRIGGERS = [
    """CREATE TRIGGER trg_classifications_categories_insert AFTER INSERT ON classifications
    WHEN json_type(NEW.categories) = 'array' BEGIN
        INSERT OR IGNORE INTO mention_categories (mention_id, category)
        SELECT NEW.mention_id, value FROM json_each(NEW.categories) WHERE type = 'text';
    END""",
    """CREATE TRIGGER trg_classifications_categories_update AFTER UPDATE OF mention_id, categories ON classifications
    BEGIN
        DELETE FROM mention_categories WHERE mention_id = OLD.mention_id;
        INSERT OR IGNORE INTO mention_categories (mention_id, category)
        SELECT NEW.mention_id, value FROM json_each(NEW.categories)
        WHERE json_type(NEW.categories) = 'array' AND type = 'text';
    END""",
    """CREATE TRIGGER trg_classifications_categories_delete AFTER DELETE ON classifications BEGIN
        DELETE FROM mention_categories WHERE mention_id = OLD.mention_id;
    END""",
]

# Statement triggers over transition tables: a bulk insert (COPY) fills the table in one statement.
POSTGRES_FUNCTION = """CREATE FUNCTION mention_categories_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM mention_categories WHERE mention_id IN (SELECT mention_id FROM old_rows);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO mention_categories (mention_id, category)
        SELECT mention_id, category FROM new_rows, json_array_elements_text(categories) AS category
        WHERE json_typeof(categories) = 'array'
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$"""
TRANSITION = {"insert": "NEW TABLE AS new_rows", "delete": "OLD TABLE AS old_rows",
              "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}


def upgrade() -> None:
    op.create_table(
        "mention_categories",
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.PrimaryKeyConstraint("mention_id", "category"),
    )
    if op.get_bind().dialect.name != "postgresql":
        # The insert below takes SQLite's write lock until the triggers exist.
        op.execute("INSERT OR IGNORE INTO mention_categories (mention_id, category) "
                   "SELECT c.mention_id, j.value FROM classifications c, json_each(c.categories) j "
                   "WHERE json_type(c.categories) = 'array' AND j.type = 'text'")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        op.execute("ANALYZE mention_categories")
        return
    op.execute("LOCK TABLE classifications IN SHARE ROW EXCLUSIVE MODE")  # no write between backfill and triggers
    op.execute("INSERT INTO mention_categories (mention_id, category) "
               "SELECT mention_id, category FROM classifications, json_array_elements_text(categories) AS category "
               "WHERE json_typeof(categories) = 'array' ON CONFLICT DO NOTHING")
    op.execute(POSTGRES_FUNCTION)
    for event in EVENTS:
        op.execute(f"CREATE TRIGGER trg_classifications_categories_{event} AFTER {event.upper()} ON classifications "
                   f"REFERENCING {TRANSITION[event]} FOR EACH STATEMENT EXECUTE FUNCTION mention_categories_sync()")
    op.execute("ANALYZE mention_categories")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for event in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS trg_classifications_categories_{event}"
                   + (" ON classifications" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS mention_categories_sync()")
    op.drop_table("mention_categories")
