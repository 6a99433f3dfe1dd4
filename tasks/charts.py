"""Geometry for the dashboards' server-rendered SVG charts (no JavaScript, no network)."""

from dataclasses import dataclass

ROW = 30  # px per bar
BAR_X, BAR_W = 200, 340


@dataclass
class Bar:
    label: str
    key: object
    y: int
    width: float
    expected_x: float
    value: int
    expected: int
    ok: bool


def bars(buckets) -> dict:
    """Horizontal bars of completion, each with a marker at its 序时进度."""
    rows = [
        Bar(
            label=b.label,
            key=b.key,
            y=i * ROW,
            width=BAR_W * b.completion / 100,
            expected_x=BAR_X + BAR_W * b.expected / 100,
            value=b.completion,
            expected=b.expected,
            ok=b.completion >= b.expected,
        )
        for i, b in enumerate(buckets)
    ]
    return {"rows": rows, "height": max(len(rows), 1) * ROW, "bar_x": BAR_X, "bar_w": BAR_W}


@dataclass
class Column:
    label: str
    key: object
    x: int
    value: int
    expected: int
    value_h: float
    expected_h: float


def columns(buckets, height: int = 160) -> dict:
    """Pairs of columns per quarter: completion beside 序时进度."""
    cols = [
        Column(
            label=b.label,
            key=b.key,
            x=40 + i * 110,
            value=b.completion,
            expected=b.expected,
            value_h=height * b.completion / 100,
            expected_h=height * b.expected / 100,
        )
        for i, b in enumerate(buckets)
    ]
    return {"cols": cols, "height": height, "width": 40 + max(len(cols), 1) * 110}
