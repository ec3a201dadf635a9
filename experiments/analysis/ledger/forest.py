"""The ledger on one screen: a forest plot, results/figures/claims_<profile>.png (make report).

A row per (claim, case, protocol) that has an effect: the effect and its 95 % interval on a log axis, the
claim's threshold (a grey tick), the paper's own effect from its tables (a black cross), the verdict as
the colour, rows that are only indicative (a profile other than the paper's protocol, a CPU timing) drawn
hollow. The side of its threshold where each row's claim holds is marked on the row (a grey triangle pointing
to it: below 1 for "GMNM's error is lower", above for "GMNM keeps improving"), since claims differ in it. The
paper's claims in the upper panel; our own questions (B) in the lower one.
"""

from __future__ import annotations

import math

from experiments.analysis import stats
from experiments.analysis.ledger.render import is_ours

SIDE = {"below": 1 / 3, "above": 3.0}  # the arrow's tip, a factor of the threshold (on the log axis)
COLOURS = {stats.REPRODUCED: "tab:green", stats.CONTRADICTED: "tab:red", stats.INCONCLUSIVE: "tab:gray",
           stats.OURS_LOWER: "tab:blue", stats.OURS_HIGHER: "tab:orange", stats.SUPPORTED: "tab:olive",
           stats.REFUTED: "tab:purple"}  # fmt: skip


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def plotted(rows: list[dict]) -> list[dict]:
    """The rows with a finite effect (rank, ratio and value claims that measured something), the paper's first."""
    shown = [r for r in rows if math.isfinite(_num(r.get("effect"))) and r.get("metric") != "n_params"]
    return [r for r in shown if not is_ours(r)] + [r for r in shown if is_ours(r)]


def figure(rows: list[dict], profile: str):
    """rows: one profile's ledger rows; returns the figure (None when no row has an effect): the paper's claims
    in the upper panel, our own questions (B) in the lower one, on one shared log axis."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    shown = plotted(rows)
    if not shown:
        return None
    panels = [(title, part) for title, part in (("The paper's claims", [r for r in shown if not is_ours(r)]),
                                                 ("Our own questions (B)", [r for r in shown if is_ours(r)])) if part]  # fmt: skip
    fig, axes = plt.subplots(len(panels), 1, sharex=True, squeeze=False, figsize=(9, 1.6 + 0.22 * len(shown)),
                             gridspec_kw={"height_ratios": [len(part) + 1.5 for _, part in panels]})  # fmt: skip
    for ax, (title, part) in zip(axes[:, 0], panels):
        _panel(ax, part)
        ax.set_title(f"{title} under profile {profile}: {len(part)} rows with an effect", fontsize=8, loc="left")
    axes[-1, 0].set_xscale("log")
    axes[-1, 0].set_xlabel("effect: GMNM's metric over the competitor's (or the claim's pair), 95 % interval")
    legend = [Line2D([], [], color=c, marker="o", ls="-", label=v) for v, c in COLOURS.items()]
    legend += [Line2D([], [], color="tab:gray", marker="o", mfc="white", ls="", label="indicative (hollow)"),
               Line2D([], [], color="0.4", marker="|", ls="", ms=9, label="the claim's threshold"),
               Line2D([], [], color="0.55", marker=">", ls="-", ms=4, label="the side where the claim holds"),
               Line2D([], [], color="k", marker="x", ls="", label="the paper's own effect")]  # fmt: skip
    axes[0, 0].legend(handles=legend, fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return fig


def _panel(ax, rows: list[dict]) -> None:
    """One panel's rows, top to bottom in the ledger's order: interval, effect, threshold, the side where the
    claim holds, the paper's own effect; labelled with the claim, its case (experiment first) and protocol."""
    for y, r in enumerate(reversed(rows)):
        verdict = r.get("reads") or r["verdict"]
        colour = COLOURS.get(verdict, "tab:gray")
        hollow = r["verdict"] == stats.INDICATIVE
        effect, low, high = _num(r["effect"]), _num(r.get("effect_ci_low")), _num(r.get("effect_ci_high"))
        if math.isfinite(low) and math.isfinite(high):
            ax.plot([low, high], [y, y], color=colour, lw=1.6)
        ax.plot([effect], [y], "o", color=colour, mfc="white" if hollow else colour, ms=5)
        threshold = _num(r.get("threshold"))
        threshold = threshold if math.isfinite(threshold) else 1.0  # a value claim: against the paper's number
        ax.plot([threshold], [y], "|", color="0.4", ms=9)
        side = SIDE.get(r.get("direction"))
        if side is not None:  # where the claim holds: the row's own reading direction
            ax.annotate("", xy=(threshold * side, y), xytext=(threshold, y),
                        arrowprops={"arrowstyle": "-|>", "color": "0.55", "lw": 0.8})  # fmt: skip
        paper = _num(r.get("paper"))
        if math.isfinite(paper) and r.get("paper_note"):  # an effect the paper's own tables give
            ax.plot([paper], [y], "x", color="k", ms=5)
    labels = [f"{r['claim']} {r['case']} ({r['protocol']})" for r in reversed(rows)]
    ax.set_yticks(range(len(rows)), labels, fontsize=6)
    ax.grid(alpha=0.3, axis="x")
    ax.set_ylim(-0.8, len(rows) - 0.2)
