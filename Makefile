# Two commands for a fresh machine with Python 3.11 and pip (see README.md):
#   make test   create .venv if missing, install the pinned set (and compile the numba kernels), run the tests
#   make book   the same install, then the study's main job
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: test book bench install clean chromium gpu-check notebooks

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# requirements.lock pins every package (torch==2.13.0 included); the CPU Aer comes from the
# `cpu` extra. GPU machines: see environment-gpu.yml (qiskit-aer-gpu instead of qiskit-aer).
$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[cpu,dev]"
	$(BIN)/python -m qrnn_tools.compile_kernels
	touch $(STAMP)

install: $(STAMP)

# The book check opens the built book in Debian's chromium; install it where we may (root + apt).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: install Debian's chromium (apt-get install chromium)"; exit 1; fi; }

test: $(STAMP) chromium
	$(BIN)/python -m pytest

# The study (profile quick by default: PROFILE=paper for the deck's full protocol; its timing
# run holds the benchmark's simulator and update rows), then the book around its results.
PROFILE ?= quick
JOBS ?= 2
book: $(STAMP)
	$(BIN)/python -m qrnn_study run --profile $(PROFILE) --jobs $(JOBS)
	$(BIN)/jupyter-book build book/ -W --toc $(CURDIR)/book/generated/$(PROFILE)/_toc.yml
	@echo "The book ($(PROFILE) profile): _build/html/index.html"

# On a machine with an NVIDIA GPU: the GPU lock in its own venv, the CUDA tests, the GPU benchmark.
GPU_VENV := .venv-gpu
gpu-check:
	test -x $(GPU_VENV)/bin/python || $(PYTHON) -m venv $(GPU_VENV)
	$(GPU_VENV)/bin/python -m pip install --quiet -c requirements-gpu.lock -e ".[gpu,dev]"
	$(GPU_VENV)/bin/python -m pytest -m cuda -q tests
	$(GPU_VENV)/bin/python -m qrnn_study bench --gpu --json results/gpu/bench.json

# The .ipynb twins papermill runs directly, from the .py notebooks (jupytext).
notebooks: $(STAMP)
	$(BIN)/jupytext --quiet --sync notebooks/*.py

# This machine's timings, printed (the book's timing page measures its own when the study runs it).
bench: $(STAMP)
	$(BIN)/python -m qrnn_study bench

clean:
	rm -rf $(VENV) _build
