"""Tables 2-3 (§5.1) and the test-loss curves, from classification records, beside the paper's.

Table 3 of the paper gives the minimum train and test loss over epochs, the test one selected
on the test set itself. We report that ("paper protocol") and, beside it, the test loss and
accuracy at the epoch of minimum validation loss ("honest protocol"), for both losses, as mean
and spread over runs. Table 2 gives parameter counts and ms/step (ours measured on our device,
named in the table; the paper's were on a T4 under Keras).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.reporting import (by_model, describe, glance_row, paper_best, plot_epoch_curves,  # noqa: E402
                                   read_csv, save_figure, write_csv)

DATASETS = ("mnist", "cifar10", "cifar100")  # Table 2-3's order
LOSSES = ("bce", "ce")  # onehot_bce (what Table 3's magnitudes fit) and categorical cross-entropy


SECTION = {  # docs/results.md (experiments/summary.py)
    "title": "Image classification (§5.1, Tables 2-3)",
    "about": "Parameter counts beside Table 2; losses as Table 3 reports them (minimum over epochs, the test one "
             "selected on the test set) and, honestly, at the epoch of lowest validation loss.",
    "tables": [("classification_table2", ["dataset", "label", "n_params", "paper_n_params", "diff_pct"]),
               ("classification_table3", ["dataset", "label", "min_train_bce_mean", "min_test_bce_mean",
                                          "min_test_bce_min", "min_test_bce_max", "test_bce_at_best_val_mean",
                                          "test_acc_at_best_val_mean", "paper_min_train_bce", "paper_min_test_bce",
                                          "n_runs"])],
    "figures": ["classification"],
}

def _by_experiment_model(records: list[dict]) -> list[tuple[tuple[str, str], list[dict]]]:
    """((experiment, model), records) in Table 2's data-set order and each lineup's model order."""
    experiments = sorted({r["experiment"] for r in records}, key=lambda e: (DATASETS.index(e) if e in DATASETS else 99, e))
    return [((e, m), recs) for e in experiments for m, recs in by_model([r for r in records if r["experiment"] == e])]


def at_best_val(record: dict, metric: str, loss: str) -> float:
    """metric at the evaluation with the lowest validation `loss` (first one on ties)."""
    rows = [row for row in record["history"] if f"val_{loss}" in row]
    if not rows:
        return float("nan")
    return min(rows, key=lambda row: row[f"val_{loss}"])[metric]


def table2_rows(records: list[dict], paper: list[dict]) -> list[dict]:
    paper_by_model = {p["model"]: p for p in paper}
    rows = []
    for (experiment, model), recs in _by_experiment_model(records):
        ours = recs[0]["summary"]["n_params"]
        column = "n_params_mnist" if experiment == "mnist" else "n_params_cifar"
        theirs = paper_by_model.get(model, {}).get(column, "")
        rows.append({"dataset": experiment, "model": model, "label": recs[0]["label"], "architecture": recs[0]["arch"],
                     "n_params": ours, "paper_n_params": theirs,
                     "diff_pct": 100 * (ours - int(theirs)) / int(theirs) if theirs else "",
                     "ms_per_step": describe([r["summary"]["ms_per_step"] for r in recs])["median"],
                     "device": ", ".join(sorted({r["summary"]["device"] for r in recs})),
                     "paper_ms_per_step_t4": paper_by_model.get(model, {}).get("ms_per_step_t4", ""),
                     "n_runs": len(recs)})
    return rows


def table3_rows(records: list[dict], paper: list[dict]) -> list[dict]:
    theirs = {(p["dataset"], p["model"], p["split"]): p["min_loss"] for p in paper}
    rows = []
    for (experiment, model), recs in _by_experiment_model(records):
        done = [r for r in recs if r["status"] == "complete"]
        row = {"dataset": experiment, "model": model, "label": recs[0]["label"],
               "train_loss": recs[0]["config"]["task"]["loss"],
               "n": len(done), "n_runs": len(recs), "n_diverged": len(recs) - len(done),
               "paper_min_train_bce": theirs.get((experiment, model, "train"), ""),
               "paper_min_test_bce": theirs.get((experiment, model, "test"), "")}
        values = {}
        for loss in LOSSES:
            values[f"min_train_{loss}"] = [r["summary"][f"min_train_{loss}"] for r in done]
            values[f"min_test_{loss}"] = [r["summary"][f"min_test_{loss}"] for r in done]  # paper protocol
            values[f"test_{loss}_at_best_val"] = [at_best_val(r, f"test_{loss}", loss) for r in done]
        values["test_acc_at_best_val"] = [at_best_val(r, "test_acc", "bce") for r in done]
        values["max_test_acc"] = [max(row["test_acc"] for row in r["history"]) for r in done]
        for name, v in values.items():
            d = describe(v)
            row.update({f"{name}_mean": d["mean"], f"{name}_std": d["std"], f"{name}_min": d["min"],
                        f"{name}_max": d["max"]})
        rows.append(row)
    return rows


def figure(records: list[dict]):
    experiments = [e for e in DATASETS if any(r["experiment"] == e for r in records)]
    experiments += sorted({r["experiment"] for r in records} - set(experiments))
    fig, axes = plt.subplots(1, len(experiments), figsize=(5.5 * len(experiments), 4), squeeze=False)
    for ax, experiment in zip(axes[0], experiments):
        groups = by_model([r for r in records if r["experiment"] == experiment])
        plot_epoch_curves(ax, groups, "test_bce", f"{experiment}: test one-hot BCE (mean, band: min to max)")
    fig.tight_layout()
    return fig, axes


def report(records: list[dict], out_dir: Path, paper_dir: Path, profile: str) -> list[Path]:
    t2 = table2_rows(records, read_csv(paper_dir / "table2_classification_size.csv"))
    t3 = table3_rows(records, read_csv(paper_dir / "table3_classification_loss.csv"))
    written = [write_csv(out_dir / "tables" / f"classification_table2_{profile}.csv", t2),
               write_csv(out_dir / "tables" / f"classification_table3_{profile}.csv", t3)]
    fig, _ = figure(records)
    written.append(save_figure(fig, out_dir / "figures" / f"classification_{profile}.png"))
    for r in t3:
        print(f"{r['dataset']} {r['model']}: min test BCE {r['min_test_bce_mean']:.3g} (paper "
              f"{r['paper_min_test_bce'] or '-'}), at best val {r['test_bce_at_best_val_mean']:.3g}; "
              f"min test CE {r['min_test_ce_mean']:.3g}; test acc {r['test_acc_at_best_val_mean']:.4f}")
    return written


def glance(records: list[dict], paper_dir: Path, profile: str) -> list[dict]:
    """Per data set: the minimum test BCE over epochs (Table 3's protocol), mean over runs."""
    paper = read_csv(paper_dir / "table3_classification_loss.csv")
    rows = table3_rows(records, paper)
    return [glance_row(e, profile, "Table 3", "min test BCE, mean", [r for r in rows if r["dataset"] == e],
                       paper_best=paper_best(paper, "min_loss", dataset=e, split="test"), value="min_test_bce_mean",
                       n="n")
            for e in dict.fromkeys(r["dataset"] for r in rows)]
