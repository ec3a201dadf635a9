# make quick | make reproduce [PROFILE=paper] [JOBS=n] | make test | make report [PROFILE=...]
PROFILE ?= paper
# quick leaves out CIFAR classification (hours on a CPU) but keeps generation on a subset; an
# experiment whose data set is missing and cannot be downloaded is skipped with a message, and
# the report says which tables it could not produce.
EXPERIMENTS_quick := fit2d fit1d poisson poisson_widths timeseries mnist cifar10_ae cifar100_ae
EXPERIMENTS_all := fit2d fit1d poisson poisson_widths timeseries mnist cifar10 cifar100 cifar10_ae cifar100_ae
EXPERIMENTS ?= $(or $(EXPERIMENTS_$(PROFILE)),$(EXPERIMENTS_all))
# Trials run in JOBS parallel processes (Hydra's joblib launcher, one thread each). Default: one
# per CPU core, the throughput of small models on CPU; one on a GPU, which processes time-slice.
JOBS ?= $(shell $(PYTHON) -c "from experiments.env import default_jobs; print(default_jobs())")
VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: reproduce quick test report clean-results

# The virtual environment, created on first use and refreshed when the pins change.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PYTHON) || python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

# Every experiment's sweep under PROFILE (finished trials are skipped), then the report.
reproduce: $(STAMP)
	@for e in $(EXPERIMENTS); do \
	  echo "== $$e ($(PROFILE))"; \
	  $(PYTHON) -m experiments.fetch $$e; rc=$$?; \
	  if [ $$rc -eq 3 ]; then echo "== $$e skipped: its data set is missing (see above)"; continue; fi; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	  $(PYTHON) -m experiments.run --multirun experiment=$$e profile=$(PROFILE) \
	    hydra/launcher=joblib hydra.launcher.n_jobs=$(JOBS) || exit 1; \
	done
	$(PYTHON) -m experiments.report --profile $(PROFILE)

quick:
	$(MAKE) reproduce PROFILE=quick

test: $(STAMP)
	$(PYTHON) -m pytest -q

report: $(STAMP)
	$(PYTHON) -m experiments.report --profile $(PROFILE)
