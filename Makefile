# nvlib: two commands (see README.md).
#   make demo   regenerate every table and figure in figures/ on the embedded default (real sample clips)
#   make test   unit tests + every notebook through nbmake with its small defaults
# Both create .venv with python3 when missing and install the pinned environment.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nvlib-installed
PARAMS ?= params/default.yaml

.PHONY: demo test install notebooks bench lab clean-figures

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q --upgrade pip
	$(BIN)/python -m pip install --disable-pip-version-check -q -e .
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps event-pienet==1.1.3
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/nvlib samples fetch
	$(BIN)/nvlib reproduce --params $(PARAMS) --sweep params/sweeps/tbr_bits_16.yaml

notebooks: $(STAMP)
	$(BIN)/nvlib reproduce --build-only

test: $(STAMP)
	$(BIN)/nvlib samples fetch --quiet
	$(BIN)/nvlib reproduce --build-only
	OMP_NUM_THREADS=2 $(BIN)/python -m pytest tests notebooks --nbmake --nbmake-timeout=900 -q

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; OMP_NUM_THREADS=1 $(BIN)/python $$b || exit 1; done

lab: $(STAMP)
	$(BIN)/nvlib reproduce --build-only
	$(BIN)/jupyter lab notebooks/
