"""The tuning studies of a store as tables and a figure, per experiment and profile.

Reads <store>/_tuning/<profile>/<experiment>/<model>.db (one Optuna study per model) and writes
- results/tables/tuning_<experiment>_<profile>.csv: every trial of every model, its state, its
  validation value, the best so far and the values it tried;
- results/tables/tuned_<profile>.csv: per (experiment, model) the trials, failures, best
  validation value and the values chosen (what conf/protocols/tuned/<profile>/ holds);
- results/figures/tuning_<experiment>_<profile>.png: best validation value against trials, one
  line per model: is the budget enough, and is any model starved?
"""

from __future__ import annotations

import math
from pathlib import Path

from experiments.reporting import save_figure, write_csv

SECTION = {
    "title": "Tuning (make tune)",
    "about": "Every model of an experiment tuned with the same number of trials and the same training "
             "budget per trial, scored on validation data only (never the test set or an exact solution); "
             "failed trials diverged. The tuned protocol's rows in the tables above run the chosen values.",
    "tables": [("tuned", ["experiment", "model", "trials", "failed", "best_value", "objective", "chosen"])],
    "figures": ["tuning_*"],
}


def studies(store: Path, profile: str) -> dict[str, dict[str, dict]]:
    """{experiment: {model: {objective, trials}}} of the store's studies under `profile`; each trial
    a dict of number, state, value and params. Empty when there is none."""
    root = Path(store) / "_tuning" / profile
    found: dict[str, dict[str, dict]] = {}
    if not root.is_dir():
        return found
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for db in sorted(root.glob("*/*.db")):
        experiment, model = db.parent.name, db.stem
        name = f"{experiment}/{model}/{profile}"
        study = optuna.load_study(study_name=name, storage=f"sqlite:///{db}")
        found.setdefault(experiment, {})[model] = {
            "objective": study.user_attrs.get("metric", ""),
            "trials": [{"number": t.number, "state": t.state.name.lower(), "value": t.value, "params": t.params}
                       for t in study.get_trials(deepcopy=False)]}
    return found


def trial_rows(model: str, trials: list[dict]) -> list[dict]:
    """One row per trial with the best value so far (failed trials keep the best before them)."""
    rows, best = [], math.inf
    for t in trials:
        if t["state"] == "complete" and t["value"] is not None:
            best = min(best, t["value"])
        rows.append({"model": model, "trial": t["number"], "state": t["state"], "value": t["value"],
                     "best_so_far": best if math.isfinite(best) else None,
                     "params": " ".join(f"{k}={_fmt(v)}" for k, v in t["params"].items())})
    return rows


def report(store: Path, out_dir: Path, profile: str) -> list[Path]:
    written, summary = [], []
    for experiment, models in studies(store, profile).items():
        rows = []
        for model, study in models.items():
            objective, trials = study["objective"], study["trials"]
            model_rows = trial_rows(model, trials)
            rows += model_rows
            complete = [t for t in trials if t["state"] == "complete"]
            best = min(complete, key=lambda t: t["value"]) if complete else None
            summary.append({"experiment": experiment, "model": model, "trials": len(trials),
                            "failed": sum(t["state"] == "fail" for t in trials),
                            "best_value": best["value"] if best else None, "objective": objective,
                            "chosen": " ".join(f"{k}={_fmt(v)}" for k, v in best["params"].items()) if best else ""})
        written.append(write_csv(out_dir / "tables" / f"tuning_{experiment}_{profile}.csv", rows,
                                 ["model", "trial", "state", "value", "best_so_far", "params"]))
        written.append(_figure(experiment, profile, rows, out_dir))
    if summary:
        written.append(write_csv(out_dir / "tables" / f"tuned_{profile}.csv", summary))
    return written


def _figure(experiment: str, profile: str, rows: list[dict], out_dir: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for model in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == model and r["best_so_far"] is not None]
        if mine:
            ax.step([r["trial"] + 1 for r in mine], [r["best_so_far"] for r in mine], where="post", label=model)
    ax.set_yscale("log")
    ax.set_xlabel("trials")
    ax.set_ylabel("best validation value so far")
    ax.set_title(f"{experiment} ({profile}): tuning, equal trials per model", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, out_dir / "figures" / f"tuning_{experiment}_{profile}.png")


def _fmt(v) -> str:
    from experiments.tuning.space import literal
    return f"{v:.3g}" if isinstance(v, float) else literal(v)
