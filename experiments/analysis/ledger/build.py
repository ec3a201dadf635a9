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

from experiments.analysis import stats
from experiments.analysis.ledger.spec import PROTOCOL_LABELS, Claim, Kind, claims
from experiments.harness.tables import LSQ, base_model, config_value, head_of, protocol_of
from experiments.harness.variants import lsq_variants

COLUMNS = [
    "claim",
    "case",
    "protocol",
    "profile",
    "statement",
    "metric",
    "paper",
    "paper_note",
    "ours_model",
    "ours_mean",
    "ci_low",
    "ci_high",
    "ours_best",
    "compared_with",
    "effect",
    "effect_ci_low",
    "effect_ci_high",
    "threshold",
    "direction",
    "n_seeds",
    "verdict",
    "reason",
    "commits",
    "devices",
    "wall_time_s",
]


def build(
    records: list[dict], paper: dict[str, list[dict]], profile: str, spec: list[Claim] | None = None
) -> list[dict]:
    """paper: results/paper's tables by file name. One row per claim and protocol that exists here; a claim
    whose experiment has no record gets one row, 'not measured here', with the reason."""
    by_experiment = defaultdict(list)
    for r in records:
        by_experiment[r["experiment"]].append(r)
    rows = []
    for claim in spec if spec is not None else claims():
        recs = [
            r
            for r in by_experiment.get(claim.experiment, [])
            if _matches(r, claim.select) and (claim.where is None or claim.where(r))
        ]
        for protocol in claim.protocols:
            if protocol == "paper" or _exists(recs, claim, protocol):
                rows.append(judge(claim, protocol, recs, paper, profile))
    return rows


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
    """{seed: metric} over a row's records (complete or diverged) where the metric is finite."""
    values = {r["seed"]: r["summary"].get(metric) for r in used}
    return {s: v for s, v in values.items() if isinstance(v, (int, float)) and math.isfinite(v)}


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
    row = {
        "claim": claim.id,
        "case": claim.case,
        "protocol": PROTOCOL_LABELS[protocol],
        "profile": profile,
        "statement": claim.statement,
        "metric": claim.metric,
        "paper": paper_number,
        "paper_note": paper_note,
        # a value or count is compared with the paper's number, not a threshold
        **(
            {"threshold": claim.threshold, "direction": claim.direction}
            if claim.kind in (Kind.RANK, Kind.RATIO)
            else {}
        ),
    }
    if not recs:
        return {
            **row,
            "n_seeds": 0,
            "verdict": stats.NOT_MEASURED,
            "reason": claim.missing or f"no {claim.experiment} trials under profile {profile} in the store",
        }
    kind = {Kind.RANK: _rank, Kind.RATIO: _ratio, Kind.VALUE: _value, Kind.COUNT: _count}[claim.kind]
    found, used = kind(claim, protocol, recs, paper_number)
    if (
        claim.judged_under is not None
        and profile not in claim.judged_under
        and found.get("verdict") in (stats.REPRODUCED, stats.CONTRADICTED)
    ):
        found["reason"] = (
            f"judged under {', '.join(claim.judged_under)} only ({claim.why}); "
            f"here it would read {found['verdict']}: {found['reason']}"
        )
        found["verdict"] = stats.INCONCLUSIVE
    row.update(found)
    summaries = [r["summary"] for r in used]
    row.update(
        commits=" ".join(sorted({str(s.get("git_commit")) for s in summaries})),
        devices=" ".join(sorted({str(s.get("device", "")).split(" ")[0] for s in summaries})),
        wall_time_s=round(sum(s.get("wall_time_s", 0.0) for s in summaries), 1),
    )
    return row


def _ours(values: dict[int, float], model: str | None) -> dict:
    ours = stats.mean_interval(list(values.values()))
    return {
        "ours_model": model or "",
        "ours_mean": ours.estimate,
        "ci_low": ours.low,
        "ci_high": ours.high,
        "ours_best": min(values.values()) if values else math.nan,
    }


def _effect(effect: stats.Interval) -> dict:
    return {"effect": effect.estimate, "effect_ci_low": effect.low, "effect_ci_high": effect.high, "n_seeds": effect.n}


def _not_measured(model: str, protocol: str) -> dict:
    return {
        "n_seeds": 0,
        "verdict": stats.NOT_MEASURED,
        "reason": f"no finished runs of {model} ({PROTOCOL_LABELS[protocol]}) under this profile",
    }


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
            others[name] = values
            used = used + u
        else:
            missing.append(o)
    if not others:
        return {**_ours(ours, ours_model), **_not_measured(" / ".join(claim.others), protocol)}, used
    strongest = min(others, key=lambda m: stats.geometric_mean(others[m].values()))
    effect = stats.ratio_effect(ours, others[strongest])
    verdict, reason = stats.verdict(effect, threshold=claim.threshold, direction=claim.direction)
    reason = f"{ours_model} over {strongest} (the strongest of {len(others)}), {'paired by seed' if effect.paired else 'unpaired'}: {reason}"
    if missing and verdict == stats.REPRODUCED:  # an absent competitor could still beat ours
        verdict = stats.INCONCLUSIVE
    if missing:
        reason += f"; not run under this profile: {', '.join(missing)}"
    return {
        **_ours(ours, ours_model),
        "compared_with": strongest,
        **_effect(effect),
        "verdict": verdict,
        "reason": reason,
    }, used


def _ratio(claim, protocol, recs, paper_value):
    numer, denom, used, kept, ours = defaultdict(list), defaultdict(list), [], 0, None
    names = {m: variant(recs, m, protocol)[0] for pair in claim.pairs for m, _ in pair}
    for (a, ma), (b, mb) in claim.pairs:
        u1, u2 = variant(recs, a, protocol)[1], variant(recs, b, protocol)[1]
        top, bottom = seed_values(u1, ma), seed_values(u2, mb)
        ours = top if ours is None else ours  # the first pair's numerator: the row's "ours"
        common = set(top) & set(bottom)
        if not common:
            continue
        kept += 1
        used += u1 + u2
        for s in common:
            numer[s].append(top[s])
            denom[s].append(bottom[s])
    if not kept:
        return _not_measured(" / ".join(f"{a} over {b}" for (a, _), (b, _) in claim.pairs), protocol), used
    seeds = [s for s in numer if len(numer[s]) == kept]  # seeds every kept pair has
    first = names[claim.pairs[0][0][0]]
    effect = stats.ratio_effect(
        {s: stats.geometric_mean(numer[s]) for s in seeds}, {s: stats.geometric_mean(denom[s]) for s in seeds}
    )
    verdict, reason = stats.verdict(effect, threshold=claim.threshold, direction=claim.direction)
    pairs = "; ".join(
        f"{names[a]}/{names[b]}" if ma == mb else f"{names[a]} {ma} / {names[b]} {mb}"
        for (a, ma), (b, mb) in claim.pairs
    )  # a model against itself: say which metrics
    reason = f"geometric mean of {pairs} per seed: {reason}"
    if kept < len(claim.pairs):
        reason += f" ({kept} of {len(claim.pairs)} pairs run)"
    return {**_ours(ours, first), "compared_with": pairs, **_effect(effect), "verdict": verdict, "reason": reason}, used


def _value(claim, protocol, recs, paper_value):
    model, used = variant(recs, claim.ours, protocol, subject=True)
    values = seed_values(used, claim.metric)
    if not values:
        return _not_measured(claim.ours, protocol), used
    ours = stats.mean_interval(list(values.values()))
    found = {**_ours(values, model), "n_seeds": ours.n}
    if math.isfinite(paper_value):
        found.update(
            effect=ours.estimate / paper_value,
            effect_ci_low=ours.low / paper_value,
            effect_ci_high=ours.high / paper_value,
        )
    verdict, reason = (
        stats.value_verdict(ours, paper_value)
        if math.isfinite(paper_value)
        else (stats.NOT_MEASURED, "the paper gives no number")
    )
    return {**found, "verdict": verdict, "reason": reason}, used


def _count(claim, protocol, recs, paper_value):
    model, used = variant(recs, claim.ours, protocol, subject=True)
    values = seed_values(used, claim.metric)
    if not values:
        return _not_measured(claim.ours, protocol), used
    counts = sorted(set(values.values()))
    ours = counts[-1]
    found = {"ours_model": model, "ours_mean": ours, "ours_best": counts[0], "n_seeds": len(values)}
    if not math.isfinite(paper_value):
        return {**found, "verdict": stats.NOT_MEASURED, "reason": "the paper gives no count"}, used
    found["effect"] = ours / paper_value
    if abs(ours / paper_value - 1) <= claim.tolerance:
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
