"""`python -m experiments.run`: one trial, or a sweep with -m (experiments/harness/runner.py)."""

from experiments.harness.runner import main

if __name__ == "__main__":
    main()
