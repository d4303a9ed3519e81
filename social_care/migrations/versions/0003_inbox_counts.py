"""inbox counts: drafts per state and mentions, one row each, kept exact by triggers

The inbox shows these counts on every page and polls them every 4 s. Counting them was a GROUP BY
over every draft plus a count of every mention: 150-175 ms at a million drafts on SQLite; counting
only the waiting drafts through ix_reply_drafts_state_priority still takes 50 ms when half a million
wait. Here each count is a row moved by triggers in the transaction of the insert, update or delete
that changes it, so it stays exact whichever code writes (daemon, inbox, CLI, erasure, bulk loads),
and reading the counts reads seven rows.

SQLite gets row triggers. PostgreSQL gets statement triggers over transition tables, so a bulk
insert (COPY) moves a count once per statement, not once per row; a statement locks the count rows
it moves in name order, so two transitions never wait on each other in a cycle.

SQLite drops a table's triggers with the table: a later migration that rebuilds ``reply_drafts`` or
``mentions`` (``batch_alter_table`` does on SQLite) must create them again. tests/test_inbox_counts.py
fails when they are missing at head.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATES = ("drafted", "approved", "rejected", "sending", "sent", "failed")
TRIGGERS = {"reply_drafts": ("insert", "delete", "update"), "mentions": ("insert", "delete")}

SQLITE_TRIGGERS = [
    """CREATE TRIGGER trg_reply_drafts_count_insert AFTER INSERT ON reply_drafts BEGIN
        UPDATE inbox_counts SET n = n + 1 WHERE name = NEW.state;
    END""",
    """CREATE TRIGGER trg_reply_drafts_count_delete AFTER DELETE ON reply_drafts BEGIN
        UPDATE inbox_counts SET n = n - 1 WHERE name = OLD.state;
    END""",
    """CREATE TRIGGER trg_reply_drafts_count_update AFTER UPDATE OF state ON reply_drafts
    WHEN OLD.state IS NOT NEW.state BEGIN
        UPDATE inbox_counts SET n = n - 1 WHERE name = OLD.state;
        UPDATE inbox_counts SET n = n + 1 WHERE name = NEW.state;
    END""",
    """CREATE TRIGGER trg_mentions_count_insert AFTER INSERT ON mentions BEGIN
        UPDATE inbox_counts SET n = n + 1 WHERE name = 'mentions';
    END""",
    """CREATE TRIGGER trg_mentions_count_delete AFTER DELETE ON mentions BEGIN
        UPDATE inbox_counts SET n = n - 1 WHERE name = 'mentions';
    END""",
]

# An update that leaves every state as it was (an edit, a claim) sums to nothing and locks nothing.
POSTGRES_FUNCTIONS = [
    """CREATE FUNCTION inbox_counts_reply_drafts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        moved record;
    BEGIN
        FOR moved IN EXECUTE
            'SELECT state, sum(k) AS k FROM (' || CASE TG_OP
                WHEN 'INSERT' THEN 'SELECT state, 1 AS k FROM new_rows'
                WHEN 'DELETE' THEN 'SELECT state, -1 AS k FROM old_rows'
                ELSE 'SELECT state, 1 AS k FROM new_rows UNION ALL SELECT state, -1 FROM old_rows' END
            || ') moved GROUP BY state HAVING sum(k) <> 0 ORDER BY state'
        LOOP
            UPDATE inbox_counts SET n = n + moved.k WHERE name = moved.state;
        END LOOP;
        RETURN NULL;
    END
    $$""",
    """CREATE FUNCTION inbox_counts_mentions() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        k integer;
    BEGIN
        IF TG_OP = 'INSERT' THEN
            k := (SELECT count(*) FROM new_rows);
        ELSE
            k := -(SELECT count(*) FROM old_rows);
        END IF;
        IF k <> 0 THEN  -- an insert whose rows all conflicted (ON CONFLICT DO NOTHING) adds none
            UPDATE inbox_counts SET n = n + k WHERE name = 'mentions';
        END IF;
        RETURN NULL;
    END
    $$""",
]
TRANSITION = {"insert": "NEW TABLE AS new_rows", "delete": "OLD TABLE AS old_rows",
              "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}


def upgrade() -> None:
    counts = op.create_table(
        "inbox_counts",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Writers wait until this commits, so no change falls between the counting and the triggers.
        # (On SQLite the first insert below takes the write lock for the rest of the migration.)
        op.execute("LOCK TABLE reply_drafts, mentions IN SHARE ROW EXCLUSIVE MODE")
    op.bulk_insert(counts, [{"name": name, "n": 0} for name in (*STATES, "mentions")])
    op.execute("UPDATE inbox_counts SET n = (SELECT count(*) FROM reply_drafts d WHERE d.state = inbox_counts.name) "
               "WHERE name <> 'mentions'")
    op.execute("UPDATE inbox_counts SET n = (SELECT count(*) FROM mentions) WHERE name = 'mentions'")
    if not postgres:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
        return
    for statement in POSTGRES_FUNCTIONS:
        op.execute(statement)
    for table, events in TRIGGERS.items():
        for event in events:
            op.execute(f"CREATE TRIGGER trg_{table}_count_{event} AFTER {event.upper()} ON {table} "
                       f"REFERENCING {TRANSITION[event]} FOR EACH STATEMENT EXECUTE FUNCTION inbox_counts_{table}()")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, events in TRIGGERS.items():
        for event in events:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_count_{event}" + (f" ON {table}" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS inbox_counts_reply_drafts()")
        op.execute("DROP FUNCTION IF EXISTS inbox_counts_mentions()")
    op.drop_table("inbox_counts")
