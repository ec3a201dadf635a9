"""Table 1 and Fig. 3 (§4.2) from Poisson records, beside the paper's numbers.

Records are grouped by the problem they solved (a trial of another PDE never joins Table 1);
the paper's numbers sit beside ours only for the paper's problem, Eq. 4.

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

from experiments.config import digest  # noqa: E402
from experiments.poisson import widths  # noqa: E402
from experiments.reporting import (by_model, curve_band, describe, glance_row, group_by, paper_best, plot_band,  # noqa: E402
                                   read_csv, save_figure, write_csv)

# Eq. 4 as experiments.poisson.pde.PoissonProblem.describe() writes it
PAPER_PROBLEM = "exact sin(pi*x)*sin(pi*y) on [-1, 1]^2"
PANELS = (("l2", "(a) L2 error: MSE of f on the 101 x 101 mesh"), ("bc_mse", "(b) boundary MSE"),
          ("pde_mse", "(c) PDE residual MSE"))
NOTES = {"kan": "pykan 0.2.8 with grid 5, k 3 (its PDE example); no integer grid gives 10,600 "
                "(grid 76: 10,530 trainable; grid 59: 10,636 all tensors)"}


SECTION = {  # docs/results.md (experiments/summary.py)
    "title": "Poisson PDE (§4.2, Eq. 4, Table 1, Fig. 3)",
    "about": "Minimum over training of the mesh MSE of f (the paper's 'L2'), over seeds; one table per problem "
             "solved, the paper's numbers beside ours for Eq. 4 only.",
    "tables": [("poisson_widths", ["label", "sigma_over_spacing", "sigma_init", "min_l2_mse_median", "min_l2_mse_min",
                                   "min_l2_mse_max", "n_seeds"]),
               ("poisson_[tp]*", ["label", "architecture", "n_params_trainable", "paper_n_params", "min_l2_mse_mean",
                              "min_l2_mse_median", "paper_min_l2", "min_rel_l2_mean", "ms_per_step_adam",
                              "ms_per_step_lbfgs", "n_seeds"])],
    "figures": ["poisson_fig3_*", "poisson_pde-*", "poisson_widths_*"],
}

def table1_rows(records: list[dict], paper: list[dict]) -> list[dict]:
    """paper: Table 1's rows, or [] for a problem other than the paper's."""
    paper_by_model = {p["model"]: p for p in paper}
    rows = []
    for model, recs in by_model(records):
        done = [r for r in recs if r["status"] == "complete"]
        s0 = recs[0]["summary"]
        l2 = describe([r["summary"]["min_l2"] for r in done])
        rel = describe([r["summary"]["min_rel_l2"] for r in done])
        phases = list(zip(*[r["summary"]["ms_per_step_phases"] for r in done])) if done else []
        p = paper_by_model.get(model, {})
        rows.append({
            "problem": recs[0]["problem"], "model": model, "label": recs[0]["label"], "architecture": recs[0]["arch"],
            "n_params_trainable": s0["n_params"], "n_params_all_tensors": s0.get("n_params_all", ""),
            "paper_n_params": p.get("n_params", ""), "paper_architecture": p.get("architecture", ""),
            "min_l2_mse_mean": l2["mean"], "min_l2_mse_std": l2["std"], "min_l2_mse_median": l2["median"],
            "paper_min_l2": p.get("min_l2", ""),
            "min_rel_l2_mean": rel["mean"], "min_rel_l2_std": rel["std"],
            "final_l2_mse_mean": describe([r["summary"]["final_l2"] for r in done])["mean"],
            "ms_per_step_adam": statistics.fmean(phases[0]) if phases else "",
            "ms_per_step_lbfgs": statistics.fmean(phases[1]) if len(phases) > 1 else "",
            "n": l2["n"], "n_seeds": len(recs), "n_diverged": len(recs) - len(done),
            "note": NOTES.get(model, "") if paper else "",
        })
    return rows


def _phase(records: list[dict], phase: int) -> list[dict]:
    """The records with their history cut to one phase (the last Adam row opens L-BFGS's)."""
    out = []
    for r in records:
        rows = r["history"]
        start = next((i for i, row in enumerate(rows) if row["phase"] == phase), len(rows))
        end = next((i for i, row in enumerate(rows) if row["phase"] > phase), len(rows))
        out.append({**r, "history": rows[max(start - 1, 0) if phase else 0:end]})
    return out


def figure(records: list[dict], suptitle: str = ""):
    """Rows: Fig. 3's three panels; columns: the Adam phase and the L-BFGS phase, whose steps
    (up to 20 iterations each) would be a sliver on a shared step axis."""
    n_phases = 1 + max(row["phase"] for r in records for row in r["history"])
    fig, axes = plt.subplots(3, n_phases, figsize=(5 * n_phases, 9), sharey="row", squeeze=False)
    for model, recs in by_model(records):
        done = [r for r in recs if r["status"] == "complete"] or recs
        for col in range(n_phases):
            if col and not any(row["phase"] == col for r in done for row in r["history"]):
                continue  # a model without this phase (the least-squares head has one)
            part = _phase(done, col)
            for ax, (metric, title) in zip(axes[:, col], PANELS):
                band = curve_band(part, metric)
                plot_band(ax, band["step"], band, recs[0]["color"],
                          f"{recs[0]['label']} ({recs[0]['summary']['n_params']:,} params)")
                ax.set_title(f"{title}, {('Adam', 'L-BFGS')[col] if n_phases == 2 else ''}", fontsize=9)
    for ax in axes.flat:
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    for col in range(n_phases):
        axes[-1, col].set_xlabel("step" if col == 0 else "step (one L-BFGS step: up to 20 iterations)")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig, axes


def problems(records: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """(problem, name for file names, records): the paper's problem is named table1 / fig3,
    any other problem by a short hash of its description."""
    out = []
    for (experiment, problem), recs in group_by(records, lambda r: (r["experiment"], r["problem"])).items():
        name = "table1" if problem == PAPER_PROBLEM else f"pde-{digest({'problem': problem})[:8]}"
        out.append((problem, f"{experiment}_{name}", recs))
    return out


def report(records: list[dict], out_dir: Path, paper_dir: Path, profile: str) -> list[Path]:
    paper = read_csv(paper_dir / "table1_poisson.csv")
    written = []
    study = [r for r in records if widths.is_width_study(r)]
    records = [r for r in records if not widths.is_width_study(r)]
    if study:
        table = widths.rows(study)
        studied = {r["model"] for r in study}
        scans = [r for r in records if r.get("lsq_widths") and r["model"] in studied and r["problem"] == PAPER_PROBLEM]
        written.append(write_csv(out_dir / "tables" / f"poisson_widths_{profile}.csv", table))
        fig, _ = widths.figure(table, study, scans)
        written.append(save_figure(fig, out_dir / "figures" / f"poisson_widths_{profile}.png"))
    for problem, name, recs in problems(records):
        rows = table1_rows(recs, paper if problem == PAPER_PROBLEM else [])
        written.append(write_csv(out_dir / "tables" / f"{name}_{profile}.csv", rows))
        fig, _ = figure(recs, f"problem: {problem}")
        figure_name = name.replace("table1", "fig3")
        written.append(save_figure(fig, out_dir / "figures" / f"{figure_name}_{profile}.png"))
        for r in rows:
            print(f"{name} {r['model']}: min L2 (MSE) {r['min_l2_mse_mean']:.3g} "
                  f"(paper {r['paper_min_l2'] or '-'}), min rel L2 {r['min_rel_l2_mean']:.3g}, "
                  f"{r['n_params_trainable']:,} params (paper {r['paper_n_params'] or '-'})")
    return written


def glance(records: list[dict], paper_dir: Path, profile: str) -> list[dict]:
    """One summary row per problem: minimum mesh MSE over training, mean over seeds, per model."""
    paper = read_csv(paper_dir / "table1_poisson.csv")
    out = []
    for problem, _, recs in problems([r for r in records if not widths.is_width_study(r)]):
        rows = table1_rows(recs, [])
        case = "Eq. 4 (the paper's problem)" if problem == PAPER_PROBLEM else problem
        out.append(glance_row(recs[0]["experiment"], profile, case, "min mesh MSE, mean", rows,
                              paper_best=paper_best(paper, "min_l2") if problem == PAPER_PROBLEM else "",
                              value="min_l2_mse_mean", n="n"))
    return out
