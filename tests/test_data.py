import pickle
import struct
from urllib.error import URLError

import numpy as np
import pytest
import torch
import torchvision.datasets as tvd

from course_lib import data as D
from course_lib.data import DeviceLoader, Split, load_dataset, load_photo


# ----------------------------------------------------------------- offline datasets
@pytest.mark.parametrize("name, shape, classes", [
    ("digits", (1, 8, 8), 10), ("mnist1d", (40,), 10), ("moons", (2,), 2), ("spirals", (2,), 3), ("poly", (1,), None),
])
def test_offline_datasets_shapes_and_splits(name, shape, classes):
    d = load_dataset(name)
    assert d.input_shape == shape and d.num_classes == classes
    assert d.task == ("regression" if classes is None else "classification")
    for split in (d.train, d.val, d.test):
        assert len(split) > 0 and split.x.dtype == torch.float32
        assert split.y.dtype == (torch.float32 if classes is None else torch.long)
    if classes:
        assert set(d.train.y.unique().tolist()) == set(range(classes))
    # the three splits are disjoint: no training row appears in validation or test
    flat = lambda s: {tuple(r) for r in s.x.reshape(len(s), -1).tolist()}  # noqa: E731
    train = flat(d.train)
    assert not train & flat(d.val) and not train & flat(d.test)


def test_mnist1d_matches_the_papers_default_split():
    d = load_dataset("mnist1d", val_fraction=0.2)
    assert len(d.train) + len(d.val) == 4000 and len(d.test) == 1000 and d.num_features == 40


def test_split_is_deterministic_in_the_seed():
    a, b, c = load_dataset("digits", seed=1), load_dataset("digits", seed=1), load_dataset("digits", seed=2)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.val.y, b.val.y)
    assert not torch.equal(a.train.x, c.train.x)


def test_dataset_goes_to_the_device(device):
    d = load_dataset("moons", device=device)
    assert d.train.x.device.type == device.type and d.test.y.device.type == device.type


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; offline: digits, mnist1d"):
        load_dataset("imagenet")


@pytest.mark.parametrize("name, kwargs, error, message", [
    ("moons", {"val_fraction": 0.0}, ValueError, r"val_fraction must be a real number in \(0, 1\), got 0.0"),
    ("moons", {"test_fraction": 1.5}, ValueError, r"test_fraction must be a real number in \(0, 1\), got 1.5"),
    ("moons", {"val_fraction": "0.2"}, TypeError, r"val_fraction must be a real number in \(0, 1\), got str '0.2'"),
    ("moons", {"n_samples": 3}, ValueError, r"n_samples must be an int in \[10, inf\), got 3"),
    ("moons", {"n_samples": 100.0}, TypeError, r"n_samples must be an int in \[10, inf\), got float 100.0"),
    ("moons", {"noise": -0.1}, ValueError, r"noise must be a real number in \[0, inf\), got -0.1"),
    ("moons", {"noise": "low"}, TypeError, "noise must be a real number .*, got str 'low'"),
    ("moons", {"seed": -1}, ValueError, r"seed must be an int in \[0, inf\), got -1"),
    ("moons", {"seed": 2**40}, ValueError, r"seed must be an int in \[0, 2\*\*32 - 1\], got 1099511627776"),
    ("moons", {"seed": 1.5}, TypeError, "seed must be an int .*, got float 1.5"),
    ("moons", {"seed": True}, TypeError, "seed must be an int .*, got bool True"),
    ("moons", {"device": 0}, TypeError, "device must be a torch.device or a name such as 'cpu' or 'cuda', got int 0"),
    ("moons", {"device": "gpu"}, ValueError, "device must be a device name such as 'cpu', 'cuda'.*, got 'gpu'"),
    ("mnist", {"root": 3}, TypeError, r"root must be a folder \(str or Path\) or None, got int 3"),
    ("mnist", {"download": "yes"}, TypeError, "download must be True or False, got str 'yes'"),
    ("digits", {"noise": 0.1}, ValueError,
     "noise does not apply to dataset 'digits'; it applies to moons, spirals, poly"),
    ("digits", {"n_samples": 100}, ValueError,
     "n_samples does not apply to dataset 'digits'; it applies to mnist1d, moons"),
    ("poly", {"n_samples": 10, "val_fraction": 0.01}, ValueError,
     r"val_fraction=0.01 of 8 samples leaves an empty split \(0 and 8 samples\)"),
])
def test_bad_load_dataset_arguments(name, kwargs, error, message):
    with pytest.raises(error, match=message):
        load_dataset(name, **kwargs)


def test_dataset_name_must_be_a_string():
    with pytest.raises(TypeError, match="dataset name must be a str such as 'digits', got int 3"):
        load_dataset(3)
    assert load_dataset(" Digits ").name == "digits"  # case and spaces do not matter


@pytest.mark.parametrize("name", ["spirals", "moons", "poly", "mnist1d"])
@pytest.mark.parametrize("n", [100, 101, 37])
def test_generated_sets_have_exactly_n_samples(name, n):
    d = load_dataset(name, n_samples=n)
    assert len(d.train) + len(d.val) + len(d.test) == n


def test_mnist1d_of_any_size_keeps_an_80_20_train_test_split():
    d = load_dataset("mnist1d", n_samples=101)
    assert len(d.train) + len(d.val) == 80 and len(d.test) == 21


def test_spirals_and_polynomial_generators():
    x, y = D.make_spirals(300, 3, noise=0.0)
    assert x.shape == (300, 2) and torch.bincount(y).tolist() == [100, 100, 100]
    assert torch.allclose(x.norm(dim=1), torch.linspace(0, 1, 101)[1:].repeat(3), atol=1e-6)
    x, y = D.make_polynomial(50, noise=0.0)
    assert torch.allclose(y, D.polynomial_target(x))


def test_spirals_spread_the_remainder_over_the_arms():
    x, y = D.make_spirals(100, 3, noise=0.0)
    assert x.shape == (100, 2) and torch.bincount(y).tolist() == [34, 33, 33]
    assert float(x[y == 0].norm(dim=1).max()) == pytest.approx(1.0)  # every arm still reaches radius 1


def test_generators_repeat_with_the_generator_and_leave_the_global_rng_alone():
    state = torch.get_rng_state()
    a = D.make_spirals(50, generator=torch.Generator().manual_seed(1))
    b = D.make_spirals(50, generator=torch.Generator().manual_seed(1))
    c = D.make_polynomial(20, generator=torch.Generator().manual_seed(1))
    d = D.make_polynomial(20, generator=torch.Generator().manual_seed(1))
    assert all(torch.equal(p, q) for p, q in zip(a + c, b + d))
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize("call, error, message", [
    (lambda: D.make_spirals(10, 1), ValueError, r"n_classes must be an int in \[2, inf\), got 1"),
    (lambda: D.make_spirals(10, 3.0), TypeError, "n_classes must be an int .*, got float 3.0"),
    (lambda: D.make_spirals(2, 3), ValueError,
     r"n_samples \(at least one per arm, n_classes=3\) must be an int in \[3, inf\), got 2"),
    (lambda: D.make_spirals(30, noise=-1), ValueError, r"noise must be a real number in \[0, inf\), got -1"),
    (lambda: D.make_spirals(30, generator=0), TypeError,
     r"generator must be a torch.Generator or None, got int 0; make one with torch.Generator\(\).manual_seed\(0\)"),
    (lambda: D.make_polynomial(0), ValueError, r"n_samples must be an int in \[1, inf\), got 0"),
    (lambda: D.make_polynomial("40"), TypeError, "n_samples must be an int .*, got str '40'"),
    (lambda: D.make_polynomial(10, noise=None), TypeError, "noise must be a real number .*, got NoneType None"),
    (lambda: D.polynomial_target([1.0]), TypeError, "x must be a torch.Tensor or a NumPy array, got list"),
])
def test_bad_generator_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------- the registry
@pytest.fixture
def registry(monkeypatch):
    """A copy of the registry, so datasets registered by a test vanish after it."""
    monkeypatch.setattr(D, "DATASET_REGISTRY", dict(D.DATASET_REGISTRY))
    return D.DATASET_REGISTRY


def test_built_in_datasets_come_from_the_registry():
    assert D.OFFLINE_DATASETS == ("digits", "mnist1d", "moons", "spirals", "poly")
    assert D.TORCHVISION_DATASETS == ("mnist", "fashion_mnist", "cifar10")
    assert D.DATASETS == D.OFFLINE_DATASETS + D.TORCHVISION_DATASETS == tuple(D.DATASET_REGISTRY)


def test_a_registered_dataset_is_found_by_load_dataset(registry):
    calls = []

    @D.register_dataset("Lines", offline=True)
    def load_lines(generator, n_samples=40):
        calls.append(n_samples)
        x = torch.rand(n_samples, 1, generator=generator)
        return D.LoadedData(x, (x[:, 0] > 0.5).long(), num_classes=2, classes=("low", "high"))

    assert "lines" in D.OFFLINE_DATASETS and "lines" in D.DATASETS and "lines" not in D.TORCHVISION_DATASETS
    d = load_dataset("lines", seed=3)
    assert (len(d.train), len(d.val), len(d.test)) == (26, 6, 8) and d.classes == ("low", "high")
    assert torch.equal(load_dataset("lines", seed=3).train.x, d.train.x)          # seeded through generator
    assert len(load_dataset("lines", n_samples=50).train) == 32 and calls == [40, 40, 50]
    with pytest.raises(ValueError, match="noise does not apply to dataset 'lines'"):
        load_dataset("lines", noise=0.1)


def test_a_duplicate_dataset_name_is_refused(registry):
    with pytest.raises(ValueError, match="dataset 'digits' is already registered; choose another name"):
        D.register_dataset("digits", offline=True)
    D.register_dataset("twice", offline=False)(lambda root=None: None)
    with pytest.raises(ValueError, match="dataset 'twice' is already registered"):
        D.register_dataset("Twice", offline=False)


def test_bad_registrations_and_loaders(registry):
    with pytest.raises(TypeError, match="offline must be True or False, got str 'yes'"):
        D.register_dataset("a", offline="yes")
    with pytest.raises(TypeError, match="dataset name must be a str such as 'digits', got int 1"):
        D.register_dataset(1, offline=True)
    with pytest.raises(ValueError, match="dataset name must not be empty"):
        D.register_dataset(" ", offline=True)
    with pytest.raises(TypeError, match="the loader of dataset 'b' takes size, which load_dataset cannot give"):
        D.register_dataset("b", offline=True)(lambda size: None)
    with pytest.raises(TypeError, match=r"the loader of dataset 'c' takes \*\*options"):
        D.register_dataset("c", offline=True)(lambda **options: None)
    D.register_dataset("d", offline=True)(lambda: (torch.zeros(20, 1), torch.zeros(20)))
    with pytest.raises(TypeError, match="the loader of dataset 'd' must return a LoadedData, got tuple"):
        load_dataset("d")


# ----------------------------------------------------------------- Split and DeviceLoader
def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="x has 5 .* y has 4"):
        Split(torch.zeros(5, 2), torch.zeros(4))
    with pytest.raises(TypeError, match=r"Split x must be a torch.Tensor or a NumPy array, got list \[1, 2\]"):
        Split([1, 2], torch.zeros(2))
    with pytest.raises(ValueError, match=r"Split y must have a first \(sample\) dimension, got a 0-dim tensor"):
        Split(torch.zeros(1, 2), torch.tensor(3))


def test_split_accepts_numpy_arrays():
    x, y = np.random.default_rng(0).normal(size=(6, 2)), np.arange(6)
    s = Split(x, y)
    assert s.x.dtype == torch.float32 and s.y.dtype == torch.int64  # float64 inputs become float32
    assert np.allclose(s.x.numpy(), x) and np.array_equal(s.y.numpy(), y)
    x32 = x.astype(np.float32)
    assert Split(x32, y).x.data_ptr() == x32.ctypes.data             # converted with as_tensor: no copy
    mixed = Split(np.zeros((6, 1, 2, 2), dtype=np.uint8), y.astype(np.int32))
    assert mixed.x.dtype == torch.uint8 and mixed.y.dtype == torch.int64   # images kept, labels as cross_entropy needs
    assert Split(x, x[:, 0]).y.dtype == torch.float32                       # float64 regression targets too
    loader = DeviceLoader(x, y, batch_size=4, shuffle=False)
    assert [tuple(yb.tolist()) for _, yb in loader] == [(0, 1, 2, 3), (4, 5)]


def test_dataset_splits_checks_its_parts():
    s = Split(torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    with pytest.raises(TypeError, match="val must be a Split, got tuple"):
        D.DatasetSplits("x", s, (s.x, s.y), s, 2)
    with pytest.raises(ValueError, match=r"num_classes \(None for regression\) must be an int in \[1, inf\), got 0"):
        D.DatasetSplits("x", s, s, s, 0)
    with pytest.raises(TypeError, match="device must be a torch.device or a name"):
        D.DatasetSplits("x", s, s, s, 2).to(1)


def test_subset():
    s = Split(torch.arange(10.0).unsqueeze(1), torch.arange(10))
    sub = s.subset(4, torch.Generator().manual_seed(0))
    assert len(sub) == 4 and torch.equal(sub.x.squeeze(1).long(), sub.y)
    with pytest.raises(ValueError, match=r"subset size n must be an int in \[1, 10\], got 11"):
        s.subset(11)
    with pytest.raises(TypeError, match="subset size n must be an int .*, got float 2.0"):
        s.subset(2.0)
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int 0"):
        s.subset(2, generator=0)


def test_device_loader_covers_every_sample_once_per_epoch(device):
    x = torch.arange(103, device=device).float().unsqueeze(1)
    y = torch.arange(103, device=device)
    loader = DeviceLoader(x, y, batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(0))
    assert len(loader) == 11
    epoch1 = torch.cat([yb for _, yb in loader])
    epoch2 = torch.cat([yb for _, yb in loader])
    assert sorted(epoch1.tolist()) == list(range(103)) and sorted(epoch2.tolist()) == list(range(103))
    assert not torch.equal(epoch1, epoch2), "each epoch must draw a new order"
    for xb, yb in loader:
        assert xb.device == x.device and torch.equal(xb.squeeze(1).long(), yb)


def test_device_loader_order_repeats_with_the_seed_and_matches_dataloader_batches():
    x, y = torch.randn(50, 3), torch.arange(50)
    a = [yb for _, yb in DeviceLoader(x, y, 8, generator=torch.Generator().manual_seed(3))]
    b = [yb for _, yb in DeviceLoader(x, y, 8, generator=torch.Generator().manual_seed(3))]
    assert all(torch.equal(p, q) for p, q in zip(a, b))
    plain = [yb for _, yb in DeviceLoader(x, y, 8, shuffle=False)]
    ref = [yb for _, yb in torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)]
    assert all(torch.equal(p, q) for p, q in zip(plain, ref)) and len(plain) == len(ref)
    assert len(DeviceLoader(x, y, 8, drop_last=True)) == 6


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch_size": 0}, ValueError, r"batch_size must be an int in \[1, inf\), got 0"),
    ({"batch_size": 2.5}, TypeError, r"batch_size must be an int in \[1, inf\), got float 2.5"),
    ({"batch_size": 100, "drop_last": True}, ValueError, "leaves no batch"),
    ({"shuffle": "yes"}, TypeError, "shuffle must be True or False, got str 'yes'"),
    ({"drop_last": 1}, TypeError, "drop_last must be True or False, got int 1"),
    ({"generator": 7}, TypeError, "generator must be a torch.Generator or None, got int 7"),
])
def test_device_loader_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        DeviceLoader(torch.zeros(10, 2), torch.zeros(10), **kwargs)


def test_device_loader_rejects_empty_data():
    with pytest.raises(ValueError, match="cannot batch an empty dataset"):
        DeviceLoader(torch.zeros(0, 2), torch.zeros(0))


# ----------------------------------------------------------------- photos
def test_load_photo():
    cat = load_photo("cat")
    assert cat.dtype == torch.uint8 and cat.shape[0] == 3 and cat.ndim == 3
    assert load_photo("camera").shape[0] == 1
    with pytest.raises(ValueError, match="photo name must be one of 'cat', 'astronaut', 'coffee', 'camera', got 'dog'"):
        load_photo("dog")
    with pytest.raises(TypeError, match="photo name must be one of .*, got int 3"):
        load_photo(3)
    with pytest.raises(ValueError, match="device must be a device name"):
        load_photo("cat", device="gpu")


# ----------------------------------------------------------------- torchvision datasets from files
def _write_idx(path, array: np.ndarray) -> None:
    """Write an IDX file (the MNIST format): magic (0, 0, type 0x08 = ubyte, ndim), big-endian dims, data."""
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 0x08, array.ndim))
        f.write(struct.pack(f">{array.ndim}I", *array.shape))
        f.write(array.astype(np.uint8).tobytes())


@pytest.fixture
def idx_root(tmp_path):
    """Tiny MNIST and Fashion-MNIST in their own IDX files, where torchvision looks for them."""
    rng = np.random.default_rng(0)
    for folder in ("MNIST", "FashionMNIST"):
        raw = tmp_path / folder / "raw"
        raw.mkdir(parents=True)
        for prefix, n in (("train", 60), ("t10k", 20)):
            images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
            labels = np.arange(n) % 10
            _write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
            _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
    return tmp_path


@pytest.mark.parametrize("name, cls", [("mnist", tvd.MNIST), ("fashion_mnist", tvd.FashionMNIST)])
def test_idx_datasets_load_through_torchvision(idx_root, name, cls):
    d = load_dataset(name, root=idx_root, download=False, val_fraction=0.25)
    assert (len(d.train), len(d.val), len(d.test)) == (45, 15, 20)
    assert d.input_shape == (1, 28, 28) and d.num_classes == 10
    ref = cls(str(idx_root), train=False, download=False)
    assert torch.allclose(d.test.x[:, 0], ref.data.float() / 255)
    assert torch.equal(d.test.y, ref.targets)
    assert 0.0 <= float(d.train.x.min()) and float(d.train.x.max()) <= 1.0


def test_missing_files_without_download_name_the_offline_sets(tmp_path):
    with pytest.raises(RuntimeError, match="(?s)was not found and download=False.*offline dataset instead: digits"):
        load_dataset("mnist", root=tmp_path, download=False)


def test_failed_download_names_the_offline_sets(tmp_path, monkeypatch):
    def offline(self):
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(tvd.MNIST, "download", offline)
    with pytest.raises(RuntimeError, match="(?s)could not be downloaded.*mnist1d"):
        load_dataset("mnist", root=tmp_path, download=True)


def test_cifar10_pickles_load_through_torchvision(tmp_path, monkeypatch):
    """CIFAR-10 in its own pickled-batch format. torchvision checks each file's MD5 against the
    official archive, which a test file cannot match, so only that check is bypassed."""
    import torchvision.datasets.cifar as cifar

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name in names:
        batch = {"data": rng.integers(0, 256, size=(4, 3072), dtype=np.uint8), "labels": list(range(4))}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                     "ship", "truck"]}, f)
    monkeypatch.setattr(cifar, "check_integrity", lambda path, md5=None: True)
    d = load_dataset("cifar10", root=tmp_path, download=False, val_fraction=0.25)
    assert (len(d.train), len(d.val), len(d.test)) == (15, 5, 4)
    assert d.input_shape == (3, 32, 32) and d.classes[3] == "cat"
    ref = tvd.CIFAR10(str(tmp_path), train=False, download=False)
    assert torch.allclose(d.test.x, torch.tensor(ref.data).permute(0, 3, 1, 2).float() / 255)


def test_digits_are_cached_and_equal_to_scikit_learns(tmp_path):
    """The first load reads scikit-learn's digits and caches them; later loads read the cache without
    importing sklearn.datasets (seconds), and give the very same tensors."""
    import os
    import subprocess
    import sys
    code = ("import sys, torch; from course_lib.data import load_dataset; "
            "d = load_dataset('digits', seed=0); print('sklearn.datasets' in sys.modules); "
            "torch.save((d.train.x, d.train.y, d.test.x), sys.argv[1])")
    env = {**os.environ, "COURSE_DATA": str(tmp_path)}
    runs = [subprocess.run([sys.executable, "-c", code, str(tmp_path / f"run{i}.pt")], capture_output=True,
                           text=True, env=env) for i in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr + runs[1].stderr
    assert [r.stdout.split()[-1] for r in runs] == ["True", "False"]  # the second run used the cache
    assert list(tmp_path.glob("digits-sklearn-*.npz"))
    first, second = (torch.load(tmp_path / f"run{i}.pt") for i in range(2))
    for a, b in zip(first, second):
        assert torch.equal(a, b)
    from sklearn.datasets import load_digits
    d = load_digits()
    assert first[0].shape[1:] == (1, 8, 8) and float(first[0].max()) == d.images.max() / 16.0
