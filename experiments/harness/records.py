"""Records as the reports see them: the one vocabulary of protocols (KINDS), each record's protocol, head, base
model, row label and colour, and the order and grouping of rows. Records are the dicts the runner writes; nothing
here parses model names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
