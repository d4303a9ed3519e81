"""`social-care report`: the weekly complaint-trend report in the terminal, or as HTML, JSON or CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from social_care.cli.app import app
from social_care.cli.common import check_format, console, err_console, state
from social_care.reports import (
    FORMATS,
    build_report,
    render_csv,
    render_html,
    render_json,
    render_terminal,
)


@app.command()
def report(
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: the last complete week, brand time zone).")] = None,
    account: Annotated[str | None, typer.Option(help="Only this account (its name in config.yaml).")] = None,
    platform: Annotated[str | None, typer.Option(help="Only this platform: x, facebook or instagram.")] = None,
    format: Annotated[str, typer.Option("--format", help="terminal, html, json or csv.")] = "terminal",
    output: Annotated[Path | None, typer.Option(help="Write to this file instead of the screen.")] = None,
) -> None:
    """Weekly complaint trends: volumes, spiking categories, sentiment, response times, new terms."""
    check_format(format, FORMATS)
    core = state.core()
    result = build_report(core.engine, core.config, week, account=account, platform=platform)
    if format == "terminal":
        if output is None:
            render_terminal(result, console)
            return
        with output.open("w", encoding="utf-8") as handle:
            render_terminal(result, Console(file=handle, width=120, force_terminal=False))
    else:
        text = {"html": render_html, "json": render_json, "csv": render_csv}[format](result)
        if output is None:
            sys.stdout.write(text)
            return
        output.write_text(text, encoding="utf-8")
    err_console.print(f"report {result.week} written to {output}")
