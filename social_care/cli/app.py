"""The typer application object and its global options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from social_care.cli.common import state

app = typer.Typer(
    name="social-care",
    help="Answer every customer who mentions your brand on X, Facebook and Instagram, with a human approving each reply.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _global(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="config.yaml to use (default: $SOCIAL_CARE_CONFIG, ./config.yaml, or the embedded defaults).")] = None,
) -> None:
    state.config_path = config
