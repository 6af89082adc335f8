import random

import numpy as np
import pytest
import torch

from course_lib import device as dev


def test_get_device_prefers_accelerators(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert dev.get_device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: True)
    assert dev.get_device().type == "mps"
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    assert dev.get_device() == torch.device("cpu")


def test_get_device_matches_hardware(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else ("mps" if dev._mps_available() else "cpu")
    assert dev.get_device().type == expected
    assert dev.available_devices()[-1] == "cpu"


def test_course_device_env_forces_cpu(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert dev.get_device() == torch.device("cpu")


def test_unavailable_device_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        dev.get_device("cuda")
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    with pytest.raises(RuntimeError, match="MPS is not available"):
        dev.get_device("mps")
    with pytest.raises(RuntimeError):
        dev.get_device("not-a-device")


def test_seed_everything_repeats_all_generators():
    g1 = dev.seed_everything(123)
    a = (random.random(), np.random.rand(), torch.rand(3), torch.rand(2, generator=g1))
    g2 = dev.seed_everything(123)
    b = (random.random(), np.random.rand(), torch.rand(3), torch.rand(2, generator=g2))
    assert a[0] == b[0] and a[1] == b[1]
    assert torch.equal(a[2], b[2]) and torch.equal(a[3], b[3])
    dev.seed_everything(124)
    assert not torch.equal(torch.rand(3), a[2])


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        dev.seed_everything(bad)


def test_num_threads_from_environment(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("COURSE_NUM_THREADS", "1")
        assert dev.set_num_threads() == 1
        monkeypatch.setenv("COURSE_NUM_THREADS", "two")
        with pytest.raises(ValueError, match="COURSE_NUM_THREADS must be a positive integer"):
            dev.set_num_threads()
        with pytest.raises(ValueError, match="must be >= 1"):
            dev.set_num_threads(0)
    finally:
        torch.set_num_threads(before)


def test_set_deterministic_toggles_torch_flags():
    try:
        dev.set_deterministic(True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    finally:
        dev.set_deterministic(False)
    assert not torch.are_deterministic_algorithms_enabled()


# ----------------------------------------------------------------- the device rule (runs on the CPU alone)
class _FakeSplit:
    def __init__(self, x):
        self.x = x


def test_data_device_finds_where_data_lives():
    meta = torch.empty(3, 2, device="meta")  # a device other than the CPU, without needing a GPU
    assert dev.data_device(meta) == torch.device("meta")
    assert dev.data_device(_FakeSplit(meta)) == torch.device("meta")
    assert dev.data_device((meta, meta)) == torch.device("meta")
    assert dev.data_device([(meta, meta)]) is None  # an iterable of batches: decided batch by batch
    assert dev.data_device(np.zeros(3)) is None and dev.data_device(None) is None


def test_resolve_device_order_explicit_then_data_then_model(monkeypatch):
    model = torch.nn.Linear(2, 2).to("meta")
    cpu_data = (torch.zeros(2, 2), torch.zeros(2))
    assert dev.resolve_device(model, cpu_data, "cpu") == torch.device("cpu")          # explicit wins
    assert dev.resolve_device(model, cpu_data) == torch.device("cpu")                 # then the data
    assert dev.resolve_device(model, [cpu_data]) == torch.device("meta")              # then the model
    assert dev.resolve_device(torch.nn.ReLU(), [cpu_data]) == torch.device("cpu")     # no parameters: CPU
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="device 'cuda' was asked for but CUDA is not available here"):
        dev.resolve_device(model, cpu_data, "cuda")
    with pytest.raises(TypeError, match="device must be a str or torch.device, got int 0"):
        dev.resolve_device(model, cpu_data, 0)


def test_module_device():
    assert dev.module_device(torch.nn.Linear(1, 1)) == torch.device("cpu")
    bn = torch.nn.BatchNorm1d(3, affine=False).to("meta")  # buffers only
    assert dev.module_device(bn) == torch.device("meta")
