"""Tables 4-5 and Fig. 5 (§5.2), and a grid of reconstructions, from generation records.

Table 5 of the paper gives the minimum train and test MSE over epochs; we give them as mean and
spread over runs, beside the paper's. Fig. 5 shows train and test loss curves per data set (mean
with a min-max band over runs). The grid shows the first test images and each model's
reconstruction of them (run with the lowest seed), because an autoencoder is judged by eye.
"""

from __future__ import annotations

import pandas as pd

from experiments.generation.task import decode_images
from experiments.harness.family import Context, FamilyReport, Section
from experiments.harness.figures import plot_epoch_curves
from experiments.harness.records import Record, by_row
from experiments.harness.summary import by_model, describe, glance_row, paper_best, size_row

TABLE4, TABLE5 = "table4_generation_size", "table5_generation_loss"  # results/paper
GMNM = "ae_att_gmnm"  # the model Table 5 says is best (the glance's subject)


def _dataset(record: dict) -> str:
    return record["config"]["task"]["dataset"]


def _rows(records: list[dict]):
    """(data set, (protocol, model), records), data sets by name, rows in table order."""
    return [
        (d, key, recs)
        for d in sorted({_dataset(r) for r in records})
        for key, recs in by_row([r for r in records if _dataset(r) == d])
    ]


def table4(records: list[dict], paper: pd.DataFrame) -> pd.DataFrame:
    theirs = by_model(paper)
    return pd.DataFrame(
        [
            size_row(recs, theirs.get(model, {}) if protocol == "paper" else {}, "n_params", dataset=dataset)
            for dataset, (protocol, model), recs in _rows(records)
        ]
    )


def table5(records: list[dict], paper: pd.DataFrame) -> pd.DataFrame:
    theirs = {(p["dataset"], p["model"]): p for p in paper.to_dict("records")}
    rows = []
    for dataset, (protocol, model), recs in _rows(records):
        done = [r for r in recs if r["status"] == "complete"]
        p = theirs.get((dataset, model), {}) if protocol == "paper" else {}
        row = {
            "dataset": dataset,
            "protocol": protocol,
            "model": model,
            "label": Record(recs[0]).label,
            "experiment": recs[0]["experiment"],
            "n": len(done),
            "n_runs": len(recs),
            "n_diverged": len(recs) - len(done),
        }
        for split in ("train", "test"):
            d = describe([r["summary"][f"min_{split}_mse"] for r in done])
            row.update({f"min_{split}_mse_{s}": d[s] for s in ("mean", "std", "min", "max")})
            row[f"paper_min_{split}_mse"] = p.get(f"min_{split}_mse", "")
        rows.append(row)
    return pd.DataFrame(rows)


def curves(records: list[dict]):
    import matplotlib.pyplot as plt

    datasets = sorted({_dataset(r) for r in records})
    fig, axes = plt.subplots(len(datasets), 2, figsize=(11, 4 * len(datasets)), squeeze=False)
    for row, dataset in zip(axes, datasets):
        groups = [recs for _, _, recs in _rows([r for r in records if _dataset(r) == dataset])]
        for ax, split in zip(row, ("train", "test")):
            plot_epoch_curves(ax, groups, f"{split}_mse", f"{dataset}: {split} MSE (mean, band: min to max)")
    fig.tight_layout()
    return fig


def reconstruction_grid(records: list[dict]):
    """Per data set: a row of test images, then one row per model (its lowest-seed run)."""
    import matplotlib.pyplot as plt

    rows = []  # (label, (N, C, H, W) uint8)
    for dataset in sorted({_dataset(r) for r in records}):
        first = True
        for _, _, group in _rows([r for r in records if _dataset(r) == dataset]):
            art = min(group, key=lambda r: r["seed"]).get("artifacts", {}).get("reconstructions")
            if art is None:
                continue
            if first:
                rows.append((f"{dataset}\noriginal", decode_images(art["original"], art["shape"])))
                first = False
            rows.append((Record(group[0]).label, decode_images(art["reconstructed"], art["shape"])))
    if not rows:
        return None
    n = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), n, figsize=(1.2 * n + 1, 1.25 * len(rows)), squeeze=False)
    for ax_row, (name, images) in zip(axes, rows):
        for j, ax in enumerate(ax_row):
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(images):
                img = images[j].permute(1, 2, 0).numpy()  # (H, W, C)
                ax.imshow(img if img.shape[2] == 3 else img[:, :, 0], cmap=None if img.shape[2] == 3 else "gray")
        ax_row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    return fig


class GenerationReport(FamilyReport):
    section = Section(
        title="Image generation (§5.2, Tables 4-5, Fig. 5)",
        about="Parameter counts beside Table 4; minimum train and test MSE over epochs beside Table 5.",
        tables=(
            (
                "generation_table4",
                "Table 4: parameter counts",
                ("dataset", "label", "n_params", "paper_n_params", "diff_pct"),
            ),
            (
                "generation_table5",
                "Table 5: reconstruction losses",
                (
                    "dataset",
                    "label",
                    "min_train_mse_mean",
                    "min_test_mse_mean",
                    "paper_min_train_mse",
                    "paper_min_test_mse",
                    "n_runs",
                ),
            ),
        ),
        figures=("generation_fig5", "generation_reconstructions"),
        order=(5, 2),
    )

    def tables(self, records, ctx: Context):
        return {
            "generation_table4": table4(records, ctx.paper[TABLE4]),
            "generation_table5": table5(records, ctx.paper[TABLE5]),
        }

    def figures(self, records, tables, ctx):
        grid = reconstruction_grid(records)
        return {"generation_fig5": curves(records), **({"generation_reconstructions": grid} if grid else {})}

    def lines(self, tables):
        return [
            f"{r.dataset} {r.model} ({r.protocol}): min train/test MSE {r.min_train_mse_mean:.4g} / "
            f"{r.min_test_mse_mean:.4g} (paper {r.paper_min_train_mse or '-'} / {r.paper_min_test_mse or '-'})"
            for r in tables["generation_table5"].itertuples()
        ]

    def glance(self, records, tables, ctx):
        """Per data set: the minimum test MSE over epochs (Table 5), mean over runs."""
        t5, paper = tables["generation_table5"], ctx.paper[TABLE5]
        return [
            glance_row(
                rows["experiment"].iloc[0],
                ctx.profile,
                "Table 5",
                "min test MSE, mean",
                rows,
                value="min_test_mse_mean",
                ours=GMNM,
                records=[r for r in records if _dataset(r) == d],
                metric_key="min_test_mse",
                paper_best=paper_best(paper, "min_test_mse", dataset=d),
            )
            for d, rows in t5.groupby("dataset", sort=False)
        ]
