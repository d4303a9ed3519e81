"""Every figure of the JSON report checked against values computed by hand from tests/reports/conftest.py."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from social_care.config import Config
from social_care.reports import build_report, parse_week
from social_care.reports.stats import SPIKE_RULE
from social_care.reports.terms import TERMS_RULE

from .conftest import NOW, Spec, insert_specs, local, make_config

ZERO8 = [0] * 8


def ch(this: int, previous: int, change: int, pct: float | None, series: list[int]) -> dict[str, Any]:
    return {"this_week": this, "previous_week": previous, "change": change, "change_pct": pct, "series": series}


def row(key: str, mentions: dict[str, Any], complaints: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "mentions": mentions, "complaints": complaints}


def anon(first: str, platform: str, handle: str) -> str:
    return f"@{first}***" + hashlib.sha256(f"{platform}:{handle}".encode()).hexdigest()[:4]


def test_every_figure_of_a_busy_week(seeded: Engine, config: Config) -> None:
    got = build_report(seeded, config, now=NOW).to_dict()  # default week: the last complete one, W46
    examples = got["spikes"][0].pop("examples")
    expected = {
        "week": "2026-W46",
        "previous_week": "2026-W45",
        "timezone": "America/Sao_Paulo",
        "start": "2026-11-09T00:00:00-03:00",
        "end": "2026-11-16T00:00:00-03:00",
        "generated_at": "2026-11-18T09:00:00-03:00",
        "brand": "Loja Aurora",
        "filters": {"account": None, "platform": None},
        "weeks": [f"2026-W{n}" for n in range(38, 47)],
        # 25 complaints + 5 praise + 1 question + 1 unclassified; the brand's own post is left out.
        "mentions": ch(32, 10, 22, 220.0, [8, 10, 8, 12, 10, 8, 10, 10, 32]),
        "complaints": ch(25, 10, 15, 150.0, [8, 10, 8, 12, 10, 8, 10, 10, 25]),
        "by_platform": [
            row("x", ch(15, 3, 12, 400.0, [2, 3, 2, 4, 3, 2, 3, 3, 15]),
                ch(8, 3, 5, 166.7, [2, 3, 2, 4, 3, 2, 3, 3, 8])),
            row("instagram", ch(9, 6, 3, 50.0, [5, 6, 5, 7, 6, 5, 6, 6, 9]),
                ch(9, 6, 3, 50.0, [5, 6, 5, 7, 6, 5, 6, 6, 9])),
            row("facebook", ch(8, 1, 7, 700.0, [1] * 8 + [8]), ch(8, 1, 7, 700.0, [1] * 8 + [8])),
        ],
        "by_language": [
            row("pt", ch(22, 10, 12, 120.0, [8, 10, 8, 12, 10, 8, 10, 10, 22]),
                ch(16, 10, 6, 60.0, [8, 10, 8, 12, 10, 8, 10, 10, 16])),
            row("en", ch(6, 0, 6, None, ZERO8 + [6]), ch(6, 0, 6, None, ZERO8 + [6])),
            row("es", ch(3, 0, 3, None, ZERO8 + [3]), ch(3, 0, 3, None, ZERO8 + [3])),
            row("unclassified", ch(1, 0, 1, None, ZERO8 + [1]), ch(0, 0, 0, None, ZERO8 + [0])),
        ],
        "by_category": [
            row("delivery", ch(13, 3, 10, 333.3, [2, 3, 2, 4, 3, 2, 3, 3, 13]),
                ch(12, 3, 9, 300.0, [2, 3, 2, 4, 3, 2, 3, 3, 12])),
            row("damaged_defective", ch(9, 6, 3, 50.0, [5, 6, 5, 7, 6, 5, 6, 6, 9]),
                ch(9, 6, 3, 50.0, [5, 6, 5, 7, 6, 5, 6, 6, 9])),
            row("payment_billing", ch(4, 1, 3, 300.0, [1] * 8 + [4]), ch(4, 1, 3, 300.0, [1] * 8 + [4])),
        ],
        "spike_rule": SPIKE_RULE,
        "spikes": [
            # history 2,3,2,4,3,2,3,3: median 3, MAD 0.5, scale max(0.74, sqrt 3, 1) = 1.732, z = 9 / 1.732
            {"category": "delivery", "this_week": 12, "median": 3.0, "mad": 0.5, "scale": 1.732, "z": 5.2,
             "spike": True},
            # flat history of 1: MAD 0, the floor 1 is the scale; z = 3 < 3.5 (and only 4 complaints)
            {"category": "payment_billing", "this_week": 4, "median": 1.0, "mad": 0.0, "scale": 1.0, "z": 3.0,
             "spike": False, "examples": []},
            # median 6, MAD 0.5, scale sqrt 6 = 2.449, z = 3 / 2.449: a busy week, but within its usual range
            {"category": "damaged_defective", "this_week": 9, "median": 6.0, "mad": 0.5, "scale": 2.449,
             "z": 1.22, "spike": False, "examples": []},
        ],
        "spiking_categories": ["delivery"],
        "sentiment": {"negative": 21, "neutral": 5, "positive": 5},
        "sentiment_share": {"negative": 0.6774, "neutral": 0.1613, "positive": 0.1613},  # of 31 classified
        "complaint_severity": {"0": 0, "1": 9, "2": 6, "3": 6, "4": 4},
        "remedies": {"due": 6, "resolved": 4, "resolved_share": 0.6667},
        "response": {
            "drafted": 9,
            "replied": 5,
            "first_response_median_min": 30.0,  # 15, 25, 30, 90, 180
            "first_response_p90_min": 144.0,  # 90 + 0.6 x (180 - 90)
            "approval_wait_median_min": 20.0,  # 8, 10, 20, 55, 120
            "approval_wait_p90_min": 94.0,  # 55 + 0.6 x (120 - 55)
            "sla_minutes": 60,
            "sla_eligible": 6,  # 9 drafts less 3 rejected
            "within_sla": 3,
            "within_sla_share": 0.5,
            "approvals": 5,
            "approved_unedited": 4,
            "edited_and_approved": 1,
            "unedited_share": 0.8,
            "rejected": 3,
            "rejected_reasons": [{"reason": "duplicate", "count": 2}, {"reason": "off-topic", "count": 1}],
        },
        "terms_rule": TERMS_RULE,
        "new_terms": [{"term": t, "complaints": 6}
                      for t in ("centro", "distribuição", "entrega", "entrega parada", "parada")],
    }
    assert got == expected
    # The three most severe, most certain delivery complaints, handles anonymised (the brand's kept).
    assert [(e["author"], e["created_at"], e["severity"], e["complaint_score"], e["platform"]) for e in examples] == [
        (anon("b", "x", "bruna"), "2026-11-10T15:00-03:00", 3, 0.95, "x"),
        (anon("c", "x", "cliente5"), "2026-11-10T14:00-03:00", 3, 0.94, "x"),
        (anon("c", "x", "cliente4"), "2026-11-10T13:00-03:00", 3, 0.93, "x"),
    ]
    assert examples[0]["text"] == (f"entrega parada no centro de distribuição {anon('j', 'x', 'joao_silva')} "
                                   "@lojaaurora <script>alert(1)</script>")
    assert all(e["text"] == "entrega parada no centro de distribuição" for e in examples[1:])


def test_an_empty_week_has_zeros_and_no_undefined_shares(seeded: Engine, config: Config) -> None:
    got = build_report(seeded, config, "2025-W10").to_dict()
    zero = ch(0, 0, 0, None, [0] * 9)
    assert (got["week"], got["previous_week"]) == ("2025-W10", "2025-W09")
    assert got["weeks"][0] == "2025-W02"
    assert got["mentions"] == zero and got["complaints"] == zero
    assert got["by_platform"] == got["by_language"] == got["by_category"] == []
    assert got["spikes"] == [] and got["spiking_categories"] == [] and got["new_terms"] == []
    assert got["sentiment"] == {"negative": 0, "neutral": 0, "positive": 0}
    assert got["sentiment_share"] == {"negative": 0.0, "neutral": 0.0, "positive": 0.0}
    assert got["complaint_severity"] == {"0": 0, "1": 0, "2": 0, "3": 0, "4": 0}
    assert got["remedies"] == {"due": 0, "resolved": 0, "resolved_share": None}
    assert got["response"] == {
        "drafted": 0, "replied": 0, "first_response_median_min": None, "first_response_p90_min": None,
        "approval_wait_median_min": None, "approval_wait_p90_min": None, "sla_minutes": 60, "sla_eligible": 0,
        "within_sla": 0, "within_sla_share": None, "approvals": 0, "approved_unedited": 0,
        "edited_and_approved": 0, "unedited_share": None, "rejected": 0, "rejected_reasons": [],
    }


def test_a_week_without_complaints(seeded: Engine, config: Config) -> None:
    got = build_report(seeded, config, "2026-W47").to_dict()
    assert got["mentions"] == ch(2, 32, -30, -93.8, [10, 8, 12, 10, 8, 10, 10, 32, 2])
    assert got["complaints"] == ch(0, 25, -25, -100.0, [10, 8, 12, 10, 8, 10, 10, 25, 0])
    assert got["by_platform"] == [
        row("x", ch(2, 15, -13, -86.7, [3, 2, 4, 3, 2, 3, 3, 15, 2]), ch(0, 8, -8, -100.0, [3, 2, 4, 3, 2, 3, 3, 8, 0])),
        row("facebook", ch(0, 8, -8, -100.0, [1] * 7 + [8, 0]), ch(0, 8, -8, -100.0, [1] * 7 + [8, 0])),
        row("instagram", ch(0, 9, -9, -100.0, [6, 5, 7, 6, 5, 6, 6, 9, 0]),
            ch(0, 9, -9, -100.0, [6, 5, 7, 6, 5, 6, 6, 9, 0])),
    ]
    # Categories fell to zero: nothing spikes. delivery's history 3,2,4,3,2,3,3,12 has median 3 and
    # MAD 0.5 (one outlier does not move them): z = -3 / sqrt 3; damaged: -6 / sqrt 6; payment: -1 / 1.
    assert [(s["category"], s["this_week"], s["median"], s["mad"], s["z"], s["spike"]) for s in got["spikes"]] == [
        ("payment_billing", 0, 1.0, 0.0, -1.0, False), ("delivery", 0, 3.0, 0.5, -1.73, False),
        ("damaged_defective", 0, 6.0, 0.5, -2.45, False)]
    assert got["spiking_categories"] == [] and got["new_terms"] == []
    assert got["sentiment"] == {"negative": 0, "neutral": 0, "positive": 2}
    assert got["sentiment_share"] == {"negative": 0.0, "neutral": 0.0, "positive": 1.0}
    assert got["complaint_severity"] == {"0": 0, "1": 0, "2": 0, "3": 0, "4": 0}
    assert got["remedies"] == {"due": 0, "resolved": 0, "resolved_share": None}
    assert got["response"]["drafted"] == 0 and got["response"]["within_sla_share"] is None


@pytest.mark.parametrize("zone", ["America/Sao_Paulo", "Asia/Tokyo"])
def test_weeks_follow_the_brand_time_zone_not_utc(engine: Engine, tmp_path: Path, zone: str) -> None:
    """Sunday 23:30 local belongs to the week that ends, Monday 00:30 local to the one that starts.

    In Sao Paulo (UTC-3) Sunday 23:30 is already Monday in UTC; in Tokyo (UTC+9) Monday 00:30 is
    still Sunday in UTC. Either way the local week decides.
    """
    tz = ZoneInfo(zone)
    sunday, monday = date(2026, 11, 15), date(2026, 11, 16)
    insert_specs(engine, [Spec(local(sunday, 23, 30), text="domingo"), Spec(local(monday, 0, 30), text="segunda")],
                 tz=tz)
    config = make_config(tmp_path, timezone_name=zone)
    utc_days = {d.astimezone(UTC).date() for d in (datetime(2026, 11, 15, 23, 30, tzinfo=tz),
                                                            datetime(2026, 11, 16, 0, 30, tzinfo=tz))}
    assert len(utc_days) == 1  # in UTC both fall on the same day: only the local time zone tells them apart
    w46 = build_report(engine, config, "2026-W46")
    w47 = build_report(engine, config, "2026-W47")
    assert (w46.mentions.this_week, w47.mentions.this_week, w47.mentions.previous_week) == (1, 1, 1)
    assert w46.start == datetime(2026, 11, 9, tzinfo=tz).isoformat()


def test_filters_by_platform_and_account(seeded: Engine, config: Config) -> None:
    facebook = build_report(seeded, config, "2026-W46", platform="facebook").to_dict()
    assert facebook["mentions"] == ch(8, 1, 7, 700.0, [1] * 8 + [8])
    assert [b["key"] for b in facebook["by_category"]] == ["delivery", "payment_billing"]
    assert facebook["remedies"] == {"due": 2, "resolved": 1, "resolved_share": 0.5}
    account = build_report(seeded, config, "2026-W46", account="aurora-instagram").to_dict()
    assert account["filters"] == {"account": "aurora-instagram", "platform": None}
    assert account["complaints"] == ch(9, 6, 3, 50.0, [5, 6, 5, 7, 6, 5, 6, 6, 9])
    assert account["response"]["rejected"] == 3 and account["response"]["drafted"] == 3


@pytest.mark.parametrize("week", ["2026-47", "2026-W7", "W47", "2026-W54", "2026-W00", "next week"])
def test_a_bad_week_is_a_clear_value_error(week: str) -> None:
    with pytest.raises(ValueError, match=r"^invalid week .*(YYYY-Www|has no ISO week)"):
        parse_week(week)


def test_build_report_refuses_a_bad_week_before_reading(seeded: Engine, config: Config) -> None:
    with pytest.raises(ValueError, match="invalid week '2026-47': use the ISO week format YYYY-Www, e.g. 2026-W47"):
        build_report(seeded, config, "2026-47")


def test_unknown_account_and_platform_are_named(seeded: Engine, config: Config) -> None:
    with pytest.raises(ValueError, match="no account named 'aurora-tiktok'.*aurora-facebook"):
        build_report(seeded, config, "2026-W46", account="aurora-tiktok")
    with pytest.raises(ValueError, match="unknown platform 'tiktok'"):
        build_report(seeded, config, "2026-W46", platform="tiktok")
