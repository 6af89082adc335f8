"""The full-profile dry run: stand-in files in the real formats, and the run over every notebook.

The stand-in tests run with the rest of the suite (a few seconds). The dry run itself executes
every notebook (minutes) and is marked ``dryrun``: it runs only when asked for with
``pytest -m dryrun tests/test_dry_run.py``; CI runs ``python tools/dry_run_full.py`` instead.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd

from course_lib.data import load_dataset

ROOT = Path(__file__).resolve().parents[1]


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


standin = _load_tool("standin_data")
N_TRAIN, N_TEST = 300, 100  # smaller than the tool's default, for speed


@pytest.fixture(scope="module")
def standin_root(tmp_path_factory) -> Path:
    return standin.write_standins(tmp_path_factory.mktemp("standins"), n_train=N_TRAIN, n_test=N_TEST)


def _manifest(root: Path, folder: str) -> dict:
    return json.loads((root / folder / standin.MANIFEST).read_text())


def _cifar10_checked_against_manifest(root: Path, train: bool) -> tvd.CIFAR10:
    """torchvision's own CIFAR10, with its MD5 check run against the stand-in manifest's sums
    instead of the official archive's (instance attributes; the class is untouched)."""
    md5 = _manifest(root, "cifar-10-batches-py")["md5"]
    ds = tvd.CIFAR10.__new__(tvd.CIFAR10)
    ds.train_list = [[name, md5[name]] for name, _ in tvd.CIFAR10.train_list]
    ds.test_list = [[name, md5[name]] for name, _ in tvd.CIFAR10.test_list]
    ds.meta = {**tvd.CIFAR10.meta, "md5": md5[tvd.CIFAR10.meta["filename"]]}
    ds.__init__(str(root), train=train, download=False)
    return ds


@pytest.mark.parametrize("name, cls", [("mnist", tvd.MNIST), ("fashion_mnist", tvd.FashionMNIST)])
def test_idx_standins_load_through_course_lib(standin_root, name, cls):
    d = load_dataset(name, root=standin_root, download=False, val_fraction=0.2)
    assert (len(d.train), len(d.val), len(d.test)) == (240, 60, 100)
    assert d.input_shape == (1, 28, 28) and d.num_classes == 10 and d.classes == tuple(cls.classes)
    assert set(d.train.y.unique().tolist()) == set(range(10)) and set(d.test.y.unique().tolist()) == set(range(10))
    x = d.train.x
    assert x.dtype == torch.float32 and 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert float(x.std(dim=(1, 2, 3)).min()) > 0.02, "every stand-in image shows something"


def test_mnist_standin_is_scikit_learns_digits(standin_root):
    from sklearn.datasets import load_digits

    images, labels = standin._digits_28()
    assert images.shape == (1797, 28, 28) and np.array_equal(labels, load_digits().target)
    assert images[:, :4].sum() == 0 and images[:, 24:].sum() == 0, "digits sit in the central 20x20 box, as in MNIST"
    digit_of = {bytes(im): int(y) for im, y in zip(images, labels)}
    test = tvd.MNIST(str(standin_root), train=False, download=False)
    assert test.data.dtype == torch.uint8 and test.data.shape == (N_TEST, 28, 28)
    assert all(digit_of.get(bytes(im.numpy())) == int(y) for im, y in zip(test.data, test.targets)), \
        "every test image is one of scikit-learn's digits, with its label"


def test_standin_test_images_are_not_training_images(standin_root):
    for cls in (tvd.MNIST, tvd.FashionMNIST):
        train = {bytes(im) for im in cls(str(standin_root), train=True).data.numpy()}
        test = [bytes(im) for im in cls(str(standin_root), train=False).data.numpy()]
        assert not train.intersection(test), f"{cls.__name__}: a test image also appears in training"


def test_cifar10_standin_passes_torchvisions_md5_check_against_its_manifest(standin_root):
    train = _cifar10_checked_against_manifest(standin_root, train=True)
    test = _cifar10_checked_against_manifest(standin_root, train=False)
    assert train.data.shape == (N_TRAIN, 32, 32, 3) and test.data.shape == (N_TEST, 32, 32, 3)
    assert train.data.dtype == np.uint8 and train.classes == standin.CIFAR10_LABEL_NAMES
    assert sorted(set(train.targets)) == list(range(10)) == sorted(set(test.targets))
    # torchvision itself refuses the files: they are not the official archive's
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        tvd.CIFAR10(str(standin_root), train=False, download=False)


def test_cifar10_standin_loads_through_course_lib(standin_root):
    d = load_dataset("cifar10", root=standin_root, download=False, val_fraction=0.2)
    assert (len(d.train), len(d.val), len(d.test)) == (240, 60, 100)
    assert d.input_shape == (3, 32, 32) and d.num_classes == 10 and d.classes[3] == "cat"
    ref = _cifar10_checked_against_manifest(standin_root, train=False)
    assert torch.allclose(d.test.x, torch.tensor(ref.data).permute(0, 3, 1, 2).float() / 255)


def test_manifests_record_each_files_md5(standin_root):
    for folder, n_files in (("MNIST", 4), ("FashionMNIST", 4), ("cifar-10-batches-py", 7)):
        manifest = _manifest(standin_root, folder)
        assert manifest["standin"] is True and len(manifest["md5"]) == n_files
        assert sum(manifest["train_per_class"]) == N_TRAIN and sum(manifest["test_per_class"]) == N_TEST
        for name, md5 in manifest["md5"].items():
            path = next((standin_root / folder).rglob(name))
            assert standin._md5(path) == md5


def test_standins_are_deterministic_and_the_cli_writes_them(tmp_path, standin_root, capsys):
    assert standin.main([str(tmp_path), "--train", str(N_TRAIN), "--test", str(N_TEST)]) == 0
    assert "MNIST: 300 train / 100 test" in capsys.readouterr().out
    for folder in ("MNIST", "FashionMNIST", "cifar-10-batches-py"):
        assert _manifest(tmp_path, folder)["md5"] == _manifest(standin_root, folder)["md5"]


def test_standin_sizes_are_checked(tmp_path):
    with pytest.raises(ValueError, match="n_test must be in 1..1796"):
        standin.write_mnist(tmp_path, n_test=1797)
    with pytest.raises(ValueError, match="shifted copies"):
        standin.write_mnist(tmp_path, n_train=100_000)


# ----------------------------------------------------------------- the dry run itself
@pytest.mark.dryrun
def test_every_notebook_runs_in_the_full_profile_dry_run(request, tmp_path):
    """Minutes: runs only when selected (``pytest -m dryrun``)."""
    if "dryrun" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the full-profile dry run takes minutes: run it with `pytest -m dryrun` "
                    "or `python tools/dry_run_full.py`")
    dry = _load_tool("dry_run_full")
    results = dry.dry_run(dry.find_notebooks(), tmp_path)
    failed = [dry.report(r, slowest=0) for r in results if not r.ok]
    assert not failed, "\n\n".join(failed)
