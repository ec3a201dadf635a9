"""Poisson error against the Gaussians' initial width (the poisson_widths experiment), and the
least-squares head's own width scan from Table 1's runs beside it.

x: the initial width over the spacing of the centres, span / m^(1/d) (the grid's spacing for
Table 1's 30 x 30 centres); y: the minimum mesh MSE over training (median over seeds, bars
from the best to the worst seed).
"""

from __future__ import annotations

import math

import pandas as pd

from experiments.harness.summary import STATS, first, frame, summarize

WIDTH_KEY = "model.sigma_init"  # a record of the width study: its sweep varies this key


def spacing(model_cfg: dict) -> float:
    low, high = model_cfg["mu_range"]
    return (high - low) / model_cfg["n_components"] ** (1 / model_cfg["in_features"])


def relative_width(record: dict) -> float:
    """Initial width / spacing; a null sigma_init is the layer's default, sqrt(d) spacings (gmnm/layer.py)."""
    m = record["config"]["model"]
    sigma = m.get("sigma_init")
    return round(sigma / spacing(m) if sigma is not None else math.sqrt(m["in_features"]), 3)


def is_width_study(record: dict) -> bool:
    return WIDTH_KEY in (record.get("sweep_keys") or [])


def table(records: list[dict]) -> pd.DataFrame:
    """One row per (protocol, model) and initial width: the minimum mesh MSE over training, over seeds."""
    df = frame(records, ["min_l2"]).assign(
        sigma_over_spacing=[relative_width(r) for r in records],
        sigma_init=[r["config"]["model"]["sigma_init"] for r in records],
    )
    by = ["row", "sigma_over_spacing"]
    ident = first(df, by, ["problem", "protocol", "model", "label", "color", "sigma_init"])
    stats = summarize(df, by, ["min_l2"], prefix=False).rename(columns={s: f"min_l2_mse_{s}" for s in STATS})
    columns = [
        "problem",
        "protocol",
        "model",
        "label",
        "sigma_over_spacing",
        "sigma_init",
        "min_l2_mse_median",
        "min_l2_mse_min",
        "min_l2_mse_max",
        "min_l2_mse_mean",
        "n",
        "n_seeds",
        "n_diverged",
    ]
    return ident.merge(stats, on=by)[columns + ["color"]]


def figure(table: pd.DataFrame, records: list[dict], scans: list[dict], paper_gmnm: float | None = None):
    """table: table(); records: the study's; scans: Table 1's LSQ-head records; paper_gmnm: Table 1's GMNM."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for _, group in table.groupby(["protocol", "model"], sort=False):
        med = group["min_l2_mse_median"]
        err = [med - group["min_l2_mse_min"], group["min_l2_mse_max"] - med]
        ax.errorbar(
            group["sigma_over_spacing"],
            med,
            yerr=err,
            marker="o",
            capsize=3,
            color=group["color"].iloc[0],
            label=f"{group['label'].iloc[0]} (n = {group['n'].min()} seeds)",
        )
    for record in scans[:1]:  # every seed's scan is alike where the centres are a grid: show one
        base = relative_width(record)
        x = [base * row["width_factor"] for row in record["lsq_widths"]]
        ax.plot(
            x,
            [row["l2"] for row in record["lsq_widths"]],
            ls="--",
            marker=".",
            color=record["color"],
            alpha=0.7,
            label=f"{record['label']}: head alone at step 0 (scan of Table 1's runs)",
        )
    if paper_gmnm is not None:
        ax.axhline(paper_gmnm, color="gray", lw=0.8, ls=":", label=f"paper's GMNM (Table 1), {paper_gmnm:.2g}")
    ax.set_yscale("log")
    ax.set_xlabel("initial width / centre spacing")
    ax.set_ylabel("min mesh MSE over training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("Eq. 4: error against the Gaussians' initial width", fontsize=10)
    fig.tight_layout()
    return fig
