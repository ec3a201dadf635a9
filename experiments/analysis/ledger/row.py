"""One row of the ledger: a claim, its case and protocol, what was measured and the verdict.

Its written fields are the columns of results/tables/claims_<profile>.csv, in order; the last few say how the
row is judged (its kind of test, its experiment, whether it decides) and are never written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from experiments.analysis.ledger.spec import Kind

NAN = math.nan
HIDDEN = {"hidden": True}  # a field that says how the row is judged, not part of the table


@dataclass
class Row:
    claim: str
    case: str
    section: str = ""  # where the paper says it
    protocol: str = ""  # as written, tuned (experiments/harness/records.py KINDS)
    reading: str = ""  # a second reading of the paper's model, where the row uses one
    profile: str = ""
    statement: str = ""
    metric: str = ""
    paper: float = NAN  # the paper's number, or its effect computed from its own tables
    paper_note: str = ""
    paper_supports: str = ""  # whether the paper's own tables support its sentence
    ours_model: str = ""
    ours_geomean: float = NAN  # over seeds, with the t interval of the mean log value
    ci_low: float = NAN
    ci_high: float = NAN
    ours_best: float = NAN
    compared_with: str = ""
    effect: float = NAN  # ours over the competitor's, a ratio of geometric means
    effect_ci_low: float = NAN
    effect_ci_high: float = NAN
    threshold: float = NAN  # rank and ratio claims; a value or count is compared with the paper's number
    direction: str = ""
    test: str = ""
    p_claim: float = NAN
    p_against: float = NAN
    p_claim_holm: float = NAN
    p_against_holm: float = NAN
    improvement: float = NAN  # P(a run of ours has the lower value)
    improvement_ci_low: float = NAN
    improvement_ci_high: float = NAN
    n_seeds: int = 0
    verdict: str = ""
    reads: str = ""  # what an indicative row would read
    reason: str = ""
    not_run: str = ""  # the claim's competitors with no runs under this protocol: the row cannot reproduce it
    estimators: str = ""  # the verdict under each read of the curve (final, minimum, last 10 %)
    estimator_sensitive: str = ""  # yes where those verdicts differ
    redrawn_verdict: str = ""  # the verdict with the data redrawn for every seed (protocol=redrawn)
    redrawn_effect: float = NAN
    redrawn_ci_low: float = NAN
    redrawn_ci_high: float = NAN
    redrawn_n: float = NAN
    redrawn_width_ratio: float = NAN  # its interval's log width over the as-written one's
    beyond_paper: bool = False  # a B-claim: a question of ours
    commits: str = ""
    devices: str = ""
    wall_time_s: float = NAN
    kind: Kind | None = field(default=None, metadata=HIDDEN)
    experiment: str = field(default="", metadata=HIDDEN)
    decides: bool = field(default=True, metadata=HIDDEN)  # False: shown beside the row that decides
    off_device: bool = field(default=False, metadata=HIDDEN)  # a timing on another class of device than the paper's
    shadow: str = field(default="", metadata=HIDDEN)  # a read folded into its paper row: final, min, last10, redrawn

    def update(self, **values) -> Row:
        """Set fields by name; a name that is not a field is an error, not a silent new key."""
        for name, v in values.items():
            if name not in FIELDS:
                raise AttributeError(f"Row has no field {name!r}")
            setattr(self, name, v)
        return self

    def written(self) -> dict:
        """The row as the claims table holds it."""
        return {name: getattr(self, name) for name in COLUMNS}


FIELDS = {f.name for f in fields(Row)}
COLUMNS = [f.name for f in fields(Row) if not f.metadata.get("hidden")]
