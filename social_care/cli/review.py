"""`social-care review`: a keyboard-driven approval loop in the terminal (works over SSH)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from typing import Annotated

import typer
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table

from social_care.app import QueueRow, SocialCare
from social_care.cli.app import app
from social_care.cli.common import console, state
from social_care.replies import LintBlocked, QueueError, claim
from social_care.suggestions import Alternative, alternatives

KEYS = "[a]pprove  [e]dit  [r]eject  [s]kip  [1-3] approve an alternative  [b]ulk-approve clean praise  [q]uit"


def _show(row: QueueRow, position: int, total: int) -> None:
    meta = Table.grid(padding=(0, 2))
    meta.add_row("from", f"@{row.author}" + (f" ({row.author_name})" if row.author_name else "")
                 + (f", {row.followers} followers" if row.followers is not None else ""))
    meta.add_row("where", f"{row.platform} / {row.account or '-'}" + (f"  {row.permalink}" if row.permalink else ""))
    meta.add_row("reads as", f"{row.intent}, {row.sentiment}, {row.language}, severity {row.severity}, "
                 f"complaint {row.complaint_score:.2f}" + (f", {', '.join(row.categories)}" if row.categories else "")
                 + (", remedy due" if row.remedy_due else ""))
    console.rule(f"draft {row.id}  ({position}/{total})")
    console.print(meta)
    console.print(Panel(row.mention_text, title="mention", border_style="cyan"))
    console.print(Panel(row.draft_text, title="draft reply", border_style="green"))
    for finding in row.lint:
        colour = "red" if finding["level"] == "error" else "yellow"
        console.print(f"[{colour}]{finding['level']}[/] {finding['rule']}: {finding['message']}", highlight=False)


def _show_alternatives(alts: list[Alternative]) -> None:
    for n, alt in enumerate(alts, 1):
        console.print(Panel(alt.text, title=f"alternative {n}: approved before for a similar mention "
                            f"({alt.similarity:.0%} alike{', edited by the team' if alt.edited else ''})",
                            border_style="magenta"))


def _edit_text(text: str) -> str:
    editor = os.environ.get("EDITOR")
    if editor:
        with tempfile.NamedTemporaryFile("w+", suffix=".txt", delete=False, encoding="utf-8") as handle:
            handle.write(text)
            path = handle.name
        try:
            subprocess.run([*editor.split(), path], check=False)
            with open(path, encoding="utf-8") as handle:
                return handle.read().strip()
        finally:
            os.unlink(path)
    return Prompt.ask("new text", default=text).strip()


def _approve(core: SocialCare, row: QueueRow, user: str, text: str | None = None) -> None:
    try:
        core.approve(row.id, user, text=text)
        console.print(f"[green]approved[/] {row.id}")
    except LintBlocked as exc:
        console.print(f"[red]{exc}[/]")
        if Prompt.ask("approve anyway (recorded as an override)?", choices=["y", "n"], default="n") == "y":
            core.approve(row.id, user, text=text, override=True)
            console.print(f"[green]approved with override[/] {row.id}")


def _bulk_praise(core: SocialCare, rows: list[QueueRow], user: str) -> int:
    clean = [r for r in rows if r.intent == "praise" and not any(f["level"] == "error" for f in r.lint)]
    if not clean:
        console.print("no lint-clean praise drafts")
        return 0
    if Prompt.ask(f"approve {len(clean)} lint-clean praise replies?", choices=["y", "n"], default="n") != "y":
        return 0
    for row in clean:
        core.approve(row.id, user)
    console.print(f"[green]approved {len(clean)}[/]")
    return len(clean)


@app.command()
def review(user: Annotated[str, typer.Option(help="Who is reviewing (agents edit; approvers approve).")],
           limit: Annotated[int, typer.Option(help="Drafts to go through.")] = 50) -> None:
    """Go through waiting drafts one by one: approve, edit, reject or skip."""
    core = state.core()
    rows = core.queue(state="drafted", limit=limit)
    if not rows:
        console.print("nothing waiting for approval")
        return
    done: set[int] = set()
    for position, row in enumerate(rows, 1):
        if row.id in done:
            continue
        try:
            claim(core.engine, row.id, user, minutes=core.config.settings.reply_policy.claim_minutes)
        except QueueError as exc:
            console.print(f"[yellow]skipping {row.id}: {exc}[/]")
            continue
        _show(row, position, len(rows))
        alts = alternatives(core.engine, row.id)
        _show_alternatives(alts)
        while True:
            choices = ["a", "e", "r", "s", "b", "q"] + [str(n) for n in range(1, len(alts) + 1)]
            key = Prompt.ask(KEYS, choices=choices, default="s", show_choices=False)
            try:
                if key == "a":
                    _approve(core, row, user)
                elif key.isdigit():
                    _approve(core, row, user, text=alts[int(key) - 1].text)
                elif key == "e":
                    text = _edit_text(row.draft_text)
                    if text and text != row.draft_text:
                        if Prompt.ask("approve the edited text now?", choices=["y", "n"], default="y") == "y":
                            _approve(core, row, user, text=text)
                        else:
                            core.edit(row.id, user, text)
                            console.print("edit saved; the draft waits for approval")
                elif key == "r":
                    core.reject(row.id, user, Prompt.ask("reason"))
                    console.print(f"[red]rejected[/] {row.id}")
                elif key == "b":
                    _bulk_praise(core, [r for r in rows if r.id not in done], user)
                    done.update(r.id for r in rows if r.intent == "praise")
                    continue
                elif key == "q":
                    return
            except QueueError as exc:
                console.print(f"[red]{exc}[/]")
                continue
            except ValueError as exc:
                console.print(f"[red]{exc}[/]")
                continue
            done.add(row.id)
            break
