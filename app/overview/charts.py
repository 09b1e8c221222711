"""The overview's charts as numbers for server-rendered SVG: where each bar goes, and how tall.

The SVG is drawn by templates/overview/index.html, its colours by CSS classes (so that the light
and the dark theme both apply); this module only does the arithmetic, in the SVG's own units.
"""

from dataclasses import dataclass
from datetime import date

# The weekly chart's drawing area, in SVG units; it is stretched to the page's width.
WIDTH, HEIGHT = 520, 120


def nice_ceiling(n: int) -> int:
    """The smallest of 1, 2, 4, 6, 8 × a power of ten that is at least `n` (at least 1): a top for
    the axis whose half is a whole number too (but for 1)."""
    magnitude = 1
    while magnitude * 10 < n:
        magnitude *= 10
    return next(step * magnitude for step in (1, 2, 4, 6, 8, 10) if step * magnitude >= n)


@dataclass(frozen=True)
class Bar:
    monday: date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class WeeklyChart:
    bars: list[Bar]
    top: int  # the count at the top of the drawing area
    total: int
    busiest: Bar | None  # the week with the most, the latest of equals; None when all are empty

    @property
    def half(self) -> int | None:
        """The count at the middle grid line, when it is a whole number."""
        return self.top // 2 if self.top % 2 == 0 else None


def weekly(weeks: list[list]) -> WeeklyChart:
    """`weeks`: [["2026-11-30", count], …], oldest first."""
    top = nice_ceiling(max((count for _, count in weeks), default=0))
    slot = WIDTH / max(len(weeks), 1)
    bars = []
    for n, (monday, count) in enumerate(weeks):
        # A week with a few customers among weeks of hundreds still shows as a sliver.
        height = max(HEIGHT * count / top, 1.5) if count else 0
        bars.append(Bar(date.fromisoformat(monday), count, n * slot + slot * 0.15, HEIGHT - height, slot * 0.7, height))
    busiest = max((b for b in bars if b.count), key=lambda b: (b.count, b.monday), default=None)
    return WeeklyChart(bars, top, sum(b.count for b in bars), busiest)


def shares(rows: list[dict], total: int) -> list[dict]:
    """Each row of a breakdown with `percent` (of `total`, as text) and `length` (its bar's, 0 to
    100, against the largest row's, so that small differences still show)."""
    largest = max((r["count"] for r in rows), default=0) or 1
    return [{**r, "percent": percent(r["count"], total), "length": round(100 * r["count"] / largest, 1)} for r in rows]


def percent(count: int, total: int) -> str:
    """ "42%", "<1%" for a few among many, "0%" for none."""
    if not total or not count:
        return "0%"
    share = 100 * count / total
    return "<1%" if share < 1 else f"{share:.0f}%"
