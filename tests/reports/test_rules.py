"""The rules behind the figures, without a database: percentiles, the spike rule, terms, anonymised handles."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from social_care.reports.anonymise import anonymise_handle, anonymise_text
from social_care.reports.stats import is_spike, percentile, robust_z
from social_care.reports.terms import new_terms, terms_of
from social_care.reports.weeks import Week, last_complete_week


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7], 0.9) == 7
    assert percentile([15, 25, 30, 90, 180], 0.5) == 30
    assert percentile([180, 15, 90, 25, 30], 0.9) == pytest.approx(144.0)
    assert percentile([1, 2, 3, 4], 0.5) == 2.5


def test_flat_history_does_not_divide_by_zero_or_flag_small_moves() -> None:
    centre, mad, scale, z = robust_z([0] * 8, 3)
    assert (centre, mad, scale, z) == (0, 0, 1.0, 3.0)
    assert not is_spike(3, z)  # 3 complaints where there were none: too few to call a trend
    centre, mad, scale, z = robust_z([4] * 8, 9)
    assert (mad, scale) == (0, 2.0)  # Poisson floor sqrt(4)
    assert z == 2.5 and not is_spike(9, z)
    assert is_spike(12, robust_z([4] * 8, 12)[3])  # (12 - 4) / 2 = 4


def test_one_past_outlier_does_not_hide_a_spike() -> None:
    centre, mad, scale, z = robust_z([3, 2, 40, 3, 2, 3, 3, 2], 15)
    assert (centre, mad) == (3, 0.5)
    assert scale == pytest.approx(math.sqrt(3)) and is_spike(15, z)


def test_terms_drop_stopwords_handles_links_and_numbers() -> None:
    found = terms_of("O pedido 123 NÃO chegou!! @loja https://x.co/abc the order never arrived", ignore=frozenset())
    assert found == {"pedido", "chegou", "order", "never", "arrived", "order never", "never arrived"}
    assert terms_of("Loja Aurora atrasou", ignore=frozenset({"loja", "aurora"})) == {"atrasou"}


def test_new_terms_exclude_what_trailing_weeks_already_had_on_top() -> None:
    this = Counter({"entrega": 5, "pedido": 9, "solo": 1})
    assert new_terms(this, [Counter({"pedido": 3})]) == [("entrega", 5)]


def test_handles_are_anonymised_stably_except_the_brand() -> None:
    a = anonymise_handle("Ana_Souza", "x")
    assert a.startswith("@a***") and len(a) == 9 and a == anonymise_handle("ana_souza", "x")
    assert anonymise_handle(None) == "@anonymous"
    assert anonymise_text("oi @Ana_Souza e @lojaaurora", keep=["lojaaurora"], platform="x") == f"oi {a} e @lojaaurora"


def test_last_complete_week_uses_local_time() -> None:
    tz = ZoneInfo("America/Sao_Paulo")
    # Monday 02:00 UTC is still Sunday 23:00 in Sao Paulo: the week of 9-15 Nov is not over yet there.
    assert last_complete_week(tz, datetime(2026, 11, 16, 2, 0, tzinfo=UTC)) == Week(2026, 45)
    assert last_complete_week(tz, datetime(2026, 11, 16, 3, 0, tzinfo=UTC)) == Week(2026, 46)
    assert Week(2026, 1).shifted(-1) == Week(2025, 52) and Week(2026, 53).label == "2026-W53"
