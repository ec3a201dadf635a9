"""The ledger's pages: results/tables/claims.csv, results/CLAIMS.md and the README's short table.

Rendered from the per-profile tables results/tables/claims_<profile>.csv (which `make report` writes
from the store), never by hand, so no number drifts from its run.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from experiments.analysis import stats
from experiments.analysis.ledger.row import COLUMNS
from experiments.harness.atomic import write_atomic
from experiments.harness.records import LABELS
from experiments.harness.tableio import read_rows, to_markdown, write_csv

ORDER = ("paper", "quick", "smoke")  # profiles in this order, others after by name
VERDICTS = (
    stats.REPRODUCED,
    stats.CONTRADICTED,
    stats.OURS_LOWER,
    stats.OURS_HIGHER,
    stats.SUPPORTED,
    stats.REFUTED,
    stats.INDICATIVE,
    stats.INCONCLUSIVE,
    stats.MATCHED,
    stats.NOT_MEASURED,
)
SECTIONS = (("The paper's claims", False), ("Our own questions, beyond the paper", True))
# What every interval covers, said wherever intervals are shown
COVERS = (
    "Under the paper's protocol every seed of an experiment shares one draw of the data (`data_seed` 0: one training "
    "and test set, one set of collocation points, one time series), so an interval covers the models' initialisation "
    "and training noise, not a new draw of the data; the *data redrawn* column gives the verdict where the data "
    "were redrawn with every seed (`protocol=redrawn`), and how much wider its interval is."
)


def profiles(tables: Path) -> list[str]:
    found = {p.stem[len("claims_") :] for p in tables.glob("claims_*.csv")}
    return [p for p in ORDER if p in found] + sorted(found - set(ORDER))


def all_rows(tables: Path) -> list[dict]:
    return [r for p in profiles(tables) for r in read_rows(tables / f"claims_{p}.csv")]


def _num(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _g(x: float, count: bool = False) -> str:
    """Two significant digits; a parameter count in full."""
    return "" if not math.isfinite(x) else f"{x:,.0f}" if count else f"{x:.2g}"


def _is_count(row: dict) -> bool:
    return row.get("metric") == "n_params" and not row.get("compared_with")


def interval(row: dict, key: str, low: str, high: str, count: bool = False) -> str:
    """'0.30 [0.15, 0.62]', or the bare value without an interval, or ''."""
    value = _num(row.get(key))
    if not math.isfinite(value):
        return ""
    lo, hi = _num(row.get(low)), _num(row.get(high))
    return _g(value, count) + (f" [{_g(lo)}, {_g(hi)}]" if math.isfinite(lo) and math.isfinite(hi) and lo != hi else "")


def _paper(row: dict) -> str:
    """The paper's number, and how it was computed where it is an effect."""
    value = _num(row.get("paper"))
    if not math.isfinite(value):
        return row.get("paper_note", "")
    return f"{_g(value)} ({row['paper_note']})" if row.get("paper_note") else _g(value, _is_count(row))


def _ours(row: dict) -> str:
    """Our effect with its interval and n; for a count, the count; for a value, the mean."""
    if _is_count(row):
        return _g(_num(row.get("ours_geomean", row.get("ours_mean"))), count=True)
    if not row.get("compared_with"):  # a value claim: our mean against the paper's number
        text = interval(row, "ours_geomean", "ci_low", "ci_high")
    else:
        text = interval(row, "effect", "effect_ci_low", "effect_ci_high")
    return f"{text} (n {row.get('n_seeds', 0)})" if text else ""


def _of(row: dict) -> str:
    """What an effect is a ratio of: 'gmnm / kan', or the pairs of a ratio claim."""
    vs = row.get("compared_with") or ""
    if not vs or _is_count(row):
        return ""
    return vs if "/" in vs else f"{row.get('ours_model', '')} / {vs}"


def _robustness(row: dict) -> str:
    """The verdict under the curve's other reads where they differ, and with the data redrawn."""
    parts = []
    if row.get("estimator_sensitive") == "yes":
        parts.append(f"estimator-sensitive ({row['estimators']})")
    if row.get("redrawn_verdict"):
        width = _num(row.get("redrawn_width_ratio"))
        effect = interval(row, "redrawn_effect", "redrawn_ci_low", "redrawn_ci_high")
        parts.append(f"data redrawn: {row['redrawn_verdict']}, {effect} (n {row.get('redrawn_n', '')})"
                     + (f", interval {width:.2g}x as wide" if math.isfinite(width) else ""))  # fmt: skip
    return "; ".join(parts)


def is_ours(row: dict) -> bool:
    return str(row.get("beyond_paper")) == "True"


def _table(header: list[str], lines: list[list[str]]) -> str:
    cells = pd.DataFrame(lines, columns=header).astype(str).map(lambda text: text.replace("|", "\\|"))
    return to_markdown(cells)


HOW = (
    "**How a verdict is reached** (`experiments/analysis/stats.py`, docs/choices.md). *ours*: the geometric "
    "mean over seeds with the t interval of the mean log value (95 %), and our best seed. *effect*: our metric "
    "over the competitor's as a ratio of geometric means, with Welch's t interval on the log values, unpaired "
    "(seed s of two models shares the data but no randomness of its own); a model set against itself (KAN's "
    "final test loss over its minimum) is paired by run. Samples with no spread are exact values. *p*: one-sided "
    "tests that the effect lies on the claimed side of the threshold (1 unless the claim says more: 0.1 for an "
    "order of magnitude, 10 for KAN's test loss exploding or fixed centres staying effective, 1.1 for no "
    "noticeable slowdown, 2 for a similar parameter count) or on the other; a rank claim is an intersection-union "
    "test (GMNM must beat every competitor, each by its own test; against it, the strongest competitor after "
    "Holm's adjustment), and Holm's adjustment runs again across the rows of one claim. *reproduced* / "
    "*contradicted*: the adjusted p below 0.025 (the 95 % interval wholly on one side); *inconclusive*: neither, "
    "or fewer than 3 seeds. A value agrees when our interval lies within a factor 2 of the paper's number (*ours "
    "lower* / *ours higher* when it lies wholly outside). *indicative*: what a row reads where it cannot decide: "
    "under a profile other than the paper's protocol, or a timing on another class of device than the paper's "
    "GPU. *matched by construction*: a parameter count our build was sized to meet, which is no evidence. "
    "*improvement*: the probability that a run of ours has the lower value (Mann-Whitney), with its bootstrap "
    "interval. The *paper* column holds the same effect computed from the paper's own tables, and *paper "
    "supports* says whether they support the paper's sentence. A claim on a curve is judged on the read its "
    "sentence implies (Table 1's minimum, Fig. 2's final loss) and again on the other two reads (final, minimum, "
    "mean of the last 10 % of evaluations): a row whose verdicts differ is *estimator-sensitive*."
)


def _rows_table(mine: list[dict]) -> str:
    return _table(
        ["claim", "case", "protocol", "paper", "ours (mean [95 % CI]; best)", "effect [95 % CI]", "of", "n",
         "verdict", "robustness", "why", "produced by (commits; device; wall time)"],
        [
            [
                f"{r['claim']} ({r['section']})" if r.get("section") else r["claim"],
                r["case"],
                r["protocol"],
                _paper(r),
                interval(r, "ours_geomean", "ci_low", "ci_high") + (f"; {_g(_num(r['ours_best']))}" if r.get("ours_best") else ""),
                interval(r, "effect", "effect_ci_low", "effect_ci_high"),
                _of(r),
                r.get("n_seeds", ""),
                f"**{r['verdict']}**" + (f" (reads {r['reads']})" if r.get("reads") else ""),
                _robustness(r),
                r["reason"],
                "; ".join(x for x in (r.get("commits", ""), r.get("devices", ""),
                                      f"{_num(r['wall_time_s']):,.0f} s" if r.get("wall_time_s") else "") if x),
            ]
            for r in mine
        ],
    )  # fmt: skip


def _tally(rows: list[dict]) -> str:
    tally = {v: sum(r["verdict"] == v for r in rows) for v in VERDICTS}
    return ", ".join(f"{n} {v}" for v, n in tally.items() if n)


def ledger_markdown(rows: list[dict]) -> str:
    """results/CLAIMS.md: how verdicts are reached, then per profile the paper's claims and ours, each tallied."""
    parts = [
        "# Claims ledger",
        "",
        "Generated by `make report` from the result store (`results/tables/claims.csv` holds the same rows); do "
        "not edit by hand. One row per claim, case and protocol. *The paper's claims* (C) are judged only on the "
        "paper's method, gradient-trained models as it describes them: *as written* (the paper's protocol as our "
        "configs read it) and *tuned* (every model tuned with the same budget on validation data, `make tune`); "
        "where our reading of a model departs from the paper's description, a second reading is its own row and "
        "names itself. *Our own questions* (B) are hypotheses of ours, such as GMNM with its mixture weights "
        "solved by least squares (the *LSQ head*, `*_lsq`), judged by the same tests against the strongest "
        "gradient-trained models and said as *supported* / *refuted*.",
        "",
        COVERS,
        "",
        HOW,
        "",
        "## The decided rows, and the undecided ones whose verdict moves",
        "",
        short_markdown(rows, where="below, by profile"),
        "",
    ]
    for profile in dict.fromkeys(r["profile"] for r in rows):
        mine = [r for r in rows if r["profile"] == profile]
        parts += [f"## Profile `{profile}`", ""]
        old = next((earlier(r) for r in mine if earlier(r) is not None), None)
        if old:
            parts += [f"*These rows were written by {old}*; the report judges them again when "
                      f"`{profile}` runs again (`make reproduce PROFILE={profile}`).", ""]  # fmt: skip
        for title, ours in SECTIONS:
            section = [r for r in mine if is_ours(r) == ours]
            if section:
                parts += [f"### {title}", "", f"Rows: {_tally(section)}.", "", _rows_table(section), ""]
    return "\n".join(parts).rstrip() + "\n"


def earlier(row: dict) -> str | None:
    """Which earlier ledger wrote a row read back from a claims table, or None for the current one: the first
    statistics (no `test` column), or the ledger before the paper's claims were judged on the paper's method
    alone (no `section` column: least-squares rows under C-claims, C13 read as late gain, no C17-C25)."""
    if "test" not in row:
        return "the ledger's first statistics (percentile-bootstrap intervals paired by seed index, no correction for multiplicity)"
    if "section" not in row:
        return ("the ledger before the paper's claims were judged on the paper's method alone (least-squares rows "
                "under the paper's claims, C13 read as late gain, no C17-C25)")  # fmt: skip
    return None


def moves(row: dict) -> bool:
    """An undecided row of the current ledger whose verdict another read of its curve, or the data redrawn,
    decides: the README shows it, so that a fragile answer is not hidden by being undecided."""
    redrawn = row.get("redrawn_verdict") in stats.DECIDED
    return (
        earlier(row) is None
        and row.get("verdict") == stats.INCONCLUSIVE
        and (row.get("estimator_sensitive") == "yes" or redrawn)
    )


def decided(row: dict) -> bool:
    """A row the ledger decides: its verdict one of DECIDED, reached by the current ledger (a row of a table an
    earlier one wrote is not counted as decided)."""
    return row.get("verdict") in stats.DECIDED and earlier(row) is None


def short_markdown(rows: list[dict], where: str = "in [results/CLAIMS.md](results/CLAIMS.md)") -> str:
    """The README's tables: the decided rows only, the paper's claims and ours apart (the paper's number, our
    effect and what it is a ratio of, the verdict, how robust it is), then one sentence counting the rest, with a
    link to the whole ledger."""
    if not rows:
        return "No ledger yet: run `make quick`."
    header = ["claim", "case", "protocol", "profile", "paper", "effect [95 % CI] (n)", "of", "verdict", "robustness"]
    blocks = []
    for title, ours in SECTIONS:
        shown = [r for r in rows if (decided(r) or moves(r)) and is_ours(r) == ours]
        if shown:
            lines = [[r["claim"], r["case"], r["protocol"], r["profile"], _paper(r), _ours(r), _of(r),
                      f"**{r['verdict']}**", _robustness(r)] for r in shown]  # fmt: skip
            more = sum(not decided(r) for r in shown)
            count = f"{len(shown) - more} decided" + (f", {more} undecided whose verdict moves" if more else "")
            blocks.append(f"**{title}** ({count})\n\n" + _table(header, lines))
    shown = [r for r in rows if decided(r) or moves(r)]
    rest = [r for r in rows if not (decided(r) or moves(r))]
    current = [r for r in rest if earlier(r) is None]
    counts = {
        "indicative (a profile other than the paper's protocol, or a CPU timing)": sum(
            r["verdict"] == stats.INDICATIVE for r in current
        ),
        "inconclusive": sum(r["verdict"] == stats.INCONCLUSIVE for r in current),
        "counts matched by construction": sum(r["verdict"] == stats.MATCHED for r in current),
        "not measured here": sum(r["verdict"] == stats.NOT_MEASURED for r in current),
        "from an earlier ledger (to be judged again when re-run)": len(rest) - len(current),
    }
    lead = (
        f"{len(shown)} row(s) above (decided, or undecided where another read of the curve or the data redrawn "
        f"decides); the other {len(rest)}"
        if shown
        else f"No row decided yet; the {len(rest)} rows"
    )
    sentence = (f"{lead}: " + ", ".join(f"{n} {what}" for what, n in counts.items() if n)
                + f": every row {where}. " + COVERS)  # fmt: skip
    return "\n\n".join(blocks + [sentence])


def tuned_markdown(rows: list[dict]) -> str:
    """Does tuning change the answer? Per profile, each case with a measured tuned row beside the same case as
    written: effect, interval and verdict of both (the current ledger's rows only)."""
    current = [r for r in rows if earlier(r) is None]
    written = {(r["profile"], r["claim"], r["case"]): r for r in current if r["protocol"] == LABELS["paper"]}
    tuned = [r for r in current if r["protocol"] == LABELS["tuned"]]
    if not tuned:
        return "No tuned row yet: `make tune`, then `make reproduce PROTOCOL=tuned`."
    shown = [r for r in tuned if r["verdict"] != stats.NOT_MEASURED]
    lines = []
    for r in shown:
        w = written.get((r["profile"], r["claim"], r["case"]), {})
        measured = w.get("verdict", stats.NOT_MEASURED) != stats.NOT_MEASURED
        change = "" if not measured else "yes" if w["verdict"] != r["verdict"] else "no"
        if r.get("not_run"):  # a competitor still to run could beat ours: no answer yet
            change = f"not yet ({r['not_run']} not run tuned)"
        lines.append([r["claim"], r["case"], r["profile"], _ours(w), _of(w), w.get("verdict", ""), _ours(r), _of(r),
                      f"**{r['verdict']}**", change])  # fmt: skip
    header = ["claim", "case", "profile", "as written: effect [95 % CI] (n)", "of", "verdict",
              "tuned: effect [95 % CI] (n)", "of", "verdict", "verdict changes"]  # fmt: skip
    pending = len(tuned) - len(shown)
    table = _table(header, lines) if lines else "No tuned row measured yet."
    return table + (
        f"\n\n{pending} more case(s) have a tuned row not measured yet: a model's tuned seeds have not run "
        "(results/CLAIMS.md names which)."
        if pending
        else ""
    )


def counts_markdown(rows: list[dict]) -> str:
    """The README's ledger block: per profile, how many rows of the paper's claims and of our own questions got
    each verdict (the current ledger's rows), with a link to every row."""
    current = [r for r in rows if earlier(r) is None]
    if not current:
        return "No ledger yet: run `make quick`."
    frame = pd.DataFrame(
        {
            "profile": [r["profile"] for r in current],
            "verdict": [r["verdict"] for r in current],
            "rows": [SECTIONS[is_ours(r)][0] for r in current],
        }  # fmt: skip
    )
    blocks = []
    for profile, part in frame.groupby("profile", sort=False):
        table = pd.crosstab(part.rows, part.verdict)
        table = table.reindex([title for title, _ in SECTIONS if title in table.index])
        order = [stats.REPRODUCED, stats.CONTRADICTED, stats.OURS_LOWER, stats.OURS_HIGHER, stats.SUPPORTED,
                 stats.REFUTED, stats.INCONCLUSIVE, stats.INDICATIVE, stats.MATCHED, stats.NOT_MEASURED]  # fmt: skip
        table = table[[v for v in order if v in table.columns] + [v for v in table.columns if v not in order]]
        header = [f"rows, profile {profile}", *table.columns]
        lines = [[title, *(str(n) for n in table.loc[title])] for title in table.index]
        blocks.append(_table(header, lines))
    return "\n\n".join(
        blocks + ["Every row, with its test and interval: [results/CLAIMS.md](results/CLAIMS.md). " + COVERS]
    )


def write(out_dir: Path) -> list[Path]:
    """results/tables/claims.csv and results/CLAIMS.md from every profile's claims table."""
    rows = all_rows(out_dir / "tables")
    if not rows:
        return []
    return [
        write_csv(out_dir / "tables" / "claims.csv", rows, COLUMNS),
        write_atomic(out_dir / "CLAIMS.md", ledger_markdown(rows)),
    ]
