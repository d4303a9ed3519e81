"""The daemon's small HTTP server: GET /healthz (JSON, 200 or 503) and GET /metrics (Prometheus text)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

HealthProbe = Callable[[], tuple[bool, dict[str, Any]]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._reply(200, CONTENT_TYPE_LATEST, generate_latest(self.server.registry))
        elif path in ("/healthz", "/health"):
            healthy, detail = self.server.probe()
            body = json.dumps({"status": "ok" if healthy else "unhealthy", **detail}, default=str).encode()
            self._reply(200 if healthy else 503, "application/json", body)
        else:
            self._reply(404, "text/plain; charset=utf-8", b"not found: try /healthz or /metrics\n")

    def _reply(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s", format % args)  # scrapes every 15 s would drown the log at INFO


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], registry: CollectorRegistry, probe: HealthProbe) -> None:
        super().__init__(address, _Handler)
        self.registry = registry
        self.probe = probe


class OpsServer:
    """Serves health and metrics on its own thread until :meth:`stop`."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry, probe: HealthProbe) -> None:
        self._server = _Server((host, port), registry, probe)
        self._thread = threading.Thread(target=self._server.serve_forever, name="ops-http", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> OpsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
