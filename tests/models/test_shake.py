"""Shake-Shake networks: train-mode randomness, test-mode 0.5/0.5, Gastaldi's parameter counts."""

import pytest
import torch
from model_checks import forward_backward, names_in, single_thread  # noqa: F401

import senet
from senet.complexity import complexity
from senet.layers.se import SEConfig
from senet.models.shake import ShakeShortcut, shake_mix

NAMES = names_in("senet.models.shake")


def test_registered_names() -> None:
    plain = ["shake_even29_2x4x64d_cifar", "shake_shake26_2x96d_cifar"]
    assert NAMES == sorted(plain + [f"se_{n}" for n in plain])


@pytest.mark.parametrize(
    ("name", "overrides", "params", "printed_m"),
    [
        ("shake_shake26_2x96d_cifar", {}, 26_192_922, 26.2),  # Gastaldi 2017, Table 3
        ("se_shake_shake26_2x96d_cifar", {}, 26_292_546, None),
        # Gastaldi's 34.4M (= ResNeXt-29 8x64d, Xie et al. Table 7) is the count with a 10-class head
        ("shake_even29_2x4x64d_cifar", {"num_classes": 10}, 34_437_450, 34.4),
        ("shake_even29_2x4x64d_cifar", {}, 34_529_700, None),  # the CIFAR-100 head: 34.5M
        ("se_shake_even29_2x4x64d_cifar", {}, 35_051_508, None),
    ],
)
def test_param_counts(name: str, overrides: dict, params: int, printed_m: float | None) -> None:
    counted = complexity(name, 32, **overrides).params
    assert counted == params
    if printed_m is not None:
        assert round(counted / 1e6, 1) == printed_m


def _branches() -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    a = torch.randn(6, 3, 2, 2, requires_grad=True)
    b = (a.detach() + 1 + torch.rand(6, 3, 2, 2)).requires_grad_()  # a - b never 0
    return a, b


def _alpha(out: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return ((out - b) / (a - b)).detach()  # out = alpha a + (1 - alpha) b


def test_shake_shake_image_draws_independent_forward_and_backward_mixes() -> None:
    a, b = _branches()
    out = shake_mix(a, b, training=True)
    alpha = _alpha(out, a, b)
    torch.testing.assert_close(alpha, alpha[:, :1, :1, :1].expand_as(alpha))  # one per image
    assert alpha.min() >= 0 and alpha.max() <= 1 and alpha[:, 0, 0, 0].unique().numel() == 6
    out.backward(torch.ones_like(out))
    beta = a.grad
    torch.testing.assert_close(a.grad + b.grad, torch.ones_like(beta))  # (beta, 1 - beta)
    assert beta.min() >= 0 and beta.max() <= 1
    assert not torch.allclose(beta, alpha)  # the gradient is not the forward mix's
    assert not torch.allclose(shake_mix(a, b, training=True), out)  # a new draw every pass


@pytest.mark.parametrize(("backward", "expected"), [("keep", "alpha"), ("even", 0.5)])
def test_keep_and_even_backward(backward: str, expected: object) -> None:
    a, b = _branches()
    out = shake_mix(a, b, training=True, backward=backward)
    out.sum().backward()
    want = _alpha(out, a, b) if expected == "alpha" else torch.full_like(a, 0.5)
    torch.testing.assert_close(a.grad, want)


def test_batch_level_and_even_forward() -> None:
    a, b = _branches()
    alpha = _alpha(shake_mix(a, b, training=True, level="batch"), a, b)
    torch.testing.assert_close(alpha, alpha.flatten()[0].expand_as(alpha))
    torch.testing.assert_close(shake_mix(a, b, training=True, forward="even"), 0.5 * (a + b))


def test_train_mode_is_random_and_eval_mode_is_the_even_mix() -> None:
    model = senet.create_model("se_shake_shake26_2x96d_cifar", stem_width=4, num_classes=3)
    x = torch.randn(2, 3, 8, 8)
    model.train()
    with torch.no_grad():
        assert not torch.allclose(model(x), model(x))
    model.eval()
    block = model.layer1[1]  # an identity-skip block
    h = torch.randn(2, 96, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(model(x), model(x))
        mixed = 0.5 * (block.branch1(h) + block.branch2(h))
        torch.testing.assert_close(block(h), h + block.se(mixed))


def test_shake_even_preset_mixes_evenly_backward() -> None:
    with torch.device("meta"):
        cfg = senet.create_model("shake_even29_2x4x64d_cifar").config
        assert senet.create_model("shake_shake26_2x96d_cifar").config.backward_mix == "shake"
    assert (cfg.forward_mix, cfg.backward_mix, cfg.level, cfg.groups) == ("shake", "even", "image", 4)


def test_shortcut_sees_the_strided_and_the_shifted_input() -> None:
    skip = ShakeShortcut(2, 4, stride=2).eval()
    with torch.no_grad():
        for conv in (skip.conv1, skip.conv2):
            conv.weight.copy_(torch.eye(2).view(2, 2, 1, 1))
        skip.bn.eps = 0.0
    x = torch.randn(1, 2, 4, 4)
    with torch.no_grad():
        y = skip(x)
    r = torch.relu(x)
    torch.testing.assert_close(y[:, :2], r[:, :, ::2, ::2])
    shifted = torch.zeros_like(r)
    shifted[:, :, 1:, 1:] = r[:, :, :-1, :-1]
    torch.testing.assert_close(y[:, 2:], shifted[:, :, ::2, ::2])


def test_se_widths_and_unsupported_placement() -> None:
    model = senet.create_model("se_shake_shake26_2x96d_cifar")
    assert [layer[0].se.fc1.out_channels for layer in (model.layer1, model.layer2, model.layer3)] == [
        6,
        12,
        24,
    ]
    with pytest.raises(ValueError, match="'3x3' is not supported"):
        senet.create_model("shake_shake26_2x96d_cifar", se=SEConfig(), placement="3x3")
    with pytest.raises(TypeError, match="unknown option"):
        senet.create_model("shake_shake26_2x96d_cifar", depth=26)
