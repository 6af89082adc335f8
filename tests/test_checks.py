"""The bad-input policy: TypeError for a wrong type, ValueError out of range, messages that name the argument."""

import numpy as np
import pytest
import torch

from course_lib import _checks


def test_real_and_integer():
    assert _checks.real(3, "lr", low=0, low_open=True) == 3.0
    assert _checks.real(torch.tensor(0.5), "p") == 0.5
    with pytest.raises(TypeError, match=r"lr must be a real number in \(0, inf\), got str '0.1'"):
        _checks.real("0.1", "lr", low=0, low_open=True)
    with pytest.raises(TypeError, match="got bool True"):
        _checks.real(True, "lr")
    with pytest.raises(ValueError, match=r"lr must be a real number in \(0, inf\), got 0"):
        _checks.real(0, "lr", low=0, low_open=True)
    with pytest.raises(ValueError, match="got nan"):
        _checks.real(float("nan"), "x")
    with pytest.raises(TypeError, match=r"shape \(2,\)"):
        _checks.real(torch.ones(2), "x")
    assert _checks.integer(torch.tensor(4), "n") == 4
    with pytest.raises(TypeError, match="epochs must be an int in \\[0, inf\\), got float 2.0"):
        _checks.integer(2.0, "epochs", low=0)
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 4294967295\], got -1"):
        _checks.integer(-1, "seed", low=0, high=2**32 - 1)


def test_probability_one_of_sizes():
    assert _checks.probability(0, "p") == 0.0 and _checks.probability(1, "p", include_one=True) == 1.0
    with pytest.raises(ValueError, match=r"p must be a real number in \[0, 1\), got 1 \(drop\)"):
        _checks.probability(1, "p", meaning="drop")
    assert _checks.one_of(" Step ", "interval", ("epoch", "step")) == "step"
    with pytest.raises(ValueError, match="interval must be one of 'epoch', 'step', got 'batch'"):
        _checks.one_of("batch", "interval", ("epoch", "step"))
    with pytest.raises(TypeError, match="got int 1"):
        _checks.one_of(1, "interval", ("epoch",))
    assert _checks.positive_sizes([8, 4], "hidden") == (8, 4)
    with pytest.raises(TypeError, match=r"for one hidden layer write \[8\]"):
        _checks.positive_sizes(8, "hidden")
    with pytest.raises(ValueError, match="positive sizes, got 0"):
        _checks.positive_sizes([8, 0], "hidden")


def test_tensors_flags_generators_devices():
    with pytest.raises(TypeError, match="must be a floating-point tensor, got dtype torch.int64"):
        _checks.tensor(torch.ones(2, dtype=torch.long), "x", floating=True)
    with pytest.raises(ValueError, match=r"y must have 1 dimension, got shape \(2, 2\)"):
        _checks.tensor(torch.ones(2, 2), "y", ndim=1)
    with pytest.raises(ValueError, match=r"contains 2 non-finite values \(NaN and inf; first at index \(0,\)\)"):
        _checks.finite(torch.tensor([float("nan"), 1.0, float("inf")]), "x")
    assert _checks.flag(np.bool_(True), "shuffle") is True
    with pytest.raises(TypeError, match="shuffle must be True or False, got int 1"):
        _checks.flag(1, "shuffle")
    g = torch.Generator()
    assert _checks.generator(g) is g and _checks.generator(None) is None
    with pytest.raises(TypeError, match="generator must be a torch.Generator or None, got int 0"):
        _checks.generator(0)
    assert _checks.device("cpu") == torch.device("cpu") and _checks.device(None) is None
    with pytest.raises(ValueError, match="device must be a device name"):
        _checks.device("gpu0")
    with pytest.raises(TypeError, match="got int 0"):
        _checks.device(0)
