"""The regularization baseline of notebooks 02–05: its data, label noise, network and optimizer."""

import pytest
import torch

from course_lib.baseline import BASELINE, baseline_model, baseline_optimizer, corrupt_labels, load_baseline
from course_lib.models import count_parameters


def test_corrupt_labels_replaces_the_asked_fraction_reproducibly():
    y = torch.arange(1000) % 10
    noisy, replaced = corrupt_labels(y, 0.3, 10, generator=torch.Generator().manual_seed(0))
    assert int(replaced.sum()) == 300
    assert torch.equal(noisy[~replaced], y[~replaced])
    changed = (noisy != y).float().mean().item()
    assert 0.3 * 0.9 - 0.03 < changed < 0.3 * 0.9 + 0.03   # 1 in 10 redrawn labels lands on the true class
    again, _ = corrupt_labels(y, 0.3, 10, generator=torch.Generator().manual_seed(0))
    assert torch.equal(noisy, again)
    assert torch.equal(corrupt_labels(y, 0.0, 10)[0], y)


def test_corrupt_labels_bad_input():
    with pytest.raises(TypeError, match="y must be an integer tensor"):
        corrupt_labels(torch.zeros(3), 0.1, 2)
    with pytest.raises(ValueError, match=r"fraction must be a real number in \[0, 1\], got 1.5"):
        corrupt_labels(torch.zeros(3, dtype=torch.long), 1.5, 2)
    with pytest.raises(ValueError, match=r"num_classes must be an int in \[2, inf\)"):
        corrupt_labels(torch.zeros(3, dtype=torch.long), 0.1, 1)


def test_load_baseline_sizes_and_clean_evaluation_labels():
    d = load_baseline(seed=0)
    assert (len(d.train), len(d.val), len(d.test)) == (500, 500, 797) and d.num_classes == 10
    clean = load_baseline(seed=0, label_noise=0.0)
    assert torch.equal(d.train.x, clean.train.x) and torch.equal(d.val.y, clean.val.y)
    assert torch.equal(d.test.y, clean.test.y)
    wrong = (d.train.y != clean.train.y).float().mean().item()
    assert 0.2 < wrong < 0.32
    assert torch.equal(load_baseline(seed=0).train.y, d.train.y)
    assert not torch.equal(load_baseline(seed=1).train.y, d.train.y)
    with pytest.raises(ValueError, match="profile must be one of 'fast', 'full'"):
        load_baseline("huge")


def test_baseline_model_and_optimizer():
    d = load_baseline(seed=0)
    model = baseline_model(d, generator=torch.Generator().manual_seed(0))
    assert count_parameters(model) == (64 + 1) * 256 + 257 * 256 + 257 * 10
    again = baseline_model(d, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters()))
    assert any(isinstance(m, torch.nn.Dropout) for m in baseline_model(d, dropout=0.5).modules())
    opt = baseline_optimizer()(model.parameters())
    assert isinstance(opt, torch.optim.Adam) and opt.param_groups[0]["lr"] == BASELINE["fast"]["lr"]
    assert opt.param_groups[0]["fused"] is True  # one kernel for the whole update on the CPU
    adamw = baseline_optimizer(weight_decay=1e-2)(model.parameters())
    assert isinstance(adamw, torch.optim.AdamW) and all(g["fused"] is True for g in adamw.param_groups)
    decayed, kept = adamw.param_groups
    assert decayed["weight_decay"] == 1e-2 and all(p.ndim == 2 for p in decayed["params"])
    assert kept["weight_decay"] == 0.0 and all(p.ndim == 1 for p in kept["params"])  # biases do not decay
    assert len(decayed["params"]) + len(kept["params"]) == len(list(model.parameters()))
    with pytest.raises(ValueError, match="weight_decay must be a real number"):
        baseline_optimizer(weight_decay=-1.0)


def test_baseline_model_with_other_widths():
    d = load_baseline(seed=0)
    g = torch.Generator().manual_seed(3)
    model = baseline_model(d, hidden=[16, 16], generator=g)
    assert count_parameters(model) == 65 * 16 + 17 * 16 + 17 * 10
    with pytest.raises(TypeError, match=r"for one hidden layer write \[16\]"):
        baseline_model(d, hidden=16)


def test_baseline_optimizer_fused_matches_the_default_update():
    """The fused kernel computes Adam's rule: a few steps agree with PyTorch's per-parameter loop."""
    d = load_baseline(seed=0)
    for weight_decay in (0.0, 1e-2):
        fused_model, loop_model = (baseline_model(d, generator=torch.Generator().manual_seed(1)) for _ in range(2))
        fused = baseline_optimizer(weight_decay=weight_decay)(fused_model.parameters())
        params = list(loop_model.parameters())
        if weight_decay:
            loop = torch.optim.AdamW([{"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay},
                                      {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}],
                                     lr=BASELINE["fast"]["lr"], foreach=False)
        else:
            loop = torch.optim.Adam(params, lr=BASELINE["fast"]["lr"], foreach=False)
        for _ in range(5):
            for model, opt in ((fused_model, fused), (loop_model, loop)):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(model(d.train.x[:50]), d.train.y[:50]).backward()
                opt.step()
        moved = sum((p - q).abs().sum() for p, q in zip(fused_model.parameters(), baseline_model(
            d, generator=torch.Generator().manual_seed(1)).parameters()))
        assert moved > 0.1  # the steps did something
        for p, q in zip(fused_model.parameters(), loop_model.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
