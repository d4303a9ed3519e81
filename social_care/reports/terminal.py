"""The terminal report: rich tables with sparklines of the 9-week series."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from social_care.reports.model import Breakdown, Change, Report

_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[int]) -> str:
    """One block character per week, scaled to the largest value of the series."""
    top = max(values, default=0)
    if top <= 0:
        return _BARS[0] * len(values)
    return "".join(_BARS[min(len(_BARS) - 1, round(v / top * (len(_BARS) - 1)))] for v in values)


def _delta(change: Change, *, bad_when_up: bool = True) -> Text:
    if change.change == 0:
        return Text("=", style="dim")
    pct = "" if change.change_pct is None else f" {change.change_pct:+.0f}%"
    worse = (change.change > 0) == bad_when_up
    return Text(f"{change.change:+d}{pct}", style="red" if worse else "green")


def _breakdown_table(title: str, items: list[Breakdown]) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    table.add_column(title.split()[-1])
    for name in ("mentions", "Δ", "complaints", "Δ", "complaints, 9 weeks"):
        table.add_column(name, justify="right" if name != "complaints, 9 weeks" else "left")
    for item in items:
        table.add_row(item.key, str(item.mentions.this_week), _delta(item.mentions, bad_when_up=False),
                      str(item.complaints.this_week), _delta(item.complaints),
                      Text(sparkline(item.complaints.series), style="red"))
    return table


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:g} min"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def render_terminal(report: Report, console: Console) -> None:
    filters = ", ".join(f"{k} {v}" for k, v in report.filters.items() if v)
    header = Text.assemble((f"{report.brand} · week {report.week}", "bold"),
                           f"  {report.start[:10]} to {report.end[:10]} ({report.timezone})",
                           f"  {filters}" if filters else "")
    totals = Table.grid(padding=(0, 3))
    totals.add_row("mentions", str(report.mentions.this_week), _delta(report.mentions, bad_when_up=False),
                   Text(sparkline(report.mentions.series), style="blue"))
    totals.add_row("complaints", str(report.complaints.this_week), _delta(report.complaints),
                   Text(sparkline(report.complaints.series), style="red"))
    console.print(Panel(Group(header, totals), border_style="blue"))

    parts: list[RenderableType] = []
    for spike in report.spiking:
        parts.append(Text(f"⚠ {spike.category}: {spike.this_week} complaints (usually {spike.median:g}, "
                          f"z {spike.z:.1f})", style="bold yellow"))
        for example in spike.examples:
            parts.append(Text(f"   {example.author} ({example.platform}, severity {example.severity}): {example.text}"))
    if not parts:
        parts.append(Text("No category is outside its usual range this week.", style="green"))
    parts.append(Text(report.spike_rule, style="dim"))
    console.print(Panel(Group(*parts), title="spikes", title_align="left", border_style="yellow"))

    for title, items in (("by category", report.by_category), ("by platform", report.by_platform),
                         ("by language", report.by_language)):
        if items:
            console.print(_breakdown_table(title, items))

    mix = Table(title="sentiment and severity", title_justify="left")
    mix.add_column("sentiment")
    mix.add_column("mentions", justify="right")
    mix.add_column("share", justify="right")
    for key, value in report.sentiment.items():
        mix.add_row(key, str(value), _pct(report.sentiment_share[key]))
    severity = "  ".join(f"{k}: {v}" for k, v in report.complaint_severity.items())
    console.print(mix)
    console.print(f"complaints by severity  {severity}")
    rem = report.remedies
    console.print(f"remedy due  {rem.due} cases, {rem.resolved} answered ({_pct(rem.resolved_share)})")

    r = report.response
    response = Table(title="response", title_justify="left", show_header=False)
    response.add_column("measure")
    response.add_column("value", justify="right")
    for label, value in (
        ("mentions with a draft / replies posted", f"{r.drafted} / {r.replied}"),
        ("first response median / p90", f"{_minutes(r.first_response_median_min)} / {_minutes(r.first_response_p90_min)}"),
        ("waiting for approval median / p90",
         f"{_minutes(r.approval_wait_median_min)} / {_minutes(r.approval_wait_p90_min)}"),
        (f"answered within {r.sla_minutes} min", f"{r.within_sla} of {r.sla_eligible} ({_pct(r.within_sla_share)})"),
        ("approved without edits", f"{r.approved_unedited} of {r.approvals} ({_pct(r.unedited_share)})"),
        ("rejected drafts", str(r.rejected)),
    ):
        response.add_row(label, value)
    for reason in r.rejected_reasons:
        response.add_row(Text(f"  rejected: {reason.reason}", style="dim"), str(reason.count))
    console.print(response)

    terms = ", ".join(f"{t.term} ({t.complaints})" for t in report.new_terms) or "none"
    console.print(Text.assemble(("new in complaints: ", "bold"), terms))
