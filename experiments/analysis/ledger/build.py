"""Records of one profile in, one ledger row per (claim, protocol) out: pure, no I/O.

The records are those the report keeps (`experiments.analysis.selection.select`: stale and own-sweep records
left out). A protocol picks records by their own `protocol_name`: *as written* (paper), *tuned*, and *data
redrawn*, which is not a row of its own but columns of the as-written row, as the curve's other reads are. A
claim names its models outright (gmnm_lsq for the least-squares head), so no row swaps one model for another.
A row holds the paper's number (and its effect, computed from its own tables as ours is from the store), our
mean with its 95 % interval and our best seed (the paper does not always say whether its numbers are means or
best runs), the effect with its interval, the verdict and why, and which commits, devices and wall time
produced it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace

from experiments.analysis import stats
from experiments.analysis.ledger.metrics import ESTIMATORS, reread, value
from experiments.analysis.ledger.row import Row
from experiments.analysis.ledger.spec import PAPER_NAMES, Claim, Kind, claims
from experiments.harness.records import LABELS, Record
from experiments.harness.runner import trained_s
from experiments.harness.store import BENCH_METRIC

OURS = {stats.REPRODUCED: stats.SUPPORTED, stats.CONTRADICTED: stats.REFUTED}  # a B-claim's words for them
NOT_A_MODEL = 1.0  # a competitor whose median normalised test MSE is at least this does not beat predicting the mean


def build(
    records: list[dict],
    paper: dict[str, list[dict]],
    profile: str,
    spec: list[Claim] | None = None,
    differs: dict[str, str] | None = None,
    shapes: list[dict] | None = None,
) -> list[dict]:
    """paper: results/paper's tables by file name. One row (Row.written(), the columns COLUMNS) per claim and protocol that exists here; a claim
    whose experiment has no record gets one row, 'not measured here', with the reason. differs: per
    experiment, how `profile` differs from the paper's protocol (in words); a row decided under any profile
    but `paper` is indicative, and says so. Beside each row of the paper's protocol: its verdict under the
    curve's other reads (`estimators`) and with the data redrawn for every seed (protocol=redrawn)."""
    by_experiment = defaultdict(list)
    for r in records:
        by_experiment[r["experiment"]].append(r)
    counted = defaultdict(list)
    for r in shapes or []:
        counted[(r["experiment"], r["measured_from"])].append(r)
    spec = claims() if spec is None else spec
    rows = []
    for claim in spec:
        if claim.kind is Kind.ALL:
            continue  # joins the other rows once they are decided (below)
        recs = [
            r
            for r in by_experiment.get(claim.experiment, [])
            if _matches(r, claim.select) and (claim.where is None or claim.where(r))
        ]
        if claim.metric == "n_params":  # a count needs the model's shapes, not its data: a model not run has them
            ran = {r["model"] for r in recs}
            recs = recs + [r for r in counted.get((claim.experiment, "shapes"), []) if r["model"] not in ran]
        if claim.metric == BENCH_METRIC:  # step times from the step benchmark: one row per device it ran on
            benched = counted.get((claim.experiment, "step benchmark"), [])
            devices = sorted({r["bench_device"] for r in benched})
            for device in devices:
                on = [r for r in benched if r["bench_device"] == device]
                row = judge(replace(claim, case=f"{claim.case} ({device})"), "paper", on, paper, profile)
                rows.append(row.update(off_device=bool(claim.device) and device != claim.device))
            if not devices:
                rows.append(judge(claim, "paper", [], paper, profile))
            continue
        for protocol in claim.protocols:
            if protocol == "paper" or any(Record(r).protocol == protocol for r in recs):
                rows.append(judge(claim, protocol, recs, paper, profile))
        rows += _shadows(claim, recs, paper, profile)
    adjust(rows)
    for row in rows:
        finish(row, profile, (differs or {}).get(row.experiment, ""))
    rows = _fold(rows)
    rows += [conjunction(c, rows, profile) for c in spec if c.kind is Kind.ALL]
    return [r.written() for r in rows]


def _shadows(claim: Claim, recs: list[dict], paper, profile: str) -> list[Row]:
    """The rows shown beside the paper protocol's row, not as rows of their own: the claim under the curve's
    other reads, and under protocol=redrawn (the data redrawn for every seed) where it ran."""
    out = []
    for how in claim.estimators:
        metric = reread(claim.metric, how)
        if metric != claim.metric:  # every side of a ratio read the same other way
            pairs = tuple(tuple(replace(x, metric=reread(x.metric, how)) for x in pair) for pair in claim.pairs)
            other = replace(claim, metric=metric, pairs=pairs)
            out.append(judge(other, "paper", recs, paper, profile).update(shadow=how))
    subject = claim.ours or claim.pairs[0][0].model  # the model the claim is about: has it run with the data redrawn?
    redrawn = any(Record(r).protocol == "redrawn" and r["model"] == subject for r in recs)
    if claim.kind in (Kind.RANK, Kind.RATIO) and claim.metric != "n_params" and redrawn:  # a count has no data
        out.append(judge(claim, "redrawn", recs, paper, profile).update(shadow="redrawn"))
    return out


def _fold(rows: list[Row]) -> list[Row]:
    """Shadow rows into the columns of their paper-protocol row: the verdict under each read of the curve (and
    whether they differ), and the verdict, effect and interval width with the data redrawn."""
    main = {(r.claim, r.case): r for r in rows if not r.shadow and r.protocol == LABELS["paper"]}
    reads: dict[tuple, dict[str, str]] = defaultdict(dict)
    for r in rows:
        if not r.shadow:
            continue
        owner = main[(r.claim, r.case)]
        if r.shadow == "redrawn" and r.verdict == stats.NOT_MEASURED:
            continue  # a competitor did not run with the data redrawn: nothing to show
        if r.shadow == "redrawn":
            owner.update(redrawn_verdict=r.reads or r.verdict, redrawn_effect=r.effect, redrawn_ci_low=r.effect_ci_low,
                         redrawn_ci_high=r.effect_ci_high, redrawn_n=r.n_seeds,
                         redrawn_width_ratio=_log_width(r) / _log_width(owner))  # fmt: skip
        else:
            reads[(r.claim, r.case)][r.shadow] = r.reads or r.verdict
    for key, other in reads.items():
        owner = main[key]
        own = next(h for h in ESTIMATORS if reread(owner.metric, h) == owner.metric)
        every = {own: owner.reads or owner.verdict, **other}
        owner.update(estimators="; ".join(f"{ESTIMATORS[h]}: {v}" for h, v in every.items()),
                     estimator_sensitive="yes" if len(set(every.values())) > 1 else "no")  # fmt: skip
    return [r for r in rows if not r.shadow]


def _log_width(row: Row) -> float:
    """The log width of a row's effect interval (NaN where it has none)."""
    low, high = row.effect_ci_low, row.effect_ci_high
    return math.log(high / low) if math.isfinite(low) and math.isfinite(high) and 0 < low < high else math.nan


def conjunction(claim: Claim, rows: list[Row], profile: str) -> Row:
    """A claim that every decided row of the claims it joins holds (§6's "consistently"): contradicted by any
    contradicted row, reproduced when every one of at least one is reproduced, else inconclusive."""
    joined = [r for r in rows if r.claim in claim.joins and r.protocol == LABELS["paper"]
              and r.verdict != stats.NOT_MEASURED]  # fmt: skip
    read = [r.reads or r.verdict for r in joined]
    against = [f"{r.claim} {r.case}" for r, v in zip(joined, read) if v == stats.CONTRADICTED]
    held = sum(v == stats.REPRODUCED for v in read)
    verdict = (stats.CONTRADICTED if against else stats.REPRODUCED if held else stats.INCONCLUSIVE if joined
               else stats.NOT_MEASURED)  # fmt: skip
    reason = (f"{held + len(against)} decided of the {len(joined)} measured rows of {', '.join(claim.joins)}: "
              f"{held} reproduced, {len(against)} contradicted" + (f" ({'; '.join(against)})" if against else "")
              if joined else f"none of {', '.join(claim.joins)} measured under this profile")  # fmt: skip
    row = Row(claim.id, claim.case, section=claim.section, protocol=LABELS["paper"], profile=profile,
              statement=claim.statement, paper_note=claim.paper_text, n_seeds=len(joined), verdict=verdict,
              reason=reason, test="conjunction of the decided rows", kind=claim.kind)  # fmt: skip
    if verdict in stats.DECIDED and profile != "paper":
        row.update(reads=verdict, verdict=stats.INDICATIVE, reason=f"{profile}, its rows are indicative; {reason}")
    return row


def adjust(rows: list[Row]) -> None:
    """Holm's adjustment across the rows of one claim (its levels, data sets, cases) under one protocol and one
    read of its metric, for the evidence for it and against it alike; the verdict then reads the adjusted
    p-values. Exact values and equivalence tests decide by their own rule: each a family of one."""
    families: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        if math.isnan(row.p_claim):
            continue
        if row.kind in (Kind.RANK, Kind.RATIO) and row.test != EXACT:
            families[(row.claim, row.kind, row.protocol, row.decides, row.shadow)].append(row)
        else:
            row.update(p_claim_holm=row.p_claim, p_against_holm=row.p_against)
    for family in families.values():
        for key in ("p_claim", "p_against"):
            for row, p in zip(family, stats.holm([getattr(r, key) for r in family])):
                setattr(row, f"{key}_holm", p)
        for row in family:
            if row.verdict not in (stats.NOT_MEASURED, stats.MATCHED):
                row.verdict = stats.decide(row.p_claim_holm, row.p_against_holm, row.n_seeds)


def finish(row: Row, profile: str, differs: str) -> None:
    """A decided row becomes indicative where it cannot decide: under a profile other than the paper's protocol
    (the reason says how it differs), a timing on another class of device than the paper's, or a timing from the
    runs shown beside the step benchmark's. What it reads is kept (`reads`). Counts and step benchmarks are the
    same under every profile, so the paper profile's ledger decides them. A B-claim says supported / refuted.
    A timing that cannot decide is indicative even when it reads inconclusive: it was never a test of the claim."""
    cannot_decide = not row.decides or row.off_device
    if row.verdict in stats.DECIDED or (cannot_decide and row.verdict == stats.INCONCLUSIVE):
        why = (
            "shown beside the step benchmark, which decides (both models in one process, in interleaved rounds); "
            "each run was timed in its own process"
            if not row.decides
            else "the paper timed on a GPU (a T4): step times of another class of device do not decide it"
            if row.off_device
            else f"{profile}, the same under every profile: the paper profile's ledger decides it"
            if profile != "paper" and row.metric in ("n_params", BENCH_METRIC)
            else f"{profile}, not the paper's protocol ({differs or 'scaled down'})"
            if profile != "paper"
            else ""
        )  # fmt: skip
        if why:
            row.update(reads=row.verdict, verdict=stats.INDICATIVE, reason=f"{why}; {row.reason}")
    if row.kind in (Kind.RANK, Kind.RATIO) and math.isfinite(row.p_claim_holm):
        row.reason += f"; Holm-adjusted over the claim's rows: p {row.p_claim_holm:.2g} for it, {row.p_against_holm:.2g} against it"
    if row.beyond_paper:
        row.update(verdict=OURS.get(row.verdict, row.verdict), reads=OURS.get(row.reads, row.reads))


def _matches(record: dict, select) -> bool:
    """Whether the record has `select`'s values: a record field, a dotted config key, or `ablation.<name>`,
    the ablation's varied key of that name wherever its experiment keeps it (Record.varied)."""
    for key, wanted in select:
        if key.startswith("ablation."):
            got = Record(record).varied(key.removeprefix("ablation."))
        else:
            got = record[key] if key in record else Record(record).config(key)
        if got != wanted:
            return False
    return True


def variant(recs: list[dict], model: str, protocol: str, select=()) -> tuple[str | None, list[dict]]:
    """The row of `model` under a protocol (a records' protocol_name): its name in the ledger and its records
    (those with `select`'s values); (None, []) where absent."""
    rows = [r for r in recs if r["model"] == model and Record(r).protocol == protocol and _matches(r, select)]
    name = model if protocol == "paper" else f"{model} ({LABELS[protocol]})"
    return (name, rows) if rows else (None, [])


def seed_values(used: list[dict], metric: str) -> dict[int, float]:
    """{seed: metric} over a row's records (complete or diverged) where the metric is finite (ledger/metrics.py)."""
    values = {r["seed"]: value(r, metric) for r in used}
    return {s: v for s, v in values.items() if math.isfinite(v)}


def _paper_value(paper: dict[str, list[dict]], claim: Claim, model: str, metric: str) -> float | None:
    where = dict(claim.paper).get(metric)
    if where is None:
        return None
    table, column, filters = where
    want = {"model": PAPER_NAMES.get(model, model), **filters}
    for row in paper.get(table, []):
        if all(row.get(k) == v for k, v in want.items()) and row.get(column):
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
        name = lambda m: PAPER_NAMES.get(m, m)  # noqa: E731 (the paper's name of the model a reading stands for)
        return ours / others[best], f"{name(claim.ours)} {ours:.3g} / {name(best)} {others[best]:.3g}"
    ratios = [(get(a.model, a.metric), get(b.model, b.metric)) for a, b in claim.pairs]
    ratios = [x / y for x, y in ratios if x is not None and y is not None]
    if not ratios:
        return math.nan, claim.paper_text
    return stats.geometric_mean(ratios), f"from {len(ratios)} of {len(claim.pairs)} pair(s) of its table"


def judge(claim: Claim, protocol: str, recs: list[dict], paper: dict[str, list[dict]], profile: str) -> Row:
    paper_number, paper_note = paper_effect(claim, paper)
    ranked = claim.kind in (Kind.RANK, Kind.RATIO)
    row = Row(claim.id, claim.case, section=claim.section, protocol=LABELS[protocol], reading=claim.reading,
              profile=profile, statement=claim.statement, metric=claim.metric, paper=paper_number,
              paper_note=paper_note, paper_supports=_supports(claim, paper_number) if ranked else "",
              beyond_paper=claim.beyond_paper, kind=claim.kind, experiment=claim.experiment, decides=claim.decides)  # fmt: skip
    if ranked:  # a value or count is compared with the paper's number, not a threshold
        row.update(threshold=claim.threshold, direction=claim.direction)
    if not recs:
        reason = claim.missing or f"no {claim.experiment} trials under profile {profile} in the store"
        return row.update(n_seeds=0, verdict=stats.NOT_MEASURED, reason=reason)
    kind = {Kind.RANK: _rank, Kind.RATIO: _ratio, Kind.VALUE: _value, Kind.COUNT: _count}[claim.kind]
    found, used = kind(claim, protocol, recs, paper_number)
    summaries = [r["summary"] for r in used]
    return row.update(
        **found,
        commits=" ".join(sorted({str(s.get("git_commit")) for s in summaries} - {""})),
        devices=" ".join(sorted({str(s.get("device", "")).split(" ")[0] for s in summaries})),
        wall_time_s=round(sum(trained_s(s) for s in summaries), 1),
    )


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
            "reason": f"no finished runs of {model} ({LABELS[protocol]}) under this profile"}  # fmt: skip


def _span(c: stats.Comparison) -> str:
    e = c.effect
    return f"{e.estimate:.3g} exact" if e.exact else f"{e.estimate:.3g} [{e.low:.3g}, {e.high:.3g}]"


def failed(used: list[dict]) -> bool:
    """Whether a model does not beat predicting the mean: its median normalised test MSE at least 1 (where its
    records have one). Such a model is named, and never decides a row."""
    nmse = sorted(seed_values(used, "final_test_nmse").values())
    return bool(nmse) and nmse[len(nmse) // 2] >= NOT_A_MODEL


def _rank(claim, protocol, recs, paper_value):
    ours_model, used = variant(recs, claim.ours, protocol)
    ours = seed_values(used, claim.metric)
    if not ours:
        return _not_measured(f"{claim.ours}", protocol), used
    others, missing, dropped = {}, [], []
    for o in claim.others:
        name, u = variant(recs, o, protocol)
        values = seed_values(u, claim.metric)
        if values and claim.metric != "n_params" and failed(u):
            dropped.append(name)
        elif values:
            others[name] = list(values.values())
            used = used + u
        else:
            missing.append(o)
    failures = (
        f"; {', '.join(dropped)} failed (median normalised test MSE >= 1: no better than the mean), not a competitor"
        if dropped
        else ""
    )
    if not others:
        reason = f"no competitor of {ours_model} ran under this profile: {', '.join(claim.others)}{failures}"
        return {**_ours(ours, ours_model), **_not_measured(" / ".join(claim.others), protocol), "reason": reason}, used
    if claim.metric == "n_params":  # a count is the same for every seed: compare the counts themselves
        return {**_counts(claim, ours_model, ours, others, missing), "not_run": ", ".join(missing)}, used
    result = stats.rank(list(ours.values()), others, threshold=claim.threshold, direction=claim.direction)
    deciding = result["deciding"]
    c = result["comparisons"][deciding]
    found = {**_ours(ours, ours_model), "compared_with": deciding, **_compared(c, claim),
             "p_claim": result["p_claim"], "p_against": result["p_against"],
             "n_seeds": min([len(ours)] + [len(v) for v in others.values()])}  # fmt: skip
    reason = (f"{ours_model} against each of {', '.join(others)} ({c.test}, intersection-union): the weakest, "
              f"{deciding}, gives {_span(c)}; p {result['p_claim']:.2g} for the claim, {result['p_against']:.2g} "
              f"against it (Holm over the competitors){failures}")  # fmt: skip
    if missing:  # an absent competitor could still beat ours: the claim cannot be established
        found["p_claim"] = 1.0
        reason += f"; not run under this profile: {', '.join(missing)}"
        found["not_run"] = ", ".join(missing)
    found["verdict"] = stats.decide(found["p_claim"], found["p_against"], found["n_seeds"])
    return {**found, "reason": reason}, used


def _below(a: float, b: float) -> float:
    """P(X < Y) of two exact values (ties a half): the probability of improvement where nothing varies."""
    return 1.0 if a < b else 0.5 if a == b else 0.0


EXACT = "counts, exact"


def _exact(claim: Claim, holds: bool, models: set[str], reason: str, *, missing=(), test: str = EXACT) -> dict:
    """The one judgement of exact values (parameter counts: no spread, no test): reproduced where the claim holds,
    contradicted where it does not, inconclusive where it holds but a model of it was not measured; matched by
    construction, whatever it reads, where a model's count was sized to meet the paper's (never evidence)."""
    verdict = stats.INCONCLUSIVE if holds and missing else stats.REPRODUCED if holds else stats.CONTRADICTED
    if missing:
        reason += f"; not measured: {', '.join(missing)}"
    sized = sorted(models & set(claim.sized))
    if sized:
        reason += f"; {', '.join(sized)} sized to meet the paper's count (docs/choices.md): reads {verdict}"
        verdict = stats.MATCHED
    return {"test": test, "verdict": verdict, "reason": reason, "p_claim": 0.0 if holds else 1.0,
            "p_against": 1.0 if holds else 0.0}  # fmt: skip


def _counts(claim, ours_model, ours: dict, others: dict[str, list], missing: list[str]) -> dict:
    """A rank claim about parameter counts: ours below (above) each other model's."""
    mine = max(ours.values())
    effects = {name: mine / max(values) for name, values in others.items()}
    below = {name: e < claim.threshold for name, e in effects.items()}
    holds = all(below.values()) if claim.direction == "below" else not any(below.values())
    deciding = max(effects, key=effects.get) if claim.direction == "below" else min(effects, key=effects.get)
    reason = f"{ours_model} {mine:,.0f} parameters against " + ", ".join(
        f"{n} {max(v):,.0f}" for n, v in others.items()
    )
    poi = _below(mine, max(others[deciding]))
    return {"ours_model": ours_model, "ours_geomean": mine, "ours_best": mine, "compared_with": deciding,
            "effect": effects[deciding], "effect_ci_low": effects[deciding], "effect_ci_high": effects[deciding],
            "n_seeds": len(ours), "improvement": poi, "improvement_ci_low": poi, "improvement_ci_high": poi,
            **_exact(claim, holds, {ours_model, *others}, reason, missing=missing)}  # fmt: skip


def _ratio(claim, protocol, recs, paper_value):
    def side(x):
        return variant(recs, x.model, protocol, x.select)

    names = {x: side(x)[0] or x.model for pair in claim.pairs for x in pair}
    pooled, used, ours, paired = [], [], None, False
    for a, b in claim.pairs:
        u1, u2 = side(a)[1], side(b)[1]
        top, bottom = seed_values(u1, a.metric), seed_values(u2, b.metric)
        ours = top if ours is None else ours  # the first pair's numerator: the row's "ours"
        if not top or not bottom:
            continue
        used += u1 + [r for r in u2 if r not in u1]
        paired = u1 == u2  # the same runs on both sides: two metrics of one run each
        pooled.append((top, bottom))
    if not pooled:
        return _not_measured(" / ".join(f"{a.model} over {b.model}" for a, b in claim.pairs), protocol), used
    first_top, first_bottom = names[claim.pairs[0][0]], names[claim.pairs[0][1]]
    if claim.metric == "n_params":  # counts: exact values, the same for every seed
        ratio = stats.geometric_mean([max(t.values()) / max(b.values()) for t, b in pooled])
        holds = (ratio < claim.threshold) == (claim.direction == "below")
        reason = f"a count ratio of {ratio:.3g} (threshold {claim.threshold:g}, {claim.direction})"
        models = {x.model for pair in claim.pairs for x in pair}
        return {**_ours(ours or {}, first_top), "compared_with": first_bottom, "effect": ratio,
                "effect_ci_low": ratio, "effect_ci_high": ratio, "improvement": _below(ratio, 1),
                "improvement_ci_low": _below(ratio, 1), "improvement_ci_high": _below(ratio, 1),
                "n_seeds": min(len(t) for t, _ in pooled), **_exact(claim, holds, models, reason)}, used  # fmt: skip
    if paired and len(pooled) == 1:
        c = stats.compare_paired(*pooled[0], threshold=claim.threshold)
    else:
        c = stats.compare_pooled([(list(t.values()), list(b.values())) for t, b in pooled], threshold=claim.threshold)
    pairs = "; ".join(
        f"{names[a]}/{names[b]}" if a.metric == b.metric else f"{names[a]} {a.metric} / {names[b]} {b.metric}"
        for a, b in claim.pairs
    )  # a model against itself: say which metrics
    n = min(min(len(t), len(b)) for t, b in pooled)
    reason = f"{pairs} ({c.test}): {_span(c)}"
    if len(pooled) < len(claim.pairs):
        reason += f" ({len(pooled)} of {len(claim.pairs)} pairs run)"
    found = {**_ours(ours or {}, first_top), "compared_with": pairs, **_compared(c, claim), "n_seeds": n}
    found["verdict"] = stats.decide(found["p_claim"], found["p_against"], n)
    return {**found, "reason": reason}, used


def _value(claim, protocol, recs, paper_value):
    model, used = variant(recs, claim.ours, protocol)
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
    model, used = variant(recs, claim.ours, protocol)
    values = seed_values(used, claim.metric)
    if not values:
        return _not_measured(claim.ours, protocol), used
    counts = sorted(set(values.values()))
    ours = counts[-1]
    found = {"ours_model": model, "ours_geomean": ours, "ours_best": counts[0], "n_seeds": len(values)}
    if not math.isfinite(paper_value):
        return {**found, "verdict": stats.NOT_MEASURED, "reason": "the paper gives no count"}, used
    below = _below(ours, paper_value)
    within = abs(ours / paper_value - 1) <= claim.tolerance
    reason = f"{ours:,.0f} against the paper's {paper_value:,.0f}" + (
        f" (within {claim.tolerance:.0%})" if within else ": the paper does not give enough of the architecture to "
        "tell which is right (docs/choices.md says how ours was built)"
    )  # fmt: skip
    judged = _exact(claim, within, {claim.ours}, reason, test=f"count within {claim.tolerance:.0%}")
    if not within and judged["verdict"] == stats.CONTRADICTED:  # a miss is not evidence against the paper's count
        judged.update(verdict=stats.INCONCLUSIVE, p_against=1.0)
    return {**found, "effect": ours / paper_value, "improvement": below, "improvement_ci_low": below,
            "improvement_ci_high": below, **judged}, used  # fmt: skip
