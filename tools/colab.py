"""The Colab cell at the top of every notebook, and the README's "Open in Colab" badges.

On Google Colab (detected by ``"google.colab" in sys.modules``, which Colab's kernel imports at
start-up) the first code cell of each notebook installs ``course_lib`` from the course's public git
repository, with the ``colab`` extra of ``pyproject.toml``: the packages of ``requirements.txt``
that the notebooks import, except torch and torchvision (Colab's own build, matched to its GPU
driver, is kept). pip leaves alone what Colab already has in a suitable version. Anywhere else the
cell does nothing.

The repository's address is written in one place, ``pyproject.toml``::

    [project.urls]
    Repository = "https://github.com/OWNER/NAME"

and this script copies it into the cell of every notebook source and, for a GitHub address, into the
README's badges (``https://colab.research.google.com/github/OWNER/NAME/blob/main/notebooks/...``).
Without an address the cell stops on Colab with a message that says so and what to do instead.

Usage::

    python tools/colab.py            # write the cell into notebooks/src/*.py and the badges into README.md
    python tools/colab.py --check    # fail if a source or README.md is out of date

After writing, rebuild the notebooks (``make notebooks``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC_DIR = ROOT / "notebooks" / "src"
README = ROOT / "README.md"
BRANCH = "main"
MARKER = '# %% {"tags": ["colab"]}'
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
_GITHUB = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")

CELL = '''# Google Colab only (detected, not assumed): install course_lib and the packages Colab lacks,
# about a minute once per session. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import importlib
    import subprocess
    REPOSITORY = {repository}  # the course's public git address (pyproject.toml: [project.urls])
    if not REPOSITORY:
        raise RuntimeError("this copy of the course names no public repository to install course_lib from "
                           "(pyproject.toml, [project.urls] Repository). Upload the course folder to Colab "
                           "and run: pip install '<folder>[colab]'")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"course_lib[colab] @ git+{{REPOSITORY}}"],
                   check=True)
    importlib.invalidate_caches()
'''


def repository(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The course's public git address from ``[project.urls] Repository``, or ``""`` if none is given."""
    urls = tomllib.loads(pyproject.read_text())["project"].get("urls", {})
    address = urls.get("Repository", "").strip()
    if address and not re.match(r"^(https|ssh|git|file)://", address):
        raise ValueError(f"pyproject.toml [project.urls] Repository must be a URL pip can clone "
                         f"(https://...), got {address!r}")
    return address


def cell_source(address: str) -> str:
    """The Colab cell for a repository address ("" when the course has none yet)."""
    return CELL.format(repository=json.dumps(address))


def badge(notebook: str, address: str) -> str:
    """Markdown for an "Open in Colab" badge of ``notebooks/<notebook>`` (GitHub addresses only)."""
    match = _GITHUB.match(address)
    if not match:
        raise ValueError(f"Colab opens notebooks from GitHub; the repository address {address!r} is not "
                         f"https://github.com/OWNER/NAME")
    url = (f"https://colab.research.google.com/github/{match['owner']}/{match['name']}/blob/{BRANCH}/"
           f"notebooks/{notebook}")
    return f"[![Open in Colab]({BADGE_IMAGE})]({url})"


def with_cell(text: str, address: str) -> str:
    """A notebook source with the Colab cell right after its title cell (replacing an old one)."""
    cell = f"{MARKER}\n{cell_source(address)}\n"
    if MARKER in text:
        start = text.index(MARKER)
        end = text.index("\n# %%", start + len(MARKER))
        return text[:start] + cell + text[end + 1:]
    first_code_or_next = text.index("\n# %%", text.index("# %%") + 4)  # the end of the title cell
    return text[:first_code_or_next + 1] + cell + text[first_code_or_next + 1:]


_BADGE_IN_ROW = re.compile(r" ?\[!\[Open in Colab\]\([^)]*\)\]\([^)]*\)")


def with_badges(readme: str, address: str, notebooks: list[str]) -> str:
    """README with a badge after each notebook's link in the course map (none without an address)."""
    readme = _BADGE_IN_ROW.sub("", readme)
    if not address:
        return readme
    for name in notebooks:
        link = f"(notebooks/{name})"
        if link not in readme:
            raise ValueError(f"README.md has no link to notebooks/{name} to put a Colab badge next to")
        readme = readme.replace(link, f"{link} {badge(name, address)}", 1)
    return readme


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if a source or README.md is out of date")
    args = parser.parse_args(argv)
    address = repository()
    sources = sorted(SRC_DIR.glob("[0-9][0-9]_*.py"))
    stale = []
    for src in [*sources, SRC_DIR / "_template.py"]:  # new notebooks start from the template
        text = src.read_text()
        new = with_cell(text, address)
        if new != text:
            stale.append(src.relative_to(ROOT))
            if not args.check:
                src.write_text(new)
    readme = README.read_text()
    new = with_badges(readme, address, [f"{src.stem}.ipynb" for src in sources])
    if new != readme:
        stale.append(README.relative_to(ROOT))
        if not args.check:
            README.write_text(new)
    if args.check and stale:
        print("out of date (run python tools/colab.py, then make notebooks): " + ", ".join(map(str, stale)))
        return 1
    print(("up to date: " if args.check or not stale else "written: ")
          + (", ".join(map(str, stale)) if stale else f"{len(sources)} sources and README.md")
          + (f" (repository {address})" if address else " (no repository address yet: no badges)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
