"""Each checker of notebook 10 says not-attempted, rejects wrong answers with a useful message, accepts the right one."""

import pytest
import torch

from course_lib.exercises import ex10


def _verdict(capsys):
    return capsys.readouterr().out.strip()


# ----------------------------------------------------------------- exercise 1: the learning rates of a valley
LAM_MIN, LAM_MAX = ex10.VALLEY_CURVATURES
RIGHT = (2 / LAM_MAX, 2 / (LAM_MIN + LAM_MAX))


def test_ex1_not_attempted(capsys):
    assert not ex10.check_valley_learning_rates(None)
    assert _verdict(capsys).startswith("[not attempted]")


def test_ex1_accepts_the_right_pair(capsys):
    assert ex10.check_valley_learning_rates(RIGHT)
    assert ex10.check_valley_learning_rates([0.5, torch.tensor(2 / 4.04)])
    assert _verdict(capsys).count("[correct]") == 2


@pytest.mark.parametrize("wrong, hint", [
    ((RIGHT[1], RIGHT[0]), "wrong order"),
    ((1 / LAM_MAX, RIGHT[1]), "is 1/λ_max"),
    ((2 / LAM_MIN, RIGHT[1]), "flat direction"),
    ((0.7, RIGHT[1]), "is not the limit"),
    ((RIGHT[0], 1 / LAM_MAX), "= 1/λ_max makes the steep direction vanish"),
    ((RIGHT[0], RIGHT[0]), "sits on the limit"),
    ((RIGHT[0], 0.6), "above the limit"),
    ((RIGHT[0], 1 / (LAM_MIN + LAM_MAX)), "check the factor"),
    ((RIGHT[0], 0.3), "is not the best rate"),
    (0.5, "give a pair"),
    ((0.5, 0.4, 0.3), "of length 3"),
    (("0.5", 0.495), "must be a number"),
    ((True, 0.495), "must be a number"),
    ((torch.ones(2), 0.495), "must be one number"),
])
def test_ex1_rejects_wrong_answers(capsys, wrong, hint):
    assert not ex10.check_valley_learning_rates(wrong)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


# ----------------------------------------------------------------- exercise 2: Adam's update
def right_adam_step(theta, grad, state, lr, betas, eps):
    beta1, beta2 = betas
    if not state:
        state.update(m=torch.zeros_like(theta), v=torch.zeros_like(theta), t=0)
    state["t"] += 1
    state["m"] = beta1 * state["m"] + (1 - beta1) * grad
    state["v"] = beta2 * state["v"] + (1 - beta2) * grad**2
    m_hat = state["m"] / (1 - beta1 ** state["t"])
    v_hat = state["v"] / (1 - beta2 ** state["t"])
    return theta - lr * m_hat / (v_hat.sqrt() + eps)


def in_place_adam_step(theta, grad, state, lr, betas, eps):
    """The same rule written as the lecture's listing, updating theta in place (also accepted)."""
    if "moment" not in state:
        state["moment"], state["iter"] = [torch.zeros_like(theta), torch.zeros_like(theta)], 0
    state["iter"] += 1
    m, v = state["moment"]
    m.mul_(betas[0]).add_((1 - betas[0]) * grad)
    v.mul_(betas[1]).add_((1 - betas[1]) * grad * grad)
    unbiased = m / (1 - betas[0] ** state["iter"]), v / (1 - betas[1] ** state["iter"])
    theta -= lr * unbiased[0] / (unbiased[1].sqrt() + eps)
    return theta


def torch_adam_step(theta, grad, state, lr, betas, eps):
    """Delegating to torch.optim.Adam itself is a right answer too."""
    if "opt" not in state:
        state["p"] = torch.nn.Parameter(theta.clone())
        state["opt"] = torch.optim.Adam([state["p"]], lr=lr, betas=betas, eps=eps)
    state["p"].grad = grad.clone()
    state["opt"].step()
    return state["p"].detach().clone()


@pytest.mark.parametrize("answer", [right_adam_step, in_place_adam_step, torch_adam_step])
def test_ex2_accepts_right_answers(capsys, answer):
    assert ex10.check_adam_step(answer)
    assert _verdict(capsys).startswith("[correct]")


def test_ex2_not_attempted(capsys):
    def untouched(theta, grad, state, lr, betas, eps):
        raise NotImplementedError

    def returns_none(theta, grad, state, lr, betas, eps):
        return None

    assert not ex10.check_adam_step(None)
    assert not ex10.check_adam_step(untouched)
    assert not ex10.check_adam_step(returns_none)
    assert _verdict(capsys).count("[not attempted]") == 3


def _slip(**flags):
    """An answer that makes exactly the slip `flags` describes (see ex10.adam_variant), step by step."""
    def step(theta, grad, state, lr, betas, eps):
        state.setdefault("grads", []).append(grad.clone())
        if "theta0" not in state:
            state["theta0"] = theta.clone()
        return ex10.adam_variant(state["theta0"], state["grads"], lr, betas, eps, **flags)[-1]
    return step


@pytest.mark.parametrize("flags, hint", [
    (dict(correct_m=False, correct_v=False), "WITHOUT bias correction"),
    (dict(correct_m=False), "your m is not bias-corrected"),
    (dict(correct_v=False), "your v is not bias-corrected"),
    (dict(eps_inside=True), "eps is inside the square root"),
    (dict(swap=True), "swapped"),
    (dict(square="none"), "instead of its square"),
    (dict(square="abs"), "averages |g|"),
    (dict(sqrt=False), "not by its square root"),
    (dict(t_offset=1), "one ahead"),
    (dict(t_offset=-1), "one behind"),
    (dict(sign=1.0), "uphill"),
    (dict(keep_state=False), "each of your steps is a first step"),
    (dict(dampen_m=False), "(1 − beta1)"),
])
def test_ex2_names_each_typical_slip(capsys, flags, hint):
    assert not ex10.check_adam_step(_slip(**flags))
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex2_slips_are_told_apart():
    """Every slip changes the iterates, and no two slips give the same ones (so each hint is unambiguous)."""
    theta0, grads = ex10._inputs()
    runs = [ex10.adam_variant(theta0, grads, **ex10.ADAM_HYPER, **flags) for flags, _ in ex10._SLIPS]
    runs.append(ex10.adam_variant(theta0, grads, **ex10.ADAM_HYPER))
    for i in range(len(runs)):
        for j in range(i + 1, len(runs)):
            assert not ex10._same(runs[i], runs[j]), (i, j)


def test_ex2_reference_is_torch_adam():
    theta0, grads = ex10._inputs()
    torch.testing.assert_close(ex10.adam_variant(theta0, grads, **ex10.ADAM_HYPER),
                               ex10._torch_adam(theta0, grads, **ex10.ADAM_HYPER), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("answer, hint", [
    (lambda th, g, s, lr, b, e: right_adam_step(th, g, s, 1e-3, b, e), "step 1 differs from torch.optim.Adam"),
    (lambda th, g, s, lr, b, e: right_adam_step(th, g, s, lr, b, e).float()[:1], "has shape"),
    (lambda th, g, s, lr, b, e: right_adam_step(th, g, s, lr, b, e).tolist(), "return a tensor"),
    (lambda th, g, s, lr, b, e: right_adam_step(th, g.clamp_(-1, 1), s, lr, b, e), "changed grad in place"),
    (42, "give a function"),
])
def test_ex2_other_wrong_answers(capsys, answer, hint):
    assert not ex10.check_adam_step(answer)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex2_in_place_update_returning_none_is_told_to_return(capsys):
    def forgets_return(theta, grad, state, lr, betas, eps):
        theta.copy_(right_adam_step(theta.clone(), grad, state, lr, betas, eps))

    assert not ex10.check_adam_step(forgets_return)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and "returned None" in out, out


def test_ex2_state_drift_after_a_right_first_step(capsys):
    def forgets_v(theta, grad, state, lr, betas, eps):
        out = right_adam_step(theta, grad, state, lr, betas, eps)
        state["v"] = torch.zeros_like(theta) + 1e-2   # v overwritten after each step
        return out

    assert not ex10.check_adam_step(forgets_v)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and "step 2 differs" in out and "your first step is right" in out, out


# ----------------------------------------------------------------- exercise 3: momentum's update
def right_momentum_step(theta, grad, state, lr, momentum, dampening):
    if "v" not in state:
        state["v"] = grad.clone()
    else:
        state["v"] = momentum * state["v"] + (1 - dampening) * grad
    return theta - lr * state["v"]


def in_place_momentum_step(theta, grad, state, lr, momentum, dampening):
    """The same rule with in-place updates of the velocity and of theta (also accepted)."""
    buf = state.get("momentum_buffer")
    if buf is None:
        buf = state["momentum_buffer"] = torch.clone(grad).detach()
    else:
        buf.mul_(momentum).add_(grad, alpha=1 - dampening)
    theta.add_(buf, alpha=-lr)
    return theta


def torch_momentum_step(theta, grad, state, lr, momentum, dampening):
    """Delegating to torch.optim.SGD itself is a right answer too."""
    if "opt" not in state:
        state["p"] = torch.nn.Parameter(theta.clone())
        state["opt"] = torch.optim.SGD([state["p"]], lr=lr, momentum=momentum, dampening=dampening)
    state["p"].grad = grad.clone()
    state["opt"].step()
    return state["p"].detach().clone()


@pytest.mark.parametrize("answer", [right_momentum_step, in_place_momentum_step, torch_momentum_step])
def test_ex3_accepts_right_answers(capsys, answer):
    assert ex10.check_momentum_step(answer)
    assert _verdict(capsys).startswith("[correct]")


def test_ex3_not_attempted(capsys):
    def untouched(theta, grad, state, lr, momentum, dampening):
        raise NotImplementedError

    assert not ex10.check_momentum_step(None)
    assert not ex10.check_momentum_step(untouched)
    assert not ex10.check_momentum_step(lambda theta, grad, state, lr, momentum, dampening: None)
    assert _verdict(capsys).count("[not attempted]") == 3


def _momentum_slip(**flags):
    """An answer that makes exactly the slip `flags` describes (see ex10.momentum_variant), step by step."""
    def step(theta, grad, state, lr, momentum, dampening):
        state.setdefault("grads", []).append(grad.clone())
        if "theta0" not in state:
            state["theta0"] = theta.clone()
        return ex10.momentum_variant(state["theta0"], state["grads"], lr, momentum, dampening, **flags)[-1]
    return step


@pytest.mark.parametrize("flags, hint", [
    (dict(sign=1.0), "uphill"),
    (dict(step_first=True), "velocity from before this step"),
    (dict(factor="none"), "dampening is missing"),
    (dict(factor="momentum"), "(1 − momentum)"),
    (dict(factor="tau"), "with dampening itself"),
    (dict(dampen_first=True), "no dampening"),
    (dict(keep_state=False), "each of your steps is a first step"),
])
def test_ex3_names_each_typical_slip(capsys, flags, hint):
    assert not ex10.check_momentum_step(_momentum_slip(**flags))
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex3_slips_are_told_apart_and_the_reference_is_torch_sgd():
    theta0, grads = ex10._inputs()
    runs = [ex10.momentum_variant(theta0, grads, **ex10.MOMENTUM_HYPER, **flags) for flags, _ in ex10._MOMENTUM_SLIPS]
    runs.append(ex10.momentum_variant(theta0, grads, **ex10.MOMENTUM_HYPER))
    for i in range(len(runs)):
        for j in range(i + 1, len(runs)):
            assert not ex10._same(runs[i], runs[j]), (i, j)
    torch.testing.assert_close(runs[-1], ex10._torch_sgd(theta0, grads, **ex10.MOMENTUM_HYPER), rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("answer, hint", [
    (lambda th, g, s, lr, m, d: right_momentum_step(th, g, s, 1e-3, m, d), "step 1 differs from torch.optim.SGD"),
    (lambda th, g, s, lr, m, d: right_momentum_step(th, g, s, lr, m, d).tolist(), "return a tensor"),
    (lambda th, g, s, lr, m, d: right_momentum_step(th, g, s, lr, m, d)[:1], "has shape"),
    (lambda th, g, s, lr, m, d: right_momentum_step(th, g.mul_(2), s, lr, m, d), "changed grad in place"),
    (lambda th, g, s, lr, m, d: right_momentum_step(th, g, s, lr, 0.9, d), "your first step is right"),
    ("momentum", "give a function"),
])
def test_ex3_other_wrong_answers(capsys, answer, hint):
    assert not ex10.check_momentum_step(answer)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


# ----------------------------------------------------------------- exercise 4: RMSprop's update
def right_rmsprop_step(theta, grad, state, lr, alpha, eps):
    if "s" not in state:
        state["s"] = torch.zeros_like(theta)
    state["s"] = alpha * state["s"] + (1 - alpha) * grad**2
    return theta - lr * grad / (state["s"].sqrt() + eps)


def torch_rmsprop_step(theta, grad, state, lr, alpha, eps):
    """Delegating to torch.optim.RMSprop itself is a right answer too."""
    if "opt" not in state:
        state["p"] = torch.nn.Parameter(theta.clone())
        state["opt"] = torch.optim.RMSprop([state["p"]], lr=lr, alpha=alpha, eps=eps)
    state["p"].grad = grad.clone()
    state["opt"].step()
    return state["p"].detach().clone()


@pytest.mark.parametrize("answer", [right_rmsprop_step, torch_rmsprop_step])
def test_ex4_accepts_right_answers(capsys, answer):
    assert ex10.check_rmsprop_step(answer)
    assert _verdict(capsys).startswith("[correct]")


def test_ex4_not_attempted(capsys):
    def untouched(theta, grad, state, lr, alpha, eps):
        raise NotImplementedError

    assert not ex10.check_rmsprop_step(None)
    assert not ex10.check_rmsprop_step(untouched)
    assert not ex10.check_rmsprop_step(lambda theta, grad, state, lr, alpha, eps: None)
    assert _verdict(capsys).count("[not attempted]") == 3


def _rmsprop_slip(**flags):
    """An answer that makes exactly the slip `flags` describes (see ex10.rmsprop_variant), step by step."""
    def step(theta, grad, state, lr, alpha, eps):
        state.setdefault("grads", []).append(grad.clone())
        if "theta0" not in state:
            state["theta0"] = theta.clone()
        return ex10.rmsprop_variant(state["theta0"], state["grads"], lr, alpha, eps, **flags)[-1]
    return step


@pytest.mark.parametrize("flags, hint", [
    (dict(sign=1.0), "uphill"),
    (dict(eps_inside=True), "eps is inside the square root"),
    (dict(sqrt=False), "not by its square root"),
    (dict(eps_on_step=True), "added to the step"),
    (dict(swap=True), "swapped"),
    (dict(accumulate=True), "that is AdaGrad"),
    (dict(dampen=False), "(1 − alpha)"),
    (dict(square="abs"), "averages |g|"),
    (dict(step_first=True), "from before this step"),
    (dict(keep_state=False), "each of your steps is a first step"),
])
def test_ex4_names_each_typical_slip(capsys, flags, hint):
    assert not ex10.check_rmsprop_step(_rmsprop_slip(**flags))
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex4_slips_are_told_apart_and_the_reference_is_torch_rmsprop():
    theta0, grads = ex10._inputs()
    runs = [ex10.rmsprop_variant(theta0, grads, **ex10.RMSPROP_HYPER, **flags) for flags, _ in ex10._RMSPROP_SLIPS]
    runs.append(ex10.rmsprop_variant(theta0, grads, **ex10.RMSPROP_HYPER))
    for i in range(len(runs)):
        for j in range(i + 1, len(runs)):
            assert not ex10._same(runs[i], runs[j]), (i, j)
    torch.testing.assert_close(runs[-1], ex10._torch_rmsprop(theta0, grads, **ex10.RMSPROP_HYPER), rtol=1e-12,
                               atol=1e-14)


@pytest.mark.parametrize("answer, hint", [
    (lambda th, g, s, lr, a, e: right_rmsprop_step(th, g, s, 1e-3, a, e), "step 1 differs from torch.optim.RMSprop"),
    (lambda th, g, s, lr, a, e: right_rmsprop_step(th, g, s, lr, a, e).tolist(), "return a tensor"),
    (lambda th, g, s, lr, a, e: right_rmsprop_step(th, g, s, lr, a, e)[:1], "has shape"),
    (lambda th, g, s, lr, a, e: right_rmsprop_step(th, g.mul_(2), s, lr, a, e), "changed grad in place"),
    ("rmsprop", "give a function"),
])
def test_ex4_other_wrong_answers(capsys, answer, hint):
    assert not ex10.check_rmsprop_step(answer)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and hint in out, out


def test_ex4_state_drift_after_a_right_first_step(capsys):
    def drifts(theta, grad, state, lr, alpha, eps):
        out = right_rmsprop_step(theta, grad, state, lr, alpha, eps)
        state["s"] = 2 * state["s"]                   # s changed after each step
        return out

    assert not ex10.check_rmsprop_step(drifts)
    out = _verdict(capsys)
    assert out.startswith("[wrong]") and "step 2 differs" in out and "your first step is right" in out, out
