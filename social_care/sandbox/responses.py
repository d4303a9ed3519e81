"""The response value the sandbox's route handlers return, and helpers to build JSON ones."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"


@dataclass
class ApiResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    payload: Any = None  # the JSON value before encoding, so faults can corrupt an item


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> ApiResponse:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    all_headers = {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})}
    return ApiResponse(status, body, all_headers, payload)


def with_payload(response: ApiResponse, payload: Any) -> ApiResponse:
    """The same response with a replaced JSON payload."""
    return json_response(response.status, payload, response.headers)
