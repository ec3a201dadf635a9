"""Turn the result store into results/tables/*_<profile>.csv and results/figures/*_<profile>.png.

    python -m experiments.report --profile quick

Each experiment family reports itself: records are dispatched to the `report` module beside
the module of their task (experiments/<family>/report.py), so a new experiment plugs in
without touching this file. The report reads the store only: every record carries what its
tables need (model, display name and colour, the experiment's lineup, the architecture, the
problem solved, a hash of its configuration). It also writes results/PROVENANCE_<profile>.md,
a results-at-a-glance table per profile, and regenerates docs/results.md and the README's
summary from every profile's tables (experiments/summary.py).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

from experiments.config import NOT_IDENTIFYING, PROTOCOL_KEYS, SCHEMA
from experiments.env import ROOT
from experiments.reporting import group_by, read_csv, write_csv, write_text
from experiments.store import ResultStore


def _launch_point(record: dict) -> tuple:
    """What a record's launch chose beside its seed: records of equal points are one trial
    configuration run at different times (and, if their hashes differ, under different conf/)."""
    keep = []
    for override in record.get("overrides") or []:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in PROTOCOL_KEYS or key.startswith(("hydra", "paths.")) or key in NOT_IDENTIFYING:
            continue
        keep.append(override)
    return record["experiment"], record["profile"], record["model"], tuple(sorted(keep))


def select(records: list[dict]) -> tuple[list[dict], list[str]]:
    """The records that belong in the paper tables, and one line per group left out and why.

    Left out: records of an older store layout; records launched with settings of the user's own
    (an own sweep, a tuning trial: not the experiment's protocol); and stale records, whose
    launch point was run again after conf/ changed (the newest configuration of a point is kept).
    """
    notes, kept = [], []
    tuning = [r for r in records if r.get("tuning_study")]
    if tuning:
        notes.append(f"{len(tuning)} run(s) of tuning studies ({', '.join(sorted({r['tuning_study'] for r in tuning}))}): "
                     f"they are in the tuning tables, never in the paper tables")
    records = [as_protocol_row(r) for r in records if not r.get("tuning_study")]
    old = [r for r in records if r.get("schema") != SCHEMA]
    if old:
        notes.append(f"{len(old)} record(s) from an older store layout (before schema {SCHEMA}), e.g. "
                     f"{old[0]['experiment']}/{old[0]['key']}.json: re-run their sweeps to regenerate them")
    current = [r for r in records if r.get("schema") == SCHEMA]
    own = [r for r in current if not r.get("protocol", True)]
    if own:
        notes.append(f"{len(own)} record(s) run with settings other than the experiment's protocol (e.g. "
                     f"{' '.join(own[0]['overrides'])}); they are not averaged into its tables")
    by_point = defaultdict(list)
    for r in current:
        if r.get("protocol", True):
            by_point[_launch_point(r) if r.get("overrides") is not None else (r["config_hash"],)].append(r)
    stale = []
    for recs in by_point.values():
        newest = max(recs, key=lambda r: r["summary"]["started_at"])["config_hash"]
        kept += [r for r in recs if r["config_hash"] == newest]
        stale += [r for r in recs if r["config_hash"] != newest]
    if stale:
        notes.append(f"{len(stale)} stale record(s), run before conf/ last changed what their sweep runs "
                     f"(e.g. {stale[0]['experiment']}/{stale[0]['key']}.json): re-run the sweep to replace them")
    return kept, notes


def as_protocol_row(record: dict) -> dict:
    """A record of the tuned protocol as a row of its own beside the paper's: model `gmnm` becomes
    `gmnm_tuned` ("GMNM (tuned)", a darker shade of its colour), after the lineup in table order.
    Records of the paper protocol (all records before protocols existed) are returned as they are."""
    protocol = record.get("protocol_name", "paper")
    if protocol == "paper":
        return record
    lineup = record.get("lineup", [])
    return {**record, "model": f"{record['model']}_{protocol}", "label": f"{record.get('label', record['model'])} ({protocol})",
            "color": _shade(record.get("color")),
            "lineup": lineup + [f"{m}_{protocol}" for m in lineup if not m.endswith("_lsq")]}


def _shade(color: str | None) -> str | None:
    """A darker version of a matplotlib colour, as hex (the tuned row of a model in figures)."""
    if color is None:
        return None
    from matplotlib.colors import to_hex, to_rgb
    return to_hex(tuple(0.55 * c for c in to_rgb(color)))


def family_of(record: dict) -> str:
    """'experiments.fitting.task.FitTask' -> 'experiments.fitting'; an ablation (conf/experiment/eq3_*.yaml)
    reports apart from its base experiment's tables: 'experiments.ablation'."""
    if record["config"].get("ablation"):
        return "experiments.ablation"
    return record["config"]["task"]["_target_"].rsplit(".", 2)[0]


def missing_experiments(records: list[dict], conf_dir: Path = ROOT / "conf") -> list[str]:
    """Experiments of conf/ with no record of this profile: not run, or their data set was missing."""
    return sorted({p.stem for p in (conf_dir / "experiment").glob("*.yaml")} - {r["experiment"] for r in records})


def provenance(records: list[dict], profile: str) -> str:
    lines = ["# Provenance of results/tables and results/figures", "",
             f"Regenerated by `python -m experiments.report --profile {profile}` from the result "
             f"store; every number comes from these trials.", "",
             "| experiment | profile | trials | diverged | devices | commits | torch | sum of trial wall times | first start to last end |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (experiment,), recs in group_by(records, lambda r: (r["experiment"],)).items():
        s = [r["summary"] for r in recs]
        starts = [datetime.fromisoformat(x["started_at"]) for x in s]
        # a group of seeds ends when its process does: wall_time_s is one seed's share of it
        ends = [st + timedelta(seconds=x["wall_time_s"] * x.get("seeds_in_process", 1)) for st, x in zip(starts, s)]
        span = (max(ends) - min(starts)).total_seconds()
        join = lambda key: ", ".join(sorted({str(x[key]) for x in s}))  # noqa: E731
        lines.append(f"| {experiment} | {profile} | {len(recs)} | "
                     f"{sum(r['status'] == 'diverged' for r in recs)} | {join('device')} | "
                     f"{join('git_commit')} | {join('torch')} | {sum(x['wall_time_s'] for x in s):.0f} s | "
                     f"{span:.0f} s |")
    missing = missing_experiments(records)
    if missing:
        lines += ["", f"Not produced under this profile (no trials in the store: not run, or the data set was "
                      f"missing; `make reproduce` prints which): {', '.join(missing)}."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from experiments import summary

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="quick", help="report the trials of this profile")
    parser.add_argument("--store", type=Path, default=ROOT / "results" / "runs")
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    parser.add_argument("--paper", type=Path, default=ROOT / "results" / "paper")
    parser.add_argument("--docs", type=Path, default=None,
                        help="also regenerate <docs>/results.md and the README summary next to it "
                             "(default: the checkout's docs/ when --out is the checkout's results/)")
    args = parser.parse_args(argv)

    records, notes = select([r for r in ResultStore(args.store).records() if r["profile"] == args.profile])
    for note in notes:
        print(f"report: left out {note}", file=sys.stderr)
    from experiments.tuning import report as tuning
    tuning_paths = tuning.report(args.store, args.out, args.profile)
    for path in tuning_paths:
        print(f"wrote {path}")
    if not records and tuning_paths:
        return 0
    if not records:
        print(f"report: no trials of profile {args.profile!r} in {args.store}; run the sweeps "
              f"first (make quick, or make reproduce PROFILE={args.profile})", file=sys.stderr)
        return 1
    glance = []
    families = group_by(records, lambda r: (family_of(r),))
    order = [f"experiments.{name}" for name in summary.FAMILIES]  # the paper's order, others after
    for (family,), recs in sorted(families.items(), key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order
                                                                    else len(order), kv[0][0])):
        module = importlib.import_module(f"{family}.report")
        for path in module.report(recs, args.out, args.paper, args.profile):
            print(f"wrote {path}")
        glance += module.glance(recs, args.paper, args.profile)
    missing = missing_experiments(records)
    if missing:
        print(f"report: no results for {', '.join(missing)} under profile {args.profile!r} (not run, or the "
              f"data set was missing); their tables and figures were not produced")
    print(f"wrote {summary.write_glance(glance, args.out, args.profile)}")
    from experiments.ledger.build import COLUMNS, build
    paper = {p.name: read_csv(p) for p in sorted(args.paper.glob("*.csv"))}
    print(f"wrote {write_csv(args.out / 'tables' / f'claims_{args.profile}.csv', build(records, paper, args.profile), COLUMNS)}")
    print(f"wrote {write_text(args.out / f'PROVENANCE_{args.profile}.md', provenance(records, args.profile))}")
    docs = args.docs or (ROOT / "docs" if args.out.resolve() == (ROOT / "results").resolve() else None)
    if docs is not None:
        for path in summary.write_docs(args.out, docs):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
