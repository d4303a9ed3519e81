"""Graph API access shared by the Facebook and Instagram connectors: a pyfacebook client with
error classification, usage-header back-off, bounded retries and cursor paging.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyfacebook
import requests

from connectors.base import AuthError, ConnectorError, PermanentError, RateLimited, TransientError
from connectors.http import (
    RetryPolicy,
    Sleep,
    call_with_retries,
    is_transport_error,
    mount_base_url,
)
from connectors.times import utc_now

GRAPH_HOST = "https://graph.facebook.com"
DEFAULT_GRAPH_VERSION = "v26.0"

RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002})
BUC_RATE_LIMIT_CODES = frozenset(range(80000, 80015))  # the Business Use Case family
AUTH_CODES = frozenset({102, 190})
PERMISSION_CODES = frozenset({10, *range(200, 300)})
TRANSIENT_CODES = frozenset({1, 2})
# Without a usage header, wait this long after a rate-limit error (the app window is an hour).
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)


@dataclass(frozen=True)
class Usage:
    """The highest usage percentage and the longest regain time the last response reported."""

    max_percent: int = 0
    regain_minutes: int = 0

    @property
    def exhausted(self) -> bool:
        return self.max_percent >= 100 or self.regain_minutes > 0


def read_usage(headers: requests.structures.CaseInsensitiveDict[str]) -> Usage:
    """Parse ``x-app-usage`` and ``x-business-use-case-usage``; tolerate absence and junk."""
    percents: list[int] = [0]
    regain: list[int] = [0]
    for name in ("x-app-usage", "x-business-use-case-usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            document = json.loads(raw)
        except ValueError:
            continue
        entries = [document] if name == "x-app-usage" else [e for v in document.values() for e in v]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in ("call_count", "total_cputime", "total_time"):
                value = entry.get(key)
                if isinstance(value, int | float):
                    percents.append(int(value))
            value = entry.get("estimated_time_to_regain_access")
            if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
                regain.append(int(value))
    return Usage(max(percents), max(regain))


def classify_graph_error(
    code: int | None,
    subcode: int | None,
    status: int | None,
    message: str,
    usage: Usage,
    now: datetime,
    is_transient: bool = False,
) -> ConnectorError:
    """Map a Graph error (body code, HTTP status, usage headers) to the connector contract."""
    detail = f"Graph error {code}" + (f"/{subcode}" if subcode else "") + f": {message}"
    if code in RATE_LIMIT_CODES or code in BUC_RATE_LIMIT_CODES:
        wait = (
            timedelta(minutes=usage.regain_minutes)
            if usage.regain_minutes
            else DEFAULT_RATE_LIMIT_WAIT
        )
        return RateLimited(detail, now + wait)
    if code in AUTH_CODES:
        return AuthError(detail + " (the token is expired or invalid: re-authenticate the account)")
    if code in PERMISSION_CODES:
        return AuthError(
            detail + " (the token lacks a permission: re-authorize with the needed scopes)"
        )
    if is_transient or code in TRANSIENT_CODES or (status is not None and status >= 500):
        return TransientError(detail)
    return PermanentError(detail)


@dataclass
class Page:
    """One page of an edge: its items, and the query of the next page (None on the last)."""

    items: list[Any]
    next_params: dict[str, str] | None
    after: str | None = None  # the cursor just past this page's last item

    @property
    def has_next(self) -> bool:
        return self.next_params is not None


class GraphClient:
    """A pyfacebook ``GraphAPI`` wrapped to raise only connector errors and to count requests."""

    def __init__(
        self,
        *,
        access_token: str,
        app_secret: str | None,
        version: str,
        base_url: str | None,
        timeout: float,
        max_retries: int,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self.api = pyfacebook.GraphAPI(
            access_token=access_token,
            app_secret=app_secret or None,
            version=version,
            base_url=(base_url.rstrip("/") + "/") if base_url else None,
            sleep_on_rate_limit=False,
            timeout=timeout,
        )
        mount_base_url(self.api.session, GRAPH_HOST, base_url, timeout)
        self.api.session.hooks["response"].append(self._remember_response)
        self.retry_policy = RetryPolicy(attempts=max_retries + 1)
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.blocked_until: datetime | None = None
        # Per thread: the scheduler may poll two streams of one account at once.
        self._local = threading.local()

    def _remember_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._local.response = response

    @property
    def requests_made(self) -> int:
        """Requests this thread has sent through the client (a fetch diffs it before/after)."""
        count: int = getattr(self._local, "requests", 0)
        return count

    @property
    def _last_response(self) -> requests.Response | None:
        response: requests.Response | None = getattr(self._local, "response", None)
        return response

    # Calls -------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``/{version}/{path}`` with bounded retries for transient failures."""
        return call_with_retries(
            lambda: self._once(lambda: self.api.get(path, dict(params or {}))),
            policy=self.retry_policy,
            sleep=self.sleep,
            rng=self.rng,
        )

    def post(self, object_id: str, edge: str, data: dict[str, Any]) -> dict[str, Any]:
        """POST to an edge, once: a write is never retried here, so it cannot be duplicated;
        the application reconciles uncertain writes with ``find_reply``."""
        return self._once(lambda: self.api.post_object(object_id, edge, data=dict(data)))

    def _once(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        now = self.clock()
        if self.blocked_until is not None and now < self.blocked_until:
            raise RateLimited(
                "Graph usage is at its limit; waiting for the window to reset", self.blocked_until
            )
        self._local.response = None
        self._local.requests = self.requests_made + 1
        try:
            result = call()
        except pyfacebook.FacebookError as error:
            raise self._classify(error) from error
        except pyfacebook.LibraryError as error:
            status = self._last_response.status_code if self._last_response is not None else None
            message = str(getattr(error, "message", error))
            if status is not None and status >= 500:
                raise TransientError(f"Graph answered {status} without JSON: {message}") from error
            raise PermanentError(f"Graph client error: {message}") from error
        except ValueError as error:  # JSONDecodeError: a truncated or garbled body
            raise TransientError(f"Graph answered malformed JSON: {error}") from error
        except (AttributeError, TypeError) as error:  # an error body the client cannot read, e.g. {"error": "Bad Gateway"}
            status = self._last_response.status_code if self._last_response is not None else None
            if status is None or status >= 500:
                raise TransientError(f"Graph answered {status} with an unreadable error body") from error
            raise PermanentError(f"Graph answered {status} with an unreadable error body") from error
        except requests.RequestException as error:
            if is_transport_error(error):
                raise TransientError(f"Graph request failed: {error}") from error
            raise PermanentError(f"Graph request could not be made: {error}") from error
        self._note_usage()
        return result

    def _note_usage(self) -> None:
        if self._last_response is None:
            return
        usage = read_usage(self._last_response.headers)
        if usage.exhausted:
            wait = (
                timedelta(minutes=usage.regain_minutes)
                if usage.regain_minutes
                else DEFAULT_RATE_LIMIT_WAIT
            )
            self.blocked_until = self.clock() + wait

    def _classify(self, error: pyfacebook.FacebookError) -> ConnectorError:
        response = self._last_response
        usage = read_usage(response.headers) if response is not None else Usage()
        code = _as_int(getattr(error, "code", None))
        subcode = _as_int(getattr(error, "error_subcode", None))
        classified = classify_graph_error(
            code,
            subcode,
            response.status_code if response is not None else None,
            str(getattr(error, "message", "")),
            usage,
            self.clock(),
            getattr(error, "is_transient", False) is True,
        )
        if isinstance(classified, RateLimited):
            self.blocked_until = classified.reset_at
        return classified

    # Paging ------------------------------------------------------------------------------

    def pages(self, path: str, params: dict[str, Any], max_pages: int) -> Iterator[Page]:
        """Follow ``paging.next`` through this client (so the base URL and version stay ours),
        at most ``max_pages`` pages."""
        current = dict(params)
        for number in range(1, max_pages + 1):
            body = self.get(path, current)
            items = body.get("data")
            if not isinstance(items, list):
                raise TransientError(f"Graph page of {path} has no data list")
            next_url = (body.get("paging") or {}).get("next")
            next_params = (
                {
                    key: value
                    for key, value in parse_qsl(urlsplit(next_url).query, keep_blank_values=True)
                    if key not in ("access_token", "appsecret_proof")
                }
                if next_url
                else None
            )
            cursors = (body.get("paging") or {}).get("cursors") or {}
            after = cursors.get("after") if isinstance(cursors.get("after"), str) else None
            yield Page(items, next_params, after)
            if next_params is None or number == max_pages:
                return
            current = next_params


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
