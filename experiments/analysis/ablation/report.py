"""Ablations beyond the paper (experiments whose config has an `ablation:` entry, conf/experiment/eq3_*.yaml):
one row per variant with its metric's geometric mean and 95 % interval over seeds, and its effect against the
experiment's baseline variant (the protocol's own choice), unpaired (experiments/analysis/stats.py), with its interval.

Table: results/tables/ablation_<profile>.csv; figure: results/figures/ablation_<profile>.png, one panel
per experiment, each seed a dot, the mean with its interval a bar.
"""

from __future__ import annotations

import math

import pandas as pd

from experiments.analysis import stats
from experiments.harness.family import Context, FamilyReport, Section
from experiments.harness.records import Record


def is_ablation(record: dict) -> bool:
    """A record of an ablation experiment (its config has an `ablation:` entry): reported apart from its base's."""
    return bool(record["config"].get("ablation"))


def _name(keys: list[str], values: tuple) -> str:
    """('diag', True) -> 'diag, trainable centres'."""
    parts = []
    for key, value in zip(keys, values):
        leaf = key.rsplit(".", 1)[-1]
        parts.append(("trainable centres" if value else "fixed centres") if leaf == "trainable_mu" else f"{value}")
    return ", ".join(parts)


def per_variant(records: list[dict]) -> dict[tuple[str, str], dict[int, float]]:
    """{(experiment, variant name): {seed: the ablation's metric}} over complete runs with a finite value."""
    out: dict[tuple[str, str], dict[int, float]] = {}
    for r in records:
        spec = r["config"]["ablation"]
        value = r["summary"].get(spec["metric"])
        seeds = out.setdefault((r["experiment"], _name(spec["varies"], Record(r).variant())), {})
        if r["status"] == "complete" and isinstance(value, (int, float)) and math.isfinite(value):
            seeds[r["seed"]] = value
    return out


def rows(records: list[dict], seeds: dict[tuple[str, str], dict[int, float]]) -> pd.DataFrame:
    """seeds: per_variant(records)."""
    out = []
    for experiment in sorted({r["experiment"] for r in records}):
        recs = [r for r in records if r["experiment"] == experiment]
        spec = recs[0]["config"]["ablation"]
        metric, keys = spec["metric"], list(spec["varies"])
        baseline = seeds.get((experiment, _name(keys, tuple(spec.get("baseline") or ()))))
        variants: dict[tuple, list[dict]] = {}
        for r in recs:
            variants.setdefault(Record(r).variant(), []).append(r)
        for v, rs in sorted(variants.items(), key=lambda kv: tuple(map(str, kv[0]))):
            mine = seeds[(experiment, _name(keys, v))]
            mean = stats.geometric_interval(list(mine.values()))  # losses: their geometric mean, t on the logs
            row = {
                "experiment": experiment,
                "profile": rs[0]["profile"],
                "variant": _name(keys, v),
                **{key.rsplit(".", 1)[-1]: value for key, value in zip(keys, v)},
                "n_params": rs[0]["summary"]["n_params"],
                "metric": metric,
                "mean": mean.estimate,
                "ci_low": mean.low,
                "ci_high": mean.high,
                "best": min(mine.values(), default=math.nan),
                "n_seeds": mean.n,
                "diverged": sum(r["status"] == "diverged" for r in rs),
            }
            if mine is baseline:
                row.update(effect=1.0, against_baseline="baseline")
            elif baseline is not None:
                c = stats.compare(list(mine.values()), list(baseline.values()))  # unpaired: variants share no draws
                verdict = stats.decide(c.p_below, c.p_above, c.effect.n)
                row.update(
                    effect=c.effect.estimate,
                    effect_ci_low=c.effect.low,
                    effect_ci_high=c.effect.high,
                    improvement=c.improvement.estimate,
                    against_baseline={stats.REPRODUCED: "lower", stats.CONTRADICTED: "higher"}.get(
                        verdict, "no clear difference"
                    ),
                )
            out.append(row)
    return pd.DataFrame(out)


def figure(table: pd.DataFrame, profile: str, seeds: dict[tuple[str, str], dict[int, float]]):
    """table: rows(); seeds: per_variant(), the dots."""
    import matplotlib.pyplot as plt

    table = table.to_dict("records")
    experiments = list(dict.fromkeys(r["experiment"] for r in table))
    fig, axes = plt.subplots(1, len(experiments), figsize=(4.6 * len(experiments), 3.8), squeeze=False)
    for ax, experiment in zip(axes[0], experiments):
        mine = [r for r in table if r["experiment"] == experiment]
        for i, row in enumerate(mine):
            values = list(seeds[(experiment, row["variant"])].values())
            trainable = "fixed" not in row["variant"]
            color = "tab:red" if row.get("against_baseline") == "baseline" else "tab:gray"
            ax.scatter([i] * len(values), values, s=10, color=color, alpha=0.5, zorder=2)
            if math.isfinite(row.get("ci_low", math.nan)):
                ax.errorbar(
                    [i],
                    [row["mean"]],
                    yerr=[[row["mean"] - row["ci_low"]], [row["ci_high"] - row["mean"]]],
                    fmt="o" if trainable else "s",
                    color=color,
                    mfc=color if trainable else "white",
                    capsize=4,
                    zorder=3,
                )
        ax.set_xticks(
            range(len(mine)),
            [r["variant"].replace(" centres", "").replace(", ", "\n") + f"\n{r['n_params']:,}" for r in mine],
            fontsize=7,
        )  # reading, centres, parameter count
        ax.set_yscale("log")
        ax.set_title(f"{experiment} ({profile}): {mine[0]['metric']}", fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle(
        "Eq. 3's readings x trainable/fixed centres (under each: parameters). Dots: seeds; bars: mean, "
        "95 % CI; red: the protocol's GMNM",
        fontsize=8,
    )
    fig.tight_layout()
    return fig


class AblationReport(FamilyReport):
    """Beyond the paper: no published result to set beside it, so no glance rows."""

    section = Section(
        title="Ablation: the readings of Eq. 3 and fixed centres (beyond the paper)",
        about="Each reading of Eq. 3 (diag, full, ridge; gmnm/layer.py), with trainable and with fixed centres, at "
        "the protocol's component count (so full and ridge have more parameters: n_params). Mean over seeds "
        "with its 95 % bootstrap interval; effect: the variant's metric over the baseline's (the protocol's "
        "own GMNM), geometric mean of the per-seed ratios, with its interval.",
        tables=(
            (
                "ablation",
                "Each reading of Eq. 3 against the protocol's GMNM",
                (
                    "experiment",
                    "variant",
                    "n_params",
                    "metric",
                    "mean",
                    "ci_low",
                    "ci_high",
                    "best",
                    "effect",
                    "effect_ci_low",
                    "effect_ci_high",
                    "against_baseline",
                    "n_seeds",
                ),
            ),
        ),
        figures=("ablation",),
        order=(90,),
    )

    def tables(self, records, ctx: Context):
        return {"ablation": rows(records, per_variant(records))}

    def figures(self, records, tables, ctx):
        return {"ablation": figure(tables["ablation"], ctx.profile, per_variant(records))}
