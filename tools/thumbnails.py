"""Thumbnails of each notebook's key figure, for the course map in README.md.

For every notebook listed in ``KEY_FIGURES`` this takes the figure drawn under the named heading
(the first image output after it, as stored in ``notebooks/NN_topic.ipynb``), scales it to
``WIDTH`` pixels and writes ``docs/figures/NN_topic.png``. Run it after rebuilding a notebook whose
key figure changed; ``tests/test_thumbnails.py`` fails while a thumbnail is stale or missing, or a
heading below no longer exists.

Usage::

    python tools/thumbnails.py          # every notebook in KEY_FIGURES
    python tools/thumbnails.py --check  # only report stale thumbnails (exit status 1)
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "figures"
WIDTH = 480

# notebook prefix -> (heading above the key figure, alt text for the README)
KEY_FIGURES: dict[str, tuple[str, str]] = {
    "01": ("### Learning curves over epochs",
           "Training loss falls towards zero while validation loss turns up: the over-parameterized network overfits"),
    "02": ("### Sweeping the strength: too little memorizes, too much underfits",
           "Validation accuracy against the L2 strength: low at zero, best in the middle, chance when too strong"),
    "03": ("### Learning curves, seed 0",
           "Learning curves with and without dropout: dropout keeps validation accuracy higher and the gap smaller"),
    "04": ("### One photo, ten views",
           "One cat photo under ten random transforms: flips, crops, rotations, shear, blur and colour jitter"),
    "05": ("### The curves, and where the patience algorithm stopped",
           "Validation loss over epochs with the best epoch and the patience window where early stopping halted"),
    "06": ("### Every function with its derivative",
           "Sigmoid, tanh, ReLU, Leaky ReLU, ELU and their derivatives: the sigmoid's derivative never exceeds 0.25"),
    "07": ("### The loss valley before and after standardization (seed 0)",
           "Loss contours of a two-weight regression: a long narrow valley on raw inputs, round after standardization"),
    "08": ("### Means and standard deviations per layer (seed 0)",
           "Activation std per layer of a 10-layer tanh net: collapses with 0.01 randn, saturates with randn, Xavier in between"),
    "09": ("### Training loss of the sigmoid network, seed 0",
           "Training loss of the paper's sigmoid net at learning rate 0.1: flat at ln 10 without batch norm, falling with it"),
    "10": ("### GD, momentum and Nesterov in the valley",
           "Paths of gradient descent, momentum and Nesterov over the contours of a long narrow valley"),
    "11": ("## 2. Every schedule, over the epochs",
           "Learning rate over the epochs for step, multi-step, exponential, 1/t, cosine and plateau schedules"),
}


def _image(path: Path, heading: str) -> bytes:
    cells = json.loads(path.read_text())["cells"]
    after = False
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and source.splitlines() and source.splitlines()[0].strip() == heading:
            after = True
            continue
        if after:
            for output in cell.get("outputs", []):
                for mime in ("image/png", "image/jpeg"):
                    if mime in output.get("data", {}):
                        return base64.b64decode(output["data"][mime])
    what = "no image follows it" if after else "the heading is not in the notebook"
    raise ValueError(f"{path.name}: key figure under {heading!r} not found ({what}); update KEY_FIGURES in {__file__}")


def thumbnail(path: Path, heading: str) -> bytes:
    """The figure under ``heading`` in notebook ``path``, as a PNG ``WIDTH`` pixels wide."""
    from PIL import Image

    image = Image.open(io.BytesIO(_image(path, heading))).convert("RGB")
    width = min(WIDTH, image.width)                      # never enlarge
    height = round(image.height * width / image.width)
    # 256 colours keep the file small; octree quantization keeps the palette's hues apart
    small = image.resize((width, height), Image.LANCZOS).quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def notebook(prefix: str) -> Path:
    matches = sorted((ROOT / "notebooks").glob(f"{prefix}_*.ipynb"))
    if len(matches) != 1:
        raise ValueError(f"expected one notebook {prefix}_*.ipynb, found {len(matches)}")
    return matches[0]


def target(prefix: str) -> Path:
    return OUT / f"{notebook(prefix).stem}.png"


def stale() -> list[str]:
    """Notebook prefixes whose stored thumbnail is missing or differs from a fresh one."""
    return [p for p, (heading, _) in KEY_FIGURES.items()
            if not target(p).exists() or target(p).read_bytes() != thumbnail(notebook(p), heading)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report stale thumbnails, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        outdated = stale()
        for prefix in outdated:
            print(f"thumbnails: {target(prefix).relative_to(ROOT)} is missing or stale")
        return 1 if outdated else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for prefix, (heading, _) in KEY_FIGURES.items():
        target(prefix).write_bytes(thumbnail(notebook(prefix), heading))
        print(f"thumbnails: wrote {target(prefix).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
