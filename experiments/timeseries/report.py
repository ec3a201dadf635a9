"""Table 6 (§5.3) and the loss curves, from time-series records, beside the paper's numbers.

The paper gives one train and one test MSE per model; we report the final (after the last
epoch) and the minimum over epochs of each, as median, spread (min and max) and mean over the
seeds, with the paper's number in the same row.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from experiments.reporting import (by_model, describe, glance_row, group_by, paper_best, plot_epoch_curves,  # noqa: E402
                                   read_csv, save_figure, write_csv)


SECTION = {  # docs/results.md (experiments/summary.py)
    "title": "Time series (§5.3, Eq. 5, Table 6)",
    "about": "MSE after the last epoch: median, spread and mean over seeds, beside Table 6.",
    "tables": [("timeseries_table6", ["label", "n_params_trainable", "final_train_mse_median", "final_test_mse_median",
                                      "final_test_mse_min", "final_test_mse_max", "final_test_mse_mean",
                                      "paper_train_mse", "paper_test_mse", "n_seeds"])],
    "figures": ["timeseries"],
}

def table6_rows(records: list[dict], paper: list[dict]) -> list[dict]:
    paper_by_model = {p["model"]: p for p in paper}
    rows = []
    for model, recs in by_model(records):
        done = [r for r in recs if r["status"] == "complete"]
        row = {"model": model, "label": recs[0]["label"], "architecture": recs[0]["arch"],
               "n_params_trainable": recs[0]["summary"]["n_params"],
               "n_params_all_tensors": recs[0]["summary"]["n_params_all"]}
        for split in ("train", "test"):
            for kind in ("final", "min"):
                d = describe([r["summary"][f"{kind}_{split}_mse"] for r in done])
                row.update({f"{kind}_{split}_mse_median": d["median"], f"{kind}_{split}_mse_min": d["min"],
                            f"{kind}_{split}_mse_max": d["max"], f"{kind}_{split}_mse_mean": d["mean"]})
            row[f"paper_{split}_mse"] = paper_by_model.get(model, {}).get(f"{split}_mse", "")
        row.update({"ms_per_step": describe([r["summary"]["ms_per_step"] for r in done])["median"],
                    "n": len(done), "n_seeds": len(recs), "n_diverged": len(recs) - len(done)})
        rows.append(row)
    return rows


def figure(records: list[dict]):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    groups = by_model(records)
    n_seeds = max(len(recs) for _, recs in groups)
    for ax, split in zip(axes, ("train", "test")):
        plot_epoch_curves(ax, groups, f"{split}_mse", f"{split} MSE (mean over up to {n_seeds} seeds, band: min to max)",
                          label=lambda model, recs: f"{recs[0]['label']} ({recs[0]['summary']['n_params']:,} params)")
    fig.tight_layout()
    return fig, axes


def report(records: list[dict], out_dir: Path, paper_dir: Path, profile: str) -> list[Path]:
    paper = read_csv(paper_dir / "table6_timeseries.csv")
    written = []
    for (experiment,), recs in group_by(records, lambda r: (r["experiment"],)).items():
        rows = table6_rows(recs, paper)
        written.append(write_csv(out_dir / "tables" / f"{experiment}_table6_{profile}.csv", rows))
        fig, _ = figure(recs)
        written.append(save_figure(fig, out_dir / "figures" / f"{experiment}_{profile}.png"))
        for r in rows:
            print(f"{experiment} {r['model']}: final train/test MSE median {r['final_train_mse_median']:.3g} / "
                  f"{r['final_test_mse_median']:.3g} (paper {r['paper_train_mse'] or '-'} / "
                  f"{r['paper_test_mse'] or '-'}), {r['n_params_trainable']:,} params")
    return written


def glance(records: list[dict], paper_dir: Path, profile: str) -> list[dict]:
    """Test MSE after the last epoch, median over seeds, per model; the paper's best beside it."""
    paper = read_csv(paper_dir / "table6_timeseries.csv")
    out = []
    for (experiment,), recs in group_by(records, lambda r: (r["experiment"],)).items():
        rows = table6_rows(recs, [])
        out.append(glance_row(experiment, profile, "Table 6", "final test MSE, median", rows,
                              paper_best=paper_best(paper, "test_mse"), value="final_test_mse_median", n="n"))
    return out
