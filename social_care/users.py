"""Team members and their roles: viewer (read), agent (edit), approver (approve, reject, send), admin."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from social_care import models as m
from social_care.db import session_scope

_NAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")
_hasher = PasswordHasher()


class PermissionDenied(Exception):
    """The user does not exist, is inactive, or lacks the role for the action."""


def add_user(engine: Engine, name: str, role: m.Role | str, *, password: str | None = None,
             actor: str = "cli") -> m.User:
    """Create a user, or change the role (and password, when given) of an existing one."""
    if not _NAME_RE.match(name):
        raise ValueError("user names are 1-100 letters, digits, '_', '.', '@' or '-'")
    role = m.Role(role)
    with session_scope(engine) as session:
        user = session.exec(select(m.User).where(m.User.name == name)).first()
        created = user is None
        if user is None:
            user = m.User(name=name, role=role)
        user.role = role
        if password is not None:
            if len(password) < 8:
                raise ValueError("passwords have at least 8 characters")
            user.password_hash = _hasher.hash(password)
        session.add(user)
        session.add(m.AuditEvent(actor=actor, action="user_added" if created else "user_updated",
                                 detail={"name": name, "role": role.value, "password_set": password is not None}))
        return user


def set_active(engine: Engine, name: str, active: bool, *, actor: str = "cli") -> m.User:
    """Deactivate (or reactivate) a user: a deactivated user cannot log in or act, and keeps their history."""
    with session_scope(engine) as session:
        user = session.exec(select(m.User).where(m.User.name == name)).first()
        if user is None:
            raise ValueError(f"no user named {name!r}")
        user.active = active
        session.add(user)
        session.add(m.AuditEvent(actor=actor, action="user_activated" if active else "user_deactivated",
                                 detail={"name": name}))
        return user


def list_users(engine: Engine) -> list[m.User]:
    with session_scope(engine) as session:
        return list(session.exec(select(m.User).order_by(m.User.name)).all())


def verify_password(engine: Engine, name: str, password: str) -> m.User | None:
    with session_scope(engine) as session:
        user = session.exec(select(m.User).where(m.User.name == name)).first()
        if user is None or not user.active or not user.password_hash:
            _hasher.hash(password)  # same cost whether or not the user exists
            return None
        try:
            _hasher.verify(user.password_hash, password)
        except (VerifyMismatchError, InvalidHashError):
            return None
        return user


def require_role(session: Session, name: str, role: m.Role) -> m.User:
    user = session.exec(select(m.User).where(m.User.name == name)).first()
    if user is None:
        raise PermissionDenied(f"unknown user {name!r}; add one with `social-care users add {name} --role ...`")
    if not user.active:
        raise PermissionDenied(f"{name} is deactivated (`social-care users activate {name}` lets them back in)")
    if m.ROLE_RANK[user.role] < m.ROLE_RANK[role]:
        raise PermissionDenied(f"{name} is a {user.role.value}; this needs the {role.value} role or higher")
    return user
