"""`social-care eval`: score the configured model on a labelled JSONL file (the shared data's formats)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from social_care.cli.app import app
from social_care.cli.common import check_format, console, print_json, state


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, rows)
    elif isinstance(value, float):
        rows.append((prefix, f"{value:.4f}"))
    elif not isinstance(value, list):
        rows.append((prefix, str(value)))


@app.command("eval")
def eval_command(
    dataset: Annotated[Path, typer.Option(help="JSONL file with a text and whichever labels it has.")],
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    limit: Annotated[int | None, typer.Option(help="Only the first N records.")] = None,
    runtime: Annotated[
        str | None,
        typer.Option(help="Override classifier.runtime: torch, torch-int8, onnx or onnx-int8."),
    ] = None,
) -> None:
    """Classify every text of a labelled file and print the metrics its labels allow, plus throughput."""
    from social_care.classifier.evaluate import evaluate

    check_format(fmt, ("table", "json"))
    if not dataset.is_file():
        raise ValueError(f"{dataset} is not a file")
    core = state.core(check=False)
    classifier = core.load_classifier(runtime) if runtime else core.classifier
    try:
        result = evaluate(dataset, classifier, batch_size=core.config.settings.classifier.batch_size, limit=limit)
    except (json.JSONDecodeError, KeyError) as exc:
        raise ValueError(f"{dataset}: not a labelled JSONL file ({exc})") from exc
    if fmt == "json":
        print_json(result)
        return
    rows: list[tuple[str, str]] = []
    _flatten("", result["metrics"], rows)
    _flatten("throughput", result["throughput"], rows)
    table = Table("metric", "value", title=f"{result['model']['name']} {result['model']['version']} on "
                  f"{dataset.name} ({result['n']} texts)")
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
