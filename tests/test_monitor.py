"""course_lib.monitor: histograms match the tensors, the update/weight ratio is ‖ΔW‖/‖W‖, hooks are removed (also
when training raises), and the TensorBoard event files read back with TensorBoard's own reader."""

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from course_lib import fit
from course_lib.monitor import TrainingMonitor, histogram, read_events, run_dir, update_ratio
from course_lib.training import Callback


def _task(device, n=96):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 5, generator=g)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    torch.manual_seed(0)
    model.apply(lambda m: m.reset_parameters() if isinstance(m, nn.Linear) else None)
    return model.to(device), (x.to(device), y.to(device))


def _hook_count(model):
    return sum(len(m._forward_hooks) for m in model.modules())


def test_histogram_matches_torch_histogram_and_counts_every_entry(device):
    v = torch.randn(7, 13, generator=torch.Generator().manual_seed(1)).to(device)
    counts, edges = histogram(v, bins=11)
    ref_counts, ref_edges = torch.histogram(v.cpu().double().reshape(-1), bins=11)
    assert torch.equal(counts, ref_counts) and torch.allclose(edges, ref_edges)
    assert counts.sum().item() == v.numel() and len(edges) == 12
    assert edges[0].item() == v.min().item() and edges[-1].item() == pytest.approx(v.max().item())
    c, e = histogram(torch.full((4,), 2.0), bins=3)
    assert c.sum().item() == 4 and e[0].item() == 1.5 and e[-1].item() == 2.5


def test_update_ratio_is_the_norm_of_the_step_over_the_norm_of_the_weight():
    w = torch.tensor([[3.0, 4.0]])
    assert update_ratio(w, w + torch.tensor([[0.0, 0.005]])) == pytest.approx(0.001, rel=1e-4)
    assert update_ratio(torch.zeros(2), torch.ones(2)) == math.inf


def test_ratio_equals_lr_times_grad_norm_over_weight_norm_for_plain_sgd(device):
    model, data = _task(device)
    mon = TrainingMonitor()
    grads = {}

    class Grab(Callback):
        def on_after_backward(self, state):
            grads[state.step + 1] = (model[0].weight.grad.norm() / model[0].weight.detach().norm()).item()

    lr = 0.05
    fit(model, data, epochs=2, lr=lr, batch_size=32, seed=0, callbacks=[Grab(), mon], progress=False)
    assert len(mon.ratios["0"]) == len(mon.ratio_steps) == 6 == len(grads)
    for step, r in zip(mon.ratio_steps, mon.ratios["0"]):
        assert r == pytest.approx(lr * grads[step], rel=1e-4)


def test_histograms_match_the_tensors_at_the_right_moments(device):
    model, data = _task(device)
    seen = {}

    class Grab(Callback):
        def on_after_backward(self, state):
            if state.epoch not in seen:
                seen[state.epoch] = (model[1](model[0](state.batch[0])).detach().clone(),
                                     model[2].weight.grad.detach().clone())

        def on_epoch_end(self, state):
            seen[state.epoch] += (model[2].weight.detach().clone(),)

    start = model[2].weight.detach().clone()
    mon = TrainingMonitor(bins=7)
    fit(model, data, epochs=3, lr=0.1, batch_size=32, seed=0, callbacks=[mon, Grab()], progress=False)
    assert [h.epoch for h in mon.weights["2"]] == [0, 1, 2, 3]
    assert torch.equal(mon.weights["2"][0].counts, histogram(start, 7)[0])
    for k, epoch in enumerate((1, 2, 3)):
        act, grad, weight = seen[epoch]
        # the monitor records the first batch's forward pass; Grab recomputes it after backward, before the step
        assert torch.equal(mon.activations["1"][k].counts, histogram(act, 7)[0])
        assert torch.equal(mon.gradients["2"][k].counts, histogram(grad, 7)[0])
        assert torch.equal(mon.weights["2"][k + 1].counts, histogram(weight, 7)[0])
        assert mon.activations["1"][k].counts.sum().item() == act.numel()


def test_every_skips_epochs():
    model, data = _task("cpu")
    mon = TrainingMonitor(every=2)
    fit(model, data, epochs=5, lr=0.1, batch_size=32, seed=0, callbacks=[mon], progress=False)
    assert [h.epoch for h in mon.gradients["0"]] == [1, 3, 5]
    assert len(mon.ratios["0"]) == 15


def test_hooks_are_removed_after_fit_and_when_training_raises():
    model, data = _task("cpu")
    mon = TrainingMonitor()
    fit(model, data, epochs=1, lr=0.1, batch_size=32, seed=0, callbacks=[mon], progress=False)
    assert _hook_count(model) == 0 and mon.handles == []

    class Boom(Callback):
        def on_step_end(self, state):
            if state.step == 2:
                raise RuntimeError("boom")

    mon = TrainingMonitor()
    with pytest.raises(RuntimeError, match="boom"):
        fit(model, data, epochs=2, lr=0.1, batch_size=32, seed=0, callbacks=[mon, Boom()], progress=False)
    assert _hook_count(model) == 0 and mon.handles == [] and mon.writer is None


def test_tensorboard_events_read_back_with_tensorboards_reader(tmp_path):
    model, data = _task("cpu")
    log = run_dir("unit", root=tmp_path)
    mon = TrainingMonitor(bins=9, log_dir=log)
    fit(model, data, data, epochs=2, lr=0.1, batch_size=32, seed=0, callbacks=[mon], progress=False)
    assert mon.writer is None and any(log.iterdir())
    ev = read_events(log)
    assert {"weight/0", "gradient/2", "activation/1"} <= set(ev["histograms"])
    steps = [s for s, _, _ in ev["histograms"]["weight/0"]]
    assert steps == [0, 1, 2]
    for (step, limits, counts), h in zip(ev["histograms"]["gradient/2"], mon.gradients["2"]):
        assert step == h.epoch and counts == h.counts.tolist()
        assert limits == pytest.approx(h.edges[1:].tolist())
    ratios = ev["scalars"]["update_ratio/0"]
    assert [s for s, _ in ratios] == mon.ratio_steps
    assert [v for _, v in ratios] == pytest.approx(mon.ratios["0"], rel=1e-6)
    assert [s for s, _ in ev["scalars"]["loss/val"]] == [1, 2]
    # clear=True empties the folder: a second run leaves one run's events only
    mon = TrainingMonitor(log_dir=log, clear=True)
    fit(model, data, epochs=1, lr=0.1, batch_size=32, seed=0, callbacks=[mon], progress=False)
    assert [s for s, _, _ in read_events(log)["histograms"]["weight/0"]] == [0, 1]


def test_median_ratio():
    model, data = _task("cpu")
    mon = TrainingMonitor()
    fit(model, data, epochs=1, lr=0.1, batch_size=32, seed=0, callbacks=[mon], progress=False)
    med = mon.median_ratio()
    assert med["0"] == pytest.approx(sorted(mon.ratios["0"])[1])


def test_bad_input():
    with pytest.raises(TypeError, match="values must be a torch.Tensor"):
        histogram([1, 2])
    with pytest.raises(ValueError, match="bins must be"):
        histogram(torch.ones(2), bins=0)
    with pytest.raises(ValueError, match="at least one entry"):
        histogram(torch.ones(0))
    with pytest.raises(ValueError, match="must be finite"):
        histogram(torch.tensor([1.0, math.nan]))
    with pytest.raises(ValueError, match="same shape"):
        update_ratio(torch.ones(2), torch.ones(3))
    with pytest.raises(TypeError, match="before must be a torch.Tensor"):
        update_ratio(1.0, torch.ones(1))
    with pytest.raises(ValueError, match="every must be"):
        TrainingMonitor(every=0)
    with pytest.raises(TypeError, match="weight_types must be a tuple"):
        TrainingMonitor(weight_types=("Linear",))
    with pytest.raises(TypeError, match="log_dir must be a folder"):
        TrainingMonitor(log_dir=3)
    with pytest.raises(ValueError, match="name must be a non-empty relative"):
        run_dir("../x")
    with pytest.raises(ValueError, match="existing folder"):
        read_events("/nonexistent/folder")
    with pytest.raises(ValueError, match="no layer the monitor watches"):
        TrainingMonitor().on_fit_start(SimpleNamespace(model=nn.Sequential(nn.Bilinear(2, 2, 2)), step=0))
