"""The course map's thumbnails (tools/thumbnails.py) are the stored notebooks' key figures, with alt text."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("thumbnails", ROOT / "tools" / "thumbnails.py")
thumbnails = importlib.util.module_from_spec(spec)
spec.loader.exec_module(thumbnails)


def test_thumbnails_are_up_to_date():
    assert not thumbnails.stale(), "run: python tools/thumbnails.py (a key figure changed or a thumbnail is missing)"


def test_readme_shows_each_thumbnail_with_its_alt_text():
    readme = (ROOT / "README.md").read_text()
    for prefix, (_, alt) in thumbnails.KEY_FIGURES.items():
        path = thumbnails.target(prefix).relative_to(ROOT).as_posix()
        assert f'<img src="{path}" alt="{alt}"' in readme, f"README lacks the thumbnail {path} with its alt text"


def test_a_missing_heading_is_named():
    import pytest

    with pytest.raises(ValueError, match="not in the notebook"):
        thumbnails.thumbnail(thumbnails.notebook("01"), "### No such heading")
