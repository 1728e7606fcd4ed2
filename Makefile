# Two entry points, each doing its own set-up on a fresh machine:
#   make book   build the HTML book into _build/html
#   make test   run the whole test suite (unit tests, notebook runs, book build)
# Both need Node.js's npm too: the book's Try it page runs onnxruntime-web (package.json).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NPM_STAMP := node_modules/.package-lock.json

.PHONY: book test venv npm clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

venv: $(STAMP)

# onnxruntime-web for the Try it page, at the version of package-lock.json
$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: the book's Try it page needs Node.js's npm" \
	  "(it comes with Node.js; Debian/Ubuntu: apt-get install npm); install it, then run make again" >&2; \
	  exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

npm: $(NPM_STAMP)

book: $(STAMP) $(NPM_STAMP)
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	$(VENV)/bin/jupyter-book build . -W --keep-going
	@echo "The book is built: open file://$(CURDIR)/_build/html/index.html"

test: $(STAMP) $(NPM_STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -n 2 --dist loadfile --durations=25

clean:
	rm -rf _build .pytest_cache book/_generated
