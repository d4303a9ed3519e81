"""Commands of the pipeline: init, demo, poll, classify, queue, approve, reject, send, users, db, sandbox."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from social_care import models as m
from social_care.cli.app import app
from social_care.cli.common import check_format, console, err_console, print_json, state
from social_care.config import DEFAULT_CONFIG_PATH
from social_care.jsonl import numbered_rows
from social_care.replies import history

users_app = typer.Typer(help="Team members and their roles.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(db_app, name="db")

STATES = tuple(s.value for s in m.ReplyState)


@app.command()
def init(
    path: Annotated[Path, typer.Option(help="Where to write the configuration.")] = Path("config.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter config.yaml and create the database."""
    if path.exists() and not force:
        raise ValueError(f"{path} exists; pass --force to overwrite it")
    path.write_text(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    state.config_path = path
    core = state.core(migrate=True)
    console.print(f"wrote [bold]{path}[/]; database ready at {core.config.database_url}")
    console.print("next: add a user with `social-care users add NAME --role admin`, then `social-care demo`")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (safe to run repeatedly)."""
    core = state.core(migrate=True)
    console.print(f"database at migration {core.engine.url.render_as_string(hide_password=True)}: up to date")


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[str, typer.Option(help="viewer, agent, approver or admin.")],
    password: Annotated[str | None, typer.Option(help="Password for the web inbox (or set it later).", envvar="SOCIAL_CARE_PASSWORD")] = None,
) -> None:
    """Add a team member (or change their role)."""
    from social_care.users import add_user

    if role not in {r.value for r in m.Role}:
        raise ValueError("--role must be one of viewer, agent, approver, admin")
    core = state.core(migrate=True)
    add_user(core.engine, name, role, password=password)
    console.print(f"{name}: {role}")


@users_app.command("deactivate")
def users_deactivate(name: str) -> None:
    """Stop a team member from logging in or acting (their history stays)."""
    from social_care.users import set_active

    set_active(state.core().engine, name, False)
    console.print(f"{name}: deactivated")


@users_app.command("activate")
def users_activate(name: str) -> None:
    """Let a deactivated team member back in."""
    from social_care.users import set_active

    set_active(state.core().engine, name, True)
    console.print(f"{name}: active")


@users_app.command("list")
def users_list(fmt: Annotated[str, typer.Option("--format")] = "table") -> None:
    """List team members."""
    from social_care.users import list_users

    check_format(fmt, ("table", "json"))
    users = list_users(state.core().engine)
    if fmt == "json":
        print_json([{"name": u.name, "role": u.role.value, "active": u.active} for u in users])
        return
    table = Table("name", "role", "active")
    for u in users:
        table.add_row(u.name, u.role.value, "yes" if u.active else "no")
    console.print(table)


@app.command()
def poll(
    account: Annotated[str | None, typer.Option(help="Only this account (its name in config).")] = None,
    once: Annotated[bool, typer.Option(help="Poll once and exit (default: keep polling until Ctrl-C).")] = False,
    fmt: Annotated[str, typer.Option("--format")] = "table",
) -> None:
    """Fetch new mentions from the platforms and store them."""
    check_format(fmt, ("table", "json"))
    core = state.core(migrate=True)
    while True:
        reports = core.poll(account, only_due=not once)
        if fmt == "json":
            print_json([{"account": r.account, "status": r.status.value, "stored": r.stored,
                         "next_poll_at": r.next_poll_at,
                         "streams": [s.__dict__ for s in r.streams]} for r in reports])
        else:
            for r in reports:
                detail = ", ".join(f"{s.stream} {s.stored}/{s.fetched}" + (f" ({s.error})" if s.error else "")
                                   for s in r.streams)
                console.print(f"{r.account}: {r.status.value}; new/fetched {detail}", highlight=False)
        if once:
            return
        time.sleep(5)


def _read_inputs(texts: list[str], input_file: Path | None) -> list[str]:
    if input_file is None:
        return texts
    out: list[str] = []
    for n, record in numbered_rows(input_file):
        if isinstance(record, str):
            out.append(record)
        elif isinstance(record, dict) and isinstance(record.get("text"), str):
            out.append(record["text"])
        else:
            raise ValueError(f"{input_file}:{n}: expected a JSON string or an object with a 'text' field")  # noqa: TRY004
    return out


@app.command()
def classify(
    texts: Annotated[list[str] | None, typer.Argument(help="Texts to classify.")] = None,
    input_file: Annotated[Path | None, typer.Option("--input", help="JSONL file: one {\"text\": ...} per line.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, json or jsonl.")] = "table",
) -> None:
    """Classify texts: language, sentiment, intent, complaint, categories, severity, remedy."""
    check_format(fmt, ("table", "json", "jsonl"))
    if texts and input_file:
        raise ValueError("give texts or --input, not both")
    items = _read_inputs(list(texts or []), input_file)
    if not items:
        raise ValueError("nothing to classify: give one or more texts, or --input FILE.jsonl")
    core = state.core(check=False)
    results = core.classifier.classify(items, batch_size=core.config.settings.classifier.batch_size)
    rows = [{"text": t, **r.as_dict()} for t, r in zip(items, results, strict=True)]
    if fmt == "jsonl":
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    elif fmt == "json":
        print_json(rows)
    else:
        table = Table("text", "lang", "sentiment", "intent", "complaint", "categories", "severity", "remedy",
                      title=f"{core.classifier.name} {core.classifier.version}", show_lines=True)
        for row in rows:
            table.add_row(row["text"][:200], row["language"], row["sentiment"], row["intent"],
                          f"{'yes' if row['complaint'] else 'no'} ({row['complaint_score']:.2f})",
                          ", ".join(row["categories"]) or "-", str(row["severity"]),
                          "yes" if row["remedy_due"] else "no")
        console.print(table)


def _queue_table(rows: list, title: str) -> Table:  # type: ignore[type-arg]
    table = Table("id", "platform", "author", "mention", "class", "state", "draft", "lint", title=title,
                  show_lines=True)
    for r in rows:
        cls = f"{r.intent} {r.language} sev {r.severity}" + (f"\n{', '.join(r.categories)}" if r.categories else "")
        errors = [f["rule"] for f in r.lint if f["level"] == "error"]
        warnings = [f["rule"] for f in r.lint if f["level"] != "error"]
        lint = ("[red]" + ", ".join(errors) + "[/]" if errors else "[green]ok[/]") + (
            f"\n[yellow]{', '.join(warnings)}[/]" if warnings else "")
        table.add_row(str(r.id), r.platform, f"@{r.author}" if r.author else "-", r.mention_text[:160], cls,
                      r.state + (f"\n(claimed by {r.claimed_by})" if r.claimed_by else ""), r.draft_text, lint)
    return table


@app.command()
def queue(
    state_: Annotated[str, typer.Option("--state", help=f"One of {', '.join(STATES)}, or 'all'.")] = "drafted",
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List reply drafts in priority order."""
    check_format(fmt, ("table", "json"))
    if state_ != "all" and state_ not in STATES:
        raise ValueError(f"--state must be one of {', '.join(STATES)} or all")
    core = state.core()
    rows = core.queue(state=None if state_ == "all" else state_, limit=limit)
    if fmt == "json":
        print_json([r.as_dict() for r in rows])
        return
    console.print(_queue_table(rows, f"{len(rows)} {state_} replies"))


@app.command()
def approve(
    draft_id: Annotated[int, typer.Argument(metavar="ID")],
    user: Annotated[str, typer.Option(help="Who approves (an approver or admin).")],
    text: Annotated[str | None, typer.Option(help="Approve this text instead of the draft's (edited-and-approved).")] = None,
    override: Annotated[bool, typer.Option(help="Approve although the policy lint fails (recorded).")] = False,
) -> None:
    """Approve a draft (it is posted by `send` or the daemon)."""
    draft = state.core().approve(draft_id, user, text=text, override=override)
    console.print(f"draft {draft.id} approved by {user}; `social-care send` posts it")


@app.command()
def reject(
    draft_id: Annotated[int, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why (kept for the team's reports).")],
    user: Annotated[str, typer.Option(help="Who rejects (an approver or admin).")],
) -> None:
    """Reject a draft: it will not be posted."""
    state.core().reject(draft_id, user, reason)
    console.print(f"draft {draft_id} rejected by {user}")


@app.command()
def send(
    retry_failed: Annotated[bool, typer.Option(help="Also retry replies whose sending failed.")] = False,
    fmt: Annotated[str, typer.Option("--format")] = "table",
) -> None:
    """Post every approved reply, exactly once."""
    check_format(fmt, ("table", "json"))
    report = state.core().send(retry_failed=retry_failed)
    if fmt == "json":
        print_json(report.__dict__)
    else:
        console.print(f"sent {report.sent}, reconciled {report.reconciled}, failed {report.failed}")


@app.command("history")
def history_cmd(draft_id: Annotated[int, typer.Argument(metavar="ID")],
                fmt: Annotated[str, typer.Option("--format")] = "table") -> None:
    """Every event of one draft: who did what, when, and the text before and after."""
    check_format(fmt, ("table", "json"))
    events = history(state.core().engine, draft_id)
    if fmt == "json":
        print_json([e.model_dump() for e in events])
        return
    table = Table("when (UTC)", "who", "action", "state", "text / note", show_lines=True)
    for e in events:
        table.add_row(f"{e.created_at:%Y-%m-%d %H:%M:%S}", e.actor, e.action,
                      f"{e.from_state or '-'} → {e.to_state or '-'}", (e.after_text or "") + (f"\n[dim]{e.note}[/]" if e.note else ""))
    console.print(table)


@app.command()
def sandbox(
    port: Annotated[int | None, typer.Option(help="Port (default: sandbox.port in config).")] = None,
    host: Annotated[str | None, typer.Option(help="Address (default: sandbox.host in config).")] = None,
    drip: Annotated[float | None, typer.Option(help="A new mention every this many seconds (0 = off).")] = None,
) -> None:
    """Run the local fake platform (X API v2 and Graph API) with its sample mentions."""
    from social_care.sandbox import serve_forever

    config = state.core(check=False).config.settings.sandbox
    host, port = host or config.host, port or config.port
    drip = config.drip_seconds if drip is None else drip
    err_console.print(f"sandbox platform on http://{host}:{port}/ (Ctrl-C to stop)")
    serve_forever(host=host, port=port, seed="demo", drip_seconds=drip or None)


@app.command()
def demo(
    once: Annotated[bool, typer.Option(help="Run one cycle (poll, classify, draft), print it and exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between cycles.")] = 5.0,
) -> None:
    """The whole path on the sandbox platform: mentions arrive, get classified and drafted; approved replies are posted."""
    from social_care.cli.demo import run_demo

    run_demo(state.core(migrate=True), once=once, interval=interval)
