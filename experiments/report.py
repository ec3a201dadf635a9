"""`python -m experiments.report --profile quick`: results/ from the store (experiments/analysis/regenerate.py)."""

import sys

from experiments.analysis.regenerate import main

if __name__ == "__main__":
    sys.exit(main())
