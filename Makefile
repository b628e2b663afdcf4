# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
VENV   := .venv
PYTHON := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install demo test test-fast bench clean system-deps

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	# the CPU build of torch first: a bare `torch` requirement would pull gigabytes of CUDA packages
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e ".[test,base,ray,redact]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/callsort demo

# one worker per core, each test file whole on one worker (its module fixtures: servers, Ray, trained models)
test: $(STAMP) system-deps
	$(VENV)/bin/ruff check src tests
	$(PYTHON) -m pytest -n auto --dist loadfile

# Tests that start a real PostgreSQL server or drive Chromium need Debian's packages; install them if we can.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  (command -v apt-get >/dev/null && (apt-get install -y -q $$missing >/dev/null 2>&1 \
	    || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $$missing >/dev/null 2>&1))) \
	  || echo "note: could not install$$missing; the tests needing them will skip"; \
	fi

test-fast: $(STAMP)
	$(PYTHON) -m pytest -n auto --dist loadfile -m "not slow"

bench: $(STAMP)
	cd benchmarks && ../$(PYTHON) accuracy.py run tfidf tfidf_char3 encoder encoder_ht256 && ../$(PYTHON) accuracy.py report
	cd benchmarks && ../$(PYTHON) asr_speed.py && ../$(PYTHON) predict_memory.py && ../$(PYTHON) review_loop.py && ../$(PYTHON) reasons.py && ../$(PYTHON) redaction.py && ../$(PYTHON) redaction_real.py && ../$(PYTHON) report_page.py && ../$(PYTHON) report_estimates.py && ../$(PYTHON) callbacks.py && ../$(PYTHON) first_words.py && ../$(PYTHON) questions.py && ../$(PYTHON) customers.py && ../$(PYTHON) label_issues.py

clean:
	rm -rf callsort-demo .pytest_cache build src/*.egg-info
