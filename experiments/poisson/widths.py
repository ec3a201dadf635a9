"""Poisson error against the Gaussians' initial width (the poisson_widths experiment), and the
least-squares head's own width scan from Table 1's runs beside it.

x: the initial width over the spacing of the centres, span / m^(1/d) (the grid's spacing for
Table 1's 30 x 30 centres); y: the minimum mesh MSE over training (median over seeds, bars
from the best to the worst seed).
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.reporting import by_model, describe, group_by  # noqa: E402

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


def rows(records: list[dict]) -> list[dict]:
    out = []
    for model, recs in by_model(records):
        for (width,), group in sorted(group_by(recs, lambda r: (relative_width(r),)).items()):
            done = [r for r in group if r["status"] == "complete"]
            l2 = describe([r["summary"]["min_l2"] for r in done])
            out.append({"problem": group[0]["problem"], "model": model, "label": group[0]["label"],
                        "sigma_over_spacing": width, "sigma_init": group[0]["config"]["model"]["sigma_init"],
                        "min_l2_mse_median": l2["median"], "min_l2_mse_min": l2["min"], "min_l2_mse_max": l2["max"],
                        "min_l2_mse_mean": l2["mean"], "n": l2["n"], "n_seeds": len(group),
                        "n_diverged": len(group) - len(done)})
    return out


def figure(table: list[dict], records: list[dict], scans: list[dict]):
    """table: rows(); records: the study's (colours, labels); scans: Table 1's LSQ-head records."""
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    colors = {r["model"]: r["color"] for r in records}
    for model, group in group_by(table, lambda r: (r["model"],)).items():
        x = [r["sigma_over_spacing"] for r in group]
        med = [r["min_l2_mse_median"] for r in group]
        err = [[m - r["min_l2_mse_min"] for m, r in zip(med, group)], [r["min_l2_mse_max"] - m for m, r in zip(med, group)]]
        ax.errorbar(x, med, yerr=err, marker="o", capsize=3, color=colors[model[0]],
                    label=f"{group[0]['label']} (n = {min(r['n'] for r in group)} seeds)")
    for record in scans[:1]:  # every seed's scan is alike where the centres are a grid: show one
        base = relative_width(record)
        x = [base * row["width_factor"] for row in record["lsq_widths"]]
        ax.plot(x, [row["l2"] for row in record["lsq_widths"]], ls="--", marker=".", color=record["color"], alpha=0.7,
                label=f"{record['label']}: head alone at step 0 (scan of Table 1's runs)")
    ax.axhline(5.1e-9, color="gray", lw=0.8, ls=":", label="paper's GMNM (Table 1), 5.1e-9")
    ax.set_yscale("log")
    ax.set_xlabel("initial width / centre spacing")
    ax.set_ylabel("min mesh MSE over training")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("Eq. 4: error against the Gaussians' initial width", fontsize=10)
    fig.tight_layout()
    return fig, ax
