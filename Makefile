# Two entry points, each doing its own set-up on a fresh machine:
#   make book   build the HTML book into _build/html
#   make test   run the whole test suite (unit tests, notebook runs, book build)
# Both need Node.js's npm too: the book's Try it page runs onnxruntime-web (package.json);
# `make test` also needs Chromium and a font with Korean glyphs (the browser tests).
# .ci/system-packages installs the missing ones with apt-get (Debian/Ubuntu).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NPM_STAMP := node_modules/.package-lock.json

.PHONY: book test venv npm system clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

venv: $(STAMP)

# onnxruntime-web for the Try it page, at the version of package-lock.json
$(NPM_STAMP): package.json package-lock.json
	@bash .ci/system-packages npm
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

npm: $(NPM_STAMP)

book: $(STAMP) $(NPM_STAMP)
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(VENV)/bin/jupyter-book build . -W --keep-going
	@echo "The book is built: open file://$(CURDIR)/_build/html/index.html"

# Chromium and a CJK font for the browser tests (installed when missing)
system:
	@bash .ci/system-packages chromium cjk-font

# The reader environments of tests/test_reader_environments.py (Colab's versions, the declared
# floor) download in the background while the other tests run; built once per machine.
test: $(STAMP) $(NPM_STAMP) system
	@$(PY) tests/reader_envs.py --background
	MPLBACKEND=Agg $(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=60

clean:
	rm -rf _build .pytest_cache book/_generated
