# Two commands for a newcomer: `make demo` (month-end on the bundled demo) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check fuzz lint format generated readme templates bench addin lite clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/backflush demo demo

test: $(STAMP)
	bash scripts/ensure-libreoffice.sh
	$(PY) -m ruff check addin tests scripts $(wildcard benchmarks)
	$(PY) -m pytest -n 2

# The fast lane while you work (about a minute): lint, format, types, and the tests that need
# neither LibreOffice nor many seconds. `make test` is the full suite CI runs.
check: $(STAMP)
	$(PY) -m ruff check addin tests scripts $(wildcard benchmarks)
	$(PY) -m ruff format --check addin tests scripts $(wildcard benchmarks)
	$(PY) -m mypy addin
	$(PY) -m pytest -n 2 -m 'not slow'

# Long fuzzing: 1,000 seeded workbooks (valid-but-unusual and damaged), each re-verified from
# its results file; failing workbooks are kept under fuzz-out/failures/.
fuzz: $(STAMP)
	$(PY) scripts/fuzz.py --cases $(or $(CASES),1000) --jobs 2 --out fuzz-out

lint: $(STAMP)
	$(PY) -m ruff check addin tests scripts $(wildcard benchmarks)
	$(PY) -m ruff format --check addin tests scripts $(wildcard benchmarks)

format: $(STAMP)
	$(PY) -m ruff format addin tests scripts $(wildcard benchmarks)
	$(PY) -m ruff check --fix addin tests scripts $(wildcard benchmarks)

# Every generated file the project commits: the input template and the demo workbook, the
# .xlam add-in, the xlwings Lite bundle and the README's contract tables. Tests fail while any
# of them is stale.
generated: templates addin readme

readme: $(STAMP)
	$(PY) -m addin.workbook.contract_doc README.md

templates: $(STAMP)
	$(PY) -m addin.templates workbook_templates

bench: $(STAMP)
	$(PY) -m benchmarks.run

addin: $(STAMP)
	$(PY) -m addin.excel.build_addin workbook_templates
	$(PY) -m addin.excel.build_lite workbook_templates/lite

lite: $(STAMP)
	$(PY) -m addin.excel.build_lite workbook_templates/lite

clean:
	rm -rf $(VENV) demo out test-artifacts fuzz-out
