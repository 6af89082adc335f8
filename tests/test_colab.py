"""The Colab cell (tools/colab.py): in every notebook, inert outside Colab, and on a simulated Colab it
installs course_lib from the repository with the packages Colab lacks."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import colab  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _first_code_cell(path):
    nb = json.loads(path.read_text())
    return next(c for c in nb["cells"] if c["cell_type"] == "code")


def test_sources_and_readme_are_up_to_date():
    assert colab.main(["--check"]) == 0, "run python tools/colab.py, then make notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem[:2])
def test_every_notebook_starts_with_the_colab_cell(path):
    cell = _first_code_cell(path)
    assert "".join(cell["source"]) == colab.cell_source(colab.repository()).rstrip("\n")
    assert cell["metadata"]["tags"] == ["colab"]
    assert cell["metadata"]["slideshow"]["slide_type"] == "skip"  # never on a slide
    assert cell["outputs"] == []  # outside Colab it printed nothing


def _run_cell(source, *, fake_colab, tmp_path, env=None):
    """Run a cell's code in a fresh interpreter, with or without a stand-in google.colab package."""
    site = tmp_path / "site"
    if fake_colab:
        (site / "google" / "colab").mkdir(parents=True)
        (site / "google" / "__init__.py").write_text("")
        (site / "google" / "colab" / "__init__.py").write_text("")
    prelude = "import google.colab\n" if fake_colab else ""
    script = tmp_path / "cell.py"
    script.write_text(prelude + source)
    full_env = {**os.environ, "PYTHONPATH": str(site), **(env or {})}
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=full_env,
                          cwd=tmp_path, timeout=300)


def test_the_cell_does_nothing_outside_colab(tmp_path):
    # pip is made to fail if it is called at all
    source = colab.cell_source("https://github.com/example/course") + "\nprint('modules:', sorted(m for m in sys.modules if m.startswith(('subprocess', 'google'))))\n"
    result = _run_cell(source, fake_colab=False, tmp_path=tmp_path, env={"PIP_INDEX_URL": "http://127.0.0.1:9/"})
    assert result.returncode == 0, result.stderr
    assert "modules: []" in result.stdout  # it did not even import subprocess
    # and in this kernel too: the stored notebooks ran it outside Colab with no output (tested above)


def test_on_colab_without_an_address_it_says_what_to_do(tmp_path):
    result = _run_cell(colab.cell_source(""), fake_colab=True, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "names no public repository" in result.stderr and "pip install '<folder>[colab]'" in result.stderr


def test_on_a_simulated_colab_it_installs_course_lib_from_the_repository(tmp_path):
    """This repository (its committed HEAD, over file://) stands in for the public one; pip runs offline
    into a target folder, without dependencies (the test cannot download), and course_lib imports from
    there. (pip reads PIP_NO_BUILD_ISOLATION=0 as --no-build-isolation.)"""
    target = tmp_path / "installed"
    env = {"PIP_NO_DEPS": "1", "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0", "PIP_TARGET": str(target),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    source = colab.cell_source(f"file://localhost{ROOT}")  # the pip of Python 3.11 wants a host
    result = _run_cell(source, fake_colab=True, tmp_path=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (target / "course_lib" / "__init__.py").is_file()
    assert (target / "course_lib" / "exercises" / "ex01.py").is_file()  # the whole package, exercises included
    check = subprocess.run([sys.executable, "-P", "-c", "import course_lib; print(course_lib.__file__)"],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(target)},
                           cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    assert check.stdout.strip().startswith(str(target))


def test_colab_extra_is_requirements_txt_without_torch_and_tooling():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["colab"]
    requirements = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    requirements = [r for r in requirements if r]
    name = lambda spec: re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].lower()  # noqa: E731
    kept_by_colab = {"torch", "torchvision"}  # Colab's build, matched to its GPU
    tooling = {"ipykernel", "jupyterlab", "jupyterlab-rise", "nbconvert", "nbformat", "nbclient", "jupytext",
               "pytest", "nbval", "packaging", "pyyaml"}  # building, testing and serving, not running a notebook
    assert {name(r) for r in requirements} - kept_by_colab - tooling == {name(e) for e in extra}
    assert set(extra) <= set(requirements), "the colab extra must carry requirements.txt's bounds"


def test_repository_address_and_badges():
    assert colab.badge("01_x.ipynb", "https://github.com/owner/course.git") == (
        "[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        "(https://colab.research.google.com/github/owner/course/blob/main/notebooks/01_x.ipynb)")
    with pytest.raises(ValueError, match="Colab opens notebooks from GitHub"):
        colab.badge("01_x.ipynb", "https://gitlab.com/owner/course")
    readme = "| [01](notebooks/01_x.ipynb) | ... |\n"
    with_badge = colab.with_badges(readme, "https://github.com/owner/course", ["01_x.ipynb"])
    assert "colab.research.google.com/github/owner/course/blob/main/notebooks/01_x.ipynb" in with_badge
    assert colab.with_badges(with_badge, "", ["01_x.ipynb"]) == readme  # no address, no badge
    with pytest.raises(ValueError, match="no link to notebooks/02_y.ipynb"):
        colab.with_badges(readme, "https://github.com/owner/course", ["02_y.ipynb"])


def test_repository_must_be_a_url(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[project.urls]\nRepository = "github.com/owner/course"\n')
    with pytest.raises(ValueError, match="must be a URL pip can clone"):
        colab.repository(pyproject)
    pyproject.write_text('[project]\nname = "x"\n')
    assert colab.repository(pyproject) == ""


def test_the_cell_goes_after_the_title_and_is_replaced_not_repeated():
    text = '# %% [markdown]\n# # Title\n\n# %% [markdown]\n# ## Set-up\n\n# %%\nimport torch\n'
    once = colab.with_cell(text, "")
    assert once.index(colab.MARKER) > once.index("# # Title") and once.index(colab.MARKER) < once.index("## Set-up")
    twice = colab.with_cell(colab.with_cell(once, "https://github.com/owner/course"), "")
    assert twice == once
