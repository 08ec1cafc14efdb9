# make demo : set everything up (system packages when possible, .venv, the package) and run the demo
# make test : the same set-up, then the test suite (this is what CI runs)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.audiogen-installed

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	@bash scripts/install-system-deps.sh
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

demo: install
	@bash scripts/demo.sh $(VENV)

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) benchmarks/dsp.py
	$(PY) benchmarks/nsynth_io.py
	$(PY) benchmarks/musicvae.py
	$(PY) benchmarks/samplevae.py
	$(PY) benchmarks/gansynth.py --steps 5
	$(PY) benchmarks/translate.py

clean:
	rm -rf $(VENV) demo .pytest_cache
