"""A Hydra sweeper that tunes one (experiment, model) with Optuna: `hydra/sweeper=tune`.

    python -m experiments.run -m hydra/sweeper=tune experiment=fit2d model=gmnm [profile=quick]

Why our own: hydra-optuna-sweeper 1.3.0 (its newest release) pins optuna < 3, and optuna 2.10's
SQLite storage fails against SQLAlchemy 2 (AssertionError in get_current_version on the first
create_study), so a resumable study is out of reach with it. This plugin drives a current
optuna through ask/tell; everything else is the runner's:

- a trial is ordinary runs of `experiments.run` (same composition, same result store, any
  launcher), one per point of the experiment's own sweep (fit2d: its four levels), at the
  seed `tune.seed`, marked `tuning_study=...` so reports keep them out of the paper tables;
- its value is `experiments.analysis.tuning.objective.trial_value` of their validation metric;
  a diverged trial is a failed trial, never a best value;
- the study lives in SQLite in the store (<store>/_tuning/<profile>/<experiment>/<model>.db):
  a killed tuner re-run goes on where it stopped; trials it left running are re-launched with
  their own values (the store returns the runs that had finished) and told once;
- before any trial the search space is checked (experiments.analysis.tuning.space) and every value
  that could change the model's size is built: a model above the protocol's parameter count
  stops the study, the key named;
- at the end the best values go to conf/protocols/tuned/<profile>/<experiment>/<model>.yaml
  (experiments.analysis.tuning.tuned), which `protocol=tuned` reads.
"""

from __future__ import annotations

import itertools
import logging
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.utils import JobStatus
from hydra.plugins.sweeper import Sweeper
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from experiments.analysis.tuning import objective, space, tuned
from experiments.harness.config import check_model
from experiments.harness.errors import ConfigError, exit_with
from experiments.harness.schema import validate
from experiments.harness.store import ResultStore, StoreError

log = logging.getLogger(__name__)
try:  # multivariate TPE and the constant liar are marked experimental; both are what we want
    import optuna

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
except ImportError:  # optuna is imported where a study starts, which then says it is missing
    pass


class TuningSweeper(Sweeper):
    def __init__(self, sampler=None, batch_size: int | None = None, params: DictConfig | None = None):
        self.sampler_cfg, self.batch_size = sampler, batch_size
        self.params = dict(params or {})  # the experiment's own sweep (e.g. task.level): a trial's points
        self.job_idx = 0

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def sweep(self, arguments: list[str]) -> Any:
        try:
            return self._tune(list(arguments))
        except (ConfigError, StoreError) as e:  # a user error: one line, no traceback, nothing run
            exit_with(e)

    def _compose(self, overrides: list[str]) -> DictConfig:
        return self.hydra_context.config_loader.load_sweep_config(self.config, overrides)

    def _tune(self, arguments: list[str]) -> Any:
        import optuna

        parsed = OverridesParser.create().parse_overrides(arguments)
        swept = [o.key_or_group for o in parsed if o.is_sweep_override()]
        if swept:
            raise ConfigError(
                f"hydra/sweeper=tune runs one study, one experiment and one model: {', '.join(swept)} "
                f"sweep(s) several values; run one study per value (make tune loops over models)"
            )
        fixed = {o.key_or_group for o in parsed}
        # the points the study fixes (tune.at: fit2d's paper study at level 1), unless the command line does
        at = self._compose(arguments).tune.at or {}
        at = OmegaConf.to_container(at) if OmegaConf.is_config(at) else dict(at)  # ${per_profile:...} gives a dict
        arguments += [f"{k}={v}" for k, v in at.items() if k not in fixed]
        fixed |= set(at)
        points = self._points(fixed)
        cfg = self._compose(arguments + points[0])
        check_model(cfg)
        validate(cfg)
        ResultStore(cfg.paths.store_dir).check_writable(cfg.experiment_name)
        if cfg.get("lsq") is not None:
            raise ConfigError(
                f"model={cfg.model_name} chooses its widths on validation data itself "
                f"(lsq_protocol.widths) and trains with lsq_protocol.lr: tune its base model instead"
            )
        if cfg.protocol_name != "paper":
            raise ConfigError(f"tuning starts from the paper protocol; drop protocol={cfg.protocol_name}")
        tune = cfg.tune
        if tune.reduce not in objective.REDUCTIONS:
            raise ConfigError(f"tune.reduce must be one of {objective.REDUCTIONS}, got {tune.reduce!r}")
        params = space.parse(cfg)
        space.check_sizes(cfg, params, lambda extra: self._compose(arguments + points[0] + extra))

        name = f"{cfg.experiment_name}/{cfg.model_name}/{cfg.profile_name}"
        db = Path(cfg.paths.store_dir) / "_tuning" / cfg.profile_name / cfg.experiment_name / f"{cfg.model_name}.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.storage = f"sqlite:///{db.resolve()}"  # absolute: the runs' reporters reach it from their own cwd
        study = optuna.create_study(study_name=name, storage=self.storage, direction="minimize", load_if_exists=True)
        if self.sampler_cfg is not None:
            # Seeded by the trials the study holds: a fresh study is reproducible, and a resumed one
            # does not draw its first (random) trials again, which would repeat finished trials.
            seed = self.sampler_cfg.get("seed")
            study.sampler = instantiate(
                self.sampler_cfg, **({} if seed is None else {"seed": seed + len(study.trials)})
            )
        study.set_user_attr("space", {p.key: _describe(p) for p in params})
        study.set_user_attr(
            "metric",
            f"{tune.reduce} {tune.metric} on validation data"
            + (
                f", geometric mean over {len(points)} points ({'; '.join(' '.join(p) for p in points)})"
                if len(points) > 1
                else ""
            ),
        )
        # a trial that is one run can be pruned (several points would report one trial's steps twice)
        self.prune = tune.get("pruner") is not None and len(points) == 1
        study.set_user_attr("pruner", OmegaConf.to_container(tune.pruner) if self.prune else None)
        study.set_user_attr("at", " ".join(f"{k}={v}" for k, v in at.items()))
        n_trials, batch = int(tune.trials), self._batch()
        Path(self.config.hydra.sweep.dir).mkdir(parents=True, exist_ok=True)
        # trials left running by a tuner that was killed: run again with their own values
        pending = [
            (t.number, space.values(params, t.params))
            for t in study.get_trials(deepcopy=False)
            if t.state == optuna.trial.TrialState.RUNNING
        ]
        if pending:
            log.info("%s: resuming %d trial(s) a previous tuner left running", name, len(pending))
        while True:
            finished = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))
            if finished >= n_trials:
                break
            todo = pending[:batch]
            pending = pending[batch:]
            for _ in range(min(batch - len(todo), n_trials - finished - len(todo) - len(pending))):
                trial = study.ask()
                todo.append((trial.number, space.suggest(trial, params)))
            self._run(study, todo, arguments, points, params, cfg, name)
        best = self._write_tuned(study, params, cfg, name, n_trials)
        return best

    def _points(self, fixed: set[str]) -> list[list[str]]:
        """The experiment's own sweep (hydra.sweeper.params beside model and seed), less what the
        command line fixes: each point is a list of overrides; one empty point when there is none."""
        axes = []
        for key, values in self.params.items():
            if key in fixed or key in ("model", "seed", "seed_group"):
                continue
            (override,) = OverridesParser.create().parse_overrides([f"{key}={values}"])
            axes.append([f"{key}={v}" for v in override.sweep_string_iterator()])
        return [list(p) for p in itertools.product(*axes)] or [[]]

    def _batch(self) -> int:
        if self.batch_size:
            return int(self.batch_size)
        n_jobs = OmegaConf.select(self.config, "hydra.launcher.n_jobs", default=1)
        return n_jobs if isinstance(n_jobs, int) and n_jobs > 0 else 1

    def _run(self, study, todo, arguments, points, params, cfg, name) -> None:
        import optuna

        by_key = {p.key: p for p in params}
        jobs, owners = [], []
        for number, values in todo:
            drawn = [space.override(by_key[k], v) for k, v in values.items()]
            watch = [self._monitor(name, number)] if self.prune else []
            for point in points:
                jobs.append(arguments + point + drawn + watch + [f"seed={cfg.tune.seed}", f"tuning_study={name}"])
                owners.append(number)
        returns = self.launcher.launch(jobs, initial_job_idx=self.job_idx)
        self.job_idx += len(jobs)
        records: dict[int, list] = {number: [] for number, _ in todo}
        for number, ret in zip(owners, returns):
            if ret.status == JobStatus.COMPLETED and ret.return_value:
                records[number] += list(ret.return_value)
            else:
                log.warning("%s trial %d: a run failed (%s)", name, number, getattr(ret, "_return_value", None))
                records[number].append({"status": "failed"})
        held = study.get_trials(deepcopy=False)
        for number, values in todo:
            if held[number].state.is_finished():  # told already by another tuner of this study
                continue
            pruned = any(r.get("status") == "pruned" for r in records[number])
            value = None if pruned else objective.trial_value(records[number], cfg.tune.metric, cfg.tune.reduce)
            state = optuna.trial.TrialState
            # a pruned trial keeps its last reported value (Optuna's), never a best value
            study.tell(number, value, state=state.PRUNED if pruned else None if value is not None else state.FAIL)
            log.info(
                "%s trial %d: %s  %s",
                name,
                number,
                "pruned" if pruned else "failed (diverged, or a run raised)" if value is None else f"{value:.4g}",
                " ".join(space.override(by_key[k], v) for k, v in values.items()),
            )

    def _monitor(self, name: str, number: int) -> str:
        """The override that puts the study's reporter (hydra_plugins/gmnm_tuner/pruning.py) on a trial's run."""
        return (
            f"monitor={{_target_:hydra_plugins.gmnm_tuner.pruning.StudyReporter,storage:'{self.storage}',"
            f"study:'{name}',number:{number},metric:${{tune.metric}},reduce:${{tune.reduce}},pruner:${{tune.pruner}}}}"
        )

    def _write_tuned(self, study, params, cfg, name, n_trials) -> Path:
        import optuna

        from experiments.harness.env import git_commit

        trials = study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        if not complete:
            raise ConfigError(
                f"{name}: none of its {len(trials)} trials completed (every one diverged, failed or was "
                f"pruned): no tuned config written; see the runs' logs under {self.config.hydra.sweep.dir}"
            )
        best = study.best_trial
        provenance = {
            "study": name,
            "storage": f"<store>/_tuning/{cfg.profile_name}/{cfg.experiment_name}/{cfg.model_name}.db",
            "trials": len(trials),
            "complete": len(complete),
            "failed": sum(t.state == optuna.trial.TrialState.FAIL for t in trials),
            "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in trials),
            "at": study.user_attrs.get("at", ""),
            "best_trial": best.number,
            "best_value": float(best.value),
            "objective": study.user_attrs["metric"],
            "profile": cfg.profile_name,
            "seed": int(cfg.tune.seed),
            "commit": git_commit(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "space": study.user_attrs["space"],
        }
        target = tuned.path(cfg.paths.tuned_dir, cfg.profile_name, cfg.experiment_name, cfg.model_name)
        tuned.write(target, space.values(params, best.params), provenance)
        log.info(
            "%s: best trial %d of %d, %s = %.4g -> %s",
            name,
            best.number,
            len(trials),
            cfg.tune.metric,
            best.value,
            target,
        )
        return target


def _describe(p: space.Param) -> str:
    if p.kind == "choice":
        return "choice " + ", ".join(space.literal(c) for c in p.choices)
    return f"{p.kind} [{p.low:g}, {p.high:g}]" + (" log" if p.log else "")
