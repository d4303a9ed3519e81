"""House rules that keep the layout honest."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_connectors_never_import_social_care() -> None:
    offenders = {str(p.relative_to(REPO)): sorted(n for n in _imports(p) if n.split(".")[0] == "social_care")
                 for p in (REPO / "connectors").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_models_directory_stays_under_80_mb() -> None:
    size = sum(p.stat().st_size for p in (REPO / "models").rglob("*") if p.is_file())
    assert size < 80 * 1024 * 1024, f"models/ is {size / 1e6:.1f} MB"


def test_every_model_directory_has_a_model_card() -> None:
    for directory in (REPO / "models").iterdir():
        if directory.is_dir():
            assert (directory / "MODEL_CARD.md").is_file(), directory
