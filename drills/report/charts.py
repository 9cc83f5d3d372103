"""The report's charts as SVG (matplotlib): the acknowledgement curve per area with the objectives drawn on it, and
acknowledgements per organisation. Text stays text in the SVG, so the PDF keeps it as vector graphics."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no screen: draw into files only

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from drills.report.schemas import Followup, Report
from drills.report.texts import words

# Names (organisations, municipalities, phases) come from imported logs: never parsed as mathtext ("$\\frac{a}{b$").
plt.rcParams.update(
    {
        "text.parse_math": False,
        "svg.fonttype": "none",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.spines.top": False,
    }
)
PALETTE = ("#1a56db", "#b3261e", "#188038", "#b06000", "#5f6368")


def _svg(figure: Figure) -> str:
    out = io.StringIO()
    # without metadata: no creation date (the same report renders the same) and no link to a vocabulary
    figure.savefig(
        out, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None, "Type": None, "Format": None}
    )
    plt.close(figure)
    svg = out.getvalue()
    return svg[svg.index("<svg") :]  # inline: without the XML declaration and doctype


def curve_chart(report: Report, language: str) -> str:
    """Share acknowledged over minutes since the alert, overall and per area; each timed objective drawn at its
    minute, with a marker at its percentage."""
    shown, curve = words("charts", language), report.curve
    windows = [o.minutes for o in report.objectives if o.minutes is not None]
    end = max([*curve.minutes, *windows, 1])
    minutes = [*curve.minutes, end]  # each line runs on, flat, to the last objective's window

    def extended(shares: list[float]) -> list[float]:
        return [*shares, shares[-1] if shares else 0.0]

    figure, axes = plt.subplots(figsize=(7.2, 3.2))
    axes.step(minutes, extended(curve.overall), where="post", color=PALETTE[0], linewidth=2, label=shown["all"])
    names = {area.area: area.names.get(language, area.area) for area in report.by_area}
    for colour, (area, shares) in zip(PALETTE[1:], sorted(curve.by_area.items()), strict=False):
        axes.step(minutes, extended(shares), where="post", color=colour, linewidth=1.2, label=names.get(area, area))
    at_minute: dict[float, list[str]] = {}
    for objective in report.objectives:
        at = objective.minutes
        if at is None:
            continue
        if objective.percent is not None:
            axes.plot([at], [objective.percent], marker="D", color="black", markersize=5)
        at_minute.setdefault(at, []).append(str(objective.position))
    for at, positions in at_minute.items():
        axes.axvline(at, color="#999999", linestyle="--", linewidth=0.8)
        label = f"{shown['objective']} {', '.join(positions)}"
        axes.annotate(label, (at, 102), fontsize=7, color="#555555", ha="center", annotation_clip=False)
    axes.set_xlabel(shown["minutes"])
    axes.set_ylabel(shown["share"])
    axes.set_ylim(0, 100)
    axes.set_xlim(0, end * 1.03)
    axes.legend(loc="lower right", fontsize=7, frameon=True, framealpha=0.9)
    axes.grid(alpha=0.3)
    return _svg(figure)


def organisation_chart(report: Report, language: str) -> str:
    """Acknowledged and silent people per organisation, as stacked bars."""
    shown, rows = words("charts", language), report.by_organisation
    figure, axes = plt.subplots(figsize=(7.2, 0.3 * len(rows) + 1.0))
    names = [row.organisation for row in rows]
    acknowledged = [row.acknowledged for row in rows]
    silent = [row.targeted - row.acknowledged for row in rows]
    axes.barh(names, acknowledged, color=PALETTE[2], label=shown["acknowledged"])
    axes.barh(names, silent, left=acknowledged, color="#d0d0d0", label=shown["silent"])
    axes.invert_yaxis()
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=7, frameon=False)
    axes.grid(axis="x", alpha=0.3)
    return _svg(figure)


def municipalities_chart(followup: Followup, language: str) -> str | None:
    """Small multiples: per municipality, the share acknowledged in each drill of the year (None: no drills)."""
    drills = followup.drills
    names = sorted({name for drill in drills for name in drill.by_municipality})
    if not names:
        return None
    columns = 4
    rows = -(-len(names) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(7.2, 1.4 * rows + 0.3), sharey=True, squeeze=False)
    for index, name in enumerate(names):
        axes = grid[index // columns][index % columns]
        shares = [
            100.0 * d.by_municipality[name].acknowledged / d.by_municipality[name].targeted
            if name in d.by_municipality and d.by_municipality[name].targeted
            else 0.0
            for d in drills
        ]
        numbers = list(range(1, len(drills) + 1))  # the year's drills in order, as in the table above
        axes.bar(numbers, shares, color=PALETTE[0])
        axes.set_title(name, fontsize=8)
        axes.set_ylim(0, 100)
        axes.set_xticks(numbers)
        axes.tick_params(labelsize=7)
    for index in range(len(names), rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    figure.supylabel(words("charts", language)["share"], fontsize=8)
    figure.tight_layout()
    return _svg(figure)
