# Aisleway — the two commands a fresh machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo demo-reset test lint typecheck bench docs clean venv terminal

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml scripts/system_packages.sh
	bash scripts/system_packages.sh
	$(PY) -m pip install --quiet -e '.[dev,terminal]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(PY) -m edge_server.cli demo

demo-reset: $(STAMP)
	$(PY) -m edge_server.cli demo --reset

# The handheld app against the demo (`make demo` in another shell); needs a desktop session.
TERMINAL_SERVER ?= http://127.0.0.1:8000
terminal: $(STAMP)
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		echo "make terminal: no display (DISPLAY/WAYLAND_DISPLAY unset); run it in a desktop session" >&2; \
		exit 2; \
	fi
	$(PY) -m edge_server.cli terminal --server $(TERMINAL_SERVER)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

docs: $(STAMP)
	$(PY) scripts/gen_error_docs.py
	$(PY) scripts/gen_status_map_docs.py
