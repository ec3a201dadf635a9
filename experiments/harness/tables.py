"""The toolkit family reports are written with: records to pandas tables, and the one skeleton every
family report follows (its tables, figures, glance rows and section, written by `write_report`).

Records are the dicts the runner writes. `frame` turns them into one row per record with the columns
every report groups by: experiment, protocol (paper | tuned: the record's own `protocol_name`), head
(trained | lsq: whether its linear head was solved by least squares), the base model an `*_lsq` row
varies, and the display name and colour of the (model, protocol) row. Nothing parses model names.
Reports are pure functions from records to DataFrames and figures; only `write_report` writes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.harness.atomic import write_atomic
from experiments.harness.config import lookup


@dataclass(frozen=True)
class Kind:
    """A kind of training that tables, figures and the ledger keep apart: the one vocabulary of protocols."""

    name: str  # a record's protocol_name, or "lsq": the paper's protocol with the linear head solved
    label: str  # how tables, figures and the ledger say it
    suffix: str  # a figure's file-name suffix


KINDS = (
    Kind("paper", "as written", ""),
    Kind("tuned", "tuned", "_tuned"),
    Kind("redrawn", "data redrawn", "_redrawn"),
    Kind("lsq", "LSQ head", "_lsq"),
)
LABELS = {k.name: k.label for k in KINDS}
PROTOCOLS = tuple(k.name for k in KINDS if k.name != "lsq")  # records' protocol_name, in the order rows are shown
TRAINED, LSQ = "trained", "lsq"
STATS = ("mean", "std", "median", "min", "max")


def protocol_of(record: dict) -> str:
    return record.get("protocol_name", "paper")


def head_of(record: dict) -> str:
    """lsq where the record's linear head was solved by least squares (its config has `lsq`), else trained."""
    return LSQ if record["config"].get("lsq") else TRAINED


def base_model(record: dict) -> str:
    """The model a variant varies (gmnm for gmnm_lsq: its `size_of`), else the model itself."""
    return record["config"].get("size_of") or record["model"]


def label(record: dict) -> str:
    """The display name of the record's (model, protocol) row: "GMNM", "GMNM (tuned)"."""
    name = record.get("label", record["model"])
    return name if protocol_of(record) == "paper" else f"{name} ({protocol_of(record)})"


def color(record: dict) -> str | None:
    """The record's colour; a darker shade of it for another protocol's row."""
    c = record.get("color")
    if c is None or protocol_of(record) == "paper":
        return c
    from matplotlib.colors import to_hex, to_rgb

    return to_hex(tuple(0.55 * v for v in to_rgb(c)))


def config_value(record: dict, dotted: str):
    return lookup(record["config"], dotted)


def row_order(records: list[dict]) -> list[tuple[str, str]]:
    """(protocol, model) rows in table order: the paper protocol's first, each in its lineup's order
    (conf/lineup.yaml, kept in every record); models outside the lineup last, by name."""
    lineup = max((r.get("lineup", []) for r in records), key=len, default=[])
    present = {(protocol_of(r), r["model"]) for r in records}
    rank = {m: i for i, m in enumerate(lineup)}
    return sorted(
        present,
        key=lambda pm: (
            PROTOCOLS.index(pm[0]) if pm[0] in PROTOCOLS else len(PROTOCOLS),
            pm[0],
            rank.get(pm[1], len(rank)),
            pm[1],
        ),
    )


def experiments_in_order(names: Iterable[str]) -> list[str]:
    """Experiment names in conf/lineup.yaml's order (the one list of experiments); others after, by name."""
    import yaml

    from experiments.harness.env import ROOT

    lineup = list(yaml.safe_load((ROOT / "conf" / "lineup.yaml").read_text()))
    names = set(names)
    return [e for e in lineup if e in names] + sorted(names - set(lineup))


def kind_of(record: dict) -> str:
    """The record's kind (KINDS): its protocol, or lsq for the paper's protocol with the head solved."""
    if protocol_of(record) != "paper":
        return protocol_of(record)
    return "lsq" if head_of(record) == LSQ else "paper"


def by_kind(records: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """(label, file-name suffix, its records) for each kind of training present, in KINDS' order: a figure
    draws each apart, so that a panel holds a handful of curves."""
    return [(k.label, k.suffix, [r for r in records if kind_of(r) == k.name]) for k in KINDS
            if any(kind_of(r) == k.name for r in records)]  # fmt: skip


def by_row(records: list[dict]) -> list[tuple[tuple[str, str], list[dict]]]:
    """((protocol, model), its records) in table order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        groups.setdefault((protocol_of(r), r["model"]), []).append(r)
    return [(key, groups[key]) for key in row_order(records)]


def frame(records: list[dict], metrics: Iterable[str] = (), config: Iterable[str] = ()) -> pd.DataFrame:
    """One row per record: its identity columns, the summary `metrics` (NaN where the trial did not
    complete or the value is not finite: statistics are over complete runs) and `config` values."""
    order = {key: i for i, key in enumerate(row_order(records))}
    rows = []
    for r in records:
        done = r["status"] == "complete"
        row = {
            "experiment": r["experiment"],
            "profile": r["profile"],
            "protocol": protocol_of(r),
            "model": r["model"],
            "head": head_of(r),
            "base_model": base_model(r),
            "label": label(r),
            "color": color(r),
            "seed": r["seed"],
            "status": r["status"],
            "complete": done,
            "row": order[(protocol_of(r), r["model"])],
            "n_params": r["summary"]["n_params"],
            "n_params_all": r["summary"].get("n_params_all"),
            "arch": r.get("arch"),
            "problem": r.get("problem"),
        }
        for key in config:
            row[key] = config_value(r, key)
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
        "protocol": protocol_of(records[0]),
        "model": records[0]["model"],
        "label": label(records[0]),
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
                if r["model"] == model and protocol_of(r) == "paper" and r["status"] == "complete"]  # fmt: skip

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


def to_csv(table: pd.DataFrame) -> str:
    """A table as this project's CSVs hold them: header, numbers in 6 significant digits but whole
    numbers in full (a count in a column that also holds NaN is a float to pandas), missing empty."""
    return table.map(_csv_cell).to_csv(index=False, lineterminator="\n")


def _csv_cell(v):
    if isinstance(v, (float, np.floating)):
        if math.isnan(v):
            return ""
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{v:.6g}"
    return v


def to_markdown(table: pd.DataFrame) -> str:
    """A table of text cells as GitHub markdown (pandas' to_markdown), each cell as written; the rule under
    the header kept short (tabulate pads it to the widest cell, a page wide for the glance's lists)."""
    header, _, *rows = table.to_markdown(index=False, stralign=None, numalign=None, disable_numparse=True).split("\n")
    return "\n".join([header, "|" + " --- |" * len(table.columns), *rows])


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV as text cells (empty where missing), as the paper's tables and the generated pages read them."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_rows(path: Path) -> list[dict]:
    """A CSV's rows as dicts of text cells (empty where missing)."""
    return read_csv(path).to_dict("records")


def write_csv(path: Path, table: pd.DataFrame | list[dict], columns: list[str] | None = None) -> Path:
    table = table if isinstance(table, pd.DataFrame) else pd.DataFrame(table, columns=columns)
    if columns is not None:
        table = table.reindex(columns=columns)
    return write_atomic(path, to_csv(table))


def save_figure(fig, path: Path) -> Path:
    """Write fig as PNG atomically, then close it (reports make many figures in one process)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=120, bbox_inches="tight", format="png")
    plt.close(fig)
    return write_atomic(path, buffer.getvalue())


@dataclass(frozen=True)
class Section:
    """A family's part of docs/results.md: its tables (file name pattern, columns shown) and figures."""

    title: str
    about: str
    tables: tuple[tuple[str, tuple[str, ...]], ...] = ()
    figures: tuple[str, ...] = ()
    order: tuple[int, ...] = (99,)  # where it goes in the pages: the paper's section number


@dataclass
class Context:
    """What a report reads besides its records: the paper's tables (results/paper/*.csv by file stem),
    the profile, the result store (tuning studies) and where results go."""

    out_dir: Path
    profile: str
    paper: dict[str, pd.DataFrame] = field(default_factory=dict)
    store: Path | None = None


class FamilyReport:
    """A family's tables, figures and glance rows from its records; `write_report` writes them as
    <out>/tables/<name>_<profile>.csv and <out>/figures/<name>_<profile>.png."""

    section: Section

    def tables(self, records: list[dict], ctx: Context) -> dict[str, pd.DataFrame]:
        return {}

    def figures(self, records: list[dict], tables: dict[str, pd.DataFrame], ctx: Context) -> dict:
        return {}

    def glance(self, records: list[dict], tables: dict[str, pd.DataFrame], ctx: Context) -> list[dict]:
        return []

    def lines(self, tables: dict[str, pd.DataFrame]) -> list[str]:
        """What the report prints of its tables, a line each."""
        return []


def write_report(report: FamilyReport, records: list[dict], ctx: Context) -> tuple[list[Path], list[dict]]:
    """Run one family's report over its records: the files written and its glance rows."""
    import matplotlib

    matplotlib.use("Agg")  # reports draw off screen, whatever backend the user has

    tables = report.tables(records, ctx)
    written = [write_csv(ctx.out_dir / "tables" / f"{name}_{ctx.profile}.csv", t) for name, t in tables.items()]
    for name, fig in report.figures(records, tables, ctx).items():
        written.append(save_figure(fig, ctx.out_dir / "figures" / f"{name}_{ctx.profile}.png"))
    for line in report.lines(tables):
        print(line)
    return written, report.glance(records, tables, ctx)
