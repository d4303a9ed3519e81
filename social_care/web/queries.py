"""Read-only lookups for the inbox: the logged-in user and their password stamp.

Every write goes through the core (:mod:`social_care.app`, :mod:`social_care.replies`,
:mod:`social_care.users`); this module only reads.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import select

from social_care import models as m
from social_care.db import session_scope


@dataclass(frozen=True)
class WebUser:
    """The logged-in person, read from the database on every request (role changes apply now)."""

    name: str
    role: m.Role
    stamp: str  # changes when the password does, which ends the sessions opened with the old one

    def can(self, role: m.Role | str) -> bool:
        return m.ROLE_RANK[self.role] >= m.ROLE_RANK[m.Role(role)]


def password_stamp(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def load_user(engine: Engine, name: str) -> WebUser | None:
    """The active user called ``name``, or None."""
    with session_scope(engine) as session:
        user = session.exec(select(m.User).where(m.User.name == name)).first()
        if user is None or not user.active or not user.password_hash:
            return None
        return WebUser(user.name, m.Role(user.role), password_stamp(user.password_hash))
