# MatterHub: every install step lives here, so a fresh clone needs only Python 3.11 and pip.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_HUB ?= .demo-hub
SERVE  ?=
PORT   ?= 8866
LAB_PORT ?= 8888
PYTEST_ARGS ?=
## The environment is installed from the committed lock, uv.lock (every extra the two commands,
## the benchmarks and the linters need), with uv; uv itself comes from PyPI through pip, at the
## version the lock pins. `make lock` after changing pyproject.toml's dependencies.
UV     := $(BIN)/uv
UV_VERSION := $(shell sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' uv.lock)
EXTRAS := --extra all --extra dev --extra bench
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test bench studies lint format envfiles schemas openapi reliability clean system-deps lock cluster-test

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

## Exactly the lock (`--locked` refuses a lock older than pyproject.toml), the project editable.
## The checkout's root also goes on sys.path (matterhub-checkout.pth): setuptools installs this
## project (hub.widgets lives in widgets/) through a meta-path finder that Python asks only after
## its path finder, which takes a folder named hub/ in the working directory for a namespace
## package; with the root on sys.path the path finder finds hub/__init__.py, and a regular package
## wins over namespace folders wherever they are on sys.path (hub.widgets still comes from the finder).
$(STAMP): uv.lock pyproject.toml setup.py Makefile | $(UV)
	$(UV) sync --locked --quiet $(EXTRAS) --python $(BIN)/python
	$(BIN)/python -c 'import pathlib, sys, sysconfig; pathlib.Path(sysconfig.get_path("purelib"), "matterhub-checkout.pth").write_text(sys.argv[1] + "\n")' "$(CURDIR)"
	$(BIN)/python -m hub.widgets.jupyterlab.build --develop
	touch $(STAMP)

## Re-resolve the lock after a change to pyproject.toml's dependencies (keeps every other pin);
## `make lock UPGRADE=1` moves every pin to the newest release the bounds allow (then run make test).
lock: | $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade,)

## Debian packages the tests need: chromium (Playwright browser tests) and PostgreSQL (the
## shared-deployment catalog). Installed with apt-get when missing; skipped where apt-get is absent
## (those tests then skip with a message).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    echo "installing Debian packages:$$missing"; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "apt-get not found: install$$missing yourself for the browser and PostgreSQL tests"; fi; \
	fi

demo: $(STAMP)
	$(BIN)/matterhub --hub $(DEMO_HUB) -q demo
ifeq ($(SERVE),1)
	$(BIN)/python -m hub.widgets.serve --hub $(DEMO_HUB) --port $(PORT)
endif
ifeq ($(SERVE),lab)
	$(BIN)/python -m hub.widgets.jupyterlab.demo --hub $(DEMO_HUB) --port $(LAB_PORT)
endif

## The test wheelhouse: the few wheels the servable-environment tests install offline (their hub
## builds environments with `uv pip install --offline --no-index --find-links` this folder).
WHEELHOUSE := $(CURDIR)/.cache/wheelhouse
WHEELS := six==1.15.0 six==1.16.0
$(WHEELHOUSE)/.filled: Makefile | $(UV)
	@mkdir -p $(WHEELHOUSE)
	@for w in $(WHEELS); do \
	  $(BIN)/python -m pip download --quiet --disable-pip-version-check --only-binary=:all: --no-deps \
	    --dest $(WHEELHOUSE) $$w || exit 1; done
	touch $@

test: $(STAMP) $(WHEELHOUSE)/.filled system-deps
	MATTERHUB_WHEELHOUSE=$(WHEELHOUSE) $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)
	@echo "== the service, catalog and servable suites again with every hub's catalog on PostgreSQL"
	MATTERHUB_WHEELHOUSE=$(WHEELHOUSE) MATTERHUB_TEST_CATALOG=postgresql $(BIN)/pytest -q -p no:cacheprovider tests/service tests/connect/test_submit_backends.py tests/servables/test_servable_backends.py tests/test_discover_client.py

## The shared deployment (deploy/README.md) on loopback: PostgreSQL (the tests' throwaway cluster), a
## dask.distributed scheduler with 2 workers and `matterhub serve --workers 2`; the service parity suite
## (tests/service) runs against it.
cluster-test: $(STAMP) system-deps
	$(BIN)/python deploy/cluster.py $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b $(BENCH_ARGS) || exit 1; done

## Every figure of the three science studies from the code at HEAD: their benchmarks write a block of
## benchmarks/RESULTS.md, and one executed copy of each tutorial lands in build/studies/
## (`make studies STUDIES_ARGS=--full` for the benchmarks' full sizes).
studies: $(STAMP)
	$(BIN)/python benchmarks/studies.py $(STUDIES_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check hub widgets tests benchmarks binder servables conftest.py
	$(BIN)/ruff format --check hub widgets tests benchmarks binder servables conftest.py
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format hub widgets tests benchmarks binder servables
	$(BIN)/ruff check --fix hub widgets tests benchmarks binder servables

envfiles: $(STAMP)
	$(BIN)/python binder/derive_envs.py

schemas: $(STAMP)
	$(BIN)/python -m hub.records.schema

## The long reliability runs (tests/reliability, MATTERHUB_RELIABILITY=1) and the 60 s load;
## rewrites the figures in RELIABILITY.md (about 10 minutes). RELIABILITY_ARGS=--quick: short versions.
reliability: $(STAMP) system-deps
	$(BIN)/python tests/reliability/run_all.py $(RELIABILITY_ARGS)

## The REST API's schema, committed; a test fails when the served one differs.
openapi: $(STAMP)
	$(BIN)/matterhub openapi -o openapi.json

clean:
	rm -rf $(DEMO_HUB) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
	rm -rf widgets/labextension/lib widgets/labextension/tsconfig.tsbuildinfo widgets/jupyterlab/labextensions
