"""`python -m experiments.fetch EXPERIMENT`: its data set on disk, or exit 3/4 (experiments/harness/fetch.py)."""

import sys

from experiments.harness.fetch import main

if __name__ == "__main__":
    sys.exit(main())
