"""Tables and figures to and from files, as this project writes them: CSVs of 6 significant digits (whole numbers
in full, missing empty), markdown, PNGs; every write atomic.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.harness.atomic import write_atomic


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
