# neuromodlab: one entry point for students, instructors, researchers and CI.
#   make reproduce   set everything up, run the main job (results in results/)
#   make test        set everything up, run the whole test suite (what CI runs)
# PYTHON is the interpreter used to create .venv (override: make PYTHON=python3.12 venv).

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
# torch is pinned wherever an environment is created: an unpinned torch (or a range admitting
# newer versions) pulls a multi-GB CUDA build. The library itself only asks for torch>=2.1.
TORCH_PIN := torch==2.13.0
# Reinstall only when pyproject.toml changes (or .venv is deleted).
STAMP  := $(VENV)/.neuromodlab-installed
# nbgrader runs `alembic` (and jupyter) from the venv's bin/: it must be on PATH.
RUN    := PATH="$(BIN):$$PATH" MPLBACKEND=Agg

PYTEST_FAST := -m "not slow and not notebooks and not browser"

.PHONY: help venv reproduce test test-fast lab lint bench \
        course release autograde feedback export clean distclean

help:
	@echo "make venv       create .venv (torch pinned, then neuromodlab[test], editable)"
	@echo "make reproduce  run the main job: python -m neuromodlab reproduce --out results"
	@echo "make test       full test suite (slow + notebooks included; what CI runs)"
	@echo "make test-fast  library tests only (no slow, notebooks or browser tests)"
	@echo "make lab        JupyterLab in tutorials/"
	@echo "make lint       ruff"
	@echo "make bench      run every script in benchmarks/"
	@echo "make course     regenerate tutorials/ from solutions/ (nbgrader release)"
	@echo "make autograde ASSIGNMENT=W1D1 | make feedback ASSIGNMENT=W1D1 | make export"
	@echo "make clean      remove build artefacts and caches (make distclean: also .venv)"

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --upgrade pip
	$(VENV)/bin/python -m pip install "$(TORCH_PIN)"
	$(VENV)/bin/python -m pip install "$(TORCH_PIN)" -e ".[test]"
	touch $@

reproduce: venv
	$(RUN) $(VENV)/bin/python -m neuromodlab reproduce --out results

test: venv
	bash scripts/install_browser.sh && bash scripts/install_postgres.sh
	$(RUN) $(VENV)/bin/python -m pytest --durations=15

test-fast: venv
	$(RUN) $(VENV)/bin/python -m pytest $(PYTEST_FAST)

lab: venv
	cd tutorials && $(RUN) $(BIN)/jupyter lab

lint: venv
	$(VENV)/bin/ruff check .

bench: venv
	@set -e; found=0; for f in benchmarks/*.py; do \
	  [ -e "$$f" ] || continue; found=1; \
	  echo "== $$f"; $(RUN) $(VENV)/bin/python "$$f"; \
	done; [ $$found = 1 ] || echo "no scripts in benchmarks/"

# Course pipeline (neuromodlab.grading): solutions/ is the source, tutorials/ is generated.
course: venv
	$(RUN) $(VENV)/bin/python -m neuromodlab.grading build

release: course

# make autograde A=<name> [WORKERS=8] [SCHEDULER=tcp://host:8786] [DB=postgresql://...]
# (ASSIGNMENT= works as A=; WORKERS/SCHEDULER grade in parallel and need a PostgreSQL DB)
autograde: venv
	@test -n "$(or $(A),$(ASSIGNMENT))" || { echo "usage: make autograde A=<name> [WORKERS=8] [SCHEDULER=ADDRESS] [DB=URL]"; exit 2; }
	$(RUN) $(VENV)/bin/python -m neuromodlab.grading autograde "$(or $(A),$(ASSIGNMENT))" \
	  $(if $(WORKERS),--workers "$(WORKERS)") $(if $(SCHEDULER),--scheduler "$(SCHEDULER)") \
	  $(if $(DB),--db "$(DB)")

feedback: venv
	@test -n "$(or $(A),$(ASSIGNMENT))" || { echo "usage: make feedback A=<name> [DB=URL]"; exit 2; }
	$(RUN) $(VENV)/bin/python -m neuromodlab.grading feedback "$(or $(A),$(ASSIGNMENT))" \
	  $(if $(DB),--db "$(DB)")

export: venv
	$(RUN) $(VENV)/bin/python -m neuromodlab.grading export $(if $(DB),--db "$(DB)")

clean:
	rm -rf build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
