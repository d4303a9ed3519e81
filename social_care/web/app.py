"""The web inbox's app factory: middleware, routers, static files and the error responses."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from social_care import webhooks
from social_care.app import SocialCare
from social_care.users import PermissionDenied
from social_care.web import admin, auth, health, inbox, reports
from social_care.web.auth import Forbidden, NotAuthenticated, login_url
from social_care.web.inbox import HTMX_CONFIG, is_htmx, json_wanted
from social_care.web.security import (
    CsrfFailed,
    SecurityHeaders,
    check_csrf,
    csrf_token,
    session_secret,
)
from social_care.web.throttle import LoginThrottle
from social_care.web.views import STATIC_DIR, render

SESSION_COOKIE = "social_care_session"
SESSION_HOURS = 12


@asynccontextmanager
async def _freeze_startup_objects(app: FastAPI) -> AsyncIterator[None]:
    # The process holds what the core imported (the classifier's torch among it): some 300,000
    # long-lived objects that every full garbage collection walks again, 0.3 s during which no
    # request in flight moves. Frozen once the server starts, collections walk only newer objects.
    gc.freeze()
    yield


def create_app(core: SocialCare, *, https_only: bool = False) -> FastAPI:
    """The inbox for ``core``; ``https_only`` marks the session cookie Secure (behind TLS)."""
    app = FastAPI(title="social-care inbox", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=_freeze_startup_objects)
    app.state.core = core
    app.state.login_throttle = LoginThrottle()
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(core.config),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=https_only,
    )
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # check_csrf runs before each route's own dependencies, so no POST of the inbox can forget it.
    for module in (auth, inbox, admin, health, reports):
        app.include_router(module.router, dependencies=[Depends(check_csrf)])
    # Meta's deliveries prove themselves with an HMAC signature over the body, not with a session:
    # they carry no CSRF token and need no log-in (the router refuses unsigned ones itself).
    app.include_router(webhooks.router(core))
    _add_error_handlers(app)
    return app


def _message(request: Request, message: str, status: int) -> Response:
    """An error for the user: JSON for scripts, the flash area for htmx, else a page."""
    if json_wanted(request):
        return JSONResponse({"detail": message}, status_code=status)
    if is_htmx(request):
        return render(
            request,
            "_flash.html",
            {"message": message, "level": "error"},
            status_code=status,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"},
        )
    core: SocialCare = request.app.state.core
    user = None
    try:
        user = auth.current_user(request, core)
    except NotAuthenticated:
        pass
    return render(
        request,
        "error.html",
        {
            "user": user,
            "csrf": csrf_token(request),
            "htmx_config": HTMX_CONFIG,
            "brand": core.config.brand.name,
            "message": message,
        },
        status_code=status,
    )


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if is_htmx(request) or json_wanted(request):
            # htmx follows HX-Redirect even on a 401: an expired session lands on log-in.
            return JSONResponse(
                {"detail": "log in first"},
                status_code=401,
                headers={"HX-Redirect": login_url(request)},
            )
        return RedirectResponse(login_url(request), status_code=303)

    @app.exception_handler(CsrfFailed)
    async def csrf_failed(request: Request, exc: CsrfFailed) -> Response:
        if not isinstance(request.session.get("user"), str) and request.url.path != "/login":
            # No session at all (expired, never logged in): a log-in problem, not forgery.
            return await not_authenticated(request, NotAuthenticated())
        return _message(
            request,
            "This form has expired or did not come from this site; reload the page and try again.",
            403,
        )

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _message(request, exc.message, 403)

    @app.exception_handler(PermissionDenied)
    async def permission_denied(request: Request, exc: PermissionDenied) -> Response:
        return _message(request, str(exc), 403)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _message(request, str(exc.detail), exc.status_code)
