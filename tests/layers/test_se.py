"""The SE block (Sec. 3, Eqs. 2-4) and each of its ablation options (Tables 10-12, 16)."""

import pytest
import torch
from torch import nn

from senet.layers.se import SEConfig, SqueezeExcite


def _constant_gate(se: SqueezeExcite, value: float) -> None:
    """Make W2 zero and its bias ``value`` so that sigma(W2 delta(W1 z)) = sigma(value)."""
    nn.init.zeros_(se.fc2.weight)
    nn.init.constant_(se.fc2.bias, value)


@pytest.mark.parametrize(
    ("config", "channels", "hidden"),
    [
        (SEConfig(), 256, 16),
        (SEConfig(reduction=4), 256, 64),
        (SEConfig(), 16, 1),  # C // r = 1
        (SEConfig(), 8, 1),  # C // r = 0: floor of one unit
        (SEConfig(hidden=24), 256, 24),
        (SEConfig(divisor=8), 64, 8),  # timm: 4 -> 8
        (SEConfig(divisor=8), 2048, 128),
    ],
)
def test_hidden_width(config: SEConfig, channels: int, hidden: int) -> None:
    se = SqueezeExcite(channels, config)
    assert se.fc1.weight.shape == (hidden, channels, 1, 1)
    assert se.fc2.weight.shape == (channels, hidden, 1, 1)


@pytest.mark.parametrize(
    ("gate", "value", "expected"),
    [("sigmoid", 0.0, 0.5), ("tanh", 0.0, 0.0), ("relu", -1.0, 0.0), ("relu", 2.0, 2.0)],
)
def test_zeroed_second_fc_gives_the_gate_of_its_bias(gate: str, value: float, expected: float) -> None:
    se = SqueezeExcite(32, SEConfig(gate=gate))
    _constant_gate(se, value)
    u = torch.randn(2, 32, 5, 7)
    torch.testing.assert_close(se(u), expected * u, rtol=0, atol=0)


def test_excitation_matches_equations_2_to_4() -> None:
    torch.manual_seed(0)
    se = SqueezeExcite(12, SEConfig(reduction=4))
    u = torch.randn(3, 12, 6, 6)
    z = u.mean(dim=(2, 3))  # Eq. 2
    w1, b1 = se.fc1.weight.flatten(1), se.fc1.bias
    w2, b2 = se.fc2.weight.flatten(1), se.fc2.bias
    s = torch.sigmoid(torch.relu(z @ w1.T + b1) @ w2.T + b2)  # Eq. 3
    torch.testing.assert_close(se(u), u * s[:, :, None, None])  # Eq. 4


def test_max_squeeze_pools_the_maximum() -> None:
    torch.manual_seed(0)
    se = SqueezeExcite(8, SEConfig(reduction=2, squeeze="max"))
    u = torch.randn(2, 8, 4, 4)
    z = u.amax(dim=(2, 3))  # Table 11: global max pooling
    hidden = torch.relu(z @ se.fc1.weight.flatten(1).T + se.fc1.bias)
    s = torch.sigmoid(hidden @ se.fc2.weight.flatten(1).T + se.fc2.bias)
    torch.testing.assert_close(se.excitation(u).flatten(1), s)
    avg = SqueezeExcite(8, SEConfig(reduction=2))
    avg.load_state_dict(se.state_dict())
    assert not torch.allclose(avg.excitation(u), se.excitation(u))


def test_no_squeeze_gates_every_position() -> None:
    se = SqueezeExcite(8, SEConfig(reduction=2, squeeze="none"))
    u = torch.randn(2, 8, 5, 3)
    s = se.excitation(u)
    assert s.shape == u.shape
    assert not torch.allclose(s[..., 0, 0], s[..., 4, 2])


def test_bias_can_be_removed() -> None:
    se = SqueezeExcite(32, SEConfig(bias=False))
    assert se.fc1.bias is None and se.fc2.bias is None
    assert sum(p.numel() for p in se.parameters()) == 2 * 32 * 2


def test_gate_is_a_hookable_submodule() -> None:
    se = SqueezeExcite(16, SEConfig(reduction=4))
    seen = []
    handle = se.gate.register_forward_hook(lambda m, i, o: seen.append(o))
    se(torch.randn(2, 16, 3, 3))
    handle.remove()
    assert len(seen) == 1 and seen[0].shape == (2, 16, 1, 1)
    assert ((seen[0] > 0) & (seen[0] < 1)).all()


@pytest.mark.parametrize(
    "kwargs",
    [{"reduction": 0}, {"hidden": 0}, {"divisor": 0}, {"squeeze": "mean"}, {"gate": "softmax"}],
)
def test_bad_options_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        SEConfig(**kwargs)


def test_forward_takes_only_the_map() -> None:
    import inspect

    assert list(inspect.signature(SqueezeExcite.forward).parameters) == ["self", "u"]
    se = SqueezeExcite(8, SEConfig(reduction=2))
    u = torch.randn(2, 8, 3, 3)
    torch.testing.assert_close(se(u), u * se.excitation(u))
