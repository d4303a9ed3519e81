"""Small statistics for reports: percentiles and the robust z-score that flags category spikes.

Spike rule: for each complaint category, take its weekly complaint counts over the trailing 8
weeks; ``median`` is their median and ``MAD`` the median of the absolute deviations from it. The
scale is ``max(1.4826 * MAD, sqrt(median), 1)``: 1.4826 * MAD estimates a standard deviation
without letting one past outlier inflate it, and the floor (Poisson noise sqrt(median), and at
least 1) keeps a flat history from dividing by zero or flagging a count that moves by one or two.
``z = (this week - median) / scale``; a category spikes when ``z >= 3.5`` and it has at least 5
complaints this week.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SPIKE_Z = 3.5
SPIKE_MIN_COUNT = 5
MAD_TO_SIGMA = 1.4826

SPIKE_RULE = (
    "A category spikes when z = (complaints this week - median) / max(1.4826 x MAD, sqrt(median), 1) "
    f"is at least {SPIKE_Z} and it has at least {SPIKE_MIN_COUNT} complaints this week; the median and the "
    "MAD (median absolute deviation) are taken over the trailing 8 weeks."
)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th quantile (0..1) by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    result = percentile(values, 0.5)
    return 0.0 if result is None else result


def robust_z(history: Sequence[int], current: int) -> tuple[float, float, float, float]:
    """(median, MAD, scale, z) of ``current`` against ``history``; see the module docstring."""
    centre = median(history)
    mad = median([abs(v - centre) for v in history])
    scale = max(MAD_TO_SIGMA * mad, math.sqrt(centre), 1.0)
    return centre, mad, scale, (current - centre) / scale


def is_spike(current: int, z: float) -> bool:
    return current >= SPIKE_MIN_COUNT and z >= SPIKE_Z


def share(part: int, whole: int) -> float | None:
    """A fraction rounded to 4 places, or None when there is nothing to divide."""
    return round(part / whole, 4) if whole else None
