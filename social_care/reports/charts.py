"""Report charts drawn with matplotlib (Agg, no display needed) and returned as base64 PNG."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # headless servers and the daemon have no display

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from social_care.reports.model import Report

INK = "#1f2933"
MUTED = "#8795a1"
MENTIONS = "#3b82f6"
COMPLAINTS = "#ef4444"
SPIKE = "#f59e0b"
SENTIMENT_COLOURS = {"negative": "#ef4444", "neutral": "#a0aec0", "positive": "#22c55e"}
SEVERITY_COLOURS = ["#d1fae5", "#fde68a", "#fdba74", "#f87171", "#b91c1c"]


def _figure(height: float = 3.6) -> tuple[Figure, plt.Axes]:
    # 6 inches wide with 12-14 pt text stays legible when a phone shrinks the image to ~380 px.
    fig, ax = plt.subplots(figsize=(6.0, height), dpi=150)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#cbd2d9")
    ax.tick_params(colors=INK, labelsize=12)
    ax.grid(axis="y", color="#e4e7eb", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", facecolor="white")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def trend_chart(report: Report) -> str:
    """Mentions and complaints over the 9 weeks, this week highlighted."""
    fig, ax = _figure()
    labels = [w.split("-")[1] for w in report.weeks]
    x = list(range(len(labels)))
    ax.bar(x, report.mentions.series, color=MENTIONS, alpha=0.25, label="mentions", width=0.6)
    ax.bar([x[-1]], [report.mentions.series[-1]], color=MENTIONS, alpha=0.55, width=0.6)
    ax.plot(x, report.complaints.series, color=COMPLAINTS, marker="o", linewidth=2.2, label="complaints")
    ax.set_xticks(x, labels)
    ax.legend(frameon=False, fontsize=12, loc="upper left")
    ax.set_title("Mentions and complaints per week", loc="left", fontsize=14, color=INK, fontweight="bold")
    return _png(fig)


def category_chart(report: Report) -> str:
    """This week's complaints per category against the trailing median; spikes in amber."""
    spikes = sorted(report.spikes, key=lambda s: (s.this_week, s.category))[-10:]
    fig, ax = _figure(max(2.2, 0.55 * len(spikes) + 1.3))
    if not spikes:
        ax.text(0.5, 0.5, "No complaints in any category", ha="center", va="center", color=MUTED,
                transform=ax.transAxes)
        ax.set_axis_off()
        return _png(fig)
    y = list(range(len(spikes)))
    ax.barh(y, [s.this_week for s in spikes], color=[SPIKE if s.spike else COMPLAINTS for s in spikes], height=0.6)
    ax.scatter([s.median for s in spikes], y, marker="|", s=400, linewidths=2.5, color=INK, zorder=3)
    ax.set_yticks(y, [s.category.replace("_", " ") for s in spikes])
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e4e7eb", linewidth=0.8)
    ax.set_title("Complaints by category", loc="left", fontsize=14, color=INK, fontweight="bold")
    return _png(fig)


def sentiment_chart(report: Report) -> str:
    """One stacked bar: the share of negative, neutral and positive mentions."""
    fig, ax = _figure(1.6)
    left = 0.0
    for key, value in report.sentiment_share.items():
        ax.barh([0], [value], left=left, color=SENTIMENT_COLOURS.get(key, MUTED), height=0.6)
        if value >= 0.08:
            ax.text(left + value / 2, 0, f"{key}\n{value:.0%}", ha="center", va="center", fontsize=12, color=INK)
        left += value
    ax.set_xlim(0, 1)
    ax.set_axis_off()
    ax.set_title("Sentiment", loc="left", fontsize=14, color=INK, fontweight="bold")
    return _png(fig)


def severity_chart(report: Report) -> str:
    """Complaints per severity level, 0 (mild) to 4 (urgent)."""
    fig, ax = _figure(2.8)
    keys = list(report.complaint_severity)
    values = list(report.complaint_severity.values())
    ax.bar(keys, values, color=SEVERITY_COLOURS[: len(keys)], edgecolor="#cbd2d9", width=0.6)
    ax.set_xlabel("severity (0 mild to 4 urgent)", color=MUTED, fontsize=12)
    ax.set_title("Complaints by severity", loc="left", fontsize=14, color=INK, fontweight="bold")
    return _png(fig)


def all_charts(report: Report) -> dict[str, str]:
    return {
        "trend": trend_chart(report),
        "categories": category_chart(report),
        "sentiment": sentiment_chart(report),
        "severity": severity_chart(report),
    }
