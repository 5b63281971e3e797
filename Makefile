# Turing patterns three ways -- build, test and benchmark the book.
#   make book       set up .venv and build the HTML book into _build/html
#   make test       set up and run everything: unit tests, nbval on every notebook,
#                   the book build with warnings as errors, the headless-browser check
#   make benchmark  solver speed against py-pde
#   make binder-pins  pin binder/ to the versions this environment tested
#   make clean      remove build outputs and caches (keeps .venv; `make distclean` drops it)

SHELL       := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := book

PYTHON3 ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
PIP     := $(PY) -m pip
PYTEST  := $(PY) -m pytest
# jupyter-book has no `python -m jupyter_book`; call its CLI entry point through the venv's python
JB      := $(PY) -c "from jupyter_book.cli.main import main; main()"
# torch first, pinned to a release that is on local disk here (CPU build); a plain
# `pip install torch` would pull a multi-GB CUDA build. Extra pip args (e.g.
# TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu") go through.
TORCH_PIN      ?= torch==2.13.0
TORCH_FALLBACK ?= torch>=2.2
TORCH_PIP_ARGS ?=

STAMP    := $(VENV)/.setup-stamp
HTML     := _build/html
NPM_DIR  := .cache/npm
MATHJAX  := $(NPM_DIR)/node_modules/mathjax/es5/tex-mml-chtml.js
CHROMIUM ?= /usr/bin/chromium
PYTEST_TIMEOUT ?= 1800
# pytest-xdist workers for the unit tests (each takes its share of the cores for torch,
# tests/conftest.py); TEST_WORKERS=0 runs them in one process. nbval stays in one: two
# chapters side by side, each with torch's two threads, slowed chapter 5 down many times
# (threads of one process spinning while the other process holds the core).
TEST_WORKERS ?= 2
XDIST = $(if $(filter-out 0,$(TEST_WORKERS)),-n $(TEST_WORKERS) --dist $(1))

NOTEBOOKS := $(sort $(wildcard book/*.ipynb))

.PHONY: setup system-packages book test unit quick nbval book-strict browser mathjax benchmark check-outputs binder-pins clean distclean

# ---------------------------------------------------------------- setup
setup: $(STAMP)

$(PY):
	$(PYTHON3) -m venv $(VENV)

# Re-runs only when the dependency lists change; reuses whatever is installed.
$(STAMP): pyproject.toml requirements.txt | $(PY)
	@if $(PY) -c "import torch" 2>/dev/null; then \
	  echo "torch already installed: $$($(PY) -c 'import torch; print(torch.__version__)')"; \
	else \
	  $(PIP) install $(TORCH_PIP_ARGS) "$(TORCH_PIN)" || $(PIP) install $(TORCH_PIP_ARGS) "$(TORCH_FALLBACK)"; \
	fi
	$(PIP) install -r requirements.txt
	$(PIP) install -e ".[book,test]"
	touch $@

# ---------------------------------------------------------------- book
book: setup
	$(JB) build -W -n --keep-going .
	@echo "Book built: $(HTML)/index.html"

# ---------------------------------------------------------------- test
# system-packages first: without root a missing Chromium stops the run now, not after 30 minutes
test: setup system-packages
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory nbval
	$(MAKE) --no-print-directory book-strict
	$(MAKE) --no-print-directory browser
	@echo "All tests passed."

unit: setup
	$(PYTEST) -m "not browser" $(call XDIST,worksteal) --timeout=$(PYTEST_TIMEOUT) tests

# The unit tests without the shipped models' quality checks (marked `slow`, ~12 min on 2 cores).
quick: setup
	$(PYTEST) -m "not browser and not slow" $(call XDIST,worksteal) --timeout=$(PYTEST_TIMEOUT) tests

# nbval runs scratch copies that hold the expected text of the cells marked with the
# `nbval-check-output` tag (recorded in tests/nbval_expected/); the committed notebooks have
# no outputs. The copies run as a reader's would in Binder or Colab: in a folder of their own,
# against a non-editable install of the package (in $(SITE), first on PYTHONPATH), so a
# chapter that reached into the repository instead of the installed package fails here, and
# with no network (tools/no_network.py, installed there as sitecustomize: only loopback connects).
# The notebooks nbval executed are kept (tools/nbval_capture.py, as the scratch folder's
# conftest.py) in $(EXECUTED), and book-strict builds the pages from them instead of running
# every chapter a second time.
SITE     := _build/site
EXECUTED := _build/executed
nbval: setup
	@test -n "$(NOTEBOOKS)" || { echo "no notebooks in book/"; exit 1; }
	rm -rf _build/nbval $(SITE) $(EXECUTED)
	rm -rf build  # setuptools reuses build/lib: a module deleted from the source would stay in
	$(PIP) install --quiet --no-deps --target $(SITE) .
	cp tools/no_network.py $(SITE)/sitecustomize.py
	$(PY) tools/nbval_notebooks.py _build/nbval $(NOTEBOOKS)
	cp tools/nbval_capture.py _build/nbval/conftest.py
	cd _build/nbval && PYTHONPATH=$(abspath $(SITE)) $(abspath $(PY)) $(abspath tools/check_notebook_env.py) $(abspath $(SITE))
	cd _build/nbval && NBVAL_EXECUTED_DIR=$(abspath $(EXECUTED)) PYTHONPATH=$(abspath $(SITE)) $(abspath $(PY)) \
	  -m pytest --nbval-lax --nbval-current-env --timeout=$(PYTEST_TIMEOUT) -p no:cacheprovider --rootdir=. *.ipynb

# The strict build (warnings are errors) from nbval's executed notebooks when they are those
# of the current sources (tools/stage_executed_book.py checks, cell by cell); otherwise, e.g.
# `make book-strict` on its own after an edit, the build executes the notebooks itself.
book-strict: setup
	@if $(PY) tools/stage_executed_book.py $(EXECUTED) _build/book-src $(NOTEBOOKS); then \
	  $(JB) build -W -n --keep-going --path-output . _build/book-src; \
	else \
	  echo "book-strict: executing the notebooks in the build"; \
	  $(JB) build -W -n --keep-going .; \
	fi

# The browser test serves $(HTML) on 127.0.0.1 and feeds MathJax from $(NPM_DIR)
# (CI has no CDN access); REQUIRE_BOOK_HTML=1 turns "no book / no browser" into failures.
browser: setup system-packages mathjax
	REQUIRE_BOOK_HTML=1 BOOK_HTML=$(HTML) MATHJAX_DIR=$(NPM_DIR)/node_modules/mathjax CHROMIUM=$(CHROMIUM) \
	  $(PYTEST) -m browser --timeout=$(PYTEST_TIMEOUT) -p no:cacheprovider tests/test_book_html.py tests/test_explorer.py

# Chromium and npm for the browser test (apt-get as root, instructions otherwise).
system-packages:
	CHROMIUM=$(CHROMIUM) bash tools/system_packages.sh

mathjax: $(MATHJAX)

$(MATHJAX): | system-packages
	mkdir -p $(NPM_DIR)
	npm install --prefix $(NPM_DIR) --no-save --no-package-lock --no-audit --no-fund mathjax@3
	test -f $@

# Record the expected text of the cells tagged `nbval-check-output` (after editing one).
check-outputs: setup
	$(PY) tools/store_checked_outputs.py $(NOTEBOOKS)

# Pin Binder's environment (binder/) to the versions installed here; run after a green
# `make test`, and commit binder/ with the change that was tested.
binder-pins: setup
	$(PY) tools/pin_binder.py

# ---------------------------------------------------------------- benchmark
benchmark: setup
	$(PIP) install -r benchmarks/requirements.txt
	$(PY) benchmarks/solver.py --json turing_helpers/results/solver.json

# ---------------------------------------------------------------- clean
clean:
	rm -rf _build build .pytest_cache $(NPM_DIR) *.egg-info
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
