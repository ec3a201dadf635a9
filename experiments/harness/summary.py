"""Records to pandas tables: one row per record (`frame`) with the columns every report groups by (experiment,
protocol, head, base model, label, colour), per-row statistics over seeds, curves' bands, parameter counts beside
the paper's, the glance's rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from experiments.harness.records import TRAINED, Record, row_order

STATS = ("mean", "std", "median", "min", "max")


def frame(records: list[dict], metrics: Iterable[str] = (), config: Iterable[str] = ()) -> pd.DataFrame:
    """One row per record: its identity columns, the summary `metrics` (NaN where the trial did not
    complete or the value is not finite: statistics are over complete runs) and `config` values."""
    order = {key: i for i, key in enumerate(row_order(records))}
    rows = []
    for r in records:
        done, view = r["status"] == "complete", Record(r)
        row = {
            "experiment": r["experiment"],
            "profile": r["profile"],
            "protocol": view.protocol,
            "model": r["model"],
            "head": view.head,
            "base_model": view.base,
            "label": view.label,
            "color": view.color,
            "seed": r["seed"],
            "status": r["status"],
            "complete": done,
            "row": order[(view.protocol, r["model"])],
            "n_params": r["summary"]["n_params"],
            "n_params_all": r["summary"].get("n_params_all"),
            "arch": r.get("arch"),
            "problem": r.get("problem"),
        }
        for key in config:
            row[key] = view.config(key)
        for m in metrics:
            v = r["summary"].get(m)
            row[m] = v if done and isinstance(v, (int, float)) and math.isfinite(v) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def describe(values: pd.Series | Iterable[float]) -> dict[str, float]:
    """mean, std (sample; NaN for one value), median, min, max and n over the finite values."""
    v = pd.Series(values, dtype=float).replace([np.inf, -np.inf], np.nan).dropna()
    if v.empty:
        return {**{s: math.nan for s in STATS}, "n": 0}
    return {
        "mean": v.mean(),
        "std": v.std() if len(v) > 1 else math.nan,  # one value has no spread to estimate
        "median": v.median(),
        "min": v.min(),
        "max": v.max(),
        "n": len(v),
    }


def summarize(df: pd.DataFrame, by: list[str], metrics: Iterable[str], prefix: bool = True) -> pd.DataFrame:
    """Per group of `by` (sorted by `by`; put "row" last for table order), each metric's describe(): columns
    `<metric>_<stat>` (or `<stat>` with prefix=False and one metric), with n (complete runs),
    n_seeds (all runs) and n_diverged."""
    out = []
    for keys, group in df.sort_values(by, kind="stable").groupby(by, sort=False):
        row = dict(zip(by, keys if isinstance(keys, tuple) else (keys,)))
        for m in metrics:
            d = describe(group[m])
            row.update({(f"{m}_{k}" if prefix else k): v for k, v in d.items() if k != "n"})
            row["n"] = d["n"]
        row.update(n_seeds=len(group), n_diverged=int((group["status"] == "diverged").sum()))
        out.append(row)
    return pd.DataFrame(out)


def first(df: pd.DataFrame, by: list[str], columns: list[str]) -> pd.DataFrame:
    """The first record's values of `columns` per group (what every seed of a configuration shares)."""
    return df.sort_values(by, kind="stable").groupby(by, sort=False)[columns].first().reset_index()


def size_row(records: list[dict], paper: dict, paper_count: str, **keys) -> dict:
    """A row of a size-and-speed table (Tables 2 and 4): one (protocol, model)'s parameter count beside
    the paper's (its `paper_count` column), its median ms/step and devices; `keys` lead the row."""
    ours, theirs = records[0]["summary"]["n_params"], paper.get(paper_count, "")
    return {
        **keys,
        "protocol": Record(records[0]).protocol,
        "model": records[0]["model"],
        "label": Record(records[0]).label,
        "architecture": records[0]["arch"],
        "n_params": ours,
        "paper_n_params": theirs,
        "diff_pct": 100 * (ours - int(theirs)) / int(theirs) if theirs else "",
        "ms_per_step": describe([r["summary"]["ms_per_step"] for r in records])["median"],
        "device": ", ".join(sorted({r["summary"]["device"] for r in records})),
        "paper_ms_per_step_t4": paper.get("ms_per_step_t4", ""),
        "n_runs": len(records),
    }


def curve_band(records: list[dict], metric: str) -> dict[str, np.ndarray]:
    """Metric history over seeds on the common steps: mean line and min-max band.

    Diverged trials stop early; steps are kept while every trial still has them.
    """
    histories = [{row["step"]: row[metric] for row in r["history"]} for r in records]
    steps = sorted(set.intersection(*(set(h) for h in histories)))
    values = np.array([[h[s] for s in steps] for h in histories], dtype=float)  # (seeds, steps)
    return {"step": np.array(steps), "mean": values.mean(0), "low": values.min(0), "high": values.max(0)}


def best(rows: pd.DataFrame, value: str) -> pd.Series | None:
    """The row with the lowest finite `value`, or None."""
    finite = rows[np.isfinite(pd.to_numeric(rows[value], errors="coerce"))]
    return None if finite.empty else finite.loc[pd.to_numeric(finite[value]).idxmin()]


def glance_row(
    experiment: str,
    profile: str,
    case: str,
    metric: str,
    rows: pd.DataFrame,
    *,
    value: str,
    ours: str,
    records: list[dict],
    metric_key: str,
    paper_best: str = "",
) -> dict:
    """One results-at-a-glance row for one (experiment, case): our best model, GMNM's rank and GMNM against
    the best other model, the paper's best beside them. rows: the case's table rows, one per (protocol,
    model), with `label`, `head`, `n` and `value`; ours: GMNM's model in this experiment; records: the
    case's records, whose `metric_key` the analysis sets GMNM against the best other model with (its
    interval: experiments/analysis/glance.py). Ranks are among the paper's kind of training (protocol paper,
    head trained): the least-squares rows go beyond the paper; the tuned rows are ranked among themselves."""
    trained = rows["head"] == TRAINED if "head" in rows else True  # a family without least-squares rows
    written = rows[(rows["protocol"] == "paper") & trained]
    finite = written[np.isfinite(pd.to_numeric(written[value], errors="coerce"))].sort_values(value, kind="stable")
    order = list(finite["model"])
    top = best(written, value)
    tuned = best(rows[rows["protocol"] == "tuned"], value)
    other = next((m for m in order if m != ours), None)
    labels = dict(zip(written["model"], written["label"]))

    def values(model):  # the metric of the paper protocol's runs of one model, for the analysis
        return [r["summary"].get(metric_key) for r in records
                if r["model"] == model and Record(r).protocol == "paper" and r["status"] == "complete"]  # fmt: skip

    return {
        "experiment": experiment, "profile": profile, "case": case, "metric": metric,
        # the comparison's seeds (GMNM's and the best other's), not the fewest of any row of the case
        "n_seeds": int(written[written["model"].isin([ours, other])]["n"].min()) if other in order else int(rows["n"].min()),
        "ours_best": top["label"] if top is not None else "",
        "gmnm": labels.get(ours, ours),
        "gmnm_rank": f"{order.index(ours) + 1} of {len(order)}" if ours in order else "",
        "against": labels.get(other, other) if other else "",
        "ours_best_tuned": tuned["label"] if tuned is not None else "",
        "paper_best": labels.get(paper_best, paper_best) if paper_best else "",
        "agrees": "" if not (paper_best and top is not None) else ("yes" if top["model"] == paper_best else "no"),
        "_ours": values(ours), "_theirs": values(other) if other else [],
    }  # fmt: skip


def paper_best(paper: pd.DataFrame, column: str, **match) -> str:
    """The model of the paper's rows (those matching `match`) with the lowest `column`; '' if none."""
    rows = paper
    for k, v in match.items():
        rows = rows[rows[k] == v]
    return "" if rows.empty else rows.loc[rows[column].astype(float).idxmin(), "model"]


def by_model(paper: pd.DataFrame) -> dict[str, dict]:
    """A paper table's rows by model: {model: {column: text}}."""
    return {r["model"]: r for r in paper.to_dict("records")}
