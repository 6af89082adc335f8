# Two commands for a fresh clone:
#   make lab    set up .venv (first time only) and open JupyterLab on the notebooks
#   make test   set up .venv (first time only) and run every test, notebooks included
# Others: make notebooks (rebuild + execute notebooks from notebooks/src), make slides (offline reveal.js decks),
# make student (copies without solutions, in student/), make bench.
#
# VENV may point elsewhere (CI keeps it in a cache): make test VENV=/path/to/venv
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
REQ_HASH := $(shell sha256sum requirements.txt | cut -c1-16)
STAMP := $(VENV)/.course-installed-$(REQ_HASH)

.PHONY: lab test venv notebooks slides student bench clean

venv: $(STAMP)
	@$(PY) -P -c "import course_lib, pathlib, sys; sys.exit(pathlib.Path(course_lib.__file__).resolve().parent != pathlib.Path('$(CURDIR)/course_lib').resolve())" 2>/dev/null \
	  || $(PY) -m pip install --quiet --no-deps --no-build-isolation -e .

$(STAMP):
	@test -x $(PY) || $(PYTHON) -c "import sys; sys.exit(sys.version_info < (3, 11))" 2>/dev/null \
	  || { echo "make: the course needs Python 3.11 or newer, and '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo "not found");" \
	       "run for example: make $(MAKECMDGOALS) PYTHON=python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -r requirements.txt
	rm -f $(VENV)/.course-installed-*
	touch $(STAMP)

# Inside a container you are often root, which Jupyter refuses unless told; LAB_ARGS adds options
# (e.g. make lab LAB_ARGS="--no-browser --port 8889").
LAB_ARGS ?=
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: venv
	$(VENV)/bin/jupyter lab $(ROOT_ARGS) $(LAB_ARGS) notebooks/

test: venv
	$(PY) -m pytest

notebooks: venv
	$(PY) tools/build_notebooks.py

slides: venv
	$(PY) tools/slides.py

student: venv
	$(PY) tools/student_copies.py

bench: venv
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_normalization.py
	$(PY) benchmarks/bench_optim.py

clean:
	rm -rf $(VENV) slides student .pytest_cache
