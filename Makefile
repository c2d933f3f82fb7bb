# Two commands for a fresh machine with Python 3.11 and pip (see README.md):
#   make test   create .venv if missing, install the pinned set, run the tests
#   make book   the same install, then the study's main job
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: test book bench install clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# requirements.lock pins every package (torch==2.13.0 included); the CPU Aer comes from the
# `cpu` extra. GPU machines: see environment-gpu.yml (qiskit-aer-gpu instead of qiskit-aer).
$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[cpu,dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m qrnn_core bench --json book/_results/bench.json

# Until the study runner lands, the main job is the benchmark, then the book around it.
book: bench
	$(BIN)/jupyter-book build book/

clean:
	rm -rf $(VENV) _build
