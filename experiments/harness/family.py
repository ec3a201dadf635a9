"""The one skeleton every family report follows: its tables, figures, glance rows and section of
docs/results.md, from its records; reports are pure functions from records to DataFrames and figures, and only
`write_report` writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from experiments.harness.tableio import save_figure, write_csv


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
