"""Fig. 2 (fit2d) and its 1-D analogue (fit1d): tables and figures from fitting records.

Tables (long format, one row per level x protocol x model x metric) give mean/std/median over
seeds, the parameter count of each model and its rank within the level; the `_winners` table puts
our best model per level and protocol beside the paper's claim. Figures follow Fig. 2's layout:
one row per level with the target, train-loss curves and test-loss curves (line: mean over seeds;
band: min to max over seeds).
"""

from __future__ import annotations

import math

import pandas as pd
import torch

from experiments.fitting.targets import LEVELS, target
from experiments.harness.family import Context, FamilyReport, Section
from experiments.harness.figures import STYLES, plot_band
from experiments.harness.records import TRAINED, Record, by_kind, by_row
from experiments.harness.summary import curve_band, first, frame, glance_row, summarize

METRICS = ("final_test_mse", "min_test_mse", "final_train_mse", "min_train_mse", "final_test_nmse", "ms_per_step")
RANKED_BY = "final_test_mse"
MLPS = ("mlp_relu", "mlp_tanh")  # the paper's "MLPs" (Fig. 2)
CLAIMS = "fig2_fitting_claims"  # results/paper: the paper's best model per experiment
GMNM = "gmnm"  # GMNM's model in these experiments (the glance's subject)


def summary_table(records: list[dict]) -> pd.DataFrame:
    df = frame(records, METRICS, config=["task.level"]).rename(columns={"task.level": "level"})
    by = ["experiment", "level", "row"]
    ident = first(df, by, ["profile", "protocol", "model", "head", "base_model", "label", "n_params", "arch"])
    parts = []
    for metric in METRICS:
        stats = summarize(df, by, [metric], prefix=False)
        parts.append(ident.merge(stats, on=by).assign(metric=metric))
    table = pd.concat(parts).sort_values(by, kind="stable")  # level, row, then metric in METRICS' order
    abc = pd.DataFrame(LEVELS, columns=["a", "b", "c"]).rename_axis("level").reset_index()
    table = table.merge(abc, on="level", how="left")
    # rank within (experiment, level, metric): lowest mean first, NaN last
    table["rank"] = table.groupby(["experiment", "level", "metric"])["mean"].rank(method="first", na_option="bottom")
    columns = [
        "experiment",
        "profile",
        "level",
        "a",
        "b",
        "c",
        "protocol",
        "model",
        "head",
        "base_model",
        "label",
        "n_params",
        "arch",
        "metric",
        "mean",
        "std",
        "median",
        "min",
        "max",
        "n",
        "n_seeds",
        "n_diverged",
        "rank",
    ]
    return table[columns].astype({"rank": int}).reset_index(drop=True)


def winner_table(summary: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """Per level and protocol: our best model (the paper's kind of training: least-squares rows are
    listed, not ranked), every model's mean, and how far the best MLP lags GMNM (log10)."""
    out = []
    ranked = summary[summary["metric"] == RANKED_BY]
    for (experiment, level, protocol), group in ranked.groupby(["experiment", "level", "protocol"], sort=False):
        means = dict(zip(group["model"], group["mean"]))
        candidates = group[group["head"] == TRAINED]
        top = candidates.loc[candidates["rank"].idxmin()]
        claim = claims.loc[(claims["experiment"] == experiment) & (claims["claim"] == "best_model"), "value"]
        claim = claim.iloc[0] if len(claim) else ""
        mlps = [means[m] for m in MLPS if m in means]
        gmnm = means.get("gmnm")
        out.append(
            {
                "experiment": experiment,
                "level": level,
                "protocol": protocol,
                "metric": RANKED_BY,
                "ours_best_model": top["model"],
                "ours_best_mean": top["mean"],
                **{f"mean_{m}": v for m, v in means.items()},
                "log10_best_mlp_over_gmnm": math.log10(min(mlps) / gmnm) if mlps and gmnm and gmnm > 0 else math.nan,
                "paper_best_model": claim,
                "paper_log10_gmnm_advantage_over_mlp": "1-2" if experiment == "fit2d" else "",
                "agrees_with_paper": (top["model"] == claim) if claim and protocol == "paper" else "",
            }
        )
    return pd.DataFrame(out)


def figure(records: list[dict], kind: str = "as written"):
    """Fig. 2's layout for one kind of training (as written, tuned, LSQ head): a row per level with the
    target, the train and the test MSE, a handful of curves a panel, the legend beside the panels."""
    import matplotlib.pyplot as plt

    levels = sorted({Record(r).config("task.level") for r in records})
    fig, axes = plt.subplots(len(levels), 3, figsize=(14, 3.1 * len(levels)), squeeze=False)
    for row, level in zip(axes, levels):
        recs = [r for r in records if Record(r).config("task.level") == level]
        _plot_target(row[0], recs[0]["config"]["task"])
        for ax, split in zip(row[1:], ("train", "test")):
            for i, (_, group) in enumerate(by_row(recs)):
                finished = [r for r in group if r["status"] == "complete"] or group
                band = curve_band(finished, f"{split}_mse")
                name = f"{Record(group[0]).label} ({group[0]['summary']['n_params']:,} params, {len(finished)} runs)"
                plot_band(ax, band["step"], band, Record(group[0]).color, name, STYLES[i % len(STYLES)])
            ax.set_yscale("log")
            ax.set_title(f"level {level}: {split} MSE ({kind})", fontsize=10)
            ax.set_ylabel(f"{split} MSE (log scale)")
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
        row[2].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0,
                      title="line: mean over runs\nband: min to max", title_fontsize=7)  # fmt: skip
    fig.tight_layout()
    return fig


def _plot_target(ax, task: dict) -> None:
    """The level's target over the trial's box, from the task settings in its record."""
    (low, high), level, sigma = task["domain"], task["level"], task.get("sigma", "lower")
    a, b, c = LEVELS[level]
    if task["dim"] == 1:
        x = torch.linspace(low, high, 2001, dtype=torch.float64)[:, None]
        ax.plot(x[:, 0].numpy(), target(x, level).numpy(), color="k", lw=1)  # numpy: matplotlib copies arrays
        ax.set_xlabel("x")
    else:
        g = torch.linspace(low, high, 241, dtype=torch.float64)
        x1, x2 = torch.meshgrid(g, g, indexing="xy")  # (241, 241) each
        t = target(torch.stack([x1.ravel(), x2.ravel()], -1), level, sigma).reshape(x1.shape)
        im = ax.pcolormesh(x1.numpy(), x2.numpy(), t.numpy(), cmap="viridis", shading="auto")
        ax.figure.colorbar(im, ax=ax, fraction=0.046)
        ax.set_aspect("equal")
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    ax.set_title(f"target, (a,b,c) = ({a:g}, {b:g}, {c:g})")


class FittingReport(FamilyReport):
    section = Section(
        title="Function fitting (§4.1, Fig. 2; fit1d is its 1-D analogue)",
        about="Final test MSE in the target's units, mean over seeds, per level (a, b, c) and protocol. Full "
        "tables with spreads, train MSE and parameter counts: `results/tables/fit{1,2}d_<profile>.csv`.",
        tables=tuple(
            (
                f"{e}_winners",
                f"{'Fig. 2' if e == 'fit2d' else 'The 1-D analogue'} ({e}): our best model per level and protocol",
                ("level", "protocol", "ours_best_model", "mean_*", "log10_best_mlp_over_gmnm", "paper_best_model"),
            )
            for e in ("fit2d", "fit1d")
        ),
        figures=("fit2d", "fit2d_tuned", "fit2d_lsq", "fit1d", "fit1d_tuned", "fit1d_lsq"),
        order=(4, 1),
    )

    def tables(self, records, ctx: Context):
        out = {}
        for experiment in sorted({r["experiment"] for r in records}):
            summary = summary_table([r for r in records if r["experiment"] == experiment])
            out[experiment] = summary
            out[f"{experiment}_winners"] = winner_table(summary, ctx.paper[CLAIMS])
        return out

    def figures(self, records, tables, ctx):
        out = {}
        for e in sorted({r["experiment"] for r in records}):
            for kind, suffix, recs in by_kind([r for r in records if r["experiment"] == e]):
                out[f"{e}{suffix}"] = figure(recs, kind)  # a handful of curves a panel
        return out

    def lines(self, tables):
        return [
            f"{w.experiment} level {w.level} ({w.protocol}): best {w.ours_best_model} (final test MSE "
            f"{w.ours_best_mean:.3g}); paper: {w.paper_best_model}"
            for name, t in tables.items()
            if name.endswith("_winners")
            for w in t.itertuples()
        ]

    def glance(self, records, tables, ctx):
        """One summary row per experiment and level: final test MSE, mean over seeds, per row."""
        claims = ctx.paper[CLAIMS]
        out = []
        for name, summary in tables.items():
            if name.endswith("_winners"):
                continue
            best = claims.loc[(claims["experiment"] == name) & (claims["claim"] == "best_model"), "value"]
            for level, rows in summary[summary["metric"] == RANKED_BY].groupby("level", sort=True):
                a, b, c = LEVELS[level]
                out.append(
                    glance_row(
                        name,
                        ctx.profile,
                        f"level {level} (a, b, c) = ({a:g}, {b:g}, {c:g})",
                        "final test MSE, mean",
                        rows,
                        value="mean",
                        ours=GMNM,
                        records=[
                            r for r in records if r["experiment"] == name and Record(r).config("task.level") == level
                        ],
                        metric_key="final_test_mse",
                        paper_best=best.iloc[0] if len(best) else "",
                    )
                )
        return out
