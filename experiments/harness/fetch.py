"""Make sure an experiment's data set is on disk before its sweep starts.

    python -m experiments.fetch mnist [paths.data_dir=...]

Exit 0 when the data set is there and whole (downloading it first if needed and allowed) or
the experiment's task generates its own data (a task with no `fetch`); exit 3 when it is missing
and cannot be had, 4 when a file is present but damaged (truncated, corrupt, failing its checksum),
each with what to do (experiments.harness.errors). `make reproduce` uses this to skip, and say why
it skipped, an experiment whose data it cannot use instead of failing the whole reproduction.
"""

from __future__ import annotations

import sys

from experiments.harness.env import ROOT
from experiments.harness.errors import DataError, UserError


def main(argv: list[str] | None = None) -> int:
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException

    from experiments.harness.build import build

    args = sys.argv[1:] if argv is None else argv
    if not args or "=" in args[0]:
        print("usage: python -m experiments.fetch EXPERIMENT [override ...]", file=sys.stderr)
        return 2
    try:
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            cfg = compose(config_name="config", overrides=[f"experiment={args[0]}", *args[1:]])
        task = build(cfg.task, "task")
        if not hasattr(task, "fetch"):
            return 0  # generated data: nothing to fetch
        print(f"fetch: {task.fetch()}")
    except HydraException as e:
        print(f"fetch: {e}", file=sys.stderr)
        return 2
    except DataError as e:
        print(f"fetch: {e}", file=sys.stderr)
        return e.exit_code
    except UserError as e:
        print(f"fetch: {e}", file=sys.stderr)
        return 2
    return 0
