# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test test-fast bench clean postgres

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	# the CPU build of torch first: a bare `torch` requirement would pull gigabytes of CUDA packages
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e ".[test,base,ray]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/callsort demo

test: $(STAMP) postgres
	$(PYTHON) -m pytest

# The PostgreSQL results-store tests start a real server of their own; install one if we can (Debian).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  || (command -v apt-get >/dev/null && (apt-get install -y -q postgresql >/dev/null 2>&1 \
	      || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q postgresql >/dev/null 2>&1))) \
	  || echo "note: no PostgreSQL server could be installed; its store tests will skip"

test-fast: $(STAMP)
	$(PYTHON) -m pytest -m "not slow"

bench: $(STAMP)
	$(PYTHON) benchmarks/accuracy.py
	$(PYTHON) benchmarks/asr_speed.py

clean:
	rm -rf callsort-demo .pytest_cache build src/*.egg-info
