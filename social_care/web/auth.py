"""Who is asking: the session's user, role checks, and the log-in and log-out routes.

Sessions are signed cookies (Starlette's SessionMiddleware: HttpOnly, SameSite=Lax). The cookie
holds only the user name, a stamp of the password hash and the CSRF token; the user and role are
read from the database on every request, so a role change or deactivation applies at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from social_care import models as m
from social_care.app import SocialCare
from social_care.users import verify_password
from social_care.web.queries import WebUser, load_user, password_stamp
from social_care.web.security import csrf_token, rotate_csrf_token
from social_care.web.throttle import LoginThrottle
from social_care.web.views import render

router = APIRouter()


class NotAuthenticated(Exception):
    """No valid session: HTML pages redirect to the log-in page, htmx and JSON callers get 401."""


class Forbidden(Exception):
    """The user's role does not allow the action."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def get_core(request: Request) -> SocialCare:
    core: SocialCare = request.app.state.core
    return core


CoreDep = Annotated[SocialCare, Depends(get_core)]


def current_user(request: Request, core: CoreDep) -> WebUser:
    name = request.session.get("user")
    if not isinstance(name, str):
        raise NotAuthenticated()
    user = load_user(core.engine, name)
    if user is None or user.stamp != request.session.get("stamp"):
        request.session.clear()  # deleted, deactivated, or the password changed since this login
        raise NotAuthenticated()
    return user


UserDep = Annotated[WebUser, Depends(current_user)]


def require(role: m.Role) -> Callable[[WebUser], WebUser]:
    """Admit only users with ``role`` or higher (checked here and again in the core)."""

    def dependency(user: UserDep) -> WebUser:
        if not user.can(role):
            raise Forbidden(
                f"{user.name} is a {user.role.value}; this needs the {role.value} role or higher"
            )
        return user

    return dependency


AgentDep = Annotated[WebUser, Depends(require(m.Role.AGENT))]
ApproverDep = Annotated[WebUser, Depends(require(m.Role.APPROVER))]
AdminDep = Annotated[WebUser, Depends(require(m.Role.ADMIN))]


def safe_next(target: str | None) -> str:
    """Same-site paths only: ?next=//evil.example must not make log-in a redirector."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login" if here == "/" else f"/login?next={quote(here, safe='')}"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return render(
        request, "login.html", {"next": safe_next(next), "error": None, "csrf": csrf_token(request)}
    )


def _login_refused(request: Request, next: str, error: str, status_code: int) -> Response:
    context = {"next": safe_next(next), "error": error, "csrf": csrf_token(request)}
    return render(request, "login.html", context, status_code=status_code)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    core: CoreDep,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    throttle: LoginThrottle = request.app.state.login_throttle
    name = name.strip()
    address = request.client.host if request.client else "unknown"
    if throttle.blocked(address, name):
        return _login_refused(
            request, next, "Too many failed log-ins; wait a few minutes and try again.", 429
        )
    user = verify_password(core.engine, name, password) if name and password else None
    if user is None:
        throttle.failed(address, name)
        return _login_refused(request, next, "Wrong user name or password.", 401)
    throttle.succeeded(address, name)
    # A fresh session and CSRF token at log-in: nothing planted before log-in survives it.
    request.session.clear()
    request.session.update({"user": user.name, "stamp": password_stamp(user.password_hash)})
    rotate_csrf_token(request)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)
