"""Daemon commands: `run` (schedule everything until SIGTERM), `status` (accounts and backlog), `forget` (erasure)."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer
from rich.table import Table

from social_care.cli.app import app
from social_care.cli.common import check_format, console, err_console, print_json, state


@app.command()
def run(
    metrics_port: Annotated[int | None, typer.Option(help="Port for /healthz and /metrics, 0 = off (default: daemon.metrics_port).")] = None,
    metrics_host: Annotated[str | None, typer.Option(help="Address for /healthz and /metrics (default: daemon.metrics_host).")] = None,
    retention_days: Annotated[int | None, typer.Option(help="Drop raw platform payloads older than this many days (default: daemon.retention_days).")] = None,
    pipeline_interval: Annotated[float | None, typer.Option(help="Seconds between classify/draft runs.")] = None,
    send_interval: Annotated[float | None, typer.Option(help="Seconds between runs of the sender of approved replies.")] = None,
    poll_jitter: Annotated[float | None, typer.Option(help="Up to this many seconds added to each poll time.")] = None,
    leader_retry: Annotated[float | None, typer.Option(help="Seconds between attempts to become the polling leader.")] = None,
    stop_timeout: Annotated[float | None, typer.Option(help="After SIGTERM, wait at most this long for the running step.")] = None,
) -> None:
    """Run the daemon: poll every account on its interval, classify, draft, send approved replies; stop on SIGTERM.

    Settings come from `daemon:` in config.yaml; a flag given here overrides its key for this run.
    """
    from social_care.daemon import Daemon, check_startup, setup_logging
    from social_care.daemon.options import options_from_config

    core = state.core(check=False)  # the config is valid once this returns
    options = options_from_config(
        core.config.settings.daemon, metrics_port=metrics_port, metrics_host=metrics_host,
        retention_days=retention_days, pipeline_seconds=pipeline_interval, send_seconds=send_interval,
        poll_jitter_seconds=poll_jitter, leader_retry_seconds=leader_retry, shutdown_timeout_seconds=stop_timeout,
    )
    setup_logging(core.config.settings.log_level)

    def echo(line: str) -> None:
        err_console.print(line, highlight=False, markup=False)

    daemon = Daemon(core, options)
    daemon.claim_instance()  # a second daemon on one SQLite file is refused before the model loads
    try:
        daemon.reauth_retry = check_startup(core, echo)
    except BaseException:
        daemon.leadership.release()
        raise
    clean = daemon.run()
    if not clean:
        logging.shutdown()
        os._exit(1)  # a job thread is still inside its step; its transaction rolls back when we go


@app.command()
def status(fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table") -> None:
    """Each account's last successful poll, next poll, backlog and errors; whether a daemon runs."""
    from social_care.daemon import status_snapshot

    check_format(fmt, ("table", "json"))
    core = state.core()
    snapshot = status_snapshot(core.engine, core.config)
    if fmt == "json":
        print_json(snapshot)
        return
    daemon = snapshot["daemon"]
    console.print(f"daemon: {'running, leader ' + str(daemon['scheduler_leader']) if daemon['running'] else 'not running'}"
                  f" ({daemon['database']})", highlight=False)
    table = Table("account", "status", "last success", "next poll", "backlog", "error",
                  caption="times in UTC; backlog: to classify / to draft / drafts waiting / approved unsent")
    for a in snapshot["accounts"]:
        b = a["backlog"]
        status_text = a["status"] + (f" ({a['consecutive_failures']}x)" if a["consecutive_failures"] else "")
        if "reads_today" in a:
            budget = a["daily_read_budget"] or "no budget"
            status_text += f"\nreads today {a['reads_today']}/{budget}"
        table.add_row(f"{a['account']}\n{a['platform']}" + ("" if a["enabled"] else " [disabled]"), status_text,
                      _short(a["last_success_at"]), _short(a["next_poll_at"]),
                      f"{b['unclassified']}/{b['undrafted']}/{b['drafts_waiting']}/{b['approved_unsent']}",
                      (a["error"] or "")[:160])
    console.print(table)
    t = snapshot["backlog"]
    console.print(f"{t['mentions']} mentions; {t['unclassified']} to classify, {t['undrafted']} to draft, "
                  f"{t['drafts_waiting']} drafts waiting for approval, {t['approved_unsent']} approved not yet sent, "
                  f"{t['failed']} failed", highlight=False)


def _short(value: str | None) -> str:
    return value.replace("T", " ")[:16] if value else "-"


@app.command()
def forget(
    author: Annotated[str, typer.Option(help="The person's handle (with or without @).")],
    platform: Annotated[str | None, typer.Option(help="Only on this platform (x, facebook, instagram).")] = None,
    actor: Annotated[str, typer.Option(help="Who asked for the erasure (recorded in the audit log).",
                                       envvar="USER")] = "cli",
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a person's data: their mentions' texts and payloads, their name and handle, drafts that quote them."""
    from social_care.daemon import forget_author

    if platform is not None and platform not in ("x", "facebook", "instagram"):
        raise ValueError("--platform must be one of x, facebook, instagram")
    core = state.core()
    if not yes:
        typer.confirm(f"Erase everything stored about @{author.lstrip('@')}"
                      f"{' on ' + platform if platform else ''}? This cannot be undone", abort=True)
    report = forget_author(core.engine, author, platform=platform, actor=actor)
    if not report.authors:
        console.print(f"nothing stored about @{author.lstrip('@')}; the request is recorded in the audit log",
                      highlight=False)
        return
    console.print(f"erased @{author.lstrip('@')}: {report.mentions} mentions, {report.drafts_erased} drafts "
                  f"({report.drafts_withdrawn} withdrawn), {report.posted_replies} posted replies, "
                  f"{report.quoted_elsewhere} quotes elsewhere; recorded in the audit log", highlight=False)
