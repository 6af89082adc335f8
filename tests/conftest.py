"""Shared fixtures: every device present, and a deterministic environment (quiet: ../conftest.py)."""

from __future__ import annotations

import pytest
import torch

from course_lib.device import available_devices

DEVICES = [d for d in available_devices() if not d.startswith("cuda:") or d == "cuda:0"]


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    """Run the test once per device present (always the CPU; CUDA / MPS when available)."""
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
