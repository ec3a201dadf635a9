"""The monitor a tuning study puts on each of its runs (`monitor=` in conf/config.yaml): after every
evaluation it reports the run's validation value to the run's Optuna trial and asks the study's pruner
whether to go on. It runs in the job's process, which may be another machine's: the study is reached
through its storage, and the pruner is built from `tune.pruner` there (Optuna keeps no pruner in storage).
"""

from __future__ import annotations

import math

from experiments.analysis.tuning.objective import REDUCTIONS


class StudyReporter:
    def __init__(self, storage: str, study: str, number: int, metric: str, reduce: str, pruner):
        import optuna

        if reduce not in REDUCTIONS:
            raise ValueError(f"reduce must be one of {REDUCTIONS}, got {reduce!r}")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.load_study(study_name=study, storage=storage, pruner=pruner)
        trial_id = self.study._storage.get_trial_id_from_study_id_trial_number(self.study._study_id, number)
        self.trial = optuna.trial.Trial(self.study, trial_id)
        self.metric, self.reduce = metric, reduce
        self.best, self.evaluations = math.inf, 0

    def __call__(self, step: int, metrics: dict[str, float]) -> bool:
        """Report this evaluation's value (the running minimum where the study scores the minimum); False:
        the pruner stops the run. Steps are evaluations, so the pruner's warm-up means the same everywhere."""
        if self.metric not in metrics:
            raise KeyError(f"tune.metric={self.metric!r} is not among the evaluation's metrics {sorted(metrics)}")
        value = metrics[self.metric]
        self.best = min(self.best, value)
        self.evaluations += 1
        self.trial.report(self.best if self.reduce == "min" else value, self.evaluations)
        return not self.trial.should_prune()
