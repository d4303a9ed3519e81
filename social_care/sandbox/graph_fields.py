"""Parses and applies Graph API ``fields=`` expressions, e.g. ``id,from{id,name},comments.limit(5){id}``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldSpec:
    """One requested field: its modifiers (``.limit(5)``) and, for objects and edges, subfields."""

    modifiers: dict[str, str] = field(default_factory=dict)
    children: dict[str, FieldSpec] | None = None


class FieldSyntaxError(ValueError):
    """The fields expression is malformed (Graph answers code 100)."""


def parse_fields(expression: str) -> dict[str, FieldSpec]:
    specs, position = _parse_list(expression, 0)
    if position != len(expression):
        raise FieldSyntaxError(f"unexpected {expression[position]!r} at {position}")
    return specs


def _parse_list(text: str, position: int) -> tuple[dict[str, FieldSpec], int]:
    specs: dict[str, FieldSpec] = {}
    while position < len(text) and text[position] != "}":
        name_end = position
        while name_end < len(text) and text[name_end] not in ",.{}(":
            name_end += 1
        name = text[position:name_end].strip()
        position = name_end
        spec = FieldSpec()
        while position < len(text) and text[position] == ".":
            modifier_end = text.index("(", position)
            close = text.index(")", modifier_end)
            spec.modifiers[text[position + 1 : modifier_end]] = text[modifier_end + 1 : close]
            position = close + 1
        if position < len(text) and text[position] == "{":
            spec.children, position = _parse_list(text, position + 1)
            if position >= len(text) or text[position] != "}":
                raise FieldSyntaxError("unbalanced braces")
            position += 1
        if name:
            specs[name] = spec
        if position < len(text) and text[position] == ",":
            position += 1
    return specs, position


# A renderable object: plain values, nested mappings, or callables that take the edge's
# modifiers (``.filter(stream)``) and produce its items.
Edge = Callable[[dict[str, str]], list[Mapping[str, Any]]]


def select(obj: Mapping[str, Any], specs: dict[str, FieldSpec]) -> dict[str, Any]:
    """The requested fields of ``obj``; edges (callables) become ``{"data": [...]}``, with a
    ``summary`` when asked for with ``.summary(true)``."""
    selected: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in obj:
            continue
        value = obj[name]
        if callable(value):
            items = value(spec.modifiers)
            limit = int(spec.modifiers.get("limit", "25"))
            child_specs = spec.children or {"id": FieldSpec()}
            edge: dict[str, Any] = {"data": [select(item, child_specs) for item in items[:limit]]}
            if spec.modifiers.get("summary") == "true":
                edge["summary"] = {
                    "order": "chronological",
                    "total_count": len(items),
                    "can_comment": True,
                }
            selected[name] = edge
        elif isinstance(value, Mapping):
            selected[name] = select(value, spec.children) if spec.children else dict(value)
        else:
            selected[name] = value
    if "id" in obj and "id" not in selected and specs:
        # Graph always answers the id of a node it renders.
        selected = {"id": obj["id"], **selected}
    return selected
