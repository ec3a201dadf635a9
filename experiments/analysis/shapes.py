"""What needs a model's shapes, not its data: parameter counts of every (experiment, model) of the lineup,
measured by building the model from conf/ (no images, no training), and training-step times measured by
`python -m benchmarks.claim_steps` on random images of the data set's shapes. The ledger reads the counts for
count claims whose experiment has no trials in the store, and the step times for the timing claims: Tables 2
and 4 are measured here although CIFAR itself is not on this machine.

Each count and each round of a step benchmark comes as a record-like dict (`measured_from`), so the ledger
selects and reads it like a trial's record; none enters a table of losses.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pandas as pd

from experiments.analysis.ledger.spec import claims
from experiments.harness.env import ROOT
from experiments.harness.family import Context, FamilyReport, Section
from experiments.harness.records import experiments_in_order
from experiments.harness.store import BENCH_METRIC, STEPS


def counts(experiments: list[str], conf_dir: Path = ROOT / "conf") -> list[dict]:
    """One record-like dict per (experiment, lineup model) of `experiments`: its trainable parameter count.
    It names no commit: a count follows from conf/, and a report rebuilt at another commit must not differ."""
    import yaml
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from gmnm import count_parameters

    lineup = yaml.safe_load((Path(conf_dir) / "lineup.yaml").read_text())
    out = []
    with initialize_config_dir(config_dir=str(conf_dir), version_base="1.3"):
        for experiment in experiments:
            for model in lineup.get(experiment, []):
                cfg = compose(config_name="config", overrides=[f"experiment={experiment}", f"model={model}",
                                                               "profile=paper"])  # fmt: skip
                n = count_parameters(instantiate(cfg.model))
                out.append({"experiment": experiment, "model": model, "seed": 0, "status": "complete",
                            "protocol_name": "paper", "lineup": list(lineup[experiment]), "measured_from": "shapes",
                            "config": {"task": {}}, "summary": {"n_params": n, "git_commit": "",
                                                                 "device": "none (built, not trained)",
                                                                 "wall_time_s": 0.0}})  # fmt: skip
    return out


def step_records(store: Path) -> list[dict]:
    """One record-like dict per (benchmark file, model, round) of <store>/steps/*.json: a round's ms per
    step as `bench_ms_per_step`, the round as the seed (the rounds are the samples)."""
    out = []
    for path in sorted((Path(store) / STEPS).glob("*.json")):
        bench = json.loads(path.read_text())
        lineup = list(bench["ms"])
        device = (
            f"{bench['device_name']}, {bench['threads']} threads" if bench["device"] == "cpu" else bench["device_name"]
        )
        for model, rounds in bench["ms"].items():
            out += [{"experiment": bench["experiment"], "model": model, "seed": i, "status": "complete",
                     "protocol_name": "paper", "lineup": lineup, "measured_from": "step benchmark",
                     "bench_device": bench["device"], "config": {"task": {}},
                     "summary": {BENCH_METRIC: ms, "git_commit": bench["git_commit"], "device": device,
                                 "wall_time_s": bench["wall_time_s"] / (len(lineup) * len(rounds))}}
                    for i, ms in enumerate(rounds)]  # fmt: skip
    return out


class ShapesReport(FamilyReport):
    """Tables 2 and 4 as far as shapes decide them: every timed model's count and its step benchmark."""

    section = Section(
        title="Tables 2 and 4 at the data sets' shapes: parameter counts and step times",
        about="Counts of the models as conf/ builds them; ms per Adam step from `python -m benchmarks.claim_steps` "
        "(random images of the data set's shape, batch 32, the models of an experiment timed side by side in "
        "interleaved rounds in one process, one thread on a CPU): the median of its rounds, and its range. No "
        "image is needed, so CIFAR's rows are measured here too. The paper's step times are from a T4 GPU: "
        "compare ratios to the base model, not milliseconds.",
        tables=(
            (
                "shapes",
                "Counts and step times (Tables 2 and 4)",
                (
                    "experiment",
                    "label",
                    "n_params",
                    "paper_n_params",
                    "device",
                    "ms_per_step",
                    "ms_min",
                    "ms_max",
                    "over_base",
                    "paper_ms_per_step",
                    "paper_over_base",
                ),
            ),
        ),  # fmt: skip
        order=(5, 3),
    )

    def tables(self, records: list[dict], ctx: Context) -> dict[str, pd.DataFrame]:
        from experiments.harness.variants import labels

        bases = {a.model: b.model for c in claims() if c.metric == BENCH_METRIC for a, b in c.pairs}
        name = labels()
        counts = {
            (r["experiment"], r["model"]): r["summary"]["n_params"] for r in records if r["measured_from"] == "shapes"
        }
        steps: dict[tuple, list[float]] = {}
        for r in records:
            if r["measured_from"] == "step benchmark":
                steps.setdefault((r["experiment"], r["model"], r["summary"]["device"]), []).append(
                    r["summary"][BENCH_METRIC]
                )
        rows = []
        for (experiment, model, device), ms in steps.items():
            paper_count, paper_ms = _paper_size(ctx.paper, experiment, model)
            rows.append({"experiment": experiment, "model": model, "label": name.get(model, model),
                         "n_params": counts.get((experiment, model)), "paper_n_params": paper_count,
                         "device": device, "ms_per_step": statistics.median(ms), "ms_min": min(ms), "ms_max": max(ms),
                         "rounds": len(ms), "paper_ms_per_step": paper_ms})  # fmt: skip
        if not rows:
            return {}
        table = pd.DataFrame(rows)
        for col, out in (("ms_per_step", "over_base"), ("paper_ms_per_step", "paper_over_base")):
            median = table.set_index(["experiment", "device", "model"])[col]
            table[out] = [
                row[col] / median.get((row["experiment"], row["device"], bases[row["model"]]), math.nan)
                if row["model"] in bases
                else math.nan
                for _, row in table.iterrows()
            ]
        order = {e: i for i, e in enumerate(experiments_in_order(set(table["experiment"])))}
        return {"shapes": table.sort_values("experiment", key=lambda s: s.map(order), kind="stable")}


def _paper_size(paper: dict[str, pd.DataFrame], experiment: str, model: str) -> tuple[float, float]:
    """The paper's (count, ms per step) of a model of Table 2 (classification) or Table 4 (reconstruction)."""
    table, count = (
        ("table4_generation_size", "n_params")
        if experiment.endswith("_ae")
        else ("table2_classification_size", "n_params_mnist" if experiment == "mnist" else "n_params_cifar")
    )
    rows = paper.get(table)
    if rows is None or model not in set(rows["model"]):
        return math.nan, math.nan
    row = rows[rows["model"] == model].iloc[0]
    # Table 2's CIFAR column is CIFAR-10's (CIFAR-100's head is larger); Table 4's autoencoders are the same for both
    known = experiment != "cifar100"
    return float(row[count]) if known else math.nan, float(row["ms_per_step_t4"])
