"""`python -m experiments.run`: one trial, or a sweep with -m (experiments/harness/runner.py)."""

import sys

from experiments.harness.errors import ConfigError, exit_with
from experiments.harness.names import check_names
from experiments.harness.runner import main

if __name__ == "__main__":
    try:
        check_names(sys.argv[1:])  # before Hydra: a mistyped name is one line with the closest valid ones
    except ConfigError as e:
        exit_with(e)
    try:
        main()
    except KeyboardInterrupt:  # Ctrl-C: what finished is in the store, a stopped trial has its checkpoint
        print("interrupted: finished trials are kept; the same command resumes the rest", file=sys.stderr)
        sys.exit(130)
