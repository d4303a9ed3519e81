"""Learning from the team: replies people approved before, offered as alternatives for a new draft.

A past reply is a candidate when it was approved (or sent) for a mention of the same intent, main
category and language; candidates are ranked by how alike the two mentions read (word overlap
with a character-level tie-break), and the team's own edits come first among equals, since an
edited-and-approved text is what the team wanted to say.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from social_care import models as m
from social_care.db import session_scope

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_CANDIDATES = 500


@dataclass(frozen=True)
class Alternative:
    draft_id: int
    text: str
    mention_text: str
    similarity: float
    edited: bool


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and not w.startswith("http")}


def similarity(a: str, b: str) -> float:
    """0..1: word overlap (Jaccard), nudged by character-level likeness for short texts."""
    wa, wb = _words(a), _words(b)
    jaccard = len(wa & wb) / len(wa | wb) if wa and wb else 0.0
    chars = difflib.SequenceMatcher(None, a.lower()[:300], b.lower()[:300]).ratio()
    return round(0.8 * jaccard + 0.2 * chars, 4)


def edit_diff(before: str, after: str) -> str:
    """A compact word-level diff of an approver's edit: [-removed-] {+added+}."""
    a, b = before.split(), after.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if op == "equal":
            out.append(" ".join(a[i1:i2]))
            continue
        if i2 > i1:
            out.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(part for part in out if part)


def alternatives(engine: Engine, draft_id: int, *, limit: int = 3) -> list[Alternative]:
    """Past approved replies for mentions like this draft's, best first."""
    with session_scope(engine) as session:
        draft = session.get(m.ReplyDraft, draft_id)
        if draft is None:
            return []
        mention = session.get(m.Mention, draft.mention_id)
        cls = session.exec(select(m.Classification).where(m.Classification.mention_id == draft.mention_id)).first()
        if mention is None or cls is None:
            return []
        main = cls.categories[0] if cls.categories else None
        d, mt, c = m.ReplyDraft, m.Mention, m.Classification
        query = (
            select(d.id, d.text, d.original_text, mt.text, c.categories)
            .join(mt, mt.id == d.mention_id)  # type: ignore[arg-type]
            .join(c, c.mention_id == mt.id)  # type: ignore[arg-type]
            .where(d.state.in_([m.ReplyState.APPROVED, m.ReplyState.SENDING, m.ReplyState.SENT]),  # type: ignore[attr-defined]
                   d.id != draft_id, c.intent == cls.intent, c.language == cls.language,
                   mt.platform == mention.platform)
            .order_by(d.id.desc())  # type: ignore[attr-defined]
            .limit(MAX_CANDIDATES)
        )
        if main:
            query = query.where(sa.cast(c.categories, sa.String).like(f'%"{main}"%'))
        rows = session.exec(query).all()
    found = [
        Alternative(draft_id=row_id, text=text, mention_text=mention_text,
                    similarity=similarity(mention.text, mention_text), edited=text != original)
        for row_id, text, original, mention_text, categories in rows
        if (categories[0] if categories else None) == main and text != draft.text
    ]
    found.sort(key=lambda alt: (alt.similarity, alt.edited, alt.draft_id), reverse=True)
    unique: list[Alternative] = []
    for alt in found:
        if all(alt.text != u.text for u in unique):
            unique.append(alt)
        if len(unique) == limit:
            break
    return unique
