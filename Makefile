# `make demo` and `make test` create or reuse .venv (tools/install.sh) and then run.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rtmo_plugin-installed

.PHONY: demo test lint install
demo: $(STAMP)
	$(PY) tools/demo.py

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

install: $(STAMP)

$(STAMP): tools/install.sh pyproject.toml requirements/constraints.txt requirements/runtime.txt requirements/dev.txt
	bash tools/install.sh $(VENV)
	touch $@
