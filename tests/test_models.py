import pytest
import torch
from torch import nn

from course_lib.models import ACTIVATIONS, cnn, count_parameters, init_weights, make_activation, mlp


def test_mlp_layers_and_parameter_count(device):
    model = mlp(40, [128, 64], 10).to(device)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(40, 128), (128, 64), (64, 10)]
    assert count_parameters(model) == 40 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert model(torch.randn(5, 40, device=device)).shape == (5, 10)
    assert model(torch.randn(5, 1, 8, 5, device=device)).shape == (5, 10)  # flattened first


def test_mlp_options_insert_the_right_layers():
    model = mlp(4, [8, 8], 2, activation="tanh", dropout=0.3, input_dropout=0.1, norm="batch")
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Flatten", "Dropout", "Linear", "BatchNorm1d", "Tanh", "Dropout",
                     "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear"]
    # a linear layer followed by batch norm needs no bias (BN's beta absorbs it)
    assert model[2].bias is None and model[-1].bias is not None
    assert isinstance(mlp(4, [8], 2, norm="layer")[2], nn.LayerNorm)


def test_init_is_applied_and_biases_zeroed():
    model = mlp(10, [20], 3, init=lambda w: nn.init.constant_(w, 0.5))
    for m in model:
        if isinstance(m, nn.Linear):
            assert torch.all(m.weight == 0.5) and torch.all(m.bias == 0)
    conv = init_weights(cnn(1, 3), nn.init.zeros_)
    assert all(torch.all(m.weight == 0) for m in conv if isinstance(m, (nn.Conv2d, nn.Linear)))


def test_cnn_2d_and_1d(device):
    net2 = cnn(1, 10, channels=(8, 16)).to(device)
    assert net2(torch.randn(3, 1, 8, 8, device=device)).shape == (3, 10)
    assert net2(torch.randn(3, 1, 28, 28, device=device)).shape == (3, 10)  # global pooling: any size
    net1 = cnn(1, 10, dim=1, norm="batch", dropout=0.2).to(device)
    assert net1(torch.randn(4, 1, 40, device=device)).shape == (4, 10)
    assert any(isinstance(m, nn.BatchNorm1d) for m in net1) and any(isinstance(m, nn.Dropout) for m in net1)


def test_every_named_activation_builds():
    for name in ACTIVATIONS:
        assert isinstance(make_activation(name), nn.Module)
    assert isinstance(make_activation(nn.SiLU), nn.SiLU)


@pytest.mark.parametrize("call, error, message", [
    (lambda: mlp(4, [8], 2, activation="swishy"), ValueError, "unknown activation 'swishy'"),
    (lambda: mlp(4, [8], 2, dropout=1.0), ValueError, r"dropout probability must be in \[0, 1\), got 1.0"),
    (lambda: mlp(4, [0], 2), ValueError, "layer sizes must be positive"),
    (lambda: mlp(4, [8], 2, norm="group"), ValueError, "unknown norm 'group'"),
    (lambda: cnn(1, 10, dim=3), ValueError, "dim must be 1"),
    (lambda: cnn(1, 10, channels=()), ValueError, "channel counts must be positive"),
    (lambda: make_activation(3), TypeError, "activation must be a name or a module factory"),
    (lambda: make_activation(lambda: 3), TypeError, "must return an nn.Module"),
])
def test_bad_model_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
