# pynq-transfer-lab: the two commands of the README.
#   make lab   -- create .venv, install the package, open JupyterLab on notebooks/
#   make test  -- install the test needs, run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# What the compiled parts of the package are built from: reinstall when they change.
BUILD_INPUTS := setup.py pyproject.toml $(wildcard labkit/sim/*.c) $(wildcard hls/*/*.cpp hls/*/*.h hls/common/*.h hls/common/csim/*.h)
LAB_HOST ?= 127.0.0.1
LAB_PORT ?= 8888
# JupyterLab refuses to run as root without --allow-root (Docker, WSL, cloud VMs): add it only for root.
LAB_ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)
# Quiet and offline: warnings and the URL to open, no news feed, no update check, no PyPI extension manager.
LAB_FLAGS := --ip=$(LAB_HOST) --port=$(LAB_PORT) --notebook-dir=notebooks $(LAB_ROOT_FLAG) \
	--LabApp.default_url=/lab/tree/00_start_here.ipynb --ServerApp.log_level=WARN --LabApp.log_level=WARN \
	--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate --LabApp.news_url=None \
	--LabApp.extension_manager=readonly \
	--KernelManager.transport=ipc
# pip without its banners (progress bars, notices, setuptools' editable-install warning); errors still show.
PIP_QUIET := --quiet --quiet --disable-pip-version-check --progress-bar off
PIP_ENV := PYTHONWARNINGS="ignore:Editable installation"

.PHONY: lab test install test-install csim bench clean help

help:
	@echo "make lab    -- set up .venv and open the lab (simulated board unless this is a PYNQ board)"
	@echo "make test   -- install test needs and run every test"
	@echo "make csim   -- compile and run the HLS C-simulation testbenches"
	@echo "make bench  -- print the benchmark tables"

$(BIN)/python:
	@echo "== creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP_ENV) $(PIP) install $(PIP_QUIET) --upgrade "pip>=23"

$(VENV)/.installed: $(BIN)/python $(BUILD_INPUTS)
	@echo "== installing labkit into $(VENV): compiles the simulated board and the HLS kernels (minutes the first time)"
	@$(PIP_ENV) $(PIP) install $(PIP_QUIET) -e ".[lab]"
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	@echo "== installing the test needs (pytest, playwright, nbclient)"
	@$(PIP_ENV) $(PIP) install $(PIP_QUIET) -e ".[lab,test]"
	@touch $@

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed

lab: $(VENV)/.installed
	@echo "== JupyterLab on notebooks/: open the URL below (it opens 00_start_here). Ctrl-C twice stops it."
	@$(BIN)/jupyter lab $(LAB_FLAGS)

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest

csim:
	$(MAKE) -C hls csim

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf build *.egg-info labkit/sim/*.so hls/build .pytest_cache test-artifacts
