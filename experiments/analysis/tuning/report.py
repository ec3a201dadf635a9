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

import pandas as pd

from experiments.harness.family import Context, FamilyReport, Section


def read_study(db: Path, name: str):
    """The study `name` in `db`, opened read-only: optuna's storage writes its tables and version rows when they
    are missing, which races a tuner creating them (one of the two fails); a reader must never write."""
    import optuna

    url = f"sqlite:///file:{Path(db).resolve()}?mode=ro&uri=true"
    storage = optuna.storages.RDBStorage(url, skip_table_creation=True, skip_compatibility_check=True)
    return optuna.load_study(study_name=name, storage=storage)


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
        study = read_study(db, name)
        found.setdefault(experiment, {})[model] = {
            "objective": study.user_attrs.get("metric", "") + _at(study.user_attrs.get("at")),
            "trials": [
                {"number": t.number, "state": t.state.name.lower(), "value": t.value, "params": t.params}
                for t in study.get_trials(deepcopy=False)
            ],
        }
    return found


def trial_rows(model: str, trials: list[dict]) -> list[dict]:
    """One row per trial with the best value so far (failed trials keep the best before them)."""
    rows, best = [], math.inf
    for t in trials:
        if t["state"] == "complete" and t["value"] is not None:
            best = min(best, t["value"])
        rows.append(
            {
                "model": model,
                "trial": t["number"],
                "state": t["state"],
                "value": t["value"],
                "best_so_far": best if math.isfinite(best) else None,
                "params": " ".join(f"{k}={_fmt(v)}" for k, v in t["params"].items()),
            }
        )
    return rows


def _at(fixed: str | None) -> str:
    return f", at {fixed}" if fixed else ""


def cpu_hours(store: Path) -> dict[str, float]:
    """{study: training hours of its runs} (their records' wall time, resumed processes' included): a study's
    budget in time, which equal trials do not make equal when models differ in cost."""
    from experiments.harness.store import ResultStore

    hours: dict[str, float] = {}
    for r in ResultStore(store).records():
        if r.get("tuning_study"):
            spent = r["summary"]["wall_time_s"] + r["summary"].get("wall_time_before_s", 0.0)
            hours[r["tuning_study"]] = hours.get(r["tuning_study"], 0.0) + spent / 3600
    return hours


def tables(store: Path, profile: str) -> dict[str, pd.DataFrame]:
    """tuning_<experiment> per experiment (every trial of every model) and tuned (per model: the choice)."""
    out, summary = {}, []
    found = studies(store, profile)
    hours = cpu_hours(store) if found else {}
    for experiment, models in found.items():
        rows = []
        for model, study in models.items():
            objective, trials = study["objective"], study["trials"]
            rows += trial_rows(model, trials)
            complete = [t for t in trials if t["state"] == "complete"]
            best = min(complete, key=lambda t: t["value"]) if complete else None
            summary.append(
                {
                    "experiment": experiment,
                    "model": model,
                    "trials": len(trials),
                    "failed": sum(t["state"] == "fail" for t in trials),
                    "pruned": sum(t["state"] == "pruned" for t in trials),
                    "cpu_hours": hours.get(f"{experiment}/{model}/{profile}", 0.0),
                    "best_value": best["value"] if best else None,
                    "objective": objective,
                    "chosen": " ".join(f"{k}={_fmt(v)}" for k, v in best["params"].items()) if best else "",
                }
            )
        out[f"tuning_{experiment}"] = pd.DataFrame(
            rows, columns=["model", "trial", "state", "value", "best_so_far", "params"]
        )
    if summary:
        out["tuned"] = pd.DataFrame(summary)
    return out


def figure(experiment: str, profile: str, rows: pd.DataFrame):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for model, mine in rows.dropna(subset=["best_so_far"]).groupby("model", sort=False):
        ax.step(mine["trial"] + 1, mine["best_so_far"], where="post", label=model)
    ax.set_yscale("log")
    ax.set_xlabel("trials")
    ax.set_ylabel("best validation value so far")
    ax.set_title(f"{experiment} ({profile}): tuning, equal trials per model", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


class TuningReport(FamilyReport):
    """Reads the store's tuning studies (ctx.store), not records."""

    section = Section(
        title="Tuning (make tune)",
        about="Every model of an experiment tuned with the same number of trials and the same training "
        "budget per trial, scored on validation data only (never the test set or an exact solution); "
        "failed trials diverged; pruned ones were stopped early, their validation value worse than the "
        "median of earlier trials' at the same evaluation; cpu_hours is the training time the study's runs "
        "took. The tuned protocol's rows in the tables above run the chosen values.",
        tables=(
            (
                "tuned",
                "The values each model's study chose",
                ("experiment", "model", "trials", "failed", "pruned", "cpu_hours", "best_value", "objective", "chosen"),
            ),
        ),
        figures=("tuning_*",),
        order=(80,),
    )

    def tables(self, records, ctx: Context):
        return tables(ctx.store, ctx.profile) if ctx.store is not None else {}

    def figures(self, records, tables, ctx):
        return {
            name: figure(name.removeprefix("tuning_"), ctx.profile, t)
            for name, t in tables.items()
            if name.startswith("tuning_")
        }


def _fmt(v) -> str:
    from experiments.analysis.tuning.space import literal

    return f"{v:.3g}" if isinstance(v, float) else literal(v)
