"""``/healthz``: 200 when the database answers at the expected migration, else 503 and why."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from social_care.db import DatabaseError
from social_care.web.auth import CoreDep

router = APIRouter()


@router.get("/healthz")
def healthz(core: CoreDep) -> JSONResponse:
    try:
        core.check_db()
    except DatabaseError as exc:
        return JSONResponse({"status": "error", "detail": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok"})
