"""The contract every platform connector keeps: records, cursors, errors.

A connector knows HTTP and one platform. It never touches the database and never
imports ``social_care``. It turns platform payloads into platform-neutral records
and classifies every failure into one of the exceptions below, so the application
can decide what to do without knowing the platform.

Exceptions (all subclass :class:`ConnectorError`):

* :class:`RateLimited` - the platform said "too many requests"; ``reset_at`` says when to resume.
* :class:`TransientError` - 5xx, timeouts, connection resets: retry later with backoff.
* :class:`AuthError` - the token is expired, revoked or lacks permission: re-authenticate, do not retry.
* :class:`PermanentError` - the request itself is wrong (bad parameter, object gone): do not retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

PLATFORMS = ("x", "facebook", "instagram")


@dataclass(frozen=True)
class Author:
    """The person (or page) who wrote a mention."""

    external_id: str
    handle: str | None = None  # @username without the @, where the platform has one
    name: str | None = None  # display name
    followers: int | None = None


@dataclass(frozen=True)
class MentionRecord:
    """One mention, comment or tag, platform-neutral.

    ``reply_ref`` is opaque to the application: the connector puts in it whatever it
    needs later to post a reply (ids, kind of object), and gets it back in
    :meth:`Connector.post_reply`. It must be JSON-serialisable.
    """

    platform: str
    external_id: str
    stream: str
    text: str
    created_at: datetime  # timezone-aware, UTC
    author: Author
    reply_ref: dict[str, Any]
    parent_external_id: str | None = (
        None  # the item this one answers (tweet replied to, parent comment)
    )
    thread_external_id: str | None = (
        None  # the root of the conversation (post, media, conversation id)
    )
    permalink: str | None = None
    lang_hint: str | None = None
    is_own: bool = False  # written by the brand's own account: stored, never drafted for
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QuarantinedItem:
    """An item of a page that could not be parsed. Kept with its raw body and the reason."""

    platform: str
    stream: str
    reason: str
    raw: Any
    external_id: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """What one fetch returned. ``cursor`` is the new cursor to store *after* the records
    are committed; it is JSON-serialisable and only ever moves forward."""

    records: list[MentionRecord]
    quarantined: list[QuarantinedItem]
    cursor: dict[str, Any]
    requests_made: int = 0  # HTTP calls spent (X bills reads)


@dataclass(frozen=True)
class PostedReply:
    """A reply that exists on the platform."""

    external_id: str
    permalink: str | None = None


@dataclass(frozen=True)
class AccountInfo:
    """Who the credentials belong to, as the platform says."""

    external_id: str
    handle: str | None = None
    name: str | None = None


class ConnectorError(Exception):
    """Base of every error a connector raises."""


class RateLimited(ConnectorError):
    """The platform asked us to slow down; resume at ``reset_at`` (aware UTC datetime)."""

    def __init__(self, message: str, reset_at: datetime) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class TransientError(ConnectorError):
    """A failure that may go away by itself (5xx, timeout, connection reset)."""


class AuthError(ConnectorError):
    """The credentials are expired, revoked or lack a permission: a person must re-authenticate."""


class PermanentError(ConnectorError):
    """The request is wrong and will stay wrong (bad parameter, object deleted)."""


class BudgetExhausted(ConnectorError):
    """A configured read budget (X's daily reads) is spent; resume at ``reset_at``."""

    def __init__(self, message: str, reset_at: datetime) -> None:
        super().__init__(message)
        self.reset_at = reset_at


@runtime_checkable
class Connector(Protocol):
    """One platform account. Implementations are small classes, one per platform."""

    platform: str

    def check_credentials(self) -> AccountInfo:
        """Ask the platform who we are; raise :class:`AuthError` when the token is bad."""
        ...

    def streams(self) -> list[str]:
        """The streams this account polls (e.g. ``["mentions", "search"]``)."""
        ...

    def fetch(self, stream: str, cursor: dict[str, Any] | None) -> FetchResult:
        """Everything new on ``stream`` since ``cursor`` (``None``: first sync)."""
        ...

    def post_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply:
        """Publish ``text`` as a public reply to the mention ``reply_ref`` came from."""
        ...

    def find_reply(self, reply_ref: dict[str, Any], text: str) -> PostedReply | None:
        """Look for a reply by the brand with ``text`` under that mention (reconciliation
        after a crash between posting and recording). ``None`` when there is none."""
        ...
