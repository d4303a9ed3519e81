"""Session key, CSRF tokens and the security headers every response of the inbox carries."""

from __future__ import annotations

import hmac
import logging
import secrets

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from social_care.config import Config

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Only our own static files run; inline scripts and styles are refused, so even an escaping
# mistake in a template cannot execute a mention's markup.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]


class CsrfFailed(Exception):
    """A state-changing request came without this session's CSRF token (or with another one)."""


def session_secret(config: Config) -> str:
    """The configured signing key, or a random one (sessions then end when the process does)."""
    secret = config.settings.web.session_secret
    if secret:
        if len(secret) < 32:
            log.warning(
                "web.session_secret is shorter than 32 characters; use `python -c "
                "'import secrets; print(secrets.token_urlsafe(48))'` for a strong one"
            )
        return secret
    log.warning(
        "SOCIAL_CARE_SESSION_SECRET is not set: signing sessions with a random key, so every "
        "login ends when the web server restarts"
    )
    return secrets.token_urlsafe(48)


def csrf_token(request: Request) -> str:
    """This session's token, created on first use (the log-in page does it for visitors)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def rotate_csrf_token(request: Request) -> str:
    request.session["csrf"] = secrets.token_urlsafe(32)
    return str(request.session["csrf"])


async def check_csrf(request: Request) -> None:
    """Refuse a non-safe request unless its token (htmx header or form field) is the session's."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent: object = request.headers.get(CSRF_HEADER)
    if not sent and request.headers.get("content-type", "").startswith(_FORM_TYPES):
        sent = (await request.form()).get(CSRF_FIELD)
    if not (
        isinstance(expected, str)
        and expected
        and isinstance(sent, str)
        and hmac.compare_digest(expected.encode(), sent.encode())
    ):
        raise CsrfFailed()


class SecurityHeaders:
    """Pure ASGI middleware (no body buffering) adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in SECURITY_HEADERS if name not in present
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
