"""Make sure an experiment's data set is on disk before its sweep starts.

    python -m experiments.fetch mnist [paths.data_dir=...]

Exit 0 when the data set is there and whole (downloading it first if needed and allowed) or
the experiment generates its own data; exit 3 when it is missing and cannot be had, 4 when a file
is present but damaged (truncated, corrupt, failing its checksum), each with what to do. `make
reproduce` uses this to skip, and say why it skipped, an experiment whose data it cannot use
instead of failing the whole reproduction.
"""

from __future__ import annotations

import sys

from experiments.env import ROOT

MISSING = 3
DAMAGED = 4


def main(argv: list[str] | None = None) -> int:
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf

    from experiments.images.data import SPECS, DatasetDamaged, DatasetUnavailable, load

    args = sys.argv[1:] if argv is None else argv
    if not args or "=" in args[0]:
        print("usage: python -m experiments.fetch EXPERIMENT [override ...]", file=sys.stderr)
        return 2
    try:
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            cfg = compose(config_name="config", overrides=[f"experiment={args[0]}", *args[1:]])
    except HydraException as e:
        print(f"fetch: {e}", file=sys.stderr)
        return 2
    task = OmegaConf.to_container(cfg.task, resolve=True)
    if task.get("dataset") not in SPECS:
        return 0  # generated data: nothing to fetch
    try:
        data = load(task["dataset"], task.get("root"), download=task.get("download", True),
                    verify=task.get("verify", True))
    except DatasetUnavailable as e:
        print(f"fetch: {e}", file=sys.stderr)
        return MISSING
    except DatasetDamaged as e:
        print(f"fetch: {e}", file=sys.stderr)
        return DAMAGED
    print(f"fetch: {task['dataset']}: {len(data.train_x):,} train and {len(data.test_x):,} test images present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
