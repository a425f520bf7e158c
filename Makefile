# `make demo` and `make test` create or reuse .venv (tools/install.sh) and then run.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rtmo_plugin-installed
# MediaPipe's own environment (protobuf < 5, beside the main one's onnx): the FLIC project's
# baseline runs there, and its test needs it
MP_VENV ?= .venv-mediapipe
MP_STAMP := $(MP_VENV)/.installed

.PHONY: demo test lint install
demo: $(STAMP)
	$(PY) tools/demo.py

test: $(STAMP) $(MP_STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

install: $(STAMP)

$(MP_STAMP): projects/flic_regression/tools/install_mediapipe.sh
	bash projects/flic_regression/tools/install_mediapipe.sh $(MP_VENV)
	touch $@

$(STAMP): tools/install.sh pyproject.toml requirements/constraints.txt requirements/runtime.txt requirements/dev.txt
	bash tools/install.sh $(VENV)
	touch $@
