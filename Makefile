# Two commands do everything: `make example` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
OUT ?= out

.PHONY: setup example test benchmark clean chromium

setup: $(VENV)/.installed chromium

# torch is pinned to the CPU build first: a newer or unpinned torch would pull GBs of CUDA packages.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[test]"
	@echo "Compiling the GIF encoder's kernels (once, about 10 s)"
	$(PY) -c "import video2gif.gif; video2gif.gif.warm_up()"
	touch $@

# The browser test drives Debian's chromium through Playwright (Playwright's own browser download
# is not used). Installed when missing and we are root; otherwise that test skips.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" != 0 ]; then \
	    echo "chromium is missing and this is not root: the browser test will be skipped (sudo apt-get install chromium)"; \
	  elif ! command -v apt-get >/dev/null 2>&1; then \
	    echo "chromium is missing and there is no apt-get: the browser test will be skipped"; \
	  else \
	    apt-get update && apt-get install -y chromium; \
	  fi; }

example: setup
	$(VENV)/bin/video2gif make examples/big_buck_bunny_0_30.webm -o $(OUT)
	@echo "Open $(OUT)/big_buck_bunny_0_30/index.html to see the GIFs."

test: setup
	$(PY) -m pytest -q

benchmark: setup
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
