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


@pytest.mark.parametrize("kwargs, message", [
    ({"val_fraction": 0.0}, "val_fraction must be in"),
    ({"test_fraction": 1.5}, "test_fraction must be in"),
    ({"n_samples": 3}, "n_samples must be at least 10"),
])
def test_bad_split_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_dataset("moons", **kwargs)


def test_spirals_and_polynomial_generators():
    x, y = D.make_spirals(300, 3, noise=0.0)
    assert x.shape == (300, 2) and torch.bincount(y).tolist() == [100, 100, 100]
    assert torch.allclose(x.norm(dim=1), torch.linspace(0, 1, 101)[1:].repeat(3), atol=1e-6)
    x, y = D.make_polynomial(50, noise=0.0)
    assert torch.allclose(y, D.polynomial_target(x))
    with pytest.raises(ValueError, match="n_classes >= 2"):
        D.make_spirals(10, 1)


# ----------------------------------------------------------------- Split and DeviceLoader
def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="x has 5 .* y has 4"):
        Split(torch.zeros(5, 2), torch.zeros(4))
    with pytest.raises(TypeError, match="Split needs tensors"):
        Split([1, 2], torch.zeros(2))


def test_subset():
    s = Split(torch.arange(10.0).unsqueeze(1), torch.arange(10))
    sub = s.subset(4, torch.Generator().manual_seed(0))
    assert len(sub) == 4 and torch.equal(sub.x.squeeze(1).long(), sub.y)
    with pytest.raises(ValueError, match="subset size must be in 1..10"):
        s.subset(11)


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


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "batch_size must be a positive int"),
    ({"batch_size": 100, "drop_last": True}, "leaves no batch"),
])
def test_device_loader_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DeviceLoader(torch.zeros(10, 2), torch.zeros(10), **kwargs)


def test_device_loader_rejects_empty_data():
    with pytest.raises(ValueError, match="cannot batch an empty dataset"):
        DeviceLoader(torch.zeros(0, 2), torch.zeros(0))


# ----------------------------------------------------------------- photos
def test_load_photo():
    cat = load_photo("cat")
    assert cat.dtype == torch.uint8 and cat.shape[0] == 3 and cat.ndim == 3
    assert load_photo("camera").shape[0] == 1
    with pytest.raises(ValueError, match="unknown photo 'dog'"):
        load_photo("dog")


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
