"""Table 1 and Fig. 3 (§4.2) from Poisson records, beside the paper's numbers.

Table 1: per model, the architecture, the parameter count counted from the module (trainable,
and all tensors the way `sum(p.numel() for p in model.parameters())` counts them), the
minimum over training of the two error measures (mean, std, median over seeds) and ms/step
per phase, with the paper's count and min L2 in the same row. Fig. 3: the L2 error, boundary
MSE and PDE residual MSE per step (line: mean over seeds; band: min to max), the Adam phase
and the L-BFGS phase side by side.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.reporting import (curve_band, describe, group_by, plot_band, read_csv,  # noqa: E402
                                   save_figure, write_csv)

COLORS = {"gmnm": "tab:red", "kan": "tab:blue", "pinn": "tab:green"}  # Fig. 3's colours
PANELS = (("l2", "(a) L2 error: MSE of f on the 101 x 101 mesh"), ("bc_mse", "(b) boundary MSE"),
          ("pde_mse", "(c) PDE residual MSE"))
NOTES = {"kan": "pykan 0.2.8 with grid 5, k 3 (its PDE example); no integer grid gives 10,600 "
                "(grid 76: 10,530 trainable; grid 59: 10,636 all tensors)"}


def architecture(model_cfg: dict) -> str:
    if "n_components" in model_cfg:
        return f"GMNM {model_cfg['n_components']} components, {model_cfg['projection']}"
    if "width" in model_cfg:
        return f"KAN {model_cfg['width']}, grid {model_cfg['grid']}, k {model_cfg['k']}"
    return f"MLP {model_cfg['widths']}, {model_cfg['activation']}"


def table1_rows(records: list[dict], paper: list[dict]) -> list[dict]:
    paper_by_model = {p["model"]: p for p in paper}
    rows = []
    for (model,), recs in group_by(records, lambda r: (r["model"],)).items():
        done = [r for r in recs if r["status"] == "complete"]
        s0 = recs[0]["summary"]
        l2 = describe([r["summary"]["min_l2"] for r in done])
        rel = describe([r["summary"]["min_rel_l2"] for r in done])
        phases = list(zip(*[r["summary"]["ms_per_step_phases"] for r in done])) if done else []
        p = paper_by_model.get(model, {})
        rows.append({
            "model": model, "architecture": architecture(recs[0]["config"]["model"]),
            "n_params_trainable": s0["n_params"], "n_params_all_tensors": s0.get("n_params_all", ""),
            "paper_n_params": p.get("n_params", ""), "paper_architecture": p.get("architecture", ""),
            "min_l2_mse_mean": l2["mean"], "min_l2_mse_std": l2["std"], "min_l2_mse_median": l2["median"],
            "paper_min_l2": p.get("min_l2", ""),
            "min_rel_l2_mean": rel["mean"], "min_rel_l2_std": rel["std"],
            "final_l2_mse_mean": describe([r["summary"]["final_l2"] for r in done])["mean"],
            "ms_per_step_adam": statistics.fmean(phases[0]) if phases else "",
            "ms_per_step_lbfgs": statistics.fmean(phases[1]) if len(phases) > 1 else "",
            "n_seeds": len(recs), "n_diverged": len(recs) - len(done), "note": NOTES.get(model, ""),
        })
    return sorted(rows, key=lambda r: r["min_l2_mse_mean"])


def _phase(records: list[dict], phase: int) -> list[dict]:
    """The records with their history cut to one phase (the last Adam row opens L-BFGS's)."""
    out = []
    for r in records:
        rows = r["history"]
        start = next((i for i, row in enumerate(rows) if row["phase"] == phase), len(rows))
        end = next((i for i, row in enumerate(rows) if row["phase"] > phase), len(rows))
        out.append({**r, "history": rows[max(start - 1, 0) if phase else 0:end]})
    return out


def figure(records: list[dict]):
    """Rows: Fig. 3's three panels; columns: the Adam phase and the L-BFGS phase, whose steps
    (up to 20 iterations each) would be a sliver on a shared step axis."""
    n_phases = 1 + max(row["phase"] for r in records for row in r["history"])
    fig, axes = plt.subplots(3, n_phases, figsize=(5 * n_phases, 9), sharey="row", squeeze=False)
    for (model,), recs in group_by(records, lambda r: (r["model"],)).items():
        done = [r for r in recs if r["status"] == "complete"] or recs
        for col in range(n_phases):
            part = _phase(done, col)
            for ax, (metric, title) in zip(axes[:, col], PANELS):
                band = curve_band(part, metric)
                plot_band(ax, band["step"], band, COLORS.get(model),
                          f"{model} ({recs[0]['summary']['n_params']:,} params)")
                ax.set_title(f"{title}, {('Adam', 'L-BFGS')[col] if n_phases == 2 else ''}", fontsize=9)
    for ax in axes.flat:
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    for col in range(n_phases):
        axes[-1, col].set_xlabel("step" if col == 0 else "step (one L-BFGS step: up to 20 iterations)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig, axes


def report(records: list[dict], out_dir: Path, paper_dir: Path, profile: str) -> list[Path]:
    paper = read_csv(paper_dir / "table1_poisson.csv")
    written = []
    for (experiment,), recs in group_by(records, lambda r: (r["experiment"],)).items():
        rows = table1_rows(recs, paper)
        written.append(write_csv(out_dir / "tables" / f"{experiment}_table1_{profile}.csv", rows))
        fig, _ = figure(recs)
        written.append(save_figure(fig, out_dir / "figures" / f"{experiment}_fig3_{profile}.png"))
        for r in rows:
            print(f"{experiment} {r['model']}: min L2 (MSE) {r['min_l2_mse_mean']:.3g} "
                  f"(paper {r['paper_min_l2'] or '-'}), min rel L2 {r['min_rel_l2_mean']:.3g}, "
                  f"{r['n_params_trainable']:,} params (paper {r['paper_n_params'] or '-'})")
    return written
