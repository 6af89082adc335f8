import pytest
import torch
from torch import nn

from course_lib import init as ci
from course_lib.models import ACTIVATIONS, cnn, count_parameters, make_activation, mlp, reset_parameters


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
    conv = cnn(1, 3, init=nn.init.zeros_)
    assert all(torch.all(m.weight == 0) for m in conv if isinstance(m, (nn.Conv2d, nn.Linear)))


@pytest.mark.parametrize("build", [lambda **kw: mlp(10, [20, 8], 3, **kw), lambda **kw: cnn(2, 4, channels=(4,), **kw)])
def test_init_by_scheme_name_is_course_lib_initialize_drawing_from_the_generator(build):
    model = build(init="kaiming_normal", generator=torch.Generator().manual_seed(3))
    g = torch.Generator().manual_seed(3)
    reference = ci.initialize(reset_parameters(build(), g), "kaiming_normal", generator=g)  # same draws, in order
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        assert torch.equal(p, q), name
    assert all(torch.all(m.bias == 0) for m in model if isinstance(m, (nn.Linear, nn.Conv2d)))

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


def test_mlp_without_hidden_layers_is_linear():
    model = mlp(6, [], 3)
    assert [type(m).__name__ for m in model] == ["Flatten", "Linear"]


@pytest.mark.parametrize("call, error, message", [
    (lambda: mlp(4, [8], 2, activation="swishy"), ValueError, "activation must be one of 'relu', .*, got 'swishy'"),
    (lambda: mlp(4, [8], 2, activation=nn.ReLU()), TypeError,
     r"got the module ReLU\(\); pass the class \(e.g. nn.ReLU\)"),
    (lambda: mlp(4, [], 2, activation=3), TypeError, "activation must be a name .* or a module factory, got int 3"),
    (lambda: mlp(4, [8], 2, dropout=1.0), ValueError,
     r"dropout must be a real number in \[0, 1\), got 1.0 \(the probability of zeroing a hidden unit\)"),
    (lambda: mlp(4, [8], 2, dropout="0.5"), TypeError, r"dropout must be a real number in \[0, 1\), got str '0.5'"),
    (lambda: mlp(4, [8], 2, input_dropout=-0.1), ValueError,
     r"input_dropout must be a real number in \[0, 1\), got -0.1"),
    (lambda: mlp(4, 8, 2), TypeError,
     r"hidden must be a sequence of layer sizes, got the int 8; for one hidden layer write \[8\]"),
    (lambda: mlp(4, "8", 2), TypeError, "hidden must be a sequence of positive ints"),
    (lambda: mlp(4, [0], 2), ValueError, r"hidden must contain positive sizes, got 0 in \[0\]"),
    (lambda: mlp(4, [8.0], 2), TypeError, r"hidden must contain ints \(layer sizes\), got float 8.0"),
    (lambda: mlp(0, [8], 2), ValueError, r"in_features must be an int in \[1, inf\), got 0"),
    (lambda: mlp(4.0, [8], 2), TypeError, "in_features must be an int .*, got float 4.0"),
    (lambda: mlp(4, [8], None), TypeError, "out_features must be an int .*, got NoneType None"),
    (lambda: mlp(4, [8], 2, norm="group"), ValueError,
     r"norm must be one of 'batch', 'layer', got 'group' \(or None for no normalization\)"),
    (lambda: mlp(4, [8], 2, norm=True), TypeError, "norm must be one of 'batch', 'layer', got bool True"),
    (lambda: mlp(4, [8], 2, init="xavier"), ValueError, "scheme must be one of .*did you mean 'xavier_normal'"),
    (lambda: mlp(4, [8], 2, init="he"), ValueError, "did you mean 'kaiming_normal'"),
    (lambda: cnn(1, 10, init=0.1), TypeError, "init must be a scheme name .*, a function applied to each weight .*got float"),
    (lambda: mlp(4, [8], 2, bias=0), TypeError, "bias must be True or False, got int 0"),
    (lambda: mlp(4, [8], 2, generator=0), TypeError, "generator must be a torch.Generator or None, got int 0"),
    (lambda: cnn(1, 10, dim=3), ValueError, r"dim must be 1 \(sequences\) or 2 \(images\), got 3"),
    (lambda: cnn(1, 10, dim="2"), TypeError, "dim must be an int, got str '2'"),
    (lambda: cnn(1, 10, channels=()), ValueError, "channels must hold at least one size"),
    (lambda: cnn(1, 10, channels=16), TypeError, r"channels must be a sequence of layer sizes, got the int 16"),
    (lambda: cnn(1, 10, kernel_size=0), ValueError, r"kernel_size must be an int in \[1, inf\), got 0"),
    (lambda: cnn(1, 10, kernel_size=(3, 3)), TypeError, "kernel_size must be an int .*, got tuple"),
    (lambda: cnn(1, 10, hidden=[64]), TypeError, r"hidden \(the width of the head's hidden layer\) must be an int"),
    (lambda: cnn(0, 10), ValueError, r"in_channels must be an int in \[1, inf\), got 0"),
    (lambda: cnn(1, 2.0), TypeError, "num_classes must be an int .*, got float 2.0"),
    (lambda: cnn(1, 10, dropout=1), ValueError, r"dropout must be a real number in \[0, 1\), got 1"),
    (lambda: cnn(1, 10, norm="instance"), ValueError, "norm must be one of 'batch', 'layer', got 'instance'"),
    (lambda: cnn(1, 10, activation="swish"), ValueError, "activation must be one of"),
    (lambda: make_activation(3), TypeError, "activation must be a name .* or a module factory, got int 3"),
    (lambda: make_activation(lambda: 3), TypeError, "activation factory must return an nn.Module, got int 3"),
    (lambda: count_parameters("model"), TypeError, "model must be an nn.Module, got str 'model'"),
    (lambda: count_parameters(nn.Linear(2, 2), trainable_only="no"), TypeError, "trainable_only must be True or False"),
])
def test_bad_model_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_generator_on_an_accelerator_is_refused(device):
    if device.type == "cpu":
        pytest.skip("needs a CUDA or MPS device")
    with pytest.raises(ValueError, match=f"generator must be a CPU torch.Generator, got one on {device.type}"):
        mlp(4, [8], 2, generator=torch.Generator(device))


def test_count_parameters_can_include_frozen_ones():
    model = mlp(3, [4], 2)
    model[1].weight.requires_grad_(False)
    assert count_parameters(model) == 4 + 4 * 2 + 2 and count_parameters(model, trainable_only=False) == 3 * 4 + 4 + 10


# ----------------------------------------------------------------- seeding through a generator
BUILDERS = {
    "mlp": lambda **kw: mlp(6, [16, 8], 3, **kw),
    "mlp with batch norm and PReLU": lambda **kw: mlp(6, [16, 8], 3, norm="batch", activation="prelu",
                                                         dropout=0.2, **kw),
    "mlp with layer norm": lambda **kw: mlp(6, [16], 3, norm="layer", input_dropout=0.1, **kw),
    "cnn": lambda **kw: cnn(3, 4, channels=(4, 8), **kw),
    "1-d cnn with batch norm": lambda **kw: cnn(1, 10, dim=1, norm="batch", kernel_size=5, **kw),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_generator_gives_the_same_weights_as_the_global_seed(name):
    build = BUILDERS[name]
    torch.manual_seed(7)
    reference = build()
    model = build(generator=torch.Generator().manual_seed(7))
    assert reference.state_dict().keys() == model.state_dict().keys()
    for key, value in reference.state_dict().items():
        assert torch.equal(value, model.state_dict()[key]), key
    other = build(generator=torch.Generator().manual_seed(8))
    assert not torch.equal(next(other.parameters()), next(model.parameters()))


@pytest.mark.parametrize("name", BUILDERS)
def test_generator_leaves_the_global_rng_alone(name):
    torch.manual_seed(3)
    state = torch.get_rng_state()
    BUILDERS[name](generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.get_rng_state(), state)


def test_init_applies_after_the_generator():
    model = mlp(4, [8], 2, init=lambda w: nn.init.constant_(w, 0.5), generator=torch.Generator().manual_seed(0))
    assert all(torch.all(m.weight == 0.5) and torch.all(m.bias == 0) for m in model if isinstance(m, nn.Linear))


def test_reset_parameters_redraws_like_pytorch():
    torch.manual_seed(5)
    reference = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 2))
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(4, 2))
    with torch.no_grad():
        model[1].weight.fill_(2.0)
    reset_parameters(model, torch.Generator().manual_seed(5))
    assert torch.equal(model[0].weight, reference[0].weight) and torch.equal(model[2].bias, reference[2].bias)
    assert torch.all(model[1].weight == 2.0)  # norm layers are left as they are
