"""Draw time per layer against the log's size from ``shoplog bench`` runs, as an SVG.

    python scripts/plot_bench.py docs/bench/*.json --out docs/performance-layers.svg

Each input file holds the last line of one ``shoplog bench`` run (its JSON). One line per
layer of the full build (node seconds of the models under each folder of ``models/`` and of
the data tests, from ``layers_s``), plus the load and the floor (wall seconds), against the
number of events: a cost that grows linearly with events is a straight line through the
origin. Standard library only, so it runs wherever the benchmark does.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 760, 460
LEFT, RIGHT, TOP, BOTTOM = 70, 190, 40, 60
COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#17becf",
)


def series(runs: list[dict]) -> dict[str, list[tuple[int, float]]]:
    """Seconds per event count, by line: the load, the full build's layers, the floor."""
    runs = sorted(runs, key=lambda run: run["events"])
    lines: dict[str, list[tuple[int, float]]] = {}

    def add(name: str, events: int, seconds: float | None) -> None:
        if seconds is not None:
            lines.setdefault(name, []).append((events, seconds))

    for run in runs:
        events = run["events"]
        add("load (wall)", events, (run.get("load_s") or 0) + (run.get("tail_load_s") or 0))
        for layer, seconds in sorted(run.get("layers_s", {}).get("full_build", {}).items()):
            if layer not in ("seeds", "snapshots"):
                add(f"full build: {layer}", events, seconds)
        add("full build (wall)", events, run.get("full_build_s"))
        add("floor (wall)", events, run.get("floor_s"))
    return lines


def _nice_step(top: float) -> float:
    """A round tick step giving about five ticks up to ``top``."""
    raw = top / 5
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def svg(lines: dict[str, list[tuple[int, float]]], title: str) -> str:
    """The chart: seconds (y) against events (x), one polyline and legend entry per line."""
    max_x = max(x for points in lines.values() for x, _ in points)
    max_y = max(y for points in lines.values() for _, y in points) * 1.05
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + plot_w * x / max_x

    def py(y: float) -> float:
        return TOP + plot_h * (1 - y / max_y)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="22" font-size="14">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" '
        'stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="black"/>',
    ]
    step = _nice_step(max_y)
    tick = 0.0
    while tick <= max_y:
        out.append(
            f'<line x1="{LEFT}" y1="{py(tick):.1f}" x2="{LEFT + plot_w}" y2="{py(tick):.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{LEFT - 6}" y="{py(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>'
        )
        tick += step
    for x in sorted({x for points in lines.values() for x, _ in points}):
        out.append(
            f'<text x="{px(x):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">'
            f"{x / 1e6:.2g}M</text>"
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 18}" text-anchor="middle">'
        "events in the log</text>"
    )
    out.append(
        f'<text x="16" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {TOP + plot_h / 2})">seconds</text>'
    )
    for index, (name, points) in enumerate(lines.items()):
        colour = COLOURS[index % len(COLOURS)]
        dash = ' stroke-dasharray="5,3"' if "(wall)" in name else ""
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in [(0, 0.0), *points])
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        out += [
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>' for x, y in points
        ]
        legend_y = TOP + 10 + index * 18
        out.append(
            f'<line x1="{WIDTH - RIGHT + 12}" y1="{legend_y}" x2="{WIDTH - RIGHT + 32}" '
            f'y2="{legend_y}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<text x="{WIDTH - RIGHT + 38}" y="{legend_y + 4}">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="files with a bench run's JSON line")
    parser.add_argument("--out", type=Path, required=True, help="the SVG to write")
    parser.add_argument("--title", default="shoplog bench: seconds per layer against events")
    args = parser.parse_args()
    runs = [json.loads(path.read_text().strip().splitlines()[-1]) for path in args.runs]
    args.out.write_text(svg(series(runs), args.title))


if __name__ == "__main__":
    main()
