"""Plot helpers shared by the family reports: a mean line with its min-max band over seeds."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from experiments.harness.summary import curve_band

STYLES = ("-", "--", "-.", ":")  # a row's line style by its place: models whose curves overlap stay apart


def plot_band(ax, x, band: dict[str, np.ndarray], color, label: str, style: str = "-") -> None:
    """The mean line of a `curve_band` with its min-max band shaded in the same colour."""
    ax.plot(x, band["mean"], color=color, lw=1.4, ls=style, label=label)
    ax.fill_between(x, band["low"], band["high"], color=color, alpha=0.2, lw=0)


def plot_epoch_curves(
    ax, groups: Iterable[list[dict]], metric: str, title: str, label: Callable[[list[dict]], str] | None = None
) -> None:
    """One mean line and min-max band per group of records (one (model, protocol) row's seeds), over
    epochs (the epoch protocols evaluate once per epoch), on a log scale, in the row's colour.
    Diverged runs are left out while any run of the group completed."""
    from experiments.harness.records import Record

    label = label or (lambda recs: f"{Record(recs[0]).label} ({len(recs)} runs)")
    for recs in groups:
        done = [r for r in recs if r["status"] == "complete"] or recs
        band = curve_band(done, metric)
        epochs = band["step"] / band["step"][1] if len(band["step"]) > 1 else band["step"]
        plot_band(ax, epochs, band, Record(recs[0]).color, label(done))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("epoch")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
