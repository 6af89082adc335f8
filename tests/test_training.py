import math

import pytest
import torch
from torch import nn

from course_lib.data import DeviceLoader, Split, load_dataset
from course_lib.models import mlp
from course_lib.training import (Callback, History, LambdaCallback, SchedulerCallback, accuracy, evaluate, fit,
                                 predict)


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_samples=400)


def test_fit_learns_and_records_history(moons, device):
    model = mlp(2, [32], 2)
    h = fit(model, moons.train, moons.val, epochs=30, lr=0.5, seed=0, device=device)
    assert len(h) == 30 and h.epoch == list(range(1, 31))
    assert h.train_loss[-1] < 0.6 * h.train_loss[0]
    assert h.val_acc[-1] > 0.8 and all(lr == 0.5 for lr in h.lr)
    assert next(model.parameters()).device.type == device.type
    assert h.best_epoch("val_acc") in h.epoch and "30 epochs" in repr(h)


def test_fit_equals_a_hand_written_loop(moons):
    """One epoch of fit is exactly: shuffle with the generator, zero_grad, loss, backward, step."""
    torch.manual_seed(0)
    model = mlp(2, [16], 2)
    ref = mlp(2, [16], 2)
    ref.load_state_dict(model.state_dict())
    fit(model, moons.train, epochs=3, lr=0.1, batch_size=32, seed=5)
    g = torch.Generator().manual_seed(5)
    opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    x, y = moons.train
    for _ in range(3):
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), 32):
            idx = order[i:i + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(ref(x[idx]), y[idx]).backward()
            opt.step()
    for p, q in zip(model.parameters(), ref.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_same_seed_same_history(moons):
    runs = []
    for _ in range(2):
        torch.manual_seed(1)
        runs.append(fit(mlp(2, [16], 2, dropout=0.2), moons.train, moons.val, epochs=4, seed=3).to_dict())
    assert runs[0] == runs[1]
    torch.manual_seed(1)
    other = fit(mlp(2, [16], 2, dropout=0.2), moons.train, moons.val, epochs=4, seed=4).to_dict()
    assert other["train_loss"] != runs[0]["train_loss"]


def test_regression_uses_mse_and_reports_nan_accuracy():
    d = load_dataset("poly", n_samples=200)
    h = fit(mlp(1, [32], 1, activation="tanh"), d.train, d.val, epochs=30, lr=0.05, seed=0)
    assert h.val_loss[-1] < h.val_loss[0] and math.isnan(h.train_acc[-1]) and math.isnan(h.val_acc[-1])


def test_fit_accepts_a_dataloader_and_an_optimizer_factory(moons):
    ds = torch.utils.data.TensorDataset(moons.train.x, moons.train.y)
    loader = torch.utils.data.DataLoader(ds, batch_size=50, shuffle=True, generator=torch.Generator().manual_seed(0))
    h = fit(mlp(2, [32], 2), loader, (moons.val.x, moons.val.y), epochs=20,
            optimizer=lambda params: torch.optim.Adam(params, lr=0.01))
    assert len(h) == 20 and h.val_acc[-1] > 0.8


def test_eval_train_records_eval_mode_metrics(moons):
    torch.manual_seed(0)
    model = mlp(2, [64], 2, dropout=0.5)
    h = fit(model, moons.train, epochs=3, seed=0, eval_train=True)
    m = evaluate(model, moons.train)
    assert h.train_loss[-1] == pytest.approx(m["loss"], rel=1e-5) and h.train_acc[-1] == pytest.approx(m["acc"])


def test_callback_hooks_run_in_order_and_can_stop(moons):
    calls = []

    class Recorder(Callback):
        def on_fit_start(self, s): calls.append("fit_start")
        def on_epoch_start(self, s): calls.append("epoch_start")
        def on_after_backward(self, s):
            assert all(p.grad is not None for p in s.model.parameters())
            calls.append("backward")
        def on_step_end(self, s):
            calls.append("step")
            s.stop = s.step == 3
        def on_epoch_end(self, s): calls.append(f"epoch_end {s.epoch}")
        def on_fit_end(self, s): calls.append("fit_end")

    h = fit(mlp(2, [4], 2), moons.train, epochs=5, batch_size=100, callbacks=[Recorder()], seed=0)
    assert calls == ["fit_start", "epoch_start", "backward", "step", "backward", "step", "backward", "step",
                     "epoch_end 1", "fit_end"]
    assert len(h) == 1


def test_extra_loss_is_added_before_backward(moons):
    """A penalty of c·sum(w) adds exactly c to each weight's gradient."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 2))
    c = 0.25
    grads = {}

    def penalty(state):
        return c * state.model[0].weight.sum()

    def record(state):
        grads["with"] = state.model[0].weight.grad.clone()
        x, y = state.batch
        w = state.model[0].weight
        g_data, = torch.autograd.grad(nn.functional.cross_entropy(state.model(x), y), w)
        grads["data"] = g_data

    fit(model, moons.train, epochs=1, batch_size=1000, seed=0, optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
        callbacks=[LambdaCallback(extra_loss=penalty, on_after_backward=record)])
    assert torch.allclose(grads["with"], grads["data"] + c, atol=1e-6)


def test_scheduler_callback_steps_per_epoch_and_per_step(moons):
    model = mlp(2, [4], 2)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    h = fit(model, moons.train, epochs=3, optimizer=opt, callbacks=[SchedulerCallback(sched)], seed=0)
    assert h.lr == [1.0, 0.5, 0.25]
    opt2 = torch.optim.SGD(model.parameters(), lr=1.0)
    sched2 = torch.optim.lr_scheduler.ExponentialLR(opt2, gamma=0.9)
    fit(model, moons.train, epochs=1, batch_size=100, optimizer=opt2, callbacks=[SchedulerCallback(sched2, "step")])
    steps = -(-len(moons.train) // 100)
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.9 ** steps)
    opt3 = torch.optim.SGD(model.parameters(), lr=1.0)
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt3, patience=0, factor=0.1)
    with pytest.raises(ValueError, match="ReduceLROnPlateau needs 'val_loss'"):
        fit(model, moons.train, epochs=1, optimizer=opt3, callbacks=[SchedulerCallback(plateau)])
    with pytest.raises(ValueError, match="interval must be 'epoch' or 'step'"):
        SchedulerCallback(sched, interval="batch")


def test_evaluate_and_predict_restore_the_mode(moons, device):
    model = mlp(2, [8], 2, dropout=0.5).to(device)
    model.train()
    m = evaluate(model, moons.test)
    assert model.training and 0.0 <= m["acc"] <= 1.0 and m["loss"] > 0
    out = predict(model, moons.test.x)
    assert model.training and out.shape == (len(moons.test), 2)
    assert torch.allclose(accuracy(out.cpu(), moons.test.y), torch.tensor(m["acc"]), atol=1e-6)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("train, error, message", [
    ((torch.randn(10, 2), torch.zeros(9, dtype=torch.long)), ValueError, "x has 10 .* y has 9"),
    ((torch.randn(0, 2), torch.zeros(0, dtype=torch.long)), ValueError, "training data is empty"),
    (torch.randn(10, 2), TypeError, "expected \\(x, y\\), got a single tensor"),
    (42, TypeError, "training data must be a Split"),
    ((torch.randn(10, 2), torch.full((10,), 5)), ValueError, "labels must lie in 0..1 .* labels from 5 to 5"),
    ((torch.randn(10, 2), torch.zeros(10, 1, dtype=torch.long)), ValueError, "class labels must have shape \\(N,\\)"),
    ((torch.randn(10, 3), torch.zeros(10, dtype=torch.long)), RuntimeError, "mat1 and mat2 shapes cannot be multiplied"),
])
def test_fit_bad_data(train, error, message):
    with pytest.raises(error, match=message):
        fit(mlp(2, [4], 2), train, epochs=1)


def test_fit_regression_shape_mismatch():
    x, y = torch.randn(10, 1), torch.randn(10)
    with pytest.raises(ValueError, match=r"regression output shape \(10, 1\) differs from target shape \(10,\)"):
        fit(mlp(1, [4], 1), (x, y), epochs=1)


def test_fit_bad_arguments(moons):
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        fit("model", moons.train)
    with pytest.raises(ValueError, match="epochs must be a non-negative int"):
        fit(mlp(2, [4], 2), moons.train, epochs=-1)
    with pytest.raises(ValueError, match="learning rate must be positive"):
        fit(mlp(2, [4], 2), moons.train, lr=0.0)
    with pytest.raises(TypeError, match="optimizer must be"):
        fit(mlp(2, [4], 2), moons.train, optimizer="adam")
    with pytest.raises(TypeError, match="callbacks must be Callback instances"):
        fit(mlp(2, [4], 2), moons.train, callbacks=[print])
    with pytest.raises(TypeError, match="pass one split"):
        fit(mlp(2, [4], 2), moons)
    with pytest.raises(ValueError, match="validation data is empty"):
        fit(mlp(2, [4], 2), moons.train, (torch.zeros(0, 2), torch.zeros(0, dtype=torch.long)))
    with pytest.raises(TypeError, match="unknown hooks"):
        LambdaCallback(on_batch=print)


def test_history_api():
    h = History()
    with pytest.raises(ValueError, match="empty"):
        h.last("val_loss")
    h.append(1, train_loss=1.0, val_loss=0.9, val_acc=0.5)
    h.append(2, train_loss=0.5, val_loss=1.1, val_acc=0.6)
    assert h.best_epoch("val_loss") == 1 and h.best_epoch("val_acc") == 2 and h.last("train_loss") == 0.5
    assert math.isnan(h.train_acc[0])
    with pytest.raises(ValueError, match="no recorded values of 'train_acc'"):
        h.best_epoch("train_acc")
    with pytest.raises(KeyError, match="unknown metric"):
        h.best_epoch("f1")
    with pytest.raises(KeyError, match="unknown history fields"):
        h.append(3, f1=0.3)


def test_device_loader_used_directly(moons):
    loader = DeviceLoader(*moons.train, batch_size=64, generator=torch.Generator().manual_seed(0))
    h = fit(mlp(2, [16], 2), loader, Split(*moons.val), epochs=2, lr=0.5)
    assert len(h) == 2
