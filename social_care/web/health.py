"""``/healthz``: 200 when the database answers a query, 503 with the reason when it does not.

Deliberately a plain ``SELECT 1``: load balancers probe every few seconds, and the migration
check (``social-care db upgrade`` at start) need not run, or log, on each probe.
"""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from social_care.db import safe_url
from social_care.web.auth import CoreDep

router = APIRouter()


@router.api_route("/healthz", methods=["GET", "HEAD"])  # uptime checkers often send HEAD
def healthz(core: CoreDep) -> JSONResponse:
    try:
        with core.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        detail = f"the database at {safe_url(core.engine)} does not answer: {type(exc).__name__}"
        return JSONResponse({"status": "error", "detail": detail}, status_code=503)
    return JSONResponse({"status": "ok"})
