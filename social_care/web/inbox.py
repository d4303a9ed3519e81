"""The reply queue: the page, its htmx fragments, and the actions on drafts.

Routes stay thin: each action is one call into the core, which checks the role again, records the
event and enforces the state machine. An htmx request gets the re-rendered draft card back; a
plain form post (no JavaScript) is redirected to the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from connectors import ConnectorError
from social_care import models as m
from social_care import replies, suggestions
from social_care.classifier import CATEGORIES
from social_care.config import ConfigError
from social_care.web.auth import AgentDep, ApproverDep, CoreDep, UserDep
from social_care.web.queries import WebUser
from social_care.web.security import csrf_token
from social_care.web.views import render

router = APIRouter()

PAGE_SIZE = 20
PLATFORMS = ("x", "facebook", "instagram")
STATES = tuple(s.value for s in m.ReplyState)
SEVERITIES = ("1", "2", "3", "4")

# htmx swaps 2xx only by default; these codes carry a re-rendered card (or a message) to show.
# Inheritance is off: the queue section's hx-select must not leak into the forms of its cards.
HTMX_CONFIG = (
    '{"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},'
    '{"code":"40[39]","swap":true,"error":false},{"code":"422","swap":true,"error":false},'
    '{"code":"...","swap":false,"error":true}],'
    '"disableInheritance":true,"allowScriptTags":false,"allowEval":false,"includeIndicatorStyles":false,"selfRequestsOnly":true}'
)


@dataclass(frozen=True)
class QueueFilters:
    """The queue's query string, validated: unknown values fall back to "any"."""

    state: str = "drafted"
    platform: str = ""
    language: str = ""
    category: str = ""
    severity: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, params: Mapping[str, str], languages: list[str]) -> QueueFilters:
        def pick(name: str, allowed: tuple[str, ...] | list[str], default: str = "") -> str:
            value = params.get(name, default)
            return value if value in allowed else default

        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            page = 1
        return cls(
            state=pick("state", (*STATES, "all"), "drafted"),
            platform=pick("platform", PLATFORMS),
            language=pick("language", languages),
            category=pick("category", CATEGORIES),
            severity=pick("severity", SEVERITIES),
            page=page,
        )

    def core_filters(self) -> dict[str, Any]:
        return {
            "platform": self.platform or None,
            "language": self.language or None,
            "category": self.category or None,
            "severity": int(self.severity) if self.severity else None,
        }

    @property
    def core_state(self) -> str | None:
        return None if self.state == "all" else self.state

    def url(self, **changes: Any) -> str:
        defaults = asdict(QueueFilters())
        values = {k: v for k, v in asdict(replace(self, **changes)).items() if v != defaults[k]}
        return "/?" + urlencode(values) if values else "/"


def _languages(core: CoreDep) -> list[str]:
    return [*core.config.brand.languages, "other"]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _page_context(
    request: Request, core: CoreDep, user: WebUser, filters: QueueFilters
) -> dict[str, Any]:
    rows = core.queue(
        state=filters.core_state,
        limit=PAGE_SIZE + 1,
        offset=(filters.page - 1) * PAGE_SIZE,
        filters=filters.core_filters(),
    )
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return {
        "user": user,
        "csrf": csrf_token(request),
        "htmx_config": HTMX_CONFIG,
        "brand": core.config.brand.name,
        "filters": filters,
        "rows": rows,
        "has_next": has_next,
        "counts": core.counts(),
        "states": STATES,
        "platforms": PLATFORMS,
        "languages": _languages(core),
        "categories": CATEGORIES,
        "severities": SEVERITIES,
        "sla_minutes": core.config.settings.reply_policy.sla_minutes,
        "max_length": core.config.settings.reply_policy.max_length,
        "card": {"error": None, "blocked": None, "text": None},
    }


@router.get("/", response_class=HTMLResponse)
def queue_page(request: Request, core: CoreDep, user: UserDep) -> Response:
    filters = QueueFilters.from_query(request.query_params, _languages(core))
    return render(request, "queue.html", _page_context(request, core, user, filters))


@router.get("/fragments/counts", response_class=HTMLResponse)
def counts_fragment(
    request: Request, core: CoreDep, user: UserDep, state: str = "drafted"
) -> Response:
    return render(
        request,
        "_counts.html",
        {
            "counts": core.counts(),
            "states": STATES,
            "current": state if state in (*STATES, "all") else "drafted",
        },
    )


@router.get("/api/counts")
def counts_json(core: CoreDep, user: UserDep) -> dict[str, int]:
    return core.counts()


@router.get("/api/queue")
def queue_json(request: Request, core: CoreDep, user: UserDep) -> list[dict[str, Any]]:
    filters = QueueFilters.from_query(request.query_params, _languages(core))
    rows = core.queue(
        state=filters.core_state,
        limit=PAGE_SIZE,
        offset=(filters.page - 1) * PAGE_SIZE,
        filters=filters.core_filters(),
    )
    return [row.as_dict() for row in rows]


def _card(
    request: Request,
    core: CoreDep,
    user: WebUser,
    draft_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    blocked: list[dict[str, str]] | None = None,
    text: str | None = None,
) -> Response:
    row = core.queue_row(draft_id)
    if row is None:
        raise HTTPException(404, f"no draft with id {draft_id}")
    context = {
        "user": user,
        "csrf": csrf_token(request),
        "row": row,
        "sla_minutes": core.config.settings.reply_policy.sla_minutes,
        "max_length": core.config.settings.reply_policy.max_length,
        "card": {"error": error, "blocked": blocked, "text": text},
    }
    return render(request, "_draft.html", context, status_code=status_code)


def _done(request: Request, core: CoreDep, user: WebUser, draft_id: int) -> Response:
    if is_htmx(request):
        response = _card(request, core, user, draft_id)
        response.headers["HX-Trigger"] = (
            "counts-changed"  # the card stays in place; the counts refresh now
        )
        return response
    return RedirectResponse("/", status_code=303)


def _failed(
    request: Request,
    core: CoreDep,
    user: WebUser,
    draft_id: int,
    exc: replies.QueueError,
    text: str | None = None,
) -> Response:
    """A refused action: the card again with the reason (a lint block adds findings, override)."""
    blocked = exc.findings if isinstance(exc, replies.LintBlocked) else None
    status = 422 if blocked is not None or "empty" in str(exc) else 409
    if not is_htmx(request):
        return render(
            request,
            "error.html",
            {
                "user": user,
                "csrf": csrf_token(request),
                "htmx_config": HTMX_CONFIG,
                "brand": core.config.brand.name,
                "message": str(exc),
            },
            status_code=status,
        )
    return _card(
        request,
        core,
        user,
        draft_id,
        status_code=status,
        error=str(exc),
        blocked=blocked,
        text=text,
    )


@router.get("/drafts/{draft_id}", response_class=HTMLResponse)
def draft_card(request: Request, draft_id: int, core: CoreDep, user: UserDep) -> Response:
    return _card(request, core, user, draft_id)


@router.get("/drafts/{draft_id}/history", response_class=HTMLResponse)
def draft_history(request: Request, draft_id: int, core: CoreDep, user: UserDep) -> Response:
    try:
        events = replies.history(core.engine, draft_id)
    except replies.QueueError as exc:
        raise HTTPException(404, str(exc)) from exc
    return render(request, "_history.html", {"events": events})


@router.get("/drafts/{draft_id}/alternatives", response_class=HTMLResponse)
def draft_alternatives(request: Request, draft_id: int, core: CoreDep, user: UserDep) -> Response:
    """Replies the team approved before for mentions like this one (same intent, category, language)."""
    return render(request, "_alternatives.html", {
        "alternatives": suggestions.alternatives(core.engine, draft_id), "draft_id": draft_id,
        "user": user, "csrf": csrf_token(request),
    })


@router.post("/drafts/{draft_id}/claim", response_class=HTMLResponse)
def claim(request: Request, draft_id: int, core: CoreDep, user: AgentDep) -> Response:
    try:
        replies.claim(
            core.engine,
            draft_id,
            user.name,
            minutes=core.config.settings.reply_policy.claim_minutes,
        )
    except replies.QueueError as exc:
        return _failed(request, core, user, draft_id, exc)
    return _done(request, core, user, draft_id)


@router.post("/drafts/{draft_id}/edit", response_class=HTMLResponse)
def edit(
    request: Request,
    draft_id: int,
    core: CoreDep,
    user: AgentDep,
    text: Annotated[str, Form(max_length=20000)] = "",
) -> Response:
    try:
        core.edit(draft_id, user.name, text)
    except replies.QueueError as exc:
        return _failed(request, core, user, draft_id, exc, text=text)
    return _done(request, core, user, draft_id)


@router.post("/drafts/{draft_id}/approve", response_class=HTMLResponse)
def approve(
    request: Request,
    draft_id: int,
    core: CoreDep,
    user: ApproverDep,
    text: Annotated[str | None, Form(max_length=20000)] = None,
    override: Annotated[str, Form()] = "",
) -> Response:
    # An empty or absent text means "approve the draft as it stands".
    try:
        core.approve(
            draft_id,
            user.name,
            text=text if text and text.strip() else None,
            override=override == "1",
        )
    except replies.QueueError as exc:
        return _failed(request, core, user, draft_id, exc, text=text)
    return _done(request, core, user, draft_id)


@router.post("/drafts/{draft_id}/reject", response_class=HTMLResponse)
def reject(
    request: Request,
    draft_id: int,
    core: CoreDep,
    user: ApproverDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        core.reject(draft_id, user.name, reason)
    except replies.QueueError as exc:
        return _failed(request, core, user, draft_id, exc)
    return _done(request, core, user, draft_id)


@router.post("/send", response_class=HTMLResponse)
def send_now(
    request: Request,
    core: CoreDep,
    user: ApproverDep,
    retry_failed: Annotated[str, Form()] = "",
) -> Response:
    try:
        # retry_failed also re-sends failed drafts; the core looks on the platform first.
        report = core.send(retry_failed=retry_failed == "1")
    except (ConnectorError, ConfigError) as exc:
        message, level = f"Sending stopped: {exc}", "error"
    else:
        message = (
            f"Sent {report.sent}, failed {report.failed}, found already posted {report.reconciled}."
        )
        level = "error" if report.failed else "ok"
    if not is_htmx(request):
        return RedirectResponse("/", status_code=303)
    # The event makes the counts and the list on the page reload themselves.
    return render(
        request,
        "_flash.html",
        {"message": message, "level": level},
        headers={"HX-Trigger": "queue-changed"},
    )


def json_wanted(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


__all__ = ["HTMX_CONFIG", "QueueFilters", "is_htmx", "json_wanted", "router"]
