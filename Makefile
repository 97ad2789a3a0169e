# pynq-transfer-lab: the commands of the README.
#   make lab          -- create .venv, install the package, open JupyterLab on notebooks/
#   make test         -- install the test needs, run every test (on pynq 4.0, the default)
#   make test-pynq31  -- the same lab on pynq 3.1.2 (PYNQ-Z1/Z2 images) in .venv-pynq31: the pynq-facing tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# What the compiled parts of the package are built from: reinstall when they change.
BUILD_INPUTS := setup.py pyproject.toml labkit-autosim.pth labkit_autosim.py $(wildcard labkit/sim/*.c) $(wildcard hls/*/*.cpp hls/*/*.h hls/common/*.h hls/common/csim/*.h)
# pynq 3.1.x is the last pynq for the PYNQ-Z1/Z2 (4.0.0 dropped them): a second environment tests it.
PYNQ31 ?= 3.1.2
VENV31 ?= .venv-pynq31
BIN31 := $(VENV31)/bin
# Every test that goes through pynq (device, overlay, drivers, allocate, clocks, notebooks); the
# HLS C-simulation testbenches, the browser tests and the wheel test (its clean venv picks its own pynq) do not
# depend on which pynq runs here, so one run is enough.
PYNQ31_TESTS ?= tests --ignore=tests/hls --ignore=tests/browser --ignore=tests/test_packaging.py
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

.PHONY: lab test install test-install test-pynq31 csim bench clean help

help:
	@echo "make lab    -- set up .venv and open the lab (simulated board unless this is a PYNQ board)"
	@echo "make test   -- install test needs and run every test"
	@echo "make test-pynq31 -- run the pynq-facing tests again on pynq $(PYNQ31) (in $(VENV31))"
	@echo "make csim   -- compile and run the HLS C-simulation testbenches"
	@echo "make bench  -- print the benchmark tables"

$(BIN)/python:
	@echo "== creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP_ENV) $(PIP) install $(PIP_QUIET) --upgrade "pip>=23"

# hls4ml's wheel carries Xilinx's open-source arbitrary-precision headers (ap_int.h, ap_fixed.h,
# hls_stream.h; Apache-2.0) that a user's HLS C++ is compiled against on the simulated board
# (labkit/sim/cpp_kernel.py). Only the headers are needed: --no-deps keeps its ML stack out.
HLS4ML ?= hls4ml==1.3.0

$(VENV)/.installed: $(BIN)/python $(BUILD_INPUTS)
	@echo "== installing labkit into $(VENV): compiles the simulated board and the HLS kernels (minutes the first time)"
	@$(PIP_ENV) $(PIP) install $(PIP_QUIET) -e ".[lab]"
	@$(PIP_ENV) $(PIP) install $(PIP_QUIET) --no-deps "$(HLS4ML)"
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	@echo "== installing the test needs (pytest, playwright, nbclient)"
	@$(PIP_ENV) $(PIP) install $(PIP_QUIET) -e ".[lab,test]"
	@touch $@

# The same package and test needs with pynq pinned to 3.1.x (numpy < 2 and pycparser < 3 come from setup.py).
$(BIN31)/python:
	$(PYTHON) -m venv $(VENV31)
	$(BIN31)/python -m pip install --upgrade "pip>=23" >/dev/null

$(VENV31)/.test-installed: $(BIN31)/python $(BUILD_INPUTS) Makefile
	$(BIN31)/python -m pip install -e ".[lab,test]" "pynq==$(PYNQ31)"
	$(BIN31)/python -m pip install --no-deps "$(HLS4ML)"
	@touch $@

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed

lab: $(VENV)/.installed
	@echo "== JupyterLab on notebooks/: open the URL below (it opens 00_start_here). Ctrl-C twice stops it."
	@$(BIN)/jupyter lab $(LAB_FLAGS)

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest

test-pynq31: $(VENV31)/.test-installed
	$(BIN31)/python -c "import pynq; assert pynq.__version__ == '$(PYNQ31)', pynq.__version__"
	$(BIN31)/python -m pytest $(PYNQ31_TESTS)

csim:
	$(MAKE) -C hls csim

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf build *.egg-info labkit/sim/*.so hls/build .pytest_cache test-artifacts $(VENV31)
