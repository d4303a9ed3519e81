"""Meta webhooks (Page `feed`, Instagram `comments` and `mentions`): verify, store once, resolve ids.

A delivery is accepted only with a valid ``X-Hub-Signature-256`` over the raw body; a rejected one
is logged without its body. Its items go through the same idempotent store as polling, so an item
that arrives by webhook and again by polling is stored once, and a re-sent (replayed) delivery
changes nothing. Instagram mentions arrive as ids only: they are fetched through the account's
connector, and one that cannot be fetched is quarantined with the ids, so it is never lost.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from connectors import (
    ConnectorError,
    QuarantinedItem,
    WebhookVerificationError,
    parse_webhook,
    verify_signature,
    verify_subscription,
)
from social_care import models as m
from social_care.db import session_scope
from social_care.ingest import store_quarantined, store_records

if TYPE_CHECKING:
    from social_care.app import SocialCare

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000


class WebhookRejected(Exception):
    """The request is not a genuine delivery; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class DeliveryReport:
    stored: int = 0
    quarantined: int = 0
    resolved: int = 0


def verify(core: SocialCare, params: dict[str, str]) -> str:
    """The subscription handshake: the challenge to echo, or :class:`WebhookRejected` (403)."""
    try:
        return verify_subscription(params, core.config.settings.webhooks.verify_token)
    except WebhookVerificationError as exc:
        log.warning("webhook subscription refused: %s", exc)
        raise WebhookRejected(403, str(exc)) from exc


def _account_ids(core: SocialCare) -> dict[tuple[str, str], int]:
    """(platform, page or IG user id) -> account row id."""
    ids = core.account_ids
    found: dict[tuple[str, str], int] = {}
    with session_scope(core.engine) as session:
        for account_id in ids.values():
            row = session.get(m.Account, account_id)
            if row is not None and row.external_id:
                found[(row.platform, row.external_id)] = account_id
    return found


def handle_delivery(core: SocialCare, raw_body: bytes, signature: str | None) -> DeliveryReport:
    """Check, parse and store one notification (which may batch several entries)."""
    secret = core.config.settings.webhooks.app_secret
    if not secret:
        raise WebhookRejected(404, "webhooks are not configured (webhooks.app_secret is empty)")
    if len(raw_body) > MAX_BODY_BYTES:
        raise WebhookRejected(413, "delivery too large")
    if not verify_signature(raw_body, signature, secret):
        log.warning("webhook delivery rejected: %s X-Hub-Signature-256 (%d bytes, body not logged)",
                    "missing" if not signature else "wrong", len(raw_body))
        raise WebhookRejected(403, "invalid signature")
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # Signed but unreadable: keep it, so nothing received is lost.
        with session_scope(core.engine) as session:
            store_quarantined(session, [QuarantinedItem("facebook", "webhook", f"not JSON: {exc}",
                                                        raw_body.decode("utf-8", "replace"))], account_id=None)
        return DeliveryReport(quarantined=1)
    if not isinstance(payload, dict):
        payload = {"object": None, "entry": payload}
    accounts = _account_ids(core)
    report = DeliveryReport()
    entries = payload.get("entry") if isinstance(payload.get("entry"), list) else [None]
    for entry in entries:
        single = {**payload, "entry": [entry] if entry is not None else payload.get("entry")}
        records, quarantined, follow_ups = parse_webhook(single)
        platform = {"page": "facebook", "instagram": "instagram"}.get(str(payload.get("object")), "facebook")
        entry_id = str(entry.get("id")) if isinstance(entry, dict) else ""
        account_id = accounts.get((platform, entry_id))
        for follow_up in follow_ups:
            target = accounts.get((follow_up.platform, follow_up.account_id))
            try:
                if target is None:
                    raise ConnectorError(f"no configured {follow_up.platform} account {follow_up.account_id}")
                connector: Any = core.connector_for(target)
                records.append(connector.fetch_mention(**follow_up.params))
                report.resolved += 1
            except ConnectorError as exc:
                quarantined.append(QuarantinedItem(follow_up.platform, "webhook", f"mention not fetched: {exc}",
                                                   {"kind": follow_up.kind, **follow_up.params}))
        with session_scope(core.engine) as session:
            report.stored += store_records(session, records, account_id=account_id, source="webhook")
            store_quarantined(session, quarantined, account_id=account_id)
        report.quarantined += len(quarantined)
    return report


def router(core: SocialCare) -> APIRouter:
    """``GET /webhooks/meta`` (handshake) and ``POST /webhooks/meta`` (deliveries)."""
    api = APIRouter()

    @api.get("/webhooks/meta", response_class=PlainTextResponse)
    def subscribe(request: Request) -> PlainTextResponse:
        try:
            return PlainTextResponse(verify(core, dict(request.query_params)))
        except WebhookRejected as exc:
            return PlainTextResponse(str(exc), status_code=exc.status)

    @api.post("/webhooks/meta")
    async def deliver(request: Request) -> JSONResponse:
        body = await request.body()
        try:
            report = handle_delivery(core, body, request.headers.get("x-hub-signature-256"))
        except WebhookRejected as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        return JSONResponse(report.__dict__)

    return api
