"""course_lib.early_stopping: the patience algorithm on scripted sequences, inside fit(), and the link to L2."""

import math
import random

import pytest
import torch
from torch import nn

from course_lib import Split, evaluate, fit, mlp
from course_lib.early_stopping import (EarlyStopper, EarlyStopping, check_patience, equivalent_l2, gd_filter,
                                       ridge_filter)
from course_lib.training import FitState, History


def algorithm_7_1(values, patience, n=1):
    """Goodfellow et al.'s algorithm 7.1, transcribed line by line, on a scripted list of validation errors.

    Returns (i*, v, the step at which the loop ends or None if the values ran out)."""
    i, j, v, i_star = 0, 0, math.inf, 0
    it = iter(values)
    while j < patience:
        try:
            v_new = next(it)              # "run the training algorithm for n steps", then ValidationSetError
        except StopIteration:
            return i_star, v, None
        i += n
        if v_new < v:
            j, i_star, v = 0, i, v_new
        else:
            j += 1
    return i_star, v, i


def run_stopper(values, patience, n=1, **kwargs):
    stopper = EarlyStopper(patience, **kwargs)
    for k, value in enumerate(values, 1):
        if stopper.update(value, k * n):
            break
    return stopper


# ----------------------------------------------------------------- the algorithm on scripted sequences
def test_stops_after_patience_evaluations_without_improvement():
    values = [1.0, 0.8, 0.6, 0.7, 0.65, 0.5, 0.55, 0.6, 0.7, 0.4]
    s = run_stopper(values, patience=3, n=10)
    assert s.best_step == 60 and s.best == 0.5       # i* and v (two misses at 40, 50 did not use up p = 3)
    assert s.stop_step == 90 == s.best_step + 3 * 10  # three evaluations after the best
    assert s.wait == 3 and s.should_stop
    assert s.steps == [10, 20, 30, 40, 50, 60, 70, 80, 90]  # 0.4 at step 100 is never seen


def test_a_better_value_resets_the_counter():
    s = EarlyStopper(patience=2)
    assert [s.update(v, k) for k, v in enumerate([3.0, 2.0, 2.5, 1.0, 1.5], 1)] == [False] * 5
    assert s.wait == 1 and s.best == 1.0 and s.best_step == 4
    assert s.update(2.0, 6) is True and s.stop_step == 6


def test_equal_value_is_not_an_improvement():
    s = run_stopper([1.0, 1.0, 1.0], patience=2)
    assert s.best_step == 1 and s.stop_step == 3


def test_nan_counts_as_no_improvement():
    s = run_stopper([1.0, math.nan, math.nan], patience=2)
    assert s.best == 1.0 and s.best_step == 1 and s.stop_step == 3


def test_first_finite_value_is_always_an_improvement():
    s = EarlyStopper(patience=1)
    assert s.update(1e30, 1) is False and s.improved and s.best == 1e30
    s = EarlyStopper(patience=1, mode="max")
    assert s.update(-1e30, 1) is False and s.improved


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("patience", [1, 2, 5])
def test_matches_algorithm_7_1_on_random_sequences(seed, patience):
    rng = random.Random(seed)
    values = [rng.choice([rng.random(), round(rng.random(), 1)]) for _ in range(40)]  # ties included
    i_star, v, end = algorithm_7_1(values, patience, n=7)
    s = run_stopper(values, patience, n=7)
    assert (s.best_step, s.best, s.stop_step) == (i_star, v, end)
    if end is not None:
        assert end == i_star + patience * 7


def test_min_delta_ignores_small_improvements():
    values = [1.0, 0.95, 0.92, 0.90, 0.85]
    plain = run_stopper(values, patience=2)
    assert plain.best_step == 5 and plain.stop_step is None
    strict = run_stopper(values, patience=2, min_delta=0.09)  # 0.95 and 0.92 beat 1.0 by less than 0.09
    assert strict.best == 1.0 and strict.best_step == 1 and strict.stop_step == 3
    exact = run_stopper([1.0, 0.9], patience=1, min_delta=0.1)  # must beat by MORE than min_delta
    assert exact.best_step == 1 and exact.stop_step == 2
    # but an improvement of more than min_delta, measured from the best, counts
    s = run_stopper([1.0, 0.95, 0.89], patience=2, min_delta=0.1)
    assert s.best == 0.89 and s.best_step == 3


def test_max_mode_for_accuracy():
    s = run_stopper([0.5, 0.6, 0.58, 0.61, 0.61, 0.6, 0.59, 0.9], patience=3, mode="max")
    assert s.best == 0.61 and s.best_step == 4 and s.stop_step == 7   # the tie at 5 is no improvement
    s = run_stopper([0.5, 0.6, 0.58, 0.7], patience=3, mode="max")
    assert s.best == 0.7 and s.best_step == 4 and s.stop_step is None
    # with min_delta 0.1 an accuracy must rise by more than 0.1 over the best to count
    s = run_stopper([0.5, 0.55, 0.58, 0.7, 0.72, 0.75], patience=3, mode="max", min_delta=0.1)
    assert s.best == 0.7 and s.best_step == 4 and s.wait == 2 and s.stop_step is None
    s = run_stopper([0.5, 0.55, 0.58, 0.7], patience=2, mode="max", min_delta=0.1)
    assert s.best == 0.5 and s.best_step == 1 and s.stop_step == 3


def test_patience_none_is_model_selection():
    values = [3.0, 1.0, 2.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    for patience in (None, math.inf):
        s = run_stopper(values, patience=patience)
        assert s.stop_step is None and not s.should_stop
        assert s.best == 1.0 and s.best_step == 2 and s.wait == 6 and len(s.values) == len(values)


def test_tensor_values_are_accepted_and_reset_forgets():
    s = EarlyStopper(patience=1)
    s.update(torch.tensor(2.0), 1)
    assert s.best == 2.0 and isinstance(s.best, float)
    assert s.update(torch.tensor([3.0]), 2) is True
    s.reset()
    assert s.best == math.inf and s.steps == [] and s.stop_step is None and s.wait == 0
    assert "patience=1" in repr(s)


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("patience, err, match", [
    (0, ValueError, r"patience must be a positive int or None \(never stop\): the number of evaluations .*, got 0"),
    (-3, ValueError, "patience must be a positive int or None .*, got -3"),
    (math.nan, ValueError, "patience must be a positive int or None .*, got nan"),
    (-math.inf, ValueError, "patience must be a positive int or None .*, got -inf"),
    (2.5, TypeError, "patience must be a positive int or None .*whole number, got 2.5"),
    ("3", TypeError, r"patience must be a positive int or None \(never stop\), got str '3'"),
    (True, TypeError, r"patience must be a positive int or None \(never stop\), got bool True"),
])
def test_bad_patience(patience, err, match):
    with pytest.raises(err, match=match):
        EarlyStopper(patience)
    with pytest.raises(err, match=match):
        EarlyStopping(patience=patience)
    with pytest.raises(err, match=match):
        check_patience(patience)


def test_check_patience_values():
    assert check_patience(None) == math.inf and check_patience(math.inf) == math.inf
    assert check_patience(3.0) == 3 and isinstance(check_patience(3.0), int)


@pytest.mark.parametrize("min_delta, err", [(-0.1, ValueError), (math.nan, ValueError), (math.inf, ValueError),
                                            ("0.1", TypeError), (None, TypeError)])
def test_bad_min_delta(min_delta, err):
    with pytest.raises(err, match=r"min_delta must be a real number in \[0, inf\), got"):
        EarlyStopper(3, min_delta=min_delta)
    with pytest.raises(err, match=r"min_delta must be a real number in \[0, inf\), got"):
        EarlyStopping(min_delta=min_delta)


def test_bad_mode_and_monitor():
    cases = [
        (lambda: EarlyStopper(3, mode="minimize"), ValueError, "mode must be one of 'min', 'max', got 'minimize'"),
        (lambda: EarlyStopper(3, mode=min), TypeError, "mode must be one of 'min', 'max', got builtin_function_or_method"),
        (lambda: EarlyStopping(mode="lowest"), ValueError, "mode must be one of 'min', 'max', 'auto', got 'lowest'"),
        (lambda: EarlyStopping(monitor="val_error"), ValueError,
         "monitor must be one of 'val_loss', 'val_acc', got 'val_error'"),
        (lambda: EarlyStopping(monitor="train_loss"), ValueError, "monitor must be one of .*, got 'train_loss'"),
        (lambda: EarlyStopping(monitor=None), TypeError, "monitor must be one of .*, got NoneType None"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    assert EarlyStopping(monitor="VAL_ACC").stopper.mode == "max"  # names are case-insensitive


@pytest.mark.parametrize("n, err, match", [(0, ValueError, r"every_n_steps must be an int in \[1, inf\), got 0"),
                                           (-5, ValueError, r"every_n_steps must be an int in \[1, inf\), got -5"),
                                           (2.5, TypeError, "every_n_steps must be a positive int or None .*float 2.5"),
                                           (True, TypeError, "every_n_steps must be a positive int or None .*bool")])
def test_bad_every_n_steps(n, err, match):
    with pytest.raises(err, match=match):
        EarlyStopping(every_n_steps=n)


def test_bad_restore_best():
    with pytest.raises(TypeError, match="restore_best must be True or False, got str 'yes'"):
        EarlyStopping(restore_best="yes")


def test_bad_updates():
    s = EarlyStopper(2)
    with pytest.raises(TypeError, match="value must be a real number, got str '0.5'"):
        s.update("0.5", 1)
    with pytest.raises(TypeError, match="value must be a real number, got NoneType None"):
        s.is_improvement(None)
    with pytest.raises(ValueError, match=r"value must be one number, got a tensor of shape \(3,\)"):
        s.update(torch.ones(3), 1)
    with pytest.raises(TypeError, match="step must be an int .*, got float 1.5"):
        s.update(0.5, 1.5)
    with pytest.raises(ValueError, match=r"step must be an int in \[0, inf\), got -1"):
        s.update(0.5, -1)
    s.update(0.5, 10)
    with pytest.raises(ValueError, match="steps must increase.*got step 10 after step 10"):
        s.update(0.4, 10)
    s.update(0.6, 11)
    s.update(0.6, 12)
    with pytest.raises(RuntimeError, match="already ran out at step 12; call reset"):
        s.update(0.1, 13)


# ----------------------------------------------------------------- the callback, scripted
class _Scripted:
    """A FitState whose model's weight is set to a marker per evaluation and whose val metric is scripted."""

    def __init__(self):
        self.model = nn.Linear(1, 1, bias=False)
        self.state = FitState(model=self.model, optimizer=torch.optim.SGD(self.model.parameters(), lr=0.1),
                              loss_fn=nn.MSELoss(), history=History(), device=torch.device("cpu"), val=object())

    def set_weight(self, value):
        with torch.no_grad():
            self.model.weight.fill_(value)


def test_callback_epoch_mode_stops_and_restores_the_right_weights():
    sc = _Scripted()
    cb = EarlyStopping(patience=2)
    sc.set_weight(-1.0)
    cb.on_fit_start(sc.state)
    losses = [0.9, 0.7, 0.8, 0.75, 0.5]
    for epoch, loss in enumerate(losses, 1):
        sc.state.epoch = epoch
        sc.set_weight(float(epoch))                   # the weights "after epoch e" are e
        sc.state.logs = {"val_loss": loss, "val_acc": math.nan}
        cb.on_epoch_end(sc.state)
        if sc.state.stop:
            break
    assert sc.state.stop and cb.unit == "epoch"
    assert cb.best_step == 2 and cb.stop_step == 4 and cb.best_value == 0.7
    assert sc.model.weight.item() == 4.0
    cb.on_fit_end(sc.state)
    assert sc.model.weight.item() == 2.0              # θ* restored


def test_callback_step_mode_uses_state_evaluate_every_n_steps():
    sc = _Scripted()
    script = iter([{"loss": 2.0, "acc": 0.3}, {"loss": 1.0, "acc": 0.5}, {"loss": 1.5, "acc": 0.6},
                   {"loss": 1.2, "acc": 0.55}, {"loss": 1.1, "acc": 0.58}, {"loss": 0.1, "acc": 0.9}])
    calls = []

    def scripted_evaluate():
        calls.append(sc.state.step)
        return next(script)

    sc.state.evaluate = scripted_evaluate
    sc.state.step = 100                                # a second fit() call keeps counting steps
    cb = EarlyStopping(monitor="val_acc", patience=2, every_n_steps=3)
    cb.on_fit_start(sc.state)
    while not sc.state.stop:
        sc.state.step += 1
        sc.set_weight(float(sc.state.step))
        cb.on_step_end(sc.state)
    assert calls == [103, 106, 109, 112, 115]          # every 3 steps, counted from the start of this fit
    assert cb.stopper.mode == "max" and cb.best_value == 0.6 and cb.best_step == 109  # val_acc, not val_loss
    assert cb.stop_step == 115 == cb.best_step + 2 * 3
    cb.on_fit_end(sc.state)
    assert sc.model.weight.item() == 109.0


def test_callback_restores_the_initial_weights_if_nothing_improves_and_can_keep_the_last():
    sc = _Scripted()
    sc.set_weight(7.0)
    cb = EarlyStopping(patience=1)
    cb.on_fit_start(sc.state)
    sc.set_weight(8.0)
    sc.state.logs, sc.state.epoch = {"val_loss": math.nan}, 1
    cb.on_epoch_end(sc.state)
    assert sc.state.stop and cb.best_step == 0
    cb.on_fit_end(sc.state)
    assert sc.model.weight.item() == 7.0               # θ* ← θ_o, i* ← 0

    sc = _Scripted()
    cb = EarlyStopping(patience=1, restore_best=False)
    cb.on_fit_start(sc.state)
    for epoch, loss in [(1, 1.0), (2, 2.0)]:
        sc.state.epoch, sc.state.logs = epoch, {"val_loss": loss}
        sc.set_weight(float(epoch))
        cb.on_epoch_end(sc.state)
    cb.on_fit_end(sc.state)
    assert sc.model.weight.item() == 2.0 and cb.best_state["weight"].item() == 1.0


# ----------------------------------------------------------------- the callback in a real run
def _overfitting_problem(device, n_train=24):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n_train + 200, 5, generator=g)
    y = (x[:, 0] + 0.8 * torch.randn(len(x), generator=g) > 0).long()   # noisy labels: easy to overfit
    return Split(x[:n_train], y[:n_train]).to(device), Split(x[n_train:], y[n_train:]).to(device)


def _net(device):
    torch.manual_seed(0)
    return mlp(5, [64, 64], 2).to(device)


def _adam(params):
    return torch.optim.Adam(params, lr=0.01)


def test_real_run_every_n_steps_stops_and_restores_the_best(device):
    train, val = _overfitting_problem(device)
    model = _net(device)
    cb = EarlyStopping(patience=4, every_n_steps=2)
    history = fit(model, train, val, epochs=200, optimizer=_adam, batch_size=8, seed=0, callbacks=[cb],
                  progress=False)
    assert cb.stop_step is not None, "the net should overfit and be stopped"
    assert cb.stop_step == cb.best_step + 4 * 2                   # i* + p·n
    assert cb.steps == list(range(2, cb.stop_step + 1, 2))        # evaluated every n = 2 steps
    assert len(history) < 200 and len(history) == math.ceil(cb.stop_step / 3)  # 3 steps per epoch
    restored = evaluate(model, val)["loss"]
    assert restored == pytest.approx(min(cb.values), rel=1e-5)   # the restored model IS the best one
    assert restored == pytest.approx(cb.best_value, rel=1e-5)
    assert history.val_loss[-1] > restored                        # fit recorded the later, worse weights
    for name, tensor in model.state_dict().items():
        assert tensor.device == cb.best_state[name].device and torch.equal(tensor, cb.best_state[name])


def test_real_run_per_epoch(device):
    train, val = _overfitting_problem(device)
    model = _net(device)
    cb = EarlyStopping(patience=3)
    history = fit(model, train, val, epochs=200, optimizer=_adam, batch_size=8, seed=0, callbacks=[cb],
                  progress=False)
    assert cb.unit == "epoch" and cb.stop_step is not None
    assert len(history) == cb.stop_step == cb.best_step + 3
    assert cb.best_step == history.best_epoch("val_loss")
    assert history.val_loss == pytest.approx(cb.values)
    assert evaluate(model, val)["loss"] == pytest.approx(min(history.val_loss), rel=1e-5)


def test_real_run_model_selection_trains_every_epoch_and_keeps_the_best(device):
    train, val = _overfitting_problem(device)
    model = _net(device)
    cb = EarlyStopping(patience=None, every_n_steps=3)
    fit(model, train, val, epochs=12, optimizer=_adam, batch_size=8, seed=0, callbacks=[cb], progress=False)
    assert cb.stop_step is None and cb.steps[-1] == 36 and len(cb.values) == 12
    assert cb.best_step < 36                                      # the best was not the last
    assert evaluate(model, val)["loss"] == pytest.approx(min(cb.values), rel=1e-5)


def test_real_run_on_val_accuracy_restores_the_best_accuracy(device):
    train, val = _overfitting_problem(device)
    model = _net(device)
    cb = EarlyStopping(monitor="val_acc", patience=5)
    history = fit(model, train, val, epochs=100, optimizer=_adam, batch_size=8, seed=0, callbacks=[cb],
                  progress=False)
    assert cb.stopper.mode == "max" and cb.best_value == max(history.val_acc)
    assert evaluate(model, val)["acc"] == cb.best_value


def test_best_state_is_a_copy_not_a_view(device):
    train, val = _overfitting_problem(device)
    model = _net(device)
    cb = EarlyStopping(patience=None, restore_best=False)
    fit(model, train, val, epochs=8, optimizer=_adam, batch_size=8, seed=0, callbacks=[cb], progress=False)
    assert cb.best_step < 8
    first = next(iter(model.state_dict()))
    assert not torch.equal(model.state_dict()[first], cb.best_state[first])


def test_fit_without_validation_data_is_rejected():
    train, _ = _overfitting_problem("cpu")
    with pytest.raises(ValueError, match="EarlyStopping needs validation data: pass val="):
        fit(_net("cpu"), train, epochs=1, callbacks=[EarlyStopping()], progress=False)


def test_val_acc_on_regression_is_rejected():
    x = torch.randn(20, 3)
    data = Split(x, x[:, :1].clone())
    with pytest.raises(ValueError, match="val_acc is nan.*monitor 'val_loss'"):
        fit(nn.Linear(3, 1), data, data, epochs=2, callbacks=[EarlyStopping(monitor="val_acc")], progress=False)


# ----------------------------------------------------------------- the link to L2
def _least_squares(device, d=4, n=64):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d, generator=g, dtype=torch.float64) * torch.tensor([3.0, 1.0, 0.5, 0.1], dtype=torch.float64)
    y = x @ torch.randn(d, generator=g, dtype=torch.float64) + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)
    x, y = x.to(device), y.to(device)
    h = x.T @ x / n                                   # Hessian of J(w) = ||Xw − y||² / (2N)
    w_star = torch.linalg.solve(h, x.T @ y / n)
    evals, q = torch.linalg.eigh(h)
    return x, y, h, w_star, evals, q


def test_gd_filter_equals_torch_sgd_on_least_squares(device):
    x, y, h, w_star, evals, q = _least_squares(device)
    lr, steps = 0.1, 37
    w = torch.zeros(4, dtype=torch.float64, device=device, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr)
    for _ in range(steps):                             # full-batch gradient descent from w = 0
        opt.zero_grad()
        (0.5 * ((x @ w - y) ** 2).mean()).backward()
        opt.step()
    f = gd_filter(evals, lr, steps)
    assert f.shape == evals.shape and f.dtype == evals.dtype and f.device == evals.device
    torch.testing.assert_close(q @ (f * (q.T @ w_star)), w.detach(), rtol=1e-9, atol=1e-10)


def test_ridge_filter_equals_the_l2_regularized_least_squares_solution(device):
    x, y, h, w_star, evals, q = _least_squares(device)
    n = len(x)
    for lam in (0.0, 0.01, 1.0, 100.0):
        # reference: min ||Xw − y||²/(2N) + (λ/2)||w||² as an ordinary least-squares problem on [X; √(Nλ) I]
        x_aug = torch.cat([x, math.sqrt(n * lam) * torch.eye(4, dtype=x.dtype, device=device)])
        y_aug = torch.cat([y, torch.zeros(4, dtype=y.dtype, device=device)])
        w_ridge = torch.linalg.lstsq(x_aug.cpu(), y_aug.cpu().unsqueeze(1)).solution.squeeze(1).to(device)
        f = ridge_filter(evals, lam)
        torch.testing.assert_close(q @ (f * (q.T @ w_star)), w_ridge, rtol=1e-8, atol=1e-10)


def test_early_stopping_acts_like_l2_with_lambda_one_over_tau_alpha():
    evals = torch.logspace(-4, -1, 50, dtype=torch.float64)
    lr = 0.5
    for steps in (10, 100, 1000):
        lam = equivalent_l2(lr, steps)
        assert lam == pytest.approx(1 / (steps * lr))
        gd, ridge = gd_filter(evals, lr, steps), ridge_filter(evals, lam)
        small = evals * lr * steps < 0.1               # directions where both filters are still small
        torch.testing.assert_close(gd[small], ridge[small], rtol=0.1, atol=0)
        assert (gd - ridge).abs().max() < 0.21         # and never far apart: max of (1 − e^−x) − x/(1+x)
        # a stronger or weaker L2 would fit the early-stopped weights worse
        err = lambda l: (gd - ridge_filter(evals, l)).abs().max()
        assert err(lam) < err(lam * 10) and err(lam) < err(lam / 10)


_EIGS = torch.tensor([0.5, 1.0])


@pytest.mark.parametrize("call, error, match", [
    (lambda: gd_filter(_EIGS, 0, 5), ValueError, r"lr must be a real number in \(0, inf\), got 0"),
    (lambda: gd_filter(_EIGS, "0.1", 5), TypeError, r"lr must be a real number in \(0, inf\), got str '0.1'"),
    (lambda: gd_filter(_EIGS, float("nan"), 5), ValueError, r"lr must be a real number in \(0, inf\), got nan"),
    (lambda: gd_filter(_EIGS, True, 5), TypeError, "lr must be a real number .*, got bool True"),
    (lambda: gd_filter(_EIGS, 0.1, -1), ValueError, r"steps must be an int in \[0, inf\), got -1"),
    (lambda: gd_filter(_EIGS, 0.1, 2.0), TypeError, r"steps must be an int in \[0, inf\), got float 2.0"),
    (lambda: gd_filter(torch.tensor([-1.0, 1.0]), 0.1, 5), ValueError, "eigenvalues must be >= 0 .*got min -1"),
    (lambda: gd_filter(torch.tensor([1.0, float("nan")]), 0.1, 5), ValueError,
     r"eigenvalues contains 1 non-finite value \(NaN; first at index \(1,\)\)"),
    (lambda: gd_filter(torch.tensor([1, 2]), 0.1, 5), TypeError,
     "eigenvalues must be a floating-point tensor, got dtype torch.int64"),
    (lambda: gd_filter(torch.eye(2), 0.1, 5), ValueError, r"eigenvalues must have 1 dimension, got shape \(2, 2\)"),
    (lambda: ridge_filter([0.5, 1.0], 0.1), TypeError, r"eigenvalues must be a torch.Tensor, got list \[0.5, 1.0\]"),
    (lambda: ridge_filter(_EIGS, -1), ValueError, r"lam must be a real number in \[0, inf\), got -1"),
    (lambda: ridge_filter(_EIGS, "1"), TypeError, r"lam must be a real number in \[0, inf\), got str '1'"),
    (lambda: equivalent_l2(0.1, 0), ValueError, r"steps must be an int in \[1, inf\), got 0"),
    (lambda: equivalent_l2(-0.1, 10), ValueError, r"lr must be a real number in \(0, inf\), got -0.1"),
    (lambda: equivalent_l2("0.1", 10), TypeError, r"lr must be a real number in \(0, inf\), got str '0.1'"),
    (lambda: equivalent_l2(0.1, "10"), TypeError, r"steps must be an int in \[1, inf\), got str '10'"),
])
def test_l2_link_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_flat_directions_are_not_moved_by_either_filter(device):
    evals = torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64, device=device)
    for lam in (0.0, 0.3):
        f = ridge_filter(evals, lam)
        assert f[0].item() == 0.0 and not torch.isnan(f).any()   # no 0/0 for λ_k = λ = 0
        torch.testing.assert_close(f[1:], evals[1:] / (evals[1:] + lam))
    assert gd_filter(evals, 0.1, 50)[0].item() == 0.0              # GD from w = 0 never moves along a flat direction
