# make quick | make reproduce [PROFILE=paper] [PROTOCOL=tuned] [JOBS=n] | make tune [PROFILE=quick]
# | make test | make test-gpu | make lint | make report [PROFILE=...]; ARGS: extra overrides for every run; STORE: the
# result store (default results/runs), for the runs and the report alike; LAUNCHER: see below
PROFILE ?= paper
PROTOCOL ?= paper
ARGS ?=
# Which experiments run: conf/lineup.yaml's, less those whose file leaves the profile out
# (`reproduce_under`: quick leaves out CIFAR classification, hours on a CPU); make tune: those with a
# validation metric (experiments/harness/catalog.py). An experiment whose data set is missing and
# cannot be downloaded is skipped with a message, and the report says which tables it could not produce.
EXPERIMENTS ?= $(shell $(PYTHON) -m experiments.harness.catalog reproduce $(PROFILE))
TUNE_EXPERIMENTS = $(if $(filter command line environment,$(origin EXPERIMENTS)),$(EXPERIMENTS),$(shell $(PYTHON) -m experiments.harness.catalog tune $(PROFILE)))
# Trials run in JOBS parallel processes (Hydra's joblib launcher, one thread each). Default: one
# per CPU core, the throughput of small models on CPU; one on a GPU, which processes time-slice.
JOBS ?= $(shell $(PYTHON) -c "from experiments.harness.env import default_jobs; print(default_jobs())")
# How sweeps launch their jobs; on a SLURM cluster: LAUNCHER="hydra/launcher=submitit_slurm hydra.launcher.partition=gpu"
# (with STORE=<shared storage>; docs/running.md).
LAUNCHER ?= hydra/launcher=joblib hydra.launcher.n_jobs=$(JOBS)
STORE ?=
STORE_RUN := $(if $(STORE),paths.store_dir=$(abspath $(STORE)))
# the report of the paper and quick profiles is published into results/, docs/ and the README; another
# profile's goes to <store>/report (nothing of the checkout changes)
STORE_REPORT := $(if $(STORE),--store $(abspath $(STORE)))
PUBLISH := $(if $(filter paper quick,$(PROFILE)),--publish)
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: reproduce quick tune test test-gpu lint report clean-results

# The virtual environment, created on first use and refreshed when the pins change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

# Every experiment's sweep under PROFILE (finished trials are skipped), the step benchmark the timing claims
# read (at the data sets' shapes, once per device: benchmarks/claim_steps.py), then the report.
reproduce: $(STAMP)
	@for e in $(EXPERIMENTS); do \
	  if [ "$(PROTOCOL)" = tuned ] && [ ! -d conf/protocols/tuned/$(PROFILE)/$$e ]; then \
	    echo "== $$e skipped: no tuned values under conf/protocols/tuned/$(PROFILE) (make tune PROFILE=$(PROFILE))"; continue; fi; \
	  echo "== $$e ($(PROFILE))"; \
	  $(PYTHON) -m experiments.fetch $$e; rc=$$?; \
	  if [ $$rc -eq 3 ]; then echo "== $$e skipped: its data set is missing (see above)"; continue; fi; \
	  if [ $$rc -eq 4 ]; then echo "== $$e skipped: a file of its data set is damaged (see above)"; continue; fi; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	  $(PYTHON) -m experiments.run --multirun experiment=$$e profile=$(PROFILE) protocol=$(PROTOCOL) \
	    $(LAUNCHER) $(STORE_RUN) $(ARGS) || exit 1; \
	done
	$(PYTHON) -m benchmarks.claim_steps $(STORE_REPORT)
	$(PYTHON) -m experiments.report --profile $(PROFILE) $(STORE_REPORT) $(PUBLISH)

# One Optuna study per (experiment, model) of the lineup, the least-squares rows aside (they pick
# their widths on validation data themselves): the profile's trials each, on validation data;
# the chosen values go to conf/protocols/tuned/<profile>/, which make reproduce PROTOCOL=tuned runs.
tune: $(STAMP)
	@for e in $(TUNE_EXPERIMENTS); do \
	  $(PYTHON) -m experiments.fetch $$e; rc=$$?; \
	  if [ $$rc -eq 3 ]; then echo "== $$e skipped: its data set is missing (see above)"; continue; fi; \
	  if [ $$rc -eq 4 ]; then echo "== $$e skipped: a file of its data set is damaged (see above)"; continue; fi; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	  for m in $$($(PYTHON) -m experiments.analysis.tuning.models $$e); do \
	    echo "== tune $$e $$m ($(PROFILE))"; \
	    $(PYTHON) -m experiments.run --multirun hydra/sweeper=tune experiment=$$e model=$$m profile=$(PROFILE) \
	      $(LAUNCHER) $(STORE_RUN) $(ARGS) || exit 1; \
	  done; \
	done

quick:
	$(MAKE) reproduce PROFILE=quick

# One worker per core (pytest-xdist; tests/conftest.py gives each one thread): TEST_JOBS=1 runs them in one process.
TEST_JOBS ?= auto
test: $(STAMP)
	$(PYTHON) -m pytest -q -n $(TEST_JOBS)

# The CUDA path on a machine with a GPU (tests/test_gpu.py; skipped, and so part of `make test`, without one).
test-gpu: $(STAMP)
	$(PYTHON) -m pytest -q -p no:xdist tests/test_gpu.py

# ruff's lint and format check over the code (pyproject.toml [tool.ruff]); CI runs it before the tests.
lint: $(STAMP)
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .

report: $(STAMP)
	$(PYTHON) -m experiments.report --profile $(PROFILE) $(STORE_REPORT) $(PUBLISH)
