"""The reveal.js decks of ``make slides`` (tools/slides.py) work with no internet.

Each deck is opened in a real headless Chromium, from disk (``file://``, as in a lecture hall without
network) and from a local web server (as when the slides folder is put online). Every request the
page makes is recorded: none may leave the machine. The deck must show its first slide as a slide
(reveal.js running), with the maths rendered by MathJax, and go to the next slide on the right-arrow
key. Screenshots of the first two slides are written to ``$COURSE_ARTIFACTS/slides`` (default
``.pytest_cache/slides``) for a look.

Needs Chromium (Debian's ``chromium`` package, or ``COURSE_CHROMIUM=/path/to/chrome``) and Playwright's
Python package; ``.ci/run`` installs both. Without them the tests skip and say what is missing.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import slides as slides_tool  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ARTIFACTS = Path(os.environ.get("COURSE_ARTIFACTS", ROOT / ".pytest_cache")) / "slides"


def _chromium() -> str | None:
    explicit = os.environ.get("COURSE_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _requirements() -> tuple[str, str | None]:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "", "Playwright's Python package is not installed (pip install playwright)"
    chrome = _chromium()
    if chrome is None:
        return "", "no Chromium found (apt install chromium, or set COURSE_CHROMIUM to a Chrome/Chromium binary)"
    return chrome, None


CHROME, MISSING = _requirements()
needs_browser = pytest.mark.skipif(MISSING is not None, reason=f"slides browser test skipped: {MISSING}")


@pytest.fixture(scope="module")
def decks(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("slides")
    try:
        slides_tool.build(out=out)
    except slides_tool.VendorUnavailable as exc:   # no network and nothing cached: say so
        pytest.skip(f"slides test skipped: {exc}")
    return out


def test_decks_reference_no_cdn(decks):
    """Every script, stylesheet and font a deck loads is a relative path into vendor/."""
    for path in NOTEBOOKS:
        html = (decks / f"{path.stem}.slides.html").read_text()
        for cdn in ("unpkg.com", "cdnjs.cloudflare.com", "cdn.jsdelivr.net", "fonts.googleapis.com"):
            assert cdn not in html, f"{path.stem}: the deck still loads from {cdn}"
        for url in slides_tool.VENDOR_URLS.values():
            assert url in html, f"{path.stem}: the deck does not load {url}"
            assert (decks / url.split("?")[0]).exists(), f"{url} is missing from the slides folder"
    assert (decks / "vendor/reveal.js/dist/reveal.js").exists()
    for package in slides_tool.PACKAGES:
        licence = [p for p in (decks / "vendor" / package.target).iterdir() if p.name.upper().startswith("LICENSE")]
        if package.name != "requirejs":   # its tarball has no licence file: package.json names it (MIT/new BSD)
            assert licence, f"{package.name}: its licence is not next to its files"


def test_every_figure_has_alt_text(decks):
    """Alt text from the slide heading above each figure, not nbconvert's placeholder."""
    from bs4 import BeautifulSoup   # nbconvert's own dependency

    for path in NOTEBOOKS:
        html = (decks / f"{path.stem}.slides.html").read_text()
        alts = [img.get("alt") for img in BeautifulSoup(html, "html.parser").find_all("img")]
        assert alts, f"{path.stem}: no figures in the deck"
        assert all(a and a.startswith("Figure: ") and len(a) > 12 for a in alts), \
            f"{path.stem}: figures without alt text: {alts}"
        assert "No description has been provided" not in html


def test_no_notebook_uses_mermaid():
    """The deck template drops nbconvert's mermaid loader (a CDN import); no notebook may need it."""
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        assert not any("```mermaid" in "".join(c["source"]) for c in cells if c["cell_type"] == "markdown"), path.name


def test_an_unreachable_registry_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    package = slides_tool.PACKAGES[2]
    monkeypatch.setattr(slides_tool.Package, "url", property(lambda self: f"http://127.0.0.1:9/{self.filename}"))  # nothing listens there
    with pytest.raises(slides_tool.VendorUnavailable, match=r"(?s)cannot download .*later builds work offline.*npm pack requirejs@2.1.10"):
        slides_tool.fetch(package)


def test_a_corrupted_download_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path))
    package = slides_tool.PACKAGES[2]
    (tmp_path / "npm").mkdir()
    (tmp_path / "npm" / package.filename).write_bytes(b"not the tarball")
    with pytest.raises(RuntimeError, match="does not match the registry"):
        slides_tool.fetch(package)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(decks):
    handler = functools.partial(_Quiet, directory=str(decks))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chrome = p.chromium.launch(executable_path=CHROME, args=["--no-sandbox", "--disable-gpu"])
        yield chrome
        chrome.close()


def _leaves_machine(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme not in ("file", "data", "blob", "about") and parsed.hostname not in ("127.0.0.1", "localhost")


def _present(browser, url: str, shots: Path) -> dict:
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    outside, errors = [], []
    page.on("request", lambda request: outside.append(request.url) if _leaves_machine(request.url) else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.route("**/*", lambda route: route.abort() if _leaves_machine(route.request.url) else route.continue_())
    page.goto(url, wait_until="load")
    # reveal.js is loaded as a require.js module (no global Reveal): it marks .reveal "ready" when running
    page.wait_for_function("() => document.querySelector('.reveal.ready') !== null", timeout=20_000)
    page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
                           " && document.querySelectorAll('.mjx-chtml').length > 0", timeout=30_000)
    first = page.evaluate("() => location.hash")
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "1.png"))
    raw_dollars = page.evaluate(
        "() => [...document.querySelectorAll('.reveal .slides section.present')]"
        ".map(s => s.innerText).join(' ').includes('$')")
    math = page.evaluate("() => document.querySelectorAll('.mjx-chtml').length")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(800)
    second = page.evaluate("() => location.hash")
    page.screenshot(path=str(shots / "2.png"))
    total = page.evaluate("() => document.querySelectorAll('.reveal .slides section:not(.stack)').length")
    page.close()
    return {"first": first, "second": second, "total": total, "outside": outside, "errors": errors,
            "math": math, "raw_dollars": raw_dollars}


def _check(result: dict, name: str) -> None:
    assert not result["outside"], f"{name}: requests left the machine: {result['outside'][:5]}"
    assert not result["errors"], f"{name}: JavaScript errors: {result['errors'][:3]}"
    assert result["total"] > 5, f"{name}: reveal.js found only {result['total']} slides"
    assert result["first"] in ("", "#/", "#/0"), f"{name}: did not open on the first slide ({result['first']})"
    assert result["math"] > 0, f"{name}: no maths rendered by MathJax"
    assert not result["raw_dollars"], f"{name}: raw $...$ left on the first slide"
    assert result["second"] != result["first"], f"{name}: the right arrow did not advance ({result['second']})"


@needs_browser
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_deck_works_offline_from_disk(decks, browser, path):
    result = _present(browser, (decks / f"{path.stem}.slides.html").as_uri(), ARTIFACTS / "file" / path.stem)
    _check(result, path.stem)


@needs_browser
def test_deck_works_from_a_web_server(decks, browser, server):
    path = NOTEBOOKS[0]
    result = _present(browser, f"{server}/{path.stem}.slides.html", ARTIFACTS / "http" / path.stem)
    _check(result, path.stem)
