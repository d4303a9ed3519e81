"""Print the configuration reference (Markdown) from the declarations in social_care/config.py and the
connectors' option dataclasses.

README.md's configuration tables are this output; tests/test_config.py fails when a key is missing there.
Usage: python scripts/config_reference.py [settings|platforms|--update-readme]
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import re
import sys
from pathlib import Path

from connectors import OPTION_TYPES, SECRET_NAMES
from social_care.config import describe_keys

BAR = "\\|"


def settings_table() -> str:
    lines = ["| key | default | what it is |", "|---|---|---|"]
    for key, default, description in describe_keys():
        shown = f"`{default.replace('|', BAR)}`" if default else ""
        lines.append(f"| `{key}` | {shown} | {description.replace('|', BAR)} |")
    return "\n".join(lines)


def _attribute_docs(cls: type) -> dict[str, str]:
    """The docstring written under each dataclass field."""
    tree = ast.parse(inspect.getsource(cls))
    docs: dict[str, str] = {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    for node, following in itertools.pairwise(body):
        documented = isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and documented:
            docs[node.target.id] = " ".join(str(following.value.value).split())  # type: ignore[attr-defined]
    return docs


def platform_table(platform: str) -> str:
    cls = OPTION_TYPES[platform]
    docs = _attribute_docs(cls)
    lines = ["| `options` key | default | what it is |", "|---|---|---|"]
    for field in dataclasses.fields(cls):
        if field.default is not dataclasses.MISSING:
            default = f"`{field.default!r}`"
        elif field.default_factory is not dataclasses.MISSING:
            default = f"`{field.default_factory()!r}`"
        else:
            default = "(required)"
        lines.append(f"| `{field.name}` | {default} | {docs.get(field.name, '').replace('|', BAR)} |")
    lines.append("")
    lines.append("`secrets` keys: " + ", ".join(f"`{name}`" for name in SECRET_NAMES[platform]))
    return "\n".join(lines)


def update_readme(path: Path) -> None:
    """Replace the generated blocks between <!-- BEGIN name --> and <!-- END name --> markers."""
    text = path.read_text(encoding="utf-8")
    blocks = {"settings": settings_table()}
    blocks.update({f"options-{p}": platform_table(p) for p in OPTION_TYPES})
    for name, body in blocks.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", re.DOTALL)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- BEGIN {name} --> block")
        text = pattern.sub(lambda m, body=body: m.group(1) + body + "\n" + m.group(2), text)
    path.write_text(text, encoding="utf-8")


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "settings"
    if what == "--update-readme":
        update_readme(Path(__file__).resolve().parents[1] / "README.md")
    elif what == "settings":
        print(settings_table())
    else:
        for platform in OPTION_TYPES:
            print(f"#### {platform}\n\n{platform_table(platform)}\n")


if __name__ == "__main__":
    main()
