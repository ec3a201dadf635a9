"""Table 1 and Fig. 3 (§4.2) from Poisson records, beside the paper's numbers.

Records are grouped by the problem they solved, named by its config: a record whose `task.pde`
equals one of conf/pde's problems is that problem (Eq. 4 is `sinsin`); any other is named by a
short hash of its config. A trial of another PDE never joins Table 1, and the paper's numbers sit
beside ours only for the paper's problem.

Table 1: per model and protocol, the architecture, the parameter count counted from the module
(trainable, and all tensors the way `sum(p.numel() for p in model.parameters())` counts them),
the minimum over training of the two error measures (mean, std, median over seeds) and ms/step
per phase, with the paper's count and min L2 in the same row. Fig. 3: the L2 error, boundary MSE
and PDE residual MSE per step (line: mean over seeds; band: min to max), the Adam phase and the
L-BFGS phase side by side.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from experiments.harness.config import digest
from experiments.harness.env import ROOT
from experiments.harness.family import Context, FamilyReport, Section
from experiments.harness.figures import STYLES, plot_band
from experiments.harness.records import Record, by_kind, by_row
from experiments.harness.summary import by_model, curve_band, first, frame, glance_row, paper_best, summarize
from experiments.poisson import widths

PAPER_PROBLEM = "sinsin"  # conf/pde/sinsin.yaml: Eq. 4, the problem of Table 1
TABLE1 = "table1_poisson"  # results/paper
PROBLEM_KEYS = ("_target_", "exact", "source", "boundary", "domain")
PANELS = (
    ("l2", '(a) mesh MSE of f (the paper\'s "L2 error"), 101 x 101 mesh', "mesh MSE"),
    ("bc_mse", "(b) boundary MSE", "boundary MSE"),
    ("pde_mse", "(c) PDE residual MSE", "PDE residual MSE"),
)
NOTES = {
    "kan": "pykan 0.2.8 with grid 5, k 3 (its PDE example); no integer grid gives 10,600 "
    "(grid 76: 10,530 trainable; grid 59: 10,636 all tensors)"
}


@cache
def named_problems(conf_dir: Path = ROOT / "conf") -> dict[str, tuple]:
    """{name: its config's values} of every problem in conf/pde."""
    from omegaconf import OmegaConf

    out = {}
    for path in sorted((conf_dir / "pde").glob("*.yaml")):
        node = OmegaConf.to_container(OmegaConf.load(path))
        out[path.stem] = tuple(_plain(node.get(k)) for k in PROBLEM_KEYS)
    return out


GMNM = "gmnm"  # GMNM's model in these experiments (the glance's subject)


def _plain(value):
    return [float(v) for v in value] if isinstance(value, list) else value


def problem_of(record: dict) -> str:
    """The named problem a Poisson record solved (a conf/pde choice), else a short hash of its config."""
    pde = record["config"]["task"]["pde"]
    values = tuple(_plain(pde.get(k)) for k in PROBLEM_KEYS)
    name = next((n for n, v in named_problems().items() if v == values), None)
    return name or digest({k: pde.get(k) for k in PROBLEM_KEYS})[:8]


def is_paper_problem(record: dict) -> bool:
    return problem_of(record) == PAPER_PROBLEM


def table1(records: list[dict], paper: pd.DataFrame | None) -> pd.DataFrame:
    """One row per (protocol, model); paper: Table 1's rows, or None for a problem other than the paper's."""
    df = frame(records, ["min_l2", "min_rel_l2", "final_l2"])
    ident = first(df, ["row"], ["problem", "protocol", "model", "head", "label", "arch", "n_params", "n_params_all"])
    stats = summarize(df, ["row"], ["final_l2", "min_rel_l2", "min_l2"])  # n: that of the last, min_l2
    theirs = by_model(paper) if paper is not None else {}
    rows = []
    for i, (_, recs) in enumerate(by_row(records)):
        done = [r for r in recs if r["status"] == "complete"]
        phases = pd.DataFrame([r["summary"]["ms_per_step_phases"] for r in done])  # (runs, phases)
        me = ident.iloc[i]
        p = theirs.get(me["model"], {}) if me["protocol"] == "paper" else {}
        rows.append(
            {
                "problem": me["problem"],
                "protocol": me["protocol"],
                "model": me["model"],
                "head": me["head"],
                "label": me["label"],
                "architecture": me["arch"],
                "n_params_trainable": me["n_params"],
                "n_params_all_tensors": me["n_params_all"] if pd.notna(me["n_params_all"]) else "",
                "paper_n_params": p.get("n_params", ""),
                "paper_architecture": p.get("architecture", ""),
                "min_l2_mse_mean": stats["min_l2_mean"].iloc[i],
                "min_l2_mse_std": stats["min_l2_std"].iloc[i],
                "min_l2_mse_median": stats["min_l2_median"].iloc[i],
                "paper_min_l2": p.get("min_l2", ""),
                "min_rel_l2_mean": stats["min_rel_l2_mean"].iloc[i],
                "min_rel_l2_std": stats["min_rel_l2_std"].iloc[i],
                "final_l2_mse_mean": stats["final_l2_mean"].iloc[i],
                "ms_per_step_adam": phases[0].mean() if 0 in phases else "",
                "ms_per_step_lbfgs": phases[1].mean() if 1 in phases else "",
                "n": stats["n"].iloc[i],
                "n_seeds": stats["n_seeds"].iloc[i],
                "n_diverged": stats["n_diverged"].iloc[i],
                "note": NOTES.get(me["model"], "") if paper is not None and me["protocol"] == "paper" else "",
            }
        )
    return pd.DataFrame(rows)


def _phase(records: list[dict], phase: int) -> list[dict]:
    """The records with their history cut to one phase (the last Adam row opens L-BFGS's)."""
    out = []
    for r in records:
        rows = r["history"]
        start = next((i for i, row in enumerate(rows) if row["phase"] == phase), len(rows))
        end = next((i for i, row in enumerate(rows) if row["phase"] > phase), len(rows))
        out.append({**r, "history": rows[max(start - 1, 0) if phase else 0 : end]})
    return out


def figure(records: list[dict], suptitle: str = ""):
    """Rows: Fig. 3's three panels; columns: the Adam phase and the L-BFGS phase, whose steps
    (up to 20 iterations each) would be a sliver on a shared step axis."""
    import matplotlib.pyplot as plt

    n_phases = 1 + max(row["phase"] for r in records for row in r["history"])
    fig, axes = plt.subplots(3, n_phases, figsize=(5 * n_phases, 9), sharey="row", squeeze=False)
    for i, (_, recs) in enumerate(by_row(records)):
        done = [r for r in recs if r["status"] == "complete"] or recs
        for col in range(n_phases):
            if col and not any(row["phase"] == col for r in done for row in r["history"]):
                continue  # a model without this phase (the least-squares head has one)
            part = _phase(done, col)
            for ax, (metric, title, axis) in zip(axes[:, col], PANELS):
                band = curve_band(part, metric)
                plot_band(
                    ax,
                    band["step"],
                    band,
                    Record(recs[0]).color,
                    f"{Record(recs[0]).label} ({recs[0]['summary']['n_params']:,} params, {len(done)} runs)",
                    STYLES[i % len(STYLES)],
                )
                ax.set_ylabel(f"{axis} (log scale)", fontsize=8)
                ax.set_title(f"{title}, {('Adam', 'L-BFGS')[col] if n_phases == 2 else ''}", fontsize=9)
    for ax in axes.flat:
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    for col in range(n_phases):
        axes[-1, col].set_xlabel("step" if col == 0 else "step (one L-BFGS step: up to 20 iterations)")
    axes[0, -1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)  # beside the curves
    fig.suptitle(f"{suptitle}\nline: mean over runs, band: min to max", fontsize=10)
    fig.tight_layout()
    return fig


def problems(records: list[dict]) -> list[tuple[str, str, str, list[dict]]]:
    """(experiment, problem, name for file names, records), by experiment and named problem: the
    paper's problem is named table1 / fig3, any other pde-<its name or hash>."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        groups.setdefault((r["experiment"], problem_of(r)), []).append(r)
    return [
        (experiment, problem, f"{experiment}_{'table1' if problem == PAPER_PROBLEM else 'pde-' + problem}", recs)
        for (experiment, problem), recs in sorted(groups.items())
    ]


class PoissonReport(FamilyReport):
    section = Section(
        title="Poisson PDE (§4.2, Eq. 4, Table 1, Fig. 3)",
        about="Minimum over training of the mesh MSE of f (the paper's 'L2'), over seeds; one table per problem "
        "solved, the paper's numbers beside ours for Eq. 4 only.",
        tables=(
            (
                "poisson_widths",
                "Eq. 4's error against the Gaussians' initial width",
                (
                    "label",
                    "sigma_over_spacing",
                    "sigma_init",
                    "min_l2_mse_median",
                    "min_l2_mse_min",
                    "min_l2_mse_max",
                    "n_seeds",
                ),
            ),
            (
                "poisson_[tp]*",
                "Table 1: the Poisson problem, per model",
                (
                    "label",
                    "architecture",
                    "n_params_trainable",
                    "paper_n_params",
                    "min_l2_mse_mean",
                    "min_l2_mse_median",
                    "paper_min_l2",
                    "min_rel_l2_mean",
                    "ms_per_step_adam",
                    "ms_per_step_lbfgs",
                    "n_seeds",
                ),
            ),
        ),
        # names before "_<profile>.png"; "poisson_fig3_*" matched none of them, so Fig. 3 was missing from the pages
        figures=("poisson_fig3", "poisson_fig3_tuned", "poisson_fig3_lsq", "poisson_pde-*", "poisson_widths"),
        order=(4, 2),
    )

    def tables(self, records, ctx: Context):
        out = {}
        study = [r for r in records if widths.is_width_study(r)]
        if study:
            out["poisson_widths"] = widths.table(study).drop(columns="color")
        for _, problem, name, recs in problems([r for r in records if not widths.is_width_study(r)]):
            out[name] = table1(recs, ctx.paper[TABLE1] if problem == PAPER_PROBLEM else None)
        return out

    def figures(self, records, tables, ctx):
        out = {}
        study = [r for r in records if widths.is_width_study(r)]
        rest = [r for r in records if not widths.is_width_study(r)]
        if study:
            studied = {r["model"] for r in study}
            scans = [r for r in rest if r.get("lsq_widths") and r["model"] in studied and is_paper_problem(r)]
            gmnm = by_model(ctx.paper[TABLE1]).get("gmnm", {}).get("min_l2")
            out["poisson_widths"] = widths.figure(widths.table(study), study, scans, float(gmnm) if gmnm else None)
        for _, _, name, recs in problems(rest):
            for kind, suffix, mine in by_kind(recs):  # a handful of curves a panel
                out[name.replace("table1", "fig3") + suffix] = figure(mine, f"problem: {recs[0]['problem']} ({kind})")
        return out

    def lines(self, tables):
        return [
            f"{name} {r.model} ({r.protocol}): min L2 (MSE) {r.min_l2_mse_mean:.3g} (paper {r.paper_min_l2 or '-'}), "
            f"min rel L2 {r.min_rel_l2_mean:.3g}, {r.n_params_trainable:,} params (paper {r.paper_n_params or '-'})"
            for name, t in tables.items()
            if name != "poisson_widths"
            for r in t.itertuples()
        ]

    def glance(self, records, tables, ctx):
        """One summary row per problem: minimum mesh MSE over training, mean over seeds, per row."""
        out = []
        for experiment, problem, name, recs in problems([r for r in records if not widths.is_width_study(r)]):
            rows = tables[name]
            case = "Eq. 4 (the paper's problem)" if problem == PAPER_PROBLEM else rows["problem"].iloc[0]
            out.append(
                glance_row(
                    experiment,
                    ctx.profile,
                    case,
                    "min mesh MSE, mean",
                    rows,
                    value="min_l2_mse_mean",
                    ours=GMNM,
                    records=recs,
                    metric_key="min_l2",
                    paper_best=paper_best(ctx.paper[TABLE1], "min_l2") if problem == PAPER_PROBLEM else "",
                )
            )
        return out
