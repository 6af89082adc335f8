"""Offline stand-ins for MNIST, Fashion-MNIST and CIFAR-10, in the datasets' own on-disk formats.

The ``full`` profile reads the real datasets through ``torchvision.datasets``. Where there is
no internet (CI, a laptop on a train) this script writes small files that the same loaders
read, so the full profile's code can be executed end to end (a *dry run*, see
``tools/dry_run_full.py``). The images are real, not noise, so a model can learn something
from them, but they are not the real datasets: no accuracy measured on them says anything
about MNIST, Fashion-MNIST or CIFAR-10.

==================  ========================================  =====================================
folder under DIR    what torchvision reads                    stand-in images (label)
==================  ========================================  =====================================
``MNIST/raw/``      ``{train,t10k}-{images-idx3,labels-idx1}  scikit-learn's 8x8 digits, upscaled
                    -ubyte`` (IDX, uncompressed)              to 20x20 and centred in 28x28 as
                                                              MNIST's are (the digit); the extra
                                                              training images are shifted copies
``FashionMNIST/     the same four IDX files                   28x28 crops of ten grey scikit-image
raw/``                                                        photos (the photo)
``cifar-10-         ``data_batch_1`` .. ``_5``,               32x32 crops of colour scikit-image
batches-py/``       ``test_batch``, ``batches.meta``          photos (the photo or a region of it)
                    (pickled dicts)
==================  ========================================  =====================================

Test images come from held-out material: MNIST's from digits that no training image is made
of, the photos' from the right quarter of each photo (or region), which no training crop
touches. Every folder also gets ``STANDIN.json``: what the files are, and the MD5 sum of each.
torchvision checks CIFAR-10's files against the MD5 sums of the official archive, which no
stand-in can match; the manifest's sums are what a loader that accepts stand-ins checks
instead. The output is deterministic: the same call writes byte-identical files.

Usage::

    python tools/standin_data.py DIR                 # all three sets into DIR
    python tools/standin_data.py DIR --train 1000    # smaller

or, from Python, ``write_standins(DIR)``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import struct
import sys
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["write_standins", "write_mnist", "write_fashion_mnist", "write_cifar10", "write_idx",
           "MANIFEST", "CIFAR10_LABEL_NAMES"]

MANIFEST = "STANDIN.json"
N_TRAIN, N_TEST = 3000, 500  # a few thousand training images, a few hundred test images per set
SEED = 0

CIFAR10_LABEL_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

# Fashion-MNIST stand-in: class k is crops of grey photo k (scikit-image's bundled sample images).
GREY_PHOTOS = ("camera", "coins", "moon", "page", "text", "clock", "cell", "brick", "grass", "gravel")

# CIFAR-10 stand-in: class k is crops of colour photo k, or of a region (top, bottom, left, right as
# fractions of the height and width) of it. Eight photos, two of them split in two, give ten classes.
COLOUR_SOURCES = (
    ("rocket", (0.0, 1.0, 0.0, 1.0)),
    ("stereo_motorcycle", (0.0, 0.55, 0.0, 1.0)),  # motorcycle and the wall behind it
    ("astronaut", (0.0, 0.5, 0.0, 1.0)),       # helmet and face
    ("chelsea", (0.0, 1.0, 0.0, 1.0)),
    ("astronaut", (0.5, 1.0, 0.0, 1.0)),       # suit and flag
    ("coffee", (0.0, 1.0, 0.0, 1.0)),
    ("immunohistochemistry", (0.0, 1.0, 0.0, 1.0)),
    ("hubble_deep_field", (0.0, 1.0, 0.0, 1.0)),
    ("retina", (0.25, 0.75, 0.25, 0.75)),      # inside the dark border
    ("stereo_motorcycle", (0.55, 1.0, 0.0, 1.0)),  # below it: wheels and floor
)
MIN_CROP_STD, MAX_REDRAWS = 8.0, 50  # crops flatter than this (pixel std, 0..255) are drawn again
TRAIN_SHARE = 0.75  # training crops come from the left 75% of a photo (or region), test crops from the rest


# --------------------------------------------------------------------------- file formats
def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, MNIST's format.

    Layout: two zero bytes, the type code 0x08 (unsigned byte), the number of dimensions, each
    dimension as a big-endian 32-bit integer, then the data in C order.
    """
    array = np.ascontiguousarray(array, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 0x08, array.ndim))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.tobytes())


def _write_idx_set(folder: Path, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]) -> list[Path]:
    """The four files torchvision's MNIST and FashionMNIST look for in ``folder`` (their ``raw`` folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for prefix, (images, labels) in (("train", train), ("t10k", test)):
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            path = folder / f"{prefix}-{kind}-ubyte"
            write_idx(path, array)
            written.append(path)
    return written


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _write_manifest(folder: Path, files: list[Path], description: str, train: np.ndarray, test: np.ndarray,
                    classes: list[str]) -> Path:
    """``STANDIN.json`` in ``folder``: what the stand-in is, its sizes, and each file's MD5 sum."""
    manifest = {
        "standin": True,
        "description": description,
        "written_by": "tools/standin_data.py",
        "train_per_class": np.bincount(train, minlength=len(classes)).tolist(),
        "test_per_class": np.bincount(test, minlength=len(classes)).tolist(),
        "classes": classes,
        "md5": {p.name: _md5(p) for p in files},
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    return path


# --------------------------------------------------------------------------- images
def _resize(image: np.ndarray, size: int, resample: Image.Resampling = Image.Resampling.LANCZOS) -> np.ndarray:
    """``image`` (H, W) or (H, W, 3), uint8, resized to ``size`` x ``size``."""
    return np.asarray(Image.fromarray(image).resize((size, size), resample))


def _crops(image: np.ndarray, n: int, size: int, x_range: tuple[int, int], rng: np.random.Generator,
           min_side: int, max_side: int) -> np.ndarray:
    """``n`` square crops of random side in [min_side, max_side] lying within columns ``x_range``,
    each resized to ``size`` x ``size``. A nearly uniform crop (a patch of sky) is drawn again."""
    height = image.shape[0]
    x0, x1 = x_range
    top = min(max_side, height, x1 - x0)
    if top < min_side:
        raise ValueError(f"a region of {height}x{x1 - x0} pixels is too small for crops of {min_side} pixels")
    out = []
    while len(out) < n:
        for _attempt in range(MAX_REDRAWS):
            side = int(rng.integers(min_side, top + 1))
            y = int(rng.integers(0, height - side + 1))
            x = int(rng.integers(x0, x1 - side + 1))
            crop = _resize(image[y:y + side, x:x + side], size)
            if crop.std() >= MIN_CROP_STD:
                break
        out.append(crop)
    return np.stack(out)


def _photo_crops(photos: list[np.ndarray], n_train: int, n_test: int, size: int, seed: int,
                 min_side: int, max_side: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Crops of each photo labelled with the photo's index: training crops from the left
    ``TRAIN_SHARE`` of its width, test crops from the rest. Classes are balanced (the first
    ``n % k`` classes get one more), and the samples are shuffled."""
    rng = np.random.default_rng(seed)
    k = len(photos)
    parts: dict[str, list] = {"train": [], "test": []}
    for label, photo in enumerate(photos):
        width = photo.shape[1]
        cut = int(round(TRAIN_SHARE * width))
        for split, n, x_range in (("train", n_train, (0, cut)), ("test", n_test, (cut, width))):
            count = n // k + (label < n % k)
            images = _crops(photo, count, size, x_range, rng, min_side, max_side)
            parts[split].append((images, np.full(count, label, dtype=np.uint8)))
    out = []
    for split in ("train", "test"):
        images = np.concatenate([p[0] for p in parts[split]])
        labels = np.concatenate([p[1] for p in parts[split]])
        order = rng.permutation(len(labels))
        out.append((images[order], labels[order]))
    return out[0], out[1]


def _grey(name: str) -> np.ndarray:
    import skimage.data

    image = np.asarray(getattr(skimage.data, name)())
    if image.dtype != np.uint8 or image.ndim != 2:
        raise ValueError(f"skimage.data.{name} is not a grey uint8 image (dtype {image.dtype}, shape {image.shape})")
    return image


def _colour(name: str, box: tuple[float, float, float, float]) -> np.ndarray:
    import skimage.data

    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity); take the left view
        image = image[0]
    image = np.asarray(image)[..., :3]
    if image.dtype != np.uint8 or image.ndim != 3:
        raise ValueError(f"skimage.data.{name} is not a colour uint8 image (dtype {image.dtype}, shape {image.shape})")
    top, bottom, left, right = box
    h, w = image.shape[:2]
    return np.ascontiguousarray(image[int(top * h):int(bottom * h), int(left * w):int(right * w)])


# --------------------------------------------------------------------------- the three sets
def _digits_28() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1797 digits as MNIST-like uint8 images: the 8x8 image (values 0..16)
    upscaled to 20x20 and centred in a 28x28 frame, as MNIST centres its 20x20 digits."""
    from sklearn.datasets import load_digits

    d = load_digits()
    small = np.clip(d.images * (255.0 / 16.0), 0, 255).round().astype(np.uint8)
    framed = np.zeros((len(small), 28, 28), dtype=np.uint8)
    for i, image in enumerate(small):
        framed[i, 4:24, 4:24] = _resize(image, 20, Image.Resampling.BILINEAR)
    return framed, d.target.astype(np.uint8)


def write_mnist(root: str | Path, n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = SEED) -> Path:
    """MNIST stand-in in ``root/MNIST/raw``: scikit-learn's digits at 28x28.

    ``n_test`` digits are held out for the test set; the remaining ones, followed by copies
    shifted by up to 2 pixels, make the ``n_train`` training images. Returns the raw folder.
    """
    images, labels = _digits_28()
    if not 0 < n_test < len(images):
        raise ValueError(f"n_test must be in 1..{len(images) - 1} (scikit-learn has {len(images)} digits), got {n_test}")
    if n_train < 1:
        raise ValueError(f"n_train must be positive, got {n_train}")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    test_idx, train_idx = order[:n_test], order[n_test:]
    shifts = [(dy, dx) for dy in (-2, -1, 0, 1, 2) for dx in (-2, -1, 0, 1, 2) if (dy, dx) != (0, 0)]
    shifts = [(0, 0)] + [shifts[i] for i in rng.permutation(len(shifts))]
    train_x, train_y, used = [], [], 0
    for dy, dx in shifts:  # the 4-pixel frame leaves room for a shift of 2 without cutting the digit
        take = train_idx[:n_train - used]
        train_x.append(np.roll(images[take], (dy, dx), axis=(1, 2)))
        train_y.append(labels[take])
        used += len(take)
        if used == n_train:
            break
    else:
        raise ValueError(f"n_train={n_train} is more than {len(shifts)} shifted copies of {len(train_idx)} digits")
    train = (np.concatenate(train_x), np.concatenate(train_y))
    test = (images[test_idx], labels[test_idx])
    raw = Path(root) / "MNIST" / "raw"
    files = _write_idx_set(raw, train, test)
    _write_manifest(raw.parent, files, "stand-in for MNIST: scikit-learn's 8x8 digits upscaled to 28x28 "
                    "(training set: the digits not held out for testing, then copies shifted by up to 2 pixels)",
                    train[1], test[1], [str(i) for i in range(10)])
    return raw


def write_fashion_mnist(root: str | Path, n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = SEED) -> Path:
    """Fashion-MNIST stand-in in ``root/FashionMNIST/raw``: 28x28 crops of ten grey photos,
    labelled by photo (:data:`GREY_PHOTOS`). Returns the raw folder."""
    photos = [_grey(name) for name in GREY_PHOTOS]
    train, test = _photo_crops(photos, n_train, n_test, 28, seed, min_side=28, max_side=96)
    raw = Path(root) / "FashionMNIST" / "raw"
    files = _write_idx_set(raw, train, test)
    _write_manifest(raw.parent, files, "stand-in for Fashion-MNIST: 28x28 crops of ten grey scikit-image photos, "
                    "class k = photo k (test crops from the right quarter of each photo)",
                    train[1], test[1], list(GREY_PHOTOS))
    return raw


def _cifar_batch(images: np.ndarray, labels: np.ndarray, name: str, first: int) -> dict:
    """A CIFAR-10 batch dict: ``data`` (N, 3072) uint8, each row the red, green then blue 32x32 plane."""
    return {
        "batch_label": name,
        "labels": [int(v) for v in labels],
        "data": np.ascontiguousarray(images.transpose(0, 3, 1, 2).reshape(len(images), 3 * 32 * 32)),
        "filenames": [f"standin_{first + i:05d}.png" for i in range(len(images))],
    }


def write_cifar10(root: str | Path, n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = SEED) -> Path:
    """CIFAR-10 stand-in in ``root/cifar-10-batches-py``: 32x32 colour crops of the photos and
    regions in :data:`COLOUR_SOURCES`, class k = source k, in five training batches and one test
    batch, with CIFAR-10's own label names in ``batches.meta``. Returns the folder."""
    if n_train < 5:
        raise ValueError(f"n_train must be at least 5 (one image per training batch), got {n_train}")
    photos = [_colour(name, box) for name, box in COLOUR_SOURCES]
    (train_x, train_y), (test_x, test_y) = _photo_crops(photos, n_train, n_test, 32, seed, min_side=32, max_side=128)
    folder = Path(root) / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, n_train, 6).round().astype(int)
    batches = {f"data_batch_{i + 1}": _cifar_batch(train_x[a:b], train_y[a:b], f"training batch {i + 1} of 5", a)
               for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))}
    batches["test_batch"] = _cifar_batch(test_x, test_y, "testing batch 1 of 1", 0)
    batches["batches.meta"] = {"num_cases_per_batch": int(bounds[1]), "label_names": CIFAR10_LABEL_NAMES,
                               "num_vis": 3 * 32 * 32}
    files = []
    for name, content in batches.items():
        path = folder / name
        path.write_bytes(pickle.dumps(content, protocol=2))
        files.append(path)
    sources = ", ".join(name if box == (0.0, 1.0, 0.0, 1.0) else f"{name}{list(box)}" for name, box in COLOUR_SOURCES)
    _write_manifest(folder, files, "stand-in for CIFAR-10: 32x32 colour crops of scikit-image photos, class k = "
                    f"source k ({sources}; a box is [top, bottom, left, right] as fractions), test crops from the "
                    "right quarter of each source; label names are CIFAR-10's", train_y, test_y, CIFAR10_LABEL_NAMES)
    return folder


def write_standins(root: str | Path, n_train: int = N_TRAIN, n_test: int = N_TEST, seed: int = SEED) -> Path:
    """Write all three stand-in sets into ``root`` (created if needed) and return it.

    Afterwards ``torchvision.datasets.MNIST(root, train=..., download=False)`` and
    ``FashionMNIST`` load them as they are; ``CIFAR10`` needs the MD5 sums from the
    folder's ``STANDIN.json`` (see the module docstring).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    write_mnist(root, n_train, n_test, seed)
    write_fashion_mnist(root, n_train, n_test, seed)
    write_cifar10(root, n_train, n_test, seed)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="folder to write into (use it as COURSE_DATA)")
    parser.add_argument("--train", type=int, default=N_TRAIN, help=f"training images per set (default {N_TRAIN})")
    parser.add_argument("--test", type=int, default=N_TEST, help=f"test images per set (default {N_TEST})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the crops and splits (default {SEED})")
    args = parser.parse_args(argv)
    root = write_standins(args.root, args.train, args.test, args.seed)
    for manifest in sorted(root.glob(f"*/{MANIFEST}")):
        info = json.loads(manifest.read_text())
        print(f"{manifest.parent}: {sum(info['train_per_class'])} train / {sum(info['test_per_class'])} test, "
              f"{len(info['md5'])} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
