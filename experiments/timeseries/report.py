"""Table 6 (§5.3) and the loss curves, from time-series records, beside the paper's numbers.

The paper gives one train and one test MSE per model; we report the final (after the last
epoch) and the minimum over epochs of each, as median, spread (min and max) and mean over the
seeds, with the paper's number in the same row.
"""

from __future__ import annotations

import pandas as pd

from experiments.harness.family import Context, FamilyReport, Section
from experiments.harness.figures import plot_epoch_curves
from experiments.harness.records import Record, by_row
from experiments.harness.summary import by_model, first, frame, glance_row, paper_best, summarize

TABLE6 = "table6_timeseries"  # results/paper
MSES = [f"{kind}_{split}_mse" for split in ("train", "test") for kind in ("final", "min")]
GMNM = "lstm3_gmnm"  # GMNM's model in Table 6 (the glance's subject)


def table6(records: list[dict], paper: pd.DataFrame) -> pd.DataFrame:
    df = frame(records, [*MSES, "ms_per_step"])
    ident = first(df, ["row"], ["protocol", "model", "head", "label", "arch", "n_params", "n_params_all"]).rename(
        columns={"arch": "architecture", "n_params": "n_params_trainable", "n_params_all": "n_params_all_tensors"}
    )
    stats = summarize(df, ["row"], [*MSES, "ms_per_step"])
    theirs = by_model(paper)
    table = ident.merge(stats, on="row")
    for split in ("train", "test"):  # the paper's number, for the paper protocol's rows
        table[f"paper_{split}_mse"] = [
            theirs.get(m, {}).get(f"{split}_mse", "") if p == "paper" else ""
            for m, p in zip(table["model"], table["protocol"])
        ]
    columns = ["protocol", "model", "head", "label", "architecture", "n_params_trainable", "n_params_all_tensors"]
    for split in ("train", "test"):
        columns += [f"{kind}_{split}_mse_{s}" for kind in ("final", "min") for s in ("median", "min", "max", "mean")]
        columns.append(f"paper_{split}_mse")
    table = table.rename(columns={"ms_per_step_median": "ms_per_step"})
    return table[columns + ["ms_per_step", "n", "n_seeds", "n_diverged"]]


def figure(records: list[dict]):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    groups = [recs for _, recs in by_row(records)]
    n_seeds = max(len(recs) for recs in groups)
    for ax, split in zip(axes, ("train", "test")):
        plot_epoch_curves(
            ax,
            groups,
            f"{split}_mse",
            f"{split} MSE (mean over up to {n_seeds} seeds, band: min to max)",
            label=lambda recs: f"{Record(recs[0]).label} ({recs[0]['summary']['n_params']:,} params)",
        )
    fig.tight_layout()
    return fig


class TimeSeriesReport(FamilyReport):
    section = Section(
        title="Time series (§5.3, Eq. 5, Table 6)",
        about="MSE after the last epoch: median, spread and mean over seeds, beside Table 6.",
        tables=(
            (
                "timeseries_table6",
                "Table 6: the time series, per model",
                (
                    "label",
                    "n_params_trainable",
                    "final_train_mse_median",
                    "final_test_mse_median",
                    "final_test_mse_min",
                    "final_test_mse_max",
                    "final_test_mse_mean",
                    "paper_train_mse",
                    "paper_test_mse",
                    "n_seeds",
                ),
            ),
        ),
        figures=("timeseries",),
        order=(5, 3),
    )

    def tables(self, records, ctx: Context):
        return {
            f"{e}_table6": table6([r for r in records if r["experiment"] == e], ctx.paper[TABLE6])
            for e in sorted({r["experiment"] for r in records})
        }

    def figures(self, records, tables, ctx):
        return {
            e: figure([r for r in records if r["experiment"] == e]) for e in sorted({r["experiment"] for r in records})
        }

    def lines(self, tables):
        return [
            f"{name} {r.model} ({r.protocol}): final train/test MSE median {r.final_train_mse_median:.3g} / "
            f"{r.final_test_mse_median:.3g} (paper {r.paper_train_mse or '-'} / {r.paper_test_mse or '-'}), "
            f"{r.n_params_trainable:,} params"
            for name, t in tables.items()
            for r in t.itertuples()
        ]

    def glance(self, records, tables, ctx):
        """Test MSE after the last epoch, median over seeds, per row; the paper's best beside it."""
        return [
            glance_row(
                name.removesuffix("_table6"),
                ctx.profile,
                "Table 6",
                "final test MSE, median",
                rows,
                value="final_test_mse_median",
                ours=GMNM,
                records=[r for r in records if f"{r['experiment']}_table6" == name],
                metric_key="final_test_mse",
                paper_best=paper_best(ctx.paper[TABLE6], "test_mse"),
            )
            for name, rows in tables.items()
        ]
