import math

import pytest
import torch
from torch import nn

from course_lib.data import DeviceLoader, Split, load_dataset
from course_lib.models import mlp
from course_lib.schedules import SchedulerCallback
from course_lib.training import (Accumulator, Callback, DivergenceWarning, History, LambdaCallback, evaluate, fit,
                                 predict, train_epoch)


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


def test_fit_builds_an_optimizer_class_at_lr_and_refuses_an_lr_it_would_ignore(moons):
    model = mlp(2, [4], 2)
    fit(model, moons.train, epochs=1, optimizer=torch.optim.Adam, lr=0.02, seed=0, progress=False)
    h = fit(model, moons.train, epochs=1, optimizer=torch.optim.Adam, seed=0, progress=False)   # the class's default
    assert h.lr == [1e-3]
    h = fit(model, moons.train, epochs=1, optimizer=torch.optim.Adam, lr=0.02, seed=0, progress=False)
    assert h.lr == [0.02]
    assert fit(model, moons.train, epochs=1, seed=0, progress=False).lr == [0.1]        # plain SGD's default
    with pytest.raises(ValueError, match=r"lr=0.02 would be ignored: the optimizer given \(Adam"):
        fit(model, moons.train, optimizer=torch.optim.Adam(model.parameters(), lr=1e-3), lr=0.02)
    with pytest.raises(ValueError, match=r"lr=0.5 would be ignored: the optimizer given \(function"):
        fit(model, moons.train, optimizer=lambda p: torch.optim.SGD(p, lr=0.1), lr=0.5)
    with pytest.raises(ValueError, match="lr must be"):
        fit(model, moons.train, optimizer=torch.optim.Adam, lr=-1.0)


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


def test_on_exception_runs_instead_of_on_fit_end_when_training_raises(moons):
    calls = []

    class Aborts(Callback):
        def on_epoch_end(self, s):
            if s.epoch == 2:
                raise KeyError("stop here")
        def on_fit_end(self, s): calls.append("fit_end")
        def on_exception(self, s, exc): calls.append(("exception", s.epoch, type(exc).__name__))

    seen = []
    with pytest.raises(KeyError, match="stop here"):
        fit(mlp(2, [4], 2), moons.train, epochs=5, batch_size=100, seed=0,
            callbacks=[Aborts(), LambdaCallback(on_exception=lambda s, exc: seen.append(str(exc)))])
    assert calls == [("exception", 2, "KeyError")]
    assert seen == ["'stop here'"]


def test_a_failing_on_exception_warns_and_keeps_the_original_error(moons):
    class Aborts(Callback):
        def on_fit_start(self, s): raise ValueError("original")
        def on_exception(self, s, exc): raise RuntimeError("clean-up failed")

    with pytest.warns(RuntimeWarning, match="on_exception raised RuntimeError"), pytest.raises(ValueError, match="original"):
        fit(mlp(2, [4], 2), moons.train, epochs=1, seed=0, callbacks=[Aborts()])


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
    with pytest.raises(ValueError, match="interval must be one of 'epoch', 'step', got 'batch'"):
        SchedulerCallback(sched, interval="batch")


def test_evaluate_and_predict_restore_the_mode(moons, device):
    model = mlp(2, [8], 2, dropout=0.5).to(device)
    model.train()
    m = evaluate(model, moons.test)
    assert model.training and 0.0 <= m["acc"] <= 1.0 and m["loss"] > 0
    out = predict(model, moons.test.x)
    assert model.training and out.shape == (len(moons.test), 2)
    assert (out.argmax(1).cpu() == moons.test.y).float().mean().item() == pytest.approx(m["acc"])


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("train, error, message", [
    ((torch.randn(10, 2), torch.zeros(9, dtype=torch.long)), ValueError, r"x and y disagree on the number of samples: x has shape \(10, 2\), y has shape \(9,\)"),
    ((torch.randn(0, 2), torch.zeros(0, dtype=torch.long)), ValueError, "training data is empty"),
    (torch.randn(10, 2), TypeError, "expected \\(x, y\\), got a single array of shape \\(10, 2\\)"),
    (42, TypeError, "training data must be a Split"),
    ((torch.randn(10, 2), torch.full((10,), 5)), ValueError, "labels must lie in 0..1 .* labels from 5 to 5"),
    ((torch.randn(10, 2), torch.zeros(10, 1, dtype=torch.long)), ValueError, "class labels must have shape \\(N,\\)"),
    ((torch.randn(10, 3), torch.zeros(10, dtype=torch.long)), ValueError, "cannot take inputs of shape \\(3,\\)"),
    ((torch.randn(10, 2), torch.rand(10)), TypeError, "class labels must be integer class indices 0..1 .*y.long"),
    ((torch.randn(10, 2).double(), torch.zeros(10, dtype=torch.long)), TypeError, "inputs have dtype torch.float64 but the model.s parameters are torch.float32"),
    ((torch.randn(10, 2), torch.zeros(10, dtype=torch.bool)), TypeError, "integer class indices, got dtype torch.bool"),
    ((torch.tensor([[0.0, 1.0], [float("nan"), 0.0]]), torch.zeros(2, dtype=torch.long)), ValueError,
     "inputs x contains 1 non-finite value \\(NaN; first at index \\(1, 0\\)\\)"),
    ((torch.tensor([[0.0, 1.0], [float("inf"), 0.0]]), torch.zeros(2, dtype=torch.long)), ValueError, "inf"),
    ((torch.randn(4, 2), torch.zeros(4, dtype=torch.long), torch.zeros(4)), TypeError, "must be \\(x, y\\) with two"),
    ((torch.randn(4, 2), [0, 1, 0, 1]), TypeError, r"tuple must be \(x, y\) with two tensors .*'Tensor', 'list'"),
])
def test_fit_bad_data(train, error, message):
    with pytest.raises(error, match=message):
        fit(mlp(2, [4], 2), train, epochs=1)


def test_fit_regression_shape_mismatch():
    x, y = torch.randn(10, 1), torch.randn(10)
    with pytest.raises(ValueError, match=r"regression output shape \(N, 1\) differs from target shape \(N,\)"):
        fit(mlp(1, [4], 1), (x, y), epochs=1)


def test_fit_bad_arguments(moons):
    with pytest.raises(TypeError, match="model must be an nn.Module"):
        fit("model", moons.train)
    with pytest.raises(ValueError, match=r"epochs must be an int in \[0, inf\), got -1"):
        fit(mlp(2, [4], 2), moons.train, epochs=-1)
    with pytest.raises(TypeError, match=r"epochs must be an int .*got float 2.0"):
        fit(mlp(2, [4], 2), moons.train, epochs=2.0)
    with pytest.raises(ValueError, match=r"lr must be a real number in \(0, inf\), got 0.0"):
        fit(mlp(2, [4], 2), moons.train, lr=0.0)
    with pytest.raises(TypeError, match=r"lr must be a real number .*got str '0.1'"):
        fit(mlp(2, [4], 2), moons.train, lr="0.1")
    with pytest.raises(TypeError, match=r"batch_size must be an int .*got float 32.0"):
        fit(mlp(2, [4], 2), moons.train, batch_size=32.0)
    with pytest.raises(TypeError, match="seed must be an int"):
        fit(mlp(2, [4], 2), moons.train, seed="0")
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        fit(mlp(2, [4], 2), moons.train, generator=0)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        fit(mlp(2, [4], 2), moons.train, loss_fn="mse")
    with pytest.raises(TypeError, match="callbacks must be a list"):
        fit(mlp(2, [4], 2), moons.train, callbacks=Callback())
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


# ----------------------------------------------------------------- the loop, the accumulator, divergence
def test_train_epoch_is_the_hand_written_loop(moons):
    """train_epoch = zero_grad, forward, loss, backward, step per batch; its totals = the batch losses."""
    torch.manual_seed(0)
    model, ref = mlp(2, [16], 2), mlp(2, [16], 2)
    ref.load_state_dict(model.state_dict())
    batches = [(moons.train.x[i:i + 50], moons.train.y[i:i + 50]) for i in range(0, len(moons.train), 50)]
    totals = train_epoch(model, batches, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.2))
    opt = torch.optim.SGD(ref.parameters(), lr=0.2)
    losses, correct = [], 0
    for x, y in batches:
        opt.zero_grad()
        out = ref(x)
        loss = nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
        losses.append(loss.item() * len(y))
        correct += (out.argmax(1) == y).sum().item()
    for p, q in zip(model.parameters(), ref.parameters()):
        assert torch.equal(p, q)
    result = totals.result()
    assert result["loss"] == pytest.approx(sum(losses) / len(moons.train), rel=1e-6)
    assert result["acc"] == pytest.approx(correct / len(moons.train))
    assert totals.batches == len(batches) and totals.first_nonfinite is None


def test_fit_history_is_train_epoch_plus_evaluate(moons):
    """fit's record of an epoch is train_epoch's totals and evaluate on the validation data."""
    torch.manual_seed(0)
    model, ref = mlp(2, [16], 2), mlp(2, [16], 2)
    ref.load_state_dict(model.state_dict())
    h = fit(model, moons.train, moons.val, epochs=2, lr=0.3, batch_size=40, seed=7)
    loader = DeviceLoader(*moons.train, batch_size=40, generator=torch.Generator().manual_seed(7))
    opt = torch.optim.SGD(ref.parameters(), lr=0.3)
    for epoch in range(2):
        totals = train_epoch(ref, loader, nn.CrossEntropyLoss(), opt)
        val = evaluate(ref, moons.val)
        assert h.train_loss[epoch] == pytest.approx(totals.result()["loss"], rel=1e-6)
        assert h.train_acc[epoch] == pytest.approx(totals.result()["acc"])
        assert (h.val_loss[epoch], h.val_acc[epoch]) == pytest.approx((val["loss"], val["acc"]))


def test_accumulator_matches_evaluate_and_refuses_non_finite(moons):
    model = mlp(2, [8], 2)
    acc = Accumulator()
    for x, y in DeviceLoader(*moons.val, batch_size=7, shuffle=False):
        with torch.no_grad():
            out = model(x)
        acc.add(nn.functional.cross_entropy(out, y), out, y)
    assert acc.result() == pytest.approx(evaluate(model, moons.val))
    acc.add(torch.tensor(float("nan")), torch.zeros(3, 2), torch.zeros(3, dtype=torch.long))
    acc.add(torch.tensor(1.0), torch.zeros(3, 2), torch.zeros(3, dtype=torch.long))
    assert acc.first_nonfinite == acc.batches - 2
    result = acc.result()
    assert math.isnan(result["loss"]) and math.isnan(result["acc"])
    with pytest.raises(ValueError, match="no batches"):
        Accumulator().result()


def test_fit_stops_when_the_loss_diverges_and_says_where(moons):
    broken = {"now": False}

    def loss_that_breaks(out, y):  # finite until the callback below flips the switch
        loss = nn.functional.cross_entropy(out, y)
        return loss * float("nan") if broken["now"] else loss

    switch = LambdaCallback(on_epoch_start=lambda state: broken.update(now=state.epoch == 3))
    # 256 training samples in batches of 50: 6 steps per epoch, so step 13 is the first of epoch 3
    with pytest.warns(DivergenceWarning, match=r"epoch 3, step 13 .*lower learning rate.*clipping.*check the data"):
        h = fit(mlp(2, [8], 2), moons.train, moons.val, epochs=10, batch_size=50, seed=0, loss_fn=loss_that_breaks,
                callbacks=[switch])
    assert len(moons.train) == 256
    assert h.diverged and h.diverged_at == (3, 13)
    assert h.epoch == [1, 2] and all(math.isfinite(v) for v in h.train_loss + h.val_loss)
    assert "diverged at epoch 3, step 13" in repr(h) and h.to_dict()["diverged"] is True


def test_a_too_large_learning_rate_diverges():
    d = load_dataset("poly", n_samples=200)
    with pytest.warns(DivergenceWarning, match="became NaN or infinite at epoch"):
        h = fit(mlp(1, [64, 64], 1), d.train, d.val, epochs=20, lr=50.0, seed=0)
    assert h.diverged and len(h) == h.diverged_at[0] - 1 < 20
    assert all(math.isfinite(v) for v in h.train_loss)
    empty = History(diverged=True, diverged_at=(1, 2))
    with pytest.raises(ValueError, match=r"empty \(the run diverged at epoch 1, step 2\)"):
        empty.last("val_loss")


def test_fit_accepts_numpy_arrays(moons):
    x, y = moons.train.x.numpy().astype("float64"), moons.train.y.numpy()
    torch.manual_seed(0)
    a = fit(mlp(2, [8], 2), (x, y), (moons.val.x.numpy(), moons.val.y.numpy()), epochs=2, seed=0).to_dict()
    torch.manual_seed(0)
    b = fit(mlp(2, [8], 2), moons.train, moons.val, epochs=2, seed=0).to_dict()
    assert a == b
    m = evaluate(mlp(2, [8], 2), (moons.val.x.numpy(), moons.val.y.numpy()))
    assert 0 <= m["acc"] <= 1
    assert predict(mlp(2, [8], 2), moons.val.x.numpy()).shape == (len(moons.val), 2)


def test_batch_norm_and_a_last_batch_of_one():
    x, y = torch.randn(65, 2), torch.randint(0, 2, (65,))
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    with pytest.raises(ValueError, match=r"last training batch would hold one sample .*drop_last=True"):
        fit(model, (x, y), epochs=1, batch_size=64)
    h = fit(model, (x, y), epochs=1, batch_size=64, drop_last=True, seed=0)
    assert len(h) == 1
    batches = [(x[:64], y[:64]), (x[64:], y[64:])]
    with pytest.raises(ValueError, match="batch norm got a training batch of one sample .*drop_last=True"):
        fit(model, batches, epochs=1)


def test_the_course_batch_norm_is_refused_before_training_too():
    import copy

    from course_lib.normalization import BatchNorm1d, BatchNorm2d
    from course_lib.training import _has_batch_norm

    x, y = torch.randn(65, 2), torch.randint(0, 2, (65,))
    model = nn.Sequential(nn.Linear(2, 8), BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match=r"last training batch would hold one sample .*drop_last=True"):
        fit(model, (x, y), epochs=1, batch_size=32)                    # 32 + 32 + 1: refused up front
    for name, value in model.state_dict().items():                       # no step was taken, no statistic updated
        assert torch.equal(value, before[name]), name
    assert _has_batch_norm(nn.Sequential(nn.Conv2d(1, 2, 3), BatchNorm2d(2)))
    assert _has_batch_norm(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2)))
    assert not _has_batch_norm(nn.Sequential(nn.Linear(2, 2), nn.LayerNorm(2)))


def test_fit_refuses_an_iterator_and_bad_batches(moons):
    with pytest.raises(TypeError, match="iterator can be consumed only once"):
        fit(mlp(2, [4], 2), iter([moons.train.x, moons.train.y]), epochs=1)
    with pytest.raises(TypeError, match="each batch must be an \\(x, y\\) pair"):
        fit(mlp(2, [4], 2), [moons.train.x], epochs=1)
    bad = [(torch.full((4, 2), float("nan")), torch.zeros(4, dtype=torch.long))]
    with pytest.raises(ValueError, match="first batch.*non-finite"):
        fit(mlp(2, [4], 2), bad, epochs=1)


# ----------------------------------------------------------------- the device rule
def test_data_on_a_device_decides_where_fit_runs(moons, device):
    model = mlp(2, [8], 2)  # built on the CPU
    fit(model, moons.train.to(device), moons.val.to(device), epochs=1, seed=0)
    assert next(model.parameters()).device.type == device.type
    model.cpu()
    assert evaluate(model, moons.val.to(device))["acc"] >= 0
    assert next(model.parameters()).device.type == device.type
    model.cpu()
    out = predict(model, moons.val.x.to(device))
    assert out.device.type == device.type and next(model.parameters()).device.type == device.type


def test_explicit_device_wins_and_iterables_keep_the_models_device(moons, device):
    model = mlp(2, [8], 2)
    fit(model, moons.train, epochs=1, seed=0, device=device)  # data on the CPU, device= wins
    assert next(model.parameters()).device.type == device.type
    loader = DeviceLoader(*moons.train, batch_size=64)  # CPU batches, moved to the model's device
    fit(model, loader, epochs=1)
    assert next(model.parameters()).device.type == device.type


def test_asking_for_cuda_without_it_is_a_clear_error(moons, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for call in (lambda: fit(mlp(2, [4], 2), moons.train, epochs=1, device="cuda"),
                 lambda: evaluate(mlp(2, [4], 2), moons.val, device="cuda"),
                 lambda: predict(mlp(2, [4], 2), moons.val.x, device="cuda")):
        with pytest.raises(RuntimeError, match="CUDA is not available here; available: .*cpu"):
            call()
