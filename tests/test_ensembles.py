"""course_lib.ensembles: the average against the members' softmax (forward and backward, every device),
snapshots at exactly the cycle ends of a warm-restart schedule, and every bad input with its message."""

import pytest
import torch
from torch import nn

from course_lib import fit
from course_lib.data import Split
from course_lib.ensembles import Ensemble, SnapshotCallback, cycle_ends, ensemble_probs, log_loss
from course_lib.schedules import CosineAnnealingWarmRestarts, SchedulerCallback, StepLR
from course_lib.training import LambdaCallback


def _members(k=3, classes=4, features=5, seed=0, dropout=0.0):
    g = torch.Generator().manual_seed(seed)
    nets = []
    for _ in range(k):
        net = nn.Sequential(nn.Linear(features, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, classes))
        for p in net.parameters():
            p.data = torch.randn(p.shape, generator=g)
        nets.append(net)
    return nets


def _reference(members, x):
    return torch.stack([m(x).softmax(dim=1) for m in members]).mean(dim=0)


def test_ensemble_forward_and_backward_equal_mean_of_softmax(device):
    members = [m.to(device) for m in _members()]
    copies = [m for m in _members()]
    copies = [m.to(device) for m in copies]
    x = torch.randn(7, 5, device=device)
    ens = Ensemble(members)
    out = ens(x)
    ref = _reference(copies, x)
    torch.testing.assert_close(out, ref)
    assert out.device.type == device.type
    torch.testing.assert_close(out.sum(1), torch.ones(7, device=device))
    w = torch.randn(7, 4, device=device)
    (out * w).sum().backward()
    (ref * w).sum().backward()
    for a, b in zip(members, copies):
        for pa, pb in zip(a.parameters(), b.parameters()):
            torch.testing.assert_close(pa.grad, pb.grad)


def test_log_probs_output_gives_the_log_loss_through_cross_entropy(device):
    members = [m.to(device) for m in _members()]
    x, y = torch.randn(9, 5, device=device), torch.randint(0, 4, (9,), device=device)
    ens = Ensemble(members, output="log_probs")
    torch.testing.assert_close(ens(x), Ensemble(members)(x).log())
    ce = nn.functional.cross_entropy(ens(x), y).item()
    assert ce == pytest.approx(log_loss(Ensemble(members)(x).detach(), y), rel=1e-5)


def test_ensemble_probs_matches_module_in_eval_mode_and_restores_modes(device):
    members = [m.to(device) for m in _members(dropout=0.5)]
    for m in members:
        m.train()
    x = torch.randn(6, 5, device=device)
    probs = ensemble_probs(members, x)
    assert all(m.training for m in members)           # modes restored
    with torch.no_grad():
        ref = _reference([m.eval() for m in members], x)
    torch.testing.assert_close(probs, ref)
    assert probs.device.type == device.type


def test_ensemble_probs_moves_cpu_members_to_the_data_device(device):
    members = _members()
    x = torch.randn(4, 5, device=device)
    probs = ensemble_probs(members, x)
    assert probs.device.type == device.type
    assert all(next(m.parameters()).device.type == device.type for m in members)
    probs_cpu = ensemble_probs(members, x, device="cpu")
    assert probs_cpu.device.type == "cpu"


def test_one_member_is_its_softmax_and_identical_members_change_nothing():
    m = _members(1)[0]
    x = torch.randn(5, 5)
    torch.testing.assert_close(Ensemble([m])(x), m(x).softmax(1))
    torch.testing.assert_close(Ensemble([m, m, m])(x), m(x).softmax(1))


def test_jensen_ensemble_log_loss_at_most_the_mean_member_log_loss():
    members = _members(5)
    x, y = torch.randn(200, 5), torch.randint(0, 4, (200,))
    with torch.no_grad():
        ens = log_loss(ensemble_probs(members, x), y)
        mean_member = sum(log_loss(m(x).softmax(1), y) for m in members) / 5
    assert ens <= mean_member


def test_log_loss_against_nll_loss():
    logits, y = torch.randn(10, 3), torch.randint(0, 3, (10,))
    expected = nn.functional.cross_entropy(logits, y).item()
    assert log_loss(logits.softmax(1), y) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("members, exc, match", [
    ([], ValueError, "members is empty"),
    (nn.Linear(2, 2), TypeError, "members must be a list of nn.Module"),
    ([nn.Linear(2, 2), "net"], TypeError, r"members\[1\] must be an nn.Module, got str"),
    (3, TypeError, "members must be a list"),
])
def test_bad_members(members, exc, match):
    with pytest.raises(exc, match=match):
        Ensemble(members)
    with pytest.raises(exc, match=match):
        ensemble_probs(members, torch.randn(2, 2))


def test_members_with_different_numbers_of_classes():
    members = [nn.Linear(5, 3), nn.Linear(5, 4)]
    with pytest.raises(ValueError, match=r"disagree on the number of classes: members\[0\] gives shape \(2, 3\), "
                                         r"members\[1\] gives \(2, 4\)"):
        Ensemble(members)(torch.randn(2, 5))
    with pytest.raises(ValueError, match="disagree on the number of classes"):
        ensemble_probs(members, torch.randn(2, 5))


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="output must be one of"):
        Ensemble(_members(), output="logits")
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        Ensemble(_members())([[1.0] * 5])
    with pytest.raises(ValueError, match=r"logits of shape \(N, classes\)"):
        Ensemble([nn.Flatten(0)])(torch.randn(2, 3))
    with pytest.raises(ValueError, match="probs rows must be probabilities"):
        log_loss(torch.randn(3, 2), torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match="one label per row"):
        log_loss(torch.full((3, 2), 0.5), torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="y must be an integer tensor"):
        log_loss(torch.full((3, 2), 0.5), torch.zeros(3))


def test_cycle_ends():
    assert cycle_ends(3, epochs=10) == [3, 6, 9]
    assert cycle_ends(2, 2, epochs=14) == [2, 6, 14]
    assert cycle_ends(2, 2, count=4) == [2, 6, 14, 30]
    assert cycle_ends(5, epochs=2) == []
    assert cycle_ends(1, epochs=3, count=2) == [1, 2]
    with pytest.raises(ValueError, match="needs epochs"):
        cycle_ends(3)
    with pytest.raises(ValueError, match="T_0 must be"):
        cycle_ends(0, epochs=4)
    with pytest.raises(TypeError, match="T_mult must be"):
        cycle_ends(2, 1.5, epochs=4)


def _snapshot_run(device, epochs, T_0, T_mult=1, include_last=False):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 5, generator=g).to(device)
    y = (x[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    sched = CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult)
    snap = SnapshotCallback(sched, include_last=include_last)
    seen = {}
    record = LambdaCallback(on_epoch_end=lambda s: seen.__setitem__(
        len(s.history), {k: v.detach().clone() for k, v in s.model.state_dict().items()}))
    lrs = []
    fit(model, Split(x, y), epochs=epochs, optimizer=opt, batch_size=16, seed=0, progress=False,
        callbacks=[SchedulerCallback(sched), snap, record,
                   LambdaCallback(on_epoch_start=lambda s: lrs.append(opt.param_groups[0]["lr"]))])
    return snap, seen, lrs


@pytest.mark.parametrize("epochs, T_0, T_mult, expected", [(12, 3, 1, [3, 6, 9, 12]), (13, 3, 1, [3, 6, 9, 12]),
                                                           (15, 2, 2, [2, 6, 14]), (2, 4, 1, [])])
def test_snapshots_at_exactly_the_cycle_ends(device, epochs, T_0, T_mult, expected):
    snap, seen, lrs = _snapshot_run(device, epochs, T_0, T_mult)
    assert snap.epochs == expected
    assert len(snap.snapshots) == len(expected)
    for e in expected:                      # the epoch after a cycle end starts at the full rate again
        if e < epochs:
            assert lrs[e] == pytest.approx(0.2) and lrs[e - 1] < 0.2
    for e, s in zip(expected, snap.snapshots):
        assert not s.training
        assert s.state_dict().keys() == seen[e].keys()
        for k, v in s.state_dict().items():
            torch.testing.assert_close(v, seen[e][k], rtol=0, atol=0)
            assert v.device.type == device.type
    for a, b in zip(snap.snapshots, snap.snapshots[1:]):
        assert not torch.equal(a[0].weight, b[0].weight)


def test_snapshots_are_copies_and_make_an_ensemble(device):
    snap, _, _ = _snapshot_run(device, 6, 2)
    w = snap.snapshots[0][0].weight.clone()
    snap.snapshots[1][0].weight.data.add_(1.0)
    torch.testing.assert_close(snap.snapshots[0][0].weight, w)
    ens = snap.ensemble()
    assert isinstance(ens, Ensemble) and len(ens.members) == 3
    x = torch.randn(4, 5, device=device)
    torch.testing.assert_close(ens(x), _reference(snap.snapshots, x))


def test_include_last_keeps_a_capped_run():
    snap, _, _ = _snapshot_run("cpu", 2, 4, include_last=True)
    assert snap.epochs == [2]
    snap, _, _ = _snapshot_run("cpu", 8, 4, include_last=True)
    assert snap.epochs == [4, 8]                  # the last epoch is a cycle end: not taken twice


def test_snapshot_bad_input():
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="scheduler must be a warm-restart schedule.*got StepLR"):
        SnapshotCallback(StepLR(opt, 3))
    with pytest.raises(TypeError, match="scheduler must be a warm-restart schedule.*got str"):
        SnapshotCallback("cosine")
    with pytest.raises(TypeError, match="include_last must be a bool"):
        SnapshotCallback(CosineAnnealingWarmRestarts(opt, 2), include_last=1)
    sched = CosineAnnealingWarmRestarts(opt, 2)
    snap = SnapshotCallback(sched)
    with pytest.raises(ValueError, match="no snapshots were taken"):
        snap.ensemble()
    x, y = torch.randn(8, 2), torch.randint(0, 2, (8,))
    other = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="different optimizer"):
        fit(model, Split(x, y), epochs=1, optimizer=other, progress=False, callbacks=[snap])
    sched.step()
    with pytest.raises(ValueError, match="must start fresh.*last_epoch 1"):
        fit(model, Split(x, y), epochs=1, optimizer=opt, progress=False, callbacks=[snap])
