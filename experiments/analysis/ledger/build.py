"""Records of one profile in, one ledger row per (claim, protocol) out: pure, no I/O.

The records are those the report keeps (`experiments.analysis.selection.select`: stale and own-sweep records
left out). A ledger protocol picks its rows by the records' own fields: *as written* the paper protocol's
trained models, *tuned* the tuned protocol's, *LSQ head* the least-squares variant of each model where it
has one (experiments/harness/variants.py), else the model as written. A row holds the paper's number (and its effect,
computed from its own tables as ours is from the store), our mean with its 95 % interval and our
best seed (the paper does not always say whether its numbers are means or best runs), the effect
with its interval, the verdict and why, and which commits, devices and wall time produced it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace

from experiments.analysis import stats
from experiments.analysis.ledger.spec import PROTOCOL_LABELS, Claim, Kind, claims
from experiments.analysis.shapes import BENCH_METRIC
from experiments.harness.runner import trained_s
from experiments.harness.tables import LSQ, base_model, config_value, head_of, protocol_of
from experiments.harness.variants import lsq_variants

COLUMNS = [
    "claim", "case", "protocol", "profile", "statement", "metric", "paper", "paper_note", "paper_supports",
    "ours_model", "ours_geomean", "ci_low", "ci_high", "ours_best", "compared_with", "effect", "effect_ci_low",
    "effect_ci_high", "threshold", "direction", "test", "p_claim", "p_against", "p_claim_holm", "p_against_holm",
    "improvement", "improvement_ci_low", "improvement_ci_high", "n_seeds", "verdict", "reads", "reason",
    "beyond_paper", "commits", "devices", "wall_time_s",
]  # fmt: skip


def build(
    records: list[dict],
    paper: dict[str, list[dict]],
    profile: str,
    spec: list[Claim] | None = None,
    differs: dict[str, str] | None = None,
    shapes: list[dict] | None = None,
) -> list[dict]:
    """paper: results/paper's tables by file name. One row per claim and protocol that exists here; a claim
    whose experiment has no record gets one row, 'not measured here', with the reason. differs: per
    experiment, how `profile` differs from the paper's protocol (in words); a row decided under any profile
    but `paper` is indicative, and says so."""
    by_experiment = defaultdict(list)
    for r in records:
        by_experiment[r["experiment"]].append(r)
    rows = []
    counted = defaultdict(list)
    for r in shapes or []:
        counted[(r["experiment"], r["measured_from"])].append(r)
    for claim in spec if spec is not None else claims():
        recs = [
            r
            for r in by_experiment.get(claim.experiment, [])
            if _matches(r, claim.select) and (claim.where is None or claim.where(r))
        ]
        if not recs and claim.metric == "n_params":  # a count needs the model's shapes, not its data
            recs = counted.get((claim.experiment, "shapes"), [])
        if claim.metric == BENCH_METRIC:  # step times from the step benchmark: one row per device it ran on
            benched = counted.get((claim.experiment, "step benchmark"), [])
            devices = sorted({r["bench_device"] for r in benched})
            for device in devices:
                on = [r for r in benched if r["bench_device"] == device]
                rows.append(judge(replace(claim, case=f"{claim.case} ({device})"), "paper", on, paper, profile))
            if not devices:
                rows.append(judge(claim, "paper", [], paper, profile))
            continue
        for protocol in claim.protocols:
            if protocol == "paper" or _exists(recs, claim, protocol):
                rows.append(judge(claim, protocol, recs, paper, profile))
    adjust(rows)
    for row in rows:
        finish(row, profile, (differs or {}).get(row.pop("_experiment"), ""))
    return rows


def adjust(rows: list[dict]) -> None:
    """Holm's adjustment across the rows of one claim (its levels, data sets, cases) under one protocol,
    for the evidence for it and against it alike; the verdict then reads the adjusted p-values."""
    families: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        if "p_claim" not in row:
            continue
        if row["_kind"] in (Kind.RANK, Kind.RATIO) and row.get("test") != "counts, exact":
            families[(row["claim"], row["_kind"], row["protocol"], row["_decides"])].append(row)
        else:  # values (equivalence) and exact counts decide by their own rule: a family of one, unadjusted
            row["p_claim_holm"], row["p_against_holm"] = row["p_claim"], row["p_against"]
    for family in families.values():
        for key in ("p_claim", "p_against"):
            for row, p in zip(family, stats.holm([r[key] for r in family])):
                row[f"{key}_holm"] = p
        for row in family:
            if row["verdict"] != stats.NOT_MEASURED:
                row["verdict"] = stats.decide(row["p_claim_holm"], row["p_against_holm"], row["n_seeds"])


def finish(row: dict, profile: str, differs: str) -> None:
    """A decided row under a profile other than the paper's protocol becomes indicative: what it reads is
    kept (`reads`), and the reason says how the profile differs. Counts and step benchmarks are the same under
    every profile, so the paper profile's ledger decides them. A row that does not decide its claim (a
    timing from the runs, beside the step benchmark's) is indicative under every profile."""
    kind, decides = row.pop("_kind"), row.pop("_decides")
    decided = (stats.REPRODUCED, stats.CONTRADICTED, stats.OURS_LOWER, stats.OURS_HIGHER)
    if row["verdict"] in decided and not decides:
        row["reads"], row["verdict"] = row["verdict"], stats.INDICATIVE
        row["reason"] = (f"shown beside the step benchmark, which decides (both models in one process, in "
                         f"interleaved rounds); each run was timed in its own process; {row['reason']}")  # fmt: skip
    elif row["verdict"] in decided and profile != "paper":
        row["reads"], row["verdict"] = row["verdict"], stats.INDICATIVE
        how = (
            "the same under every profile: the paper profile's ledger decides it"
            if row["metric"] in ("n_params", BENCH_METRIC)
            else f"not the paper's protocol ({differs or 'scaled down'})"
        )
        row["reason"] = f"{profile}, {how}; {row['reason']}"
    if kind in (Kind.RANK, Kind.RATIO) and "p_claim_holm" in row:
        row["reason"] += (
            f"; Holm-adjusted over the claim's rows: p {row['p_claim_holm']:.2g} for it, "
            f"{row['p_against_holm']:.2g} against it"
        )


def _matches(record: dict, select) -> bool:
    for key, value in select:
        got = record[key] if key in record else config_value(record, key)
        if got != value:
            return False
    return True


def _exists(recs: list[dict], claim: Claim, protocol: str) -> bool:
    """Whether the protocol's rows exist for this claim here: tuned records, or a least-squares variant
    of the model the claim is about in the experiment's lineup."""
    if protocol == "tuned":
        return any(protocol_of(r) == "tuned" for r in recs)
    subject = claim.ours or claim.pairs[0][0][0]
    variants = [v for v, base in lsq_variants().items() if base == subject]
    return any(v in r.get("lineup", []) for r in recs for v in variants)


def variant(recs: list[dict], model: str, protocol: str, *, subject: bool = False) -> tuple[str | None, list[dict]]:
    """The row of `model` under a ledger protocol: its name in the ledger and its records. tuned: the
    tuned protocol's records of the model; lsq: its least-squares variant where it has one, else (a
    competitor without a linear head, KAN) the model as written; (None, []) where absent."""
    written = [r for r in recs if r["model"] == model and protocol_of(r) == "paper"]
    if protocol == "paper":
        rows, name = written, model
    elif protocol == "tuned":
        rows, name = [r for r in recs if r["model"] == model and protocol_of(r) == "tuned"], f"{model} (tuned)"
    else:
        lsq = [r for r in recs if head_of(r) == LSQ and base_model(r) == model and protocol_of(r) == "paper"]
        rows = lsq if lsq or subject else written
        name = rows[0]["model"] if rows else None
    return (name, rows) if rows else (None, [])


def seed_values(used: list[dict], metric: str) -> dict[int, float]:
    """{seed: metric} over a row's records (complete or diverged) where the metric is finite; a metric of
    DERIVED is computed from the record's history."""
    values = {r["seed"]: DERIVED[metric](r) if metric in DERIVED else r["summary"].get(metric) for r in used}
    return {s: v for s, v in values.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def test_gain_after_tenth(record: dict) -> float:
    """How much the test loss falls after the first tenth of training: its value at the first evaluation at or
    past a tenth of the steps over its final value (1: a plateau from there on; large: still descending)."""
    rows = [row for row in record.get("history", []) if isinstance(row.get("test_mse"), (int, float))]
    if len(rows) < 2 or not record["summary"].get("final_test_mse"):
        return math.nan
    tenth = next(row for row in rows if row["step"] >= rows[-1]["step"] / 10)
    return tenth["test_mse"] / record["summary"]["final_test_mse"]


def run_median_ms_per_step(record: dict) -> float:
    """A run's median ms per step over its evaluation blocks; its mean for records made before the median was
    kept. Timing claims read it: a run on a shared CPU has slow blocks that move a mean and not a median."""
    summary = record["summary"]
    return summary.get("median_ms_per_step", summary.get("ms_per_step", math.nan))


DERIVED = {"test_gain_after_tenth": test_gain_after_tenth, "run_median_ms_per_step": run_median_ms_per_step}


def _paper_value(paper: dict[str, list[dict]], claim: Claim, model: str, metric: str) -> float | None:
    where = dict(claim.paper).get(metric)
    if where is None:
        return None
    table, column, filters = where
    for row in paper.get(table, []):
        if row.get("model") == model and all(row.get(k) == v for k, v in filters.items()) and row.get(column):
            return float(row[column])
    return None


def paper_effect(claim: Claim, paper: dict[str, list[dict]]) -> tuple[float, str]:
    """The paper's own number for the claim: its value (value, count), or its effect computed from its
    tables as ours is (rank, ratio); NaN where its tables give none. And a note saying what it is."""
    get = lambda m, metric: _paper_value(paper, claim, m, metric)  # noqa: E731 (shorthand for this claim)
    if claim.kind in (Kind.VALUE, Kind.COUNT):
        v = get(claim.ours, claim.metric)
        if v is not None and claim.kind is Kind.COUNT:
            v = int(v)  # a count in full (the CSV writer rounds floats to 6 digits)
        return (v, "") if v is not None else (math.nan, claim.paper_text)
    if claim.kind is Kind.RANK:
        ours = get(claim.ours, claim.metric)
        others = {o: get(o, claim.metric) for o in claim.others}
        others = {o: v for o, v in others.items() if v is not None}
        if ours is None or not others:
            return math.nan, claim.paper_text
        best = min(others, key=others.get)
        return ours / others[best], f"{claim.ours} {ours:.3g} / {best} {others[best]:.3g}"
    ratios = [(get(a, ma), get(b, mb)) for (a, ma), (b, mb) in claim.pairs]
    ratios = [x / y for x, y in ratios if x is not None and y is not None]
    if not ratios:
        return math.nan, claim.paper_text
    return stats.geometric_mean(ratios), f"from {len(ratios)} of {len(claim.pairs)} pair(s) of its table"


def judge(claim: Claim, protocol: str, recs: list[dict], paper: dict[str, list[dict]], profile: str) -> dict:
    paper_number, paper_note = paper_effect(claim, paper)
    ranked = claim.kind in (Kind.RANK, Kind.RATIO)
    row = {
        "claim": claim.id, "case": claim.case, "protocol": PROTOCOL_LABELS[protocol], "profile": profile,
        "statement": claim.statement, "metric": claim.metric, "paper": paper_number, "paper_note": paper_note,
        "paper_supports": _supports(claim, paper_number) if ranked else "", "beyond_paper": claim.beyond_paper,
        "_kind": claim.kind, "_experiment": claim.experiment, "_decides": claim.decides,
        # a value or count is compared with the paper's number, not a threshold
        **({"threshold": claim.threshold, "direction": claim.direction} if ranked else {}),
    }  # fmt: skip
    if not recs:
        reason = claim.missing or f"no {claim.experiment} trials under profile {profile} in the store"
        return {**row, "n_seeds": 0, "verdict": stats.NOT_MEASURED, "reason": reason}
    kind = {Kind.RANK: _rank, Kind.RATIO: _ratio, Kind.VALUE: _value, Kind.COUNT: _count}[claim.kind]
    found, used = kind(claim, protocol, recs, paper_number)
    row.update(found)
    summaries = [r["summary"] for r in used]
    row.update(
        commits=" ".join(sorted({str(s.get("git_commit")) for s in summaries})),
        devices=" ".join(sorted({str(s.get("device", "")).split(" ")[0] for s in summaries})),
        wall_time_s=round(sum(trained_s(s) for s in summaries), 1),
    )
    return row


def _supports(claim: Claim, paper_effect_value: float) -> str:
    """Whether the paper's own tables support its sentence: its effect on the claimed side of the threshold."""
    if not math.isfinite(paper_effect_value):
        return ""
    below = paper_effect_value < claim.threshold
    return "yes" if below == (claim.direction == "below") and paper_effect_value != claim.threshold else "no"


def _ours(values: dict[int, float], model: str | None) -> dict:
    ours = stats.geometric_interval(list(values.values()))
    return {"ours_model": model or "", "ours_geomean": ours.estimate, "ci_low": ours.low, "ci_high": ours.high,
            "ours_best": min(values.values()) if values else math.nan}  # fmt: skip


def _compared(c: stats.Comparison, claim: Claim) -> dict:
    """The effect, its test and the probability of improvement of one comparison."""
    return {"effect": c.effect.estimate, "effect_ci_low": c.effect.low, "effect_ci_high": c.effect.high,
            "test": c.test, "improvement": c.improvement.estimate, "improvement_ci_low": c.improvement.low,
            "improvement_ci_high": c.improvement.high,
            "p_claim": c.p_below if claim.direction == "below" else c.p_above,
            "p_against": c.p_above if claim.direction == "below" else c.p_below}  # fmt: skip


def _not_measured(model: str, protocol: str) -> dict:
    return {"n_seeds": 0, "verdict": stats.NOT_MEASURED,
            "reason": f"no finished runs of {model} ({PROTOCOL_LABELS[protocol]}) under this profile"}  # fmt: skip


def _span(c: stats.Comparison) -> str:
    e = c.effect
    return f"{e.estimate:.3g} exact" if e.exact else f"{e.estimate:.3g} [{e.low:.3g}, {e.high:.3g}]"


def _rank(claim, protocol, recs, paper_value):
    ours_model, used = variant(recs, claim.ours, protocol, subject=True)
    ours = seed_values(used, claim.metric)
    if not ours:
        return _not_measured(f"{claim.ours}", protocol), used
    others, missing = {}, []
    for o in claim.others:
        name, u = variant(recs, o, protocol)
        values = seed_values(u, claim.metric)
        if values:
            others[name] = list(values.values())
            used = used + u
        else:
            missing.append(o)
    if not others:
        return {**_ours(ours, ours_model), **_not_measured(" / ".join(claim.others), protocol)}, used
    if claim.metric == "n_params":  # a count is the same for every seed: compare the counts themselves
        return _counts(claim, ours_model, ours, others, missing), used
    result = stats.rank(list(ours.values()), others, threshold=claim.threshold, direction=claim.direction)
    deciding = result["deciding"]
    c = result["comparisons"][deciding]
    found = {**_ours(ours, ours_model), "compared_with": deciding, **_compared(c, claim),
             "p_claim": result["p_claim"], "p_against": result["p_against"],
             "n_seeds": min([len(ours)] + [len(v) for v in others.values()])}  # fmt: skip
    reason = (f"{ours_model} against each of {', '.join(others)} ({c.test}, intersection-union): the weakest, "
              f"{deciding}, gives {_span(c)}; p {result['p_claim']:.2g} for the claim, {result['p_against']:.2g} "
              f"against it (Holm over the competitors)")  # fmt: skip
    if missing:  # an absent competitor could still beat ours: the claim cannot be established
        found["p_claim"] = 1.0
        reason += f"; not run under this profile: {', '.join(missing)}"
    found["verdict"] = stats.decide(found["p_claim"], found["p_against"], found["n_seeds"])
    return {**found, "reason": reason}, used


def _below(a: float, b: float) -> float:
    """P(X < Y) of two exact values (ties a half): the probability of improvement where nothing varies."""
    return 1.0 if a < b else 0.5 if a == b else 0.0


def _counts(claim, ours_model, ours: dict, others: dict[str, list], missing: list[str]) -> dict:
    """A rank claim about parameter counts: exact values, decided by the values whatever the seeds."""
    mine = max(ours.values())
    effects = {name: mine / max(values) for name, values in others.items()}
    below = {name: e < claim.threshold for name, e in effects.items()}
    holds = all(below.values()) if claim.direction == "below" else not any(below.values())
    deciding = max(effects, key=effects.get) if claim.direction == "below" else min(effects, key=effects.get)
    verdict = stats.INCONCLUSIVE if missing and holds else stats.REPRODUCED if holds else stats.CONTRADICTED
    reason = (
        f"{ours_model} {mine:,.0f} parameters against "
        + ", ".join(f"{name} {max(v):,.0f}" for name, v in others.items())
        + " (counts, exact)"
    )
    if missing:
        reason += f"; not measured: {', '.join(missing)}"
    poi = _below(mine, max(others[deciding]))
    return {"ours_model": ours_model, "ours_geomean": mine, "ours_best": mine, "compared_with": deciding,
            "effect": effects[deciding], "effect_ci_low": effects[deciding], "effect_ci_high": effects[deciding],
            "test": "counts, exact", "n_seeds": len(ours), "verdict": verdict, "reason": reason,
            "p_claim": 0.0 if holds else 1.0, "p_against": 1.0 if holds else 0.0, "improvement": poi,
            "improvement_ci_low": poi, "improvement_ci_high": poi}  # fmt: skip


def _ratio(claim, protocol, recs, paper_value):
    names = {m: variant(recs, m, protocol)[0] for pair in claim.pairs for m, _ in pair}
    pooled, used, ours, paired = [], [], None, False
    for (a, ma), (b, mb) in claim.pairs:
        u1, u2 = variant(recs, a, protocol)[1], variant(recs, b, protocol)[1]
        top, bottom = seed_values(u1, ma), seed_values(u2, mb)
        ours = top if ours is None else ours  # the first pair's numerator: the row's "ours"
        if not top or not bottom:
            continue
        used += u1 + (u2 if u2 is not u1 else [])
        paired = a == b  # a model against itself: two metrics of the same runs
        pooled.append((top, bottom))
    if not pooled:
        return _not_measured(" / ".join(f"{a} over {b}" for (a, _), (b, _) in claim.pairs), protocol), used
    if claim.metric == "n_params":  # counts: exact values, the same for every seed
        ratio = stats.geometric_mean([max(t.values()) / max(b.values()) for t, b in pooled])
        holds = (ratio < claim.threshold) == (claim.direction == "below")
        return {**_ours(ours or {}, names[claim.pairs[0][0][0]]), "compared_with": names[claim.pairs[0][1][0]],
                "effect": ratio, "effect_ci_low": ratio, "effect_ci_high": ratio, "test": "counts, exact",
                "p_claim": 0.0 if holds else 1.0, "p_against": 1.0 if holds else 0.0,
                "improvement": _below(ratio, 1), "improvement_ci_low": _below(ratio, 1),
                "improvement_ci_high": _below(ratio, 1),
                "n_seeds": min(len(t) for t, _ in pooled), "verdict": stats.REPRODUCED if holds else stats.CONTRADICTED,
                "reason": f"a count ratio of {ratio:.3g} (threshold {claim.threshold:g}, {claim.direction})"}, used  # fmt: skip
    if paired and len(pooled) == 1:
        c = stats.compare_paired(*pooled[0], threshold=claim.threshold)
    else:
        c = stats.compare_pooled([(list(t.values()), list(b.values())) for t, b in pooled], threshold=claim.threshold)
    pairs = "; ".join(
        f"{names[a]}/{names[b]}" if ma == mb else f"{names[a]} {ma} / {names[b]} {mb}"
        for (a, ma), (b, mb) in claim.pairs
    )  # a model against itself: say which metrics
    n = min(min(len(t), len(b)) for t, b in pooled)
    reason = f"{pairs} ({c.test}): {_span(c)}"
    if len(pooled) < len(claim.pairs):
        reason += f" ({len(pooled)} of {len(claim.pairs)} pairs run)"
    found = {**_ours(ours or {}, names[claim.pairs[0][0][0]]), "compared_with": pairs, **_compared(c, claim),
             "n_seeds": n}  # fmt: skip
    found["verdict"] = stats.decide(found["p_claim"], found["p_against"], n)
    return {**found, "reason": reason}, used


def _value(claim, protocol, recs, paper_value):
    model, used = variant(recs, claim.ours, protocol, subject=True)
    values = seed_values(used, claim.metric)
    if not values:
        return _not_measured(claim.ours, protocol), used
    ours = stats.geometric_interval(list(values.values()))
    found = {**_ours(values, model), "n_seeds": ours.n, "test": f"equivalence: within a factor {claim.margin:g}"}
    if not math.isfinite(paper_value):
        return {**found, "verdict": stats.NOT_MEASURED, "reason": "the paper gives no number"}, used
    found.update(effect=ours.estimate / paper_value, effect_ci_low=ours.low / paper_value,
                 effect_ci_high=ours.high / paper_value)  # fmt: skip
    verdict, reason = stats.value_verdict(ours, paper_value, claim.margin)
    p_agree, p_outside = stats.equivalence(list(values.values()), paper_value, claim.margin)
    poi = stats.improvement(list(values.values()), [paper_value])  # how often a run of ours is below its number
    found.update(p_claim=p_agree, p_against=p_outside, improvement=poi.estimate, improvement_ci_low=poi.low,
                 improvement_ci_high=poi.high)  # fmt: skip
    return {**found, "verdict": verdict, "reason": reason}, used


def _count(claim, protocol, recs, paper_value):
    model, used = variant(recs, claim.ours, protocol, subject=True)
    values = seed_values(used, claim.metric)
    if not values:
        return _not_measured(claim.ours, protocol), used
    counts = sorted(set(values.values()))
    ours = counts[-1]
    found = {"ours_model": model, "ours_geomean": ours, "ours_best": counts[0], "n_seeds": len(values),
             "test": f"count within {claim.tolerance:.0%}"}  # fmt: skip
    if not math.isfinite(paper_value):
        return {**found, "verdict": stats.NOT_MEASURED, "reason": "the paper gives no count"}, used
    found["effect"] = ours / paper_value
    within = abs(ours / paper_value - 1) <= claim.tolerance
    below = _below(ours, paper_value)
    found.update(p_claim=0.0 if within else 1.0, p_against=1.0, improvement=below, improvement_ci_low=below,
                 improvement_ci_high=below)  # exact: a count has no spread; a miss is not evidence against the claim  # fmt: skip
    if within:
        return {
            **found,
            "verdict": stats.REPRODUCED,
            "reason": f"{ours:,.0f} against the paper's {paper_value:,.0f} (within {claim.tolerance:.0%})",
        }, used
    return {
        **found,
        "verdict": stats.INCONCLUSIVE,
        "reason": f"{ours:,.0f} against the paper's {paper_value:,.0f}: the paper does not give enough of the "
        f"architecture to tell which is right (docs/choices.md says how ours was built)",
    }, used
