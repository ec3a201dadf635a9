"""Results at a glance: each family's glance rows finished with GMNM's effect against the best other model
of the case (the ratio of geometric means with its 95 % Welch interval on the log scale, unpaired:
experiments/analysis/stats.py), so the README's glance says by how much, not only who won."""

from __future__ import annotations

from experiments.analysis import stats

COLUMNS = ["experiment", "case", "profile", "metric", "n_seeds", "ours_best", "gmnm", "gmnm_rank", "against",
           "gmnm_effect", "gmnm_effect_low", "gmnm_effect_high", "ours_best_tuned", "paper_best", "agrees"]  # fmt: skip
OLD_COLUMNS = [
    "experiment",
    "case",
    "profile",
    "metric",
    "n_seeds",
    "ours",
    "ours_best",
    "ours_best_tuned",
    "paper_best",
    "agrees",
]  # fmt: skip  (the glance tables written before this one)


def finish(rows: list[dict]) -> list[dict]:
    """The rows with GMNM's effect against `against` filled in, and the runs they carried dropped."""
    out = []
    for row in rows:
        ours, theirs = row.pop("_ours", []), row.pop("_theirs", [])
        if ours and theirs:
            c = stats.compare(ours, theirs, poi=False)
            row.update(gmnm_effect=c.effect.estimate, gmnm_effect_low=c.effect.low, gmnm_effect_high=c.effect.high)
        out.append(row)
    return out
