"""course_lib.metrics: accuracy against scikit-learn, calibration error on hand-made cases, the reliability
diagram, and every bad-input error."""

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.axes import Axes

import course_lib.augment
from course_lib.metrics import accuracy, calibration_bins, expected_calibration_error, reliability_diagram


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --------------------------------------------------------------------------- accuracy
def test_accuracy_by_hand(device):
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0], [0.2, 0.1, 0.0]], device=device)
    y = torch.tensor([0, 2, 2, 1], device=device)  # predictions 0, 1, 2, 0: rows 0 and 2 are right
    assert accuracy(logits, y) == 0.5
    assert accuracy(logits.softmax(dim=1), y) == 0.5  # probabilities have the same argmax
    assert accuracy(logits[:1], y[:1]) == 1.0 and accuracy(logits[1:2], y[1:2]) == 0.0


def test_accuracy_equals_sklearn(device):
    from sklearn.metrics import accuracy_score

    g = torch.Generator().manual_seed(0)
    logits, y = torch.randn(500, 7, generator=g), torch.randint(0, 7, (500,), generator=g)
    ours = accuracy(logits.to(device), y.to(device))
    assert isinstance(ours, float)
    assert ours == pytest.approx(accuracy_score(y.numpy(), logits.argmax(1).numpy()))


def test_accuracy_rejects_bad_input(device):
    logits, y = torch.randn(4, 3, device=device), torch.tensor([0, 1, 2, 0], device=device)
    cases = [
        (lambda: accuracy([[0.1, 0.9]], y), TypeError, "logits must be a torch.Tensor, got list"),
        (lambda: accuracy(torch.ones(4, 3, dtype=torch.long, device=device), y), TypeError,
         "logits must be a floating-point tensor, got dtype torch.int64"),
        (lambda: accuracy(logits[:, 0], y), ValueError, r"logits must have shape \(N, classes\), got shape \(4,\)"),
        (lambda: accuracy(logits[:0], y[:0]), ValueError, "logits must hold at least one example and one class"),
        (lambda: accuracy(torch.full((4, 3), float("nan"), device=device), y), ValueError,
         "logits contains 12 non-finite values"),
        (lambda: accuracy(logits, y.float()), TypeError, "y must be an integer tensor, got dtype torch.float32"),
        (lambda: accuracy(logits, y[:3]), ValueError, r"y must hold one label per row of logits, shape \(4,\), got shape \(3,\)"),
        (lambda: accuracy(logits, y + 1), ValueError, r"y must lie in 0\.\.2 for 3 classes, got values from 1 to 3"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
    if device.type != "cpu":
        with pytest.raises(ValueError, match="y and logits must be on the same device"):
            accuracy(logits, y.cpu())


# --------------------------------------------------------------------------- calibration
def test_calibration_stays_importable_from_augment():
    assert course_lib.augment.calibration_bins is calibration_bins
    assert course_lib.augment.expected_calibration_error is expected_calibration_error


def test_ece_on_hand_made_cases(device):
    y = torch.tensor([0, 0, 0, 0], device=device)
    certain = torch.tensor([[1.0, 0.0]] * 4, device=device)
    assert expected_calibration_error(certain, y) == pytest.approx(0.0)
    # confidence 0.8 everywhere, 3 of 4 right: |0.75 − 0.8| = 0.05
    probs = torch.tensor([[0.8, 0.2]] * 3 + [[0.2, 0.8]], device=device)
    assert expected_calibration_error(probs, y, n_bins=10) == pytest.approx(0.05, abs=1e-6)
    # two bins: conf 0.6 (1 of 2 right) and conf 0.95 (2 of 2 right): (2/4)·0.1 + (2/4)·0.05
    probs = torch.tensor([[0.6, 0.4], [0.4, 0.6], [0.95, 0.05], [0.95, 0.05]], device=device)
    assert expected_calibration_error(probs, y, n_bins=10) == pytest.approx(0.075, abs=1e-6)
    bins = calibration_bins(probs, y, n_bins=10)
    assert bins["count"].sum() == 4 and bins["count"][5] == 2 and bins["count"][9] == 2
    torch.testing.assert_close(bins["accuracy"][[5, 9]], torch.tensor([0.5, 1.0], device=device))
    assert bins["edges"].shape == (11,) and bins["confidence"].device == y.device


def test_ece_of_a_calibrated_predictor_is_small():
    g = torch.Generator().manual_seed(0)
    conf = torch.rand(50_000, generator=g) * 0.5 + 0.5  # confidence of class 0 in (0.5, 1)
    y = (torch.rand(50_000, generator=g) >= conf).long()  # class 0 is right with probability conf
    probs = torch.stack([conf, 1 - conf], dim=1)
    assert expected_calibration_error(probs, y) < 0.01
    overconfident = torch.stack([torch.full_like(conf, 0.99), torch.full_like(conf, 0.01)], dim=1)
    assert expected_calibration_error(overconfident, y) == pytest.approx(0.99 - 0.75, abs=0.01)


def test_ece_rejects_bad_input(device):
    y = torch.tensor([0, 1], device=device)
    half = torch.tensor([[0.5, 0.5]] * 2, device=device)
    cases = [
        (lambda: expected_calibration_error(torch.tensor([[2.0, -1.0], [0.5, 0.5]], device=device), y), ValueError,
         "probs rows must be probabilities"),
        (lambda: expected_calibration_error(torch.tensor([[3.0, 1.0], [0.5, 0.5]], device=device), y), ValueError,
         "probs rows must be probabilities"),
        (lambda: expected_calibration_error(torch.tensor([0.5, 0.5], device=device), y), ValueError,
         r"probs must have shape \(N, classes\), got shape \(2,\)"),
        (lambda: expected_calibration_error(torch.ones(2, 2, dtype=torch.long, device=device), y), TypeError,
         "probs must be a floating-point tensor, got dtype torch.int64"),
        (lambda: expected_calibration_error(half[:0], y[:0]), ValueError, "probs must hold at least one example"),
        (lambda: expected_calibration_error(torch.tensor([[0.5, 0.5]] * 3, device=device), y), ValueError,
         r"y must hold one label per row of probs, shape \(3,\), got shape \(2,\)"),
        (lambda: expected_calibration_error(half, y, n_bins=0), ValueError, r"n_bins must be an int in \[1, inf\), got 0"),
        (lambda: expected_calibration_error(half, y, n_bins=2.5), TypeError,
         r"n_bins must be an int in \[1, inf\), got float 2.5"),
        (lambda: calibration_bins(half, torch.tensor([0, 2], device=device)), ValueError, r"y must lie in 0\.\.1"),
        (lambda: calibration_bins(half, [0, 1]), TypeError, "y must be a torch.Tensor, got list"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()


# --------------------------------------------------------------------------- reliability diagram
def test_reliability_diagram_draws_one_bar_per_filled_bin(device):
    y = torch.tensor([0, 0, 0, 0], device=device)
    probs = torch.tensor([[0.6, 0.4], [0.4, 0.6], [0.95, 0.05], [0.95, 0.05]], device=device)
    ax = reliability_diagram(probs, y, n_bins=10, label="net")
    assert isinstance(ax, Axes)
    bars = ax.containers[0]
    assert len(bars) == 2  # bins (0.5, 0.6] and (0.9, 1.0]; the empty ones get no bar
    assert [b.get_height() for b in bars] == pytest.approx([0.5, 1.0])
    assert [b.get_x() + b.get_width() / 2 for b in bars] == pytest.approx([0.55, 0.95])
    assert ax.get_xlabel().startswith("confidence") and ax.get_ylabel() == "accuracy"
    assert "net" in ax.get_title() and "ECE = 0.075" in ax.get_title()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "perfect calibration" in legend and "net: accuracy in bin" in legend
    diagonal = [line for line in ax.get_lines() if line.get_label() == "perfect calibration"][0]
    assert list(diagonal.get_xdata()) == [0, 1] and list(diagonal.get_ydata()) == [0, 1]


def test_reliability_diagram_draws_on_the_axes_given():
    fig, axes = plt.subplots(1, 2)
    probs, y = torch.tensor([[0.9, 0.1], [0.3, 0.7]]), torch.tensor([0, 0])
    assert reliability_diagram(probs, y, ax=axes[1]) is axes[1]
    assert len(axes[1].containers) == 1 and len(axes[0].containers) == 0


def test_reliability_diagram_rejects_bad_input():
    probs, y = torch.tensor([[0.9, 0.1]]), torch.tensor([0])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes or None, got str 'left'"):
        reliability_diagram(probs, y, ax="left")
    with pytest.raises(TypeError, match="label must be a str, got int 3"):
        reliability_diagram(probs, y, label=3)
    with pytest.raises(ValueError, match=r"n_bins must be an int in \[1, inf\), got 0"):
        reliability_diagram(probs, y, n_bins=0)
