"""`social-care demo`: the sandbox platform, the pipeline and the queue, on the embedded defaults."""

from __future__ import annotations

import secrets
import socket
import threading
import time

from social_care import models as m
from social_care.app import CycleReport, SocialCare
from social_care.cli.common import console, err_console
from social_care.users import add_user

DEMO_USER = "demo"


def _port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def start_sandbox(core: SocialCare, *, drip: bool):  # type: ignore[no-untyped-def]
    """Start the sandbox platform in this process unless one already listens on the configured port."""
    from social_care.sandbox import SandboxServer

    settings = core.config.settings.sandbox
    if _port_open(settings.host, settings.port):
        err_console.print(f"using the sandbox platform already running at http://{settings.host}:{settings.port}/")
        return None
    server = SandboxServer(host=settings.host, port=settings.port, seed="demo",
                           drip_seconds=(settings.drip_seconds or None) if drip else None)
    server.start()
    return server


def start_web(core: SocialCare):  # type: ignore[no-untyped-def]
    """The web inbox in a background thread, unless its port is taken."""
    import uvicorn

    from social_care.web import create_app

    settings = core.config.settings.web
    if _port_open(settings.host, settings.port):
        err_console.print(f"port {settings.port} is taken: the web inbox is not started (set web.port)")
        return None
    server = uvicorn.Server(uvicorn.Config(create_app(core), host=settings.host, port=settings.port,
                                          log_level="warning", server_header=False))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  (the demo owns Ctrl-C)
    thread = threading.Thread(target=server.run, name="demo-web", daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    return server


def start_daemon(core: SocialCare, *, interval: float):  # type: ignore[no-untyped-def]
    """The real daemon (scheduler, leader lock, jobs), in this process, with demo-sized intervals."""
    from social_care.daemon import Daemon
    from social_care.daemon.options import options_from_config

    options = options_from_config(core.config.settings.daemon, pipeline_seconds=interval, send_seconds=interval,
                                  poll_jitter_seconds=1.0, metrics_port=0)
    daemon = Daemon(core, options)
    daemon.start()
    return daemon


def _print_new(core: SocialCare, seen: set[int]) -> None:
    new_rows = [r for r in core.queue(state="drafted", limit=1000) if r.id not in seen]
    seen.update(r.id for r in new_rows)
    if new_rows:
        from social_care.cli.core import _queue_table

        console.print(_queue_table(new_rows, f"{len(new_rows)} new drafts waiting for approval"))


def _summary(report: CycleReport) -> str:
    polled = ", ".join(f"{p.account} +{p.stored}" + ("" if p.status == m.AccountStatus.OK else f" ({p.status.value})")
                       for p in report.polls)
    sent = report.sent
    return (f"polled {polled or 'nothing'}; classified {report.classified.processed}; drafted "
            f"{report.drafted.processed}" + (f"; sent {sent.sent}" if sent and sent.sent else ""))


def run_demo(core: SocialCare, *, once: bool, interval: float) -> None:
    if not any(a.sandbox for a in core.config.settings.accounts):
        raise ValueError("the demo needs at least one account with `sandbox: true` in the config")
    # A fresh password at every start: the demo user must not keep a guessable one.
    password = secrets.token_urlsafe(9)
    add_user(core.engine, DEMO_USER, m.Role.APPROVER, password=password, actor="demo")
    server = start_sandbox(core, drip=not once)
    web = daemon = None
    try:
        console.print(f"[bold]social-care demo[/] for {core.config.brand.name}: "
                      f"database {core.config.database_url}, model {core.config.model_path}")
        if server is not None:
            console.print(f"sandbox platform: {server.base_url}/ (open it to see mentions and posted replies)")
        if not once:
            web = start_web(core)
            if web is not None:
                w = core.config.settings.web
                console.print(f"web inbox: http://{w.host}:{w.port}/  (log in as [bold]{DEMO_USER}[/] with "
                              f"password [bold]{password}[/], new at every start)", highlight=False)
        seen = {r.id for r in core.queue(state=None, limit=100000)}
        if once:
            report = core.cycle(send=False, only_due=False)
            console.print(_summary(report), highlight=False)
            _print_new(core, seen)
            counts = core.counts()
            console.print(f"{counts['mentions']} mentions stored, {counts['drafted']} drafts waiting. Next: "
                          f"`social-care queue`, `social-care approve ID --user {DEMO_USER}`, `social-care send`, "
                          f"or `social-care review --user {DEMO_USER}`")
            return
        daemon = start_daemon(core, interval=interval)
        console.print("the daemon polls each account on its interval, drafts replies and posts approved ones; "
                      "Ctrl-C stops the demo", highlight=False)
        while True:
            time.sleep(interval)
            _print_new(core, seen)
    except KeyboardInterrupt:
        console.print("demo stopped")
    finally:
        if daemon is not None:
            daemon.shutdown()
        if web is not None:
            web.should_exit = True
        if server is not None:
            server.stop()
