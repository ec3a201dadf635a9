"""Tables 4-5 and Fig. 5 (§5.2), and a grid of reconstructions, from generation records.

Table 5 of the paper gives the minimum train and test MSE over epochs; we give them as mean and
spread over runs, beside the paper's. Fig. 5 shows train and test loss curves per data set (mean
with a min-max band over runs). The grid shows the first test images and each model's
reconstruction of them (run with the lowest seed), because an autoencoder is judged by eye.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.generation.task import decode_images  # noqa: E402
from experiments.reporting import (by_model, describe, glance_row, paper_best, plot_epoch_curves,  # noqa: E402
                                   read_csv, save_figure, write_csv)


SECTION = {  # docs/results.md (experiments/summary.py)
    "title": "Image generation (§5.2, Tables 4-5, Fig. 5)",
    "about": "Parameter counts beside Table 4; minimum train and test MSE over epochs beside Table 5.",
    "tables": [("generation_table4", ["dataset", "label", "n_params", "paper_n_params", "diff_pct"]),
               ("generation_table5", ["dataset", "label", "min_train_mse_mean", "min_test_mse_mean",
                                      "paper_min_train_mse", "paper_min_test_mse", "n_runs"])],
    "figures": ["generation_fig5", "generation_reconstructions"],
}

def _dataset(record: dict) -> str:
    return record["config"]["task"]["dataset"]


def _by_dataset_model(records: list[dict]) -> list[tuple[tuple[str, str], list[dict]]]:
    """((data set, model), records), data sets by name, models in lineup order."""
    datasets = sorted({_dataset(r) for r in records})
    return [((d, m), recs) for d in datasets for m, recs in by_model([r for r in records if _dataset(r) == d])]


def table4_rows(records: list[dict], paper: list[dict]) -> list[dict]:
    theirs = {p["model"]: p for p in paper}
    rows = []
    for (dataset, model), recs in _by_dataset_model(records):
        ours, paper_n = recs[0]["summary"]["n_params"], theirs.get(model, {}).get("n_params", "")
        rows.append({"dataset": dataset, "model": model, "label": recs[0]["label"], "architecture": recs[0]["arch"],
                     "n_params": ours, "paper_n_params": paper_n,
                     "diff_pct": 100 * (ours - int(paper_n)) / int(paper_n) if paper_n else "",
                     "ms_per_step": describe([r["summary"]["ms_per_step"] for r in recs])["median"],
                     "device": ", ".join(sorted({r["summary"]["device"] for r in recs})),
                     "paper_ms_per_step_t4": theirs.get(model, {}).get("ms_per_step_t4", ""), "n_runs": len(recs)})
    return rows


def table5_rows(records: list[dict], paper: list[dict]) -> list[dict]:
    theirs = {(p["dataset"], p["model"]): p for p in paper}
    rows = []
    for (dataset, model), recs in _by_dataset_model(records):
        done = [r for r in recs if r["status"] == "complete"]
        row = {"dataset": dataset, "model": model, "label": recs[0]["label"], "experiment": recs[0]["experiment"],
               "n": len(done), "n_runs": len(recs), "n_diverged": len(recs) - len(done)}
        for split in ("train", "test"):
            d = describe([r["summary"][f"min_{split}_mse"] for r in done])
            row.update({f"min_{split}_mse_mean": d["mean"], f"min_{split}_mse_std": d["std"],
                        f"min_{split}_mse_min": d["min"], f"min_{split}_mse_max": d["max"],
                        f"paper_min_{split}_mse": theirs.get((dataset, model), {}).get(f"min_{split}_mse", "")})
        rows.append(row)
    return rows


def curves(records: list[dict]):
    datasets = sorted({_dataset(r) for r in records})
    fig, axes = plt.subplots(len(datasets), 2, figsize=(11, 4 * len(datasets)), squeeze=False)
    for row, dataset in zip(axes, datasets):
        groups = [(model, group) for (_, model), group in
                  _by_dataset_model([r for r in records if _dataset(r) == dataset])]
        for ax, split in zip(row, ("train", "test")):
            plot_epoch_curves(ax, groups, f"{split}_mse", f"{dataset}: {split} MSE (mean, band: min to max)")
    fig.tight_layout()
    return fig


def reconstruction_grid(records: list[dict]):
    """Per data set: a row of test images, then one row per model (its lowest-seed run)."""
    rows = []  # (label, (N, C, H, W) uint8)
    for dataset in sorted({_dataset(r) for r in records}):
        first = True
        for (_, model), group in _by_dataset_model([r for r in records if _dataset(r) == dataset]):
            art = min(group, key=lambda r: r["seed"]).get("artifacts", {}).get("reconstructions")
            if art is None:
                continue
            if first:
                rows.append((f"{dataset}\noriginal", decode_images(art["original"], art["shape"])))
                first = False
            rows.append((group[0]["label"], decode_images(art["reconstructed"], art["shape"])))
    if not rows:
        return None
    n = max(len(images) for _, images in rows)
    fig, axes = plt.subplots(len(rows), n, figsize=(1.2 * n + 1, 1.25 * len(rows)), squeeze=False)
    for ax_row, (label, images) in zip(axes, rows):
        for j, ax in enumerate(ax_row):
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(images):
                img = images[j].permute(1, 2, 0).numpy()  # (H, W, C)
                ax.imshow(img if img.shape[2] == 3 else img[:, :, 0], cmap=None if img.shape[2] == 3 else "gray")
        ax_row[0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    return fig


def report(records: list[dict], out_dir: Path, paper_dir: Path, profile: str) -> list[Path]:
    t4 = table4_rows(records, read_csv(paper_dir / "table4_generation_size.csv"))
    t5 = table5_rows(records, read_csv(paper_dir / "table5_generation_loss.csv"))
    written = [write_csv(out_dir / "tables" / f"generation_table4_{profile}.csv", t4),
               write_csv(out_dir / "tables" / f"generation_table5_{profile}.csv", t5),
               save_figure(curves(records), out_dir / "figures" / f"generation_fig5_{profile}.png")]
    grid = reconstruction_grid(records)
    if grid is not None:
        written.append(save_figure(grid, out_dir / "figures" / f"generation_reconstructions_{profile}.png"))
    for r in t5:
        print(f"{r['dataset']} {r['model']}: min train/test MSE {r['min_train_mse_mean']:.4g} / "
              f"{r['min_test_mse_mean']:.4g} (paper {r['paper_min_train_mse'] or '-'} / "
              f"{r['paper_min_test_mse'] or '-'})")
    return written


def glance(records: list[dict], paper_dir: Path, profile: str) -> list[dict]:
    """Per data set: the minimum test MSE over epochs (Table 5), mean over runs."""
    paper = read_csv(paper_dir / "table5_generation_loss.csv")
    rows = table5_rows(records, paper)
    by_dataset = {d: [r for r in rows if r["dataset"] == d] for d in dict.fromkeys(r["dataset"] for r in rows)}
    return [glance_row(mine[0]["experiment"], profile, "Table 5", "min test MSE, mean", mine,
                       paper_best=paper_best(paper, "min_test_mse", dataset=d), value="min_test_mse_mean", n="n")
            for d, mine in by_dataset.items()]
