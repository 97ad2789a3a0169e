# pynq-transfer-lab: the two commands of the README.
#   make lab   -- create .venv, install the package, open JupyterLab on notebooks/
#   make test  -- install the test needs, run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# What the compiled parts of the package are built from: reinstall when they change.
BUILD_INPUTS := setup.py pyproject.toml labkit-autosim.pth labkit_autosim.py $(wildcard labkit/sim/*.c) $(wildcard hls/*/*.cpp hls/*/*.h hls/common/*.h hls/common/csim/*.h)
LAB_HOST ?= 127.0.0.1
LAB_PORT ?= 8888

.PHONY: lab test install test-install csim bench clean help

help:
	@echo "make lab    -- set up .venv and open the lab (simulated board unless this is a PYNQ board)"
	@echo "make test   -- install test needs and run every test"
	@echo "make csim   -- compile and run the HLS C-simulation testbenches"
	@echo "make bench  -- print the benchmark tables"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=23" >/dev/null

# hls4ml's wheel carries Xilinx's open-source arbitrary-precision headers (ap_int.h, ap_fixed.h,
# hls_stream.h; Apache-2.0) that a user's HLS C++ is compiled against on the simulated board
# (labkit/sim/cpp_kernel.py). Only the headers are needed: --no-deps keeps its ML stack out.
HLS4ML ?= hls4ml==1.3.0

$(VENV)/.installed: $(BIN)/python $(BUILD_INPUTS)
	$(PIP) install -e ".[lab]"
	$(PIP) install --no-deps "$(HLS4ML)"
	@touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(PIP) install -e ".[lab,test]"
	@touch $@

install: $(VENV)/.installed

test-install: $(VENV)/.test-installed

lab: $(VENV)/.installed
	$(BIN)/jupyter lab --ip=$(LAB_HOST) --port=$(LAB_PORT) --notebook-dir=notebooks notebooks/00_start_here.ipynb

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest

csim:
	$(MAKE) -C hls csim

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf build *.egg-info labkit/sim/*.so hls/build .pytest_cache test-artifacts
