"""The sandbox HTTP server: fake X and Graph APIs, admin endpoints, HTML overview, drip, webhooks.

Use it in-process (``SandboxServer(port=0).start()``) from tests and the CLI, or block with
:func:`serve_forever`.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from social_care.sandbox import accounts
from social_care.sandbox.faults import Fault, FaultPlan
from social_care.sandbox.generator import GeneratedMentionWriter, iter_mentions
from social_care.sandbox.graph_api import GraphApi, graph_error
from social_care.sandbox.html_page import render_overview
from social_care.sandbox.responses import ApiResponse, json_response, with_payload
from social_care.sandbox.seed_loader import LoadedSeed, load_seed
from social_care.sandbox.state import Clock, SandboxState, utc_now
from social_care.sandbox.webhooks import (
    deliver_webhook,
    feed_comment_payload,
    feed_post_payload,
    instagram_comment_payload,
    instagram_mention_payload,
    payload_for_new_item,
)
from social_care.sandbox.x_api import XApi, problem

log = logging.getLogger(__name__)

_TEXT_KEYS = ("text", "message", "caption")


class SandboxServer:
    """A fake X + Graph API server on loopback, holding its state in memory.

    ``seed``: ``"demo"`` (the Loja Aurora sample), a path to a seed JSON file, or ``None`` for
    only the brand accounts. ``drip_seconds``: add one generated mention every so many seconds.
    ``webhook_url``: where to POST signed Meta notifications for new Facebook/Instagram items.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: str | None = "demo",
        drip_seconds: float | None = None,
        *,
        clock: Clock = utc_now,
        webhook_url: str | None = None,
        app_secret: str = accounts.APP_SECRET,
        drip_seed: int = 0,
    ) -> None:
        self.host = host
        self.port = port
        self.state = SandboxState(clock)
        self.faults = FaultPlan()
        self.seed: LoadedSeed | None = load_seed(self.state, seed) if seed else None
        self.x_api = XApi(self.state)
        self.graph_api = GraphApi(self.state)
        self.drip_seconds = drip_seconds
        self.webhook_url = webhook_url
        self.app_secret = app_secret
        self.webhook_statuses: list[int] = []
        self._writer = GeneratedMentionWriter(self.state)
        self._drip_source = iter_mentions(drip_seed)
        self._drip_lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._webhook_queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        if webhook_url:
            self.state.listeners.append(self._queue_webhook)

    # Lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("the sandbox server is already running")
        self._stopping.clear()
        handler = type("BoundSandboxHandler", (_Handler,), {"sandbox": self})
        httpd = ThreadingHTTPServer((self.host, self.port), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._spawn(lambda: httpd.serve_forever(poll_interval=0.05), "sandbox-http")
        if self.drip_seconds:
            self._spawn(self._drip_loop, "sandbox-drip")
        if self.webhook_url:
            self._spawn(self._webhook_loop, "sandbox-webhooks")
        return self

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        self._webhook_queue.put(None)
        httpd.shutdown()
        httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` (no trailing slash); give it to the connectors as ``base_url``."""
        return f"http://{self.host}:{self.port}"

    # Mentions ----------------------------------------------------------------------------

    def add_generated_mentions(self, count: int = 1) -> list[str]:
        """Add the next ``count`` generated mentions (the drip's source); return their ids."""
        added = []
        with self._drip_lock:
            for _ in range(count):
                added.append(self._writer.add(next(self._drip_source)))
        return added

    def _drip_loop(self) -> None:
        assert self.drip_seconds is not None
        while not self._stopping.wait(self.drip_seconds):
            try:
                self.add_generated_mentions(1)
            except Exception:  # a broken drip must not kill the demo server
                log.exception("sandbox drip failed")

    # Webhooks ----------------------------------------------------------------------------

    def _queue_webhook(self, kind: str, item: Any) -> None:
        payload = payload_for_new_item(self.state, kind, item)
        if payload is not None:
            self._webhook_queue.put(payload)

    def _webhook_loop(self) -> None:
        assert self.webhook_url is not None
        while True:
            payload = self._webhook_queue.get()
            if payload is None:
                return
            try:
                self.webhook_statuses.append(
                    deliver_webhook(self.webhook_url, payload, app_secret=self.app_secret)
                )
            except OSError as error:
                log.warning("webhook delivery to %s failed: %s", self.webhook_url, error)
                self.webhook_statuses.append(0)

    def webhook_payload_for(self, item_id: str) -> dict[str, Any]:
        """The Meta notification for an existing Facebook/Instagram item (post, comment, media)."""
        state = self.state
        if item_id in state.fb_comments:
            return feed_comment_payload(state, state.fb_comments[item_id])
        if item_id in state.fb_posts:
            return feed_post_payload(state, state.fb_posts[item_id])
        if item_id in state.ig_comments:
            comment = state.ig_comments[item_id]
            if state.ig_media[comment.media_id].owner_id == accounts.IG_USER_ID:
                return instagram_comment_payload(state, comment)
            return instagram_mention_payload(comment.media_id, comment.id, comment.timestamp)
        if item_id in state.ig_media:
            media = state.ig_media[item_id]
            return instagram_mention_payload(media.id, None, media.timestamp)
        raise KeyError(f"no Facebook or Instagram item {item_id!r} in the sandbox")

    def deliver_webhook_for(self, item_id: str, url: str | None = None) -> int:
        """POST the signed notification for ``item_id`` to ``url`` (default: ``webhook_url``)."""
        target = url or self.webhook_url
        if not target:
            raise ValueError("no webhook URL: pass one or start the sandbox with webhook_url")
        return deliver_webhook(
            target, self.webhook_payload_for(item_id), app_secret=self.app_secret
        )

    # Request dispatch --------------------------------------------------------------------

    def dispatch(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> ApiResponse:
        split = urlsplit(raw_path)
        path = split.path
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        if path == "/" and method == "GET":
            html = render_overview(self.state).encode("utf-8")
            return ApiResponse(200, html, {"Content-Type": "text/html; charset=utf-8"})
        if path.startswith("/_sandbox/"):
            return self._admin(method, path, body)
        platform = "x" if path.startswith("/2/") else "graph"
        fault = self.faults.take(platform, path)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.delay)
        if fault is not None and fault.kind == "server_error":
            return self._server_error(platform, fault)
        if platform == "x":
            response = self.x_api.handle(method, path, query, headers, body, fault)
        else:
            params = dict(query)
            if "application/x-www-form-urlencoded" in headers.get("content-type", ""):
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
            host = headers.get("host", f"{self.host}:{self.port}")
            response = self.graph_api.handle(method, path, params, f"http://{host}", fault)
        if fault is not None and fault.kind == "malformed_item":
            response = _break_first_item(response)
        if fault is not None and fault.kind == "truncated_json":
            response = ApiResponse(
                response.status, response.body[: len(response.body) // 2], response.headers
            )
        return response

    def _server_error(self, platform: str, fault: Fault) -> ApiResponse:
        if platform == "x":
            headers = {
                "x-rate-limit-limit": "450",
                "x-rate-limit-remaining": "449",
                "x-rate-limit-reset": str(int(self.state.clock().timestamp()) + 900),
            }
            return json_response(
                fault.status,
                problem(fault.status, "Service Unavailable", "Service Unavailable"),
                headers,
            )
        body = graph_error("An unexpected error has occurred. Please retry your request later.", 2)
        body["error"]["is_transient"] = True
        return json_response(fault.status, body)

    def _admin(self, method: str, path: str, body: bytes) -> ApiResponse:
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            return json_response(400, {"error": "the body must be JSON"})
        if path == "/_sandbox/faults" and method == "GET":
            return json_response(
                200,
                {
                    "pending": [asdict(f) for f in self.faults.pending()],
                    "applied": [asdict(a) for a in self.faults.applied],
                },
            )
        if path == "/_sandbox/faults" and method == "POST":
            try:
                fault = Fault(**request)
            except (TypeError, ValueError) as error:
                return json_response(400, {"error": str(error)})
            self.faults.add(fault)
            return json_response(201, asdict(fault))
        if path == "/_sandbox/faults/random" and method == "POST":
            try:
                kinds = tuple(request.get("kinds") or ()) or None
                if kinds:
                    self.faults.random_mix(int(request["seed"]), float(request["rate"]), kinds)
                else:
                    self.faults.random_mix(int(request["seed"]), float(request["rate"]))
            except (KeyError, TypeError, ValueError) as error:
                return json_response(400, {"error": f"need seed and rate: {error}"})
            return json_response(201, {"seed": request["seed"], "rate": request["rate"]})
        if path == "/_sandbox/faults" and method == "DELETE":
            self.faults.clear()
            return json_response(200, {"cleared": True})
        if path == "/_sandbox/mentions" and method == "POST":
            return json_response(
                201, {"added": self.add_generated_mentions(int(request.get("count", 1)))}
            )
        if path == "/_sandbox/webhooks" and method == "POST":
            try:
                status = self.deliver_webhook_for(
                    str(request.get("item_id", "")), request.get("url")
                )
            except (KeyError, ValueError) as error:
                return json_response(400, {"error": str(error)})
            except OSError as error:
                return json_response(502, {"error": f"delivery failed: {error}"})
            return json_response(200, {"delivered": status})
        if path == "/_sandbox/state" and method == "GET":
            return json_response(200, self.summary())
        return json_response(404, {"error": f"no admin route {method} {path}"})

    def summary(self) -> dict[str, Any]:
        state = self.state
        with state.lock:
            return {
                "accounts": {
                    "x_user_id": accounts.X_USER_ID,
                    "fb_page_id": accounts.FB_PAGE_ID,
                    "ig_user_id": accounts.IG_USER_ID,
                },
                "counts": {
                    "tweets": len(state.tweets),
                    "fb_posts": len(state.fb_posts),
                    "fb_comments": len(state.fb_comments),
                    "ig_media": len(state.ig_media),
                    "ig_comments": len(state.ig_comments),
                },
                "brand_replies": [
                    {
                        "platform": r.platform,
                        "id": r.external_id,
                        "in_reply_to": r.in_reply_to,
                        "text": r.text,
                    }
                    for r in state.brand_replies
                ],
            }


def _break_first_item(response: ApiResponse) -> ApiResponse:
    payload = response.payload
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("data"), list)
        or not payload["data"]
    ):
        return response
    broken = json.loads(json.dumps(payload))
    first = broken["data"][0]
    first.pop("id", None)
    for key in _TEXT_KEYS:
        first.pop(key, None)
    return with_payload(response, broken)


class _Handler(BaseHTTPRequestHandler):
    sandbox: SandboxServer
    protocol_version = "HTTP/1.0"
    server_version = "social-care-sandbox/1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        try:
            response = self.sandbox.dispatch(self.command, self.path, headers, body)
        except Exception:
            log.exception("sandbox failed on %s %s", self.command, self.path)
            response = json_response(500, {"error": "sandbox internal error"})
        try:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test, usually): nobody is left to answer

    do_GET = _serve
    do_POST = _serve
    do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox %s - %s", self.address_string(), format % args)


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8765,
    seed: str | None = "demo",
    drip_seconds: float | None = None,
    webhook_url: str | None = None,
) -> None:
    """Run the sandbox until interrupted (the ``social-care sandbox`` command)."""
    server = SandboxServer(host, port, seed, drip_seconds, webhook_url=webhook_url).start()
    print(f"social-care sandbox listening on {server.base_url} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
