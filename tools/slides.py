"""Render every notebook to a reveal.js deck that needs nothing from the internet.

``make slides`` runs this script. It writes ``slides/NN_topic.slides.html`` for every notebook and,
next to the decks, ``slides/vendor/`` with the JavaScript and fonts they load: reveal.js 4.0.2
(the version nbconvert's template is written for), MathJax 2.7.7 (the maths), require.js and
jQuery, each with its licence. The decks refer to these files by relative paths, so the ``slides``
folder works opened from disk in a lecture hall with no network, and the same folder works when
copied to a web server.

The libraries are taken from their npm packages: the first run downloads the four tarballs from
the npm registry (about 24 MB, checked against the registry's sha512 integrity hashes) into
``~/.cache/course_lib/npm`` (or ``$COURSE_CACHE/npm``); later runs use the cache and need no
network. Only the files the decks use are unpacked (about 7 MB).

What differs from ``jupyter nbconvert --to slides``:

* every URL that pointed to a CDN (reveal.js, MathJax, require.js, jQuery) points into ``vendor/``;
* the theme is reveal.js's ``white``, whose fonts ship with reveal.js (the default ``simple``
  theme imports Google Fonts);
* the template ``tools/slides_template/course_reveal`` drops the mermaid loader, which nbconvert
  imports from a CDN in every deck; no notebook of the course uses mermaid diagrams (the test of
  the decks checks that);
* the code of cells tagged ``plot`` is removed (the figure stays), as on the live slides;
* every figure has alt text: "Figure: " and the heading of its slide.

Usage::

    python tools/slides.py                 # every notebooks/NN_*.ipynb into slides/
    python tools/slides.py 03 06           # only these
    python tools/slides.py --out DIR       # somewhere else
    python tools/slides.py --vendor-only   # only fetch and unpack the libraries
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import sys
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "slides_template"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    """One npm package: where its tarball is, its integrity hash, and which of its files the decks need."""

    name: str
    version: str
    integrity: str                      # the registry's "dist.integrity" (sha512, base64)
    target: str                         # folder under vendor/
    keep: Callable[[str], bool]         # a path inside the package (without "package/") -> unpack it?

    @property
    def url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name}-{self.version}.tgz"

    @property
    def filename(self) -> str:
        return f"{self.name}-{self.version}.tgz"


def _reveal_files(path: str) -> bool:
    return (path in ("LICENSE", "dist/reveal.js", "dist/reveal.css", "dist/reset.css", "dist/theme/white.css",
                     "plugin/notes/notes.js", "plugin/notes/speaker-view.html")
            or path.startswith("dist/theme/fonts/source-sans-pro/"))


def _mathjax_files(path: str) -> bool:
    parts = path.split("/")
    return (path in ("LICENSE", "MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js")
            or (parts[0] == "extensions" and len(parts) == 2)          # Safe, MathMenu, MathZoom, ...
            or path.startswith(("extensions/TeX/", "jax/input/TeX/", "jax/output/CommonHTML/", "jax/element/",
                                "fonts/HTML-CSS/TeX/woff/", "localization/en/")))


PACKAGES = (
    Package("reveal.js", "4.0.2", "sha512-LWZSUenufF1gpD7npxJ7KfoQQFKgc1D6XrLTFgKlwWNP1BQ74hT48KONFWMAw+8R/QUeaScCLCLrBVHDfFIEiw==",
            "reveal.js", _reveal_files),
    Package("mathjax", "2.7.7", "sha512-OOl0B2/0tSJAtAZarXnQuLDBLgTNRqiI9VqHTQzPsxf4okT2iIpDrvaklK9x2QEMD1sDj4yRn11Ygci41DxMAQ==",
            "mathjax", _mathjax_files),
    Package("requirejs", "2.1.10", "sha512-4JqdTihK3kOnT387LxCHuJZ/9QsKg2EIl7LmaW35PIyM4LwCI2jwyy4fy6pbY/ZZH2JoY/QEcb5PzULFPP6gcQ==",
            "requirejs", lambda p: p in ("require.js", "LICENSE", "package.json")),
    Package("jquery", "3.5.1", "sha512-XwIBPqcMn57FxfT+Go5pzySnm4KWkT1Tv7gjrpT1srtf8Weynl6R273VJ5GjkRb51IzMp5nbaPjJXMWeju2MKg==",
            "jquery", lambda p: p in ("dist/jquery.min.js", "LICENSE.txt")),
)

# What the decks load, relative to the deck's folder.
VENDOR_URLS = {
    "reveal_url_prefix": "vendor/reveal.js",
    "mathjax_url": "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "require_js_url": "vendor/requirejs/require.js",
    "jquery_url": "vendor/jquery/dist/jquery.min.js",
}


class VendorUnavailable(RuntimeError):
    """A library the decks need is neither in the cache nor downloadable."""


def cache_dir() -> Path:
    base = os.environ.get("COURSE_CACHE") or Path.home() / ".cache" / "course_lib"
    return Path(base) / "npm"


def _check_integrity(data: bytes, package: Package) -> None:
    algorithm, _, expected = package.integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise RuntimeError(f"{package.filename}: {algorithm} hash {actual} does not match the registry's {expected}; "
                           f"delete it from {cache_dir()} and run again")


def fetch(package: Package) -> bytes:
    """The package's tarball: from the cache, else downloaded from the npm registry (and cached)."""
    path = cache_dir() / package.filename
    if path.exists():
        data = path.read_bytes()
        _check_integrity(data, package)
        return data
    try:
        with urllib.request.urlopen(package.url, timeout=60) as response:
            data = response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise VendorUnavailable(
            f"cannot download {package.url} ({exc}).\n"
            f"The decks need {package.name} {package.version} once; later builds work offline. Either connect once, "
            f"or put the tarball (npm pack {package.name}@{package.version}) into {cache_dir()}.") from None
    _check_integrity(data, package)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return data


def unpack(package: Package, vendor: Path) -> int:
    """Unpack the files of ``package`` that the decks use into ``vendor/<target>``; returns their number."""
    target = vendor / package.target
    stamp = target / f".{package.name}-{package.version}"
    if stamp.exists():
        return sum(1 for p in target.rglob("*") if p.is_file()) - 1
    count = 0
    with tarfile.open(fileobj=io.BytesIO(fetch(package)), mode="r:gz") as tar:
        for member in tar.getmembers():
            inner = member.name.split("/", 1)[1] if "/" in member.name else ""
            if not member.isfile() or not package.keep(inner) or ".." in Path(inner).parts:
                continue
            out = target / inner
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(member).read())
            count += 1
    if count == 0:
        raise RuntimeError(f"{package.filename} contained none of the files the decks need")
    stamp.write_text(package.url + "\n")
    return count


def vendor_libraries(out: Path) -> Path:
    vendor = out / "vendor"
    for package in PACKAGES:
        unpack(package, vendor)
    return vendor


def exporter():
    """nbconvert's SlidesExporter, configured for offline decks."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    config = Config()
    config.SlidesExporter.template_name = "course_reveal"
    config.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    config.SlidesExporter.reveal_theme = "white"
    config.SlidesExporter.reveal_width = "1280"      # the projector size the notebooks' figures are made for
    config.SlidesExporter.reveal_height = "720"
    for trait, url in VENDOR_URLS.items():
        setattr(config.SlidesExporter, trait, url)
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = ["plot"]
    return SlidesExporter(config=config)


def add_alt_text(nb):
    """Give every figure alt text: "Figure: " and the heading of the slide it is on (its metadata "alt").

    The notebooks put a ``##``/``###`` heading before every cell that draws a figure (one figure per
    slide), so the heading names what the figure shows.
    """
    heading = nb.metadata.get("title", "")
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            lines = [line for line in cell.source.splitlines() if line.startswith("#")]
            if lines:
                heading = lines[0].lstrip("#").strip()
            continue
        for output in cell.get("outputs", []):
            for mime in ("image/png", "image/jpeg"):
                if mime in output.get("data", {}):
                    meta = output.setdefault("metadata", {}).setdefault(mime, {})
                    meta.setdefault("alt", f"Figure: {heading}" if heading else "Figure")
    return nb


def notebooks(selection: list[str]) -> list[Path]:
    every = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    if not selection:
        return every
    chosen = []
    for item in selection:
        matches = [p for p in every if p.name.startswith(item) or p == Path(item).resolve()]
        if not matches:
            raise SystemExit(f"slides: no notebook matches {item!r} (have: {', '.join(p.stem for p in every)})")
        chosen += matches
    return chosen


def build(selection: list[str] | None = None, out: Path | None = None) -> list[Path]:
    """Write the decks of the selected notebooks (all by default) and the vendor folder into ``out``."""
    import nbformat

    out = Path(out or ROOT / "slides")
    out.mkdir(parents=True, exist_ok=True)
    vendor_libraries(out)
    slides_exporter = exporter()
    written = []
    for path in notebooks(selection or []):
        body, _ = slides_exporter.from_notebook_node(add_alt_text(nbformat.read(path, as_version=4)))
        deck = out / f"{path.stem}.slides.html"
        deck.write_text(body, encoding="utf-8")
        written.append(deck)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="NN prefixes or paths (default: every notebook)")
    parser.add_argument("--out", type=Path, default=ROOT / "slides", help="output folder (default: slides/)")
    parser.add_argument("--vendor-only", action="store_true", help="only fetch and unpack the libraries")
    args = parser.parse_args(argv)
    try:
        if args.vendor_only:
            print(f"slides: libraries in {vendor_libraries(args.out)}")
            return 0
        decks = build(args.notebooks, args.out)
    except VendorUnavailable as exc:
        print(f"slides: {exc}", file=sys.stderr)
        return 1
    for deck in decks:
        print(f"slides: wrote {deck.relative_to(Path.cwd()) if deck.is_relative_to(Path.cwd()) else deck}")
    print(f"slides: open {args.out}/NN_topic.slides.html in a browser (works offline: libraries in {args.out}/vendor)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
