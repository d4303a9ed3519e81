"""User management for admins: list the team, add a member or change a role or password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from social_care import models as m
from social_care.users import add_user, list_users
from social_care.web.auth import AdminDep, CoreDep
from social_care.web.inbox import HTMX_CONFIG
from social_care.web.security import csrf_token
from social_care.web.views import render

router = APIRouter()

ROLES = tuple(r.value for r in m.Role)


def _users_page(
    request: Request,
    core: CoreDep,
    user: AdminDep,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        {
            "user": user,
            "csrf": csrf_token(request),
            "htmx_config": HTMX_CONFIG,
            "brand": core.config.brand.name,
            "users": list_users(core.engine),
            "roles": ROLES,
            "error": error,
            "notice": notice,
        },
        status_code=status_code,
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, core: CoreDep, user: AdminDep) -> Response:
    return _users_page(request, core, user)


@router.post("/users", response_class=HTMLResponse)
def save_user(
    request: Request,
    core: CoreDep,
    user: AdminDep,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    name = name.strip()
    try:
        # An empty password keeps the current one (a role change only); the core refuses short ones.
        add_user(core.engine, name, role, password=password or None, actor=user.name)
    except ValueError as exc:
        return _users_page(request, core, user, status_code=422, error=str(exc))
    return _users_page(request, core, user, notice=f"Saved {name} as {role}.")
