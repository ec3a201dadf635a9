"""Records as the reports see them: the one vocabulary of protocols (KINDS), a view of one record (its protocol,
head, base model, row label, colour and config: `Record`), and the order and grouping of rows. Records are the dicts the runner writes; nothing
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


class Record:
    """One record as the reports read it: a view over the dict the runner wrote (`data`, never copied) that says
    its protocol, head, base model, row label, colour and kind, and reads its config by dotted key."""

    __slots__ = ("data",)

    def __init__(self, data: dict):
        self.data = data

    @property
    def protocol(self) -> str:
        return self.data.get("protocol_name", "paper")

    @property
    def head(self) -> str:
        """lsq where the linear head was solved by least squares (the config has `lsq`), else trained."""
        return LSQ if self.data["config"].get("lsq") else TRAINED

    @property
    def base(self) -> str:
        """The model a variant varies (gmnm for gmnm_lsq: its `size_of`), else the model itself."""
        return self.data["config"].get("size_of") or self.data["model"]

    @property
    def label(self) -> str:
        """The display name of the record's (model, protocol) row: "GMNM", "GMNM (tuned)"."""
        name = self.data.get("label", self.data["model"])
        return name if self.protocol == "paper" else f"{name} ({self.protocol})"

    @property
    def color(self) -> str | None:
        """The record's colour; a darker shade of it for another protocol's row."""
        c = self.data.get("color")
        if c is None or self.protocol == "paper":
            return c
        from matplotlib.colors import to_hex, to_rgb

        return to_hex(tuple(0.55 * v for v in to_rgb(c)))

    @property
    def kind(self) -> str:
        """The record's kind (KINDS): its protocol, or lsq for the paper's protocol with the head solved."""
        if self.protocol != "paper":
            return self.protocol
        return "lsq" if self.head == LSQ else "paper"

    def config(self, dotted: str):
        """The record's config value at a dotted key (KeyError naming it when absent)."""
        return lookup(self.data["config"], dotted)

    def variant(self) -> tuple:
        """An ablation's variant: the values of the keys its experiment varies (config `ablation.varies`)."""
        return tuple(self.config(key) for key in self.data["config"]["ablation"]["varies"])

    def varied(self, name: str):
        """The value of the ablation's varied key named `name` wherever the experiment keeps it:
        `projection` is model.projection in eq3_fit2d, model.head.projection in eq3_mnist."""
        keys = self.data["config"].get("ablation", {}).get("varies", [])
        found = [key for key in keys if key.rsplit(".", 1)[-1] == name]
        if len(found) != 1:
            raise KeyError(f"{self.data['experiment']} varies {keys}: none or several of them is {name!r}")
        return self.config(found[0])


def row_order(records: list[dict]) -> list[tuple[str, str]]:
    """(protocol, model) rows in table order: the paper protocol's first, each in its lineup's order
    (conf/lineup.yaml, kept in every record); models outside the lineup last, by name."""
    lineup = max((r.get("lineup", []) for r in records), key=len, default=[])
    present = {(Record(r).protocol, r["model"]) for r in records}
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


def by_kind(records: list[dict]) -> list[tuple[str, str, list[dict]]]:
    """(label, file-name suffix, its records) for each kind of training present, in KINDS' order: a figure
    draws each apart, so that a panel holds a handful of curves."""
    return [(k.label, k.suffix, [r for r in records if Record(r).kind == k.name]) for k in KINDS
            if any(Record(r).kind == k.name for r in records)]  # fmt: skip


def by_row(records: list[dict]) -> list[tuple[tuple[str, str], list[dict]]]:
    """((protocol, model), its records) in table order."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in records:
        groups.setdefault((Record(r).protocol, r["model"]), []).append(r)
    return [(key, groups[key]) for key in row_order(records)]
