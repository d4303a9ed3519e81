"""queue order index: reply_drafts (priority DESC, id)

The queue page orders every draft by priority; at a million drafts SQLite sorted them all (5.3 s a
page). With this index the plan walks it in order (13-47 ms measured by bench/bench_inbox.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reply_drafts_priority_id", "reply_drafts", [sa.text("priority DESC"), "id"])


def downgrade() -> None:
    op.drop_index("ix_reply_drafts_priority_id", table_name="reply_drafts")
