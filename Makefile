# Set up a virtual environment, run the demo, the tests, the evaluation and the
# benchmarks. Every target installs what it needs first.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SCENARIO6 := ../shared/data/ctu13/scenario06_menti_capture20110816.binetflow.gz
EVAL := runs/eval

.PHONY: setup demo test lint eval bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned to the CPU build in pyproject.toml; installing it first
	# keeps pip from resolving a CUDA build for the other packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/botwatch demo

test: $(STAMP)
	$(BIN)/pytest -q

# The standard protocol: train on the first half of scenario 6 by time,
# evaluate on the second half, with every baseline (docs/evaluation.md).
eval: $(STAMP)
	$(BIN)/botwatch train $(SCENARIO6) --slice 0:0.5 --home-net 147.32.0.0/16 \
	    --seed 0 -o $(EVAL)/model
	$(BIN)/botwatch evaluate $(SCENARIO6) --slice 0.5:1 -m $(EVAL)/model \
	    -o $(EVAL)/report --baselines --train $(SCENARIO6) --train-slice 0:0.5
	@echo "report: $(EVAL)/report/report.html, metrics: $(EVAL)/report/metrics.json"

bench: $(STAMP)
	$(BIN)/python bench/bench_read.py --out runs/bench/read.json
	$(BIN)/python bench/bench_model.py --out runs/bench/model.json

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

clean:
	rm -rf runs .pytest_cache .ruff_cache
