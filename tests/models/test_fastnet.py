"""FastNet (issue 16's short-budget CIFAR network): layout, SE placement, whitened stem."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import senet
from senet.complexity import complexity, count
from senet.layers.se import SqueezeExcite
from senet.models.fastnet import AIRBENCH94, FastNet


def test_pair_counts_are_pinned() -> None:
    # docs/models.md records these; airbench94's widths cost 1.7x the multiply-adds (fastnet.py)
    se, plain = complexity("se_fastnet_cifar", 32), complexity("fastnet_cifar", 32)
    assert (se.params, plain.params) == (1_123_299, 1_113_336)
    assert (se.macs, plain.macs) == (69_123_744, 69_070_368)
    wide = count(FastNet(AIRBENCH94), 32, "airbench94 widths")
    assert (wide.params, wide.macs) == (1_972_792, 118_147_360)


def test_twin_shares_every_parameter_but_the_se_blocks() -> None:
    se, plain = senet.create_model("se_fastnet_cifar"), senet.create_model("fastnet_cifar")
    se_keys = {k for k in se.state_dict() if ".se." not in k}
    assert se_keys == set(plain.state_dict())
    blocks = [m for m in se.modules() if isinstance(m, SqueezeExcite)]
    assert [b.channels for b in blocks] == [48, 192, 192]  # one per conv group, on its C channels


def test_spatial_sizes_follow_the_groups() -> None:
    model = senet.create_model("se_fastnet_cifar").eval()
    sizes = []
    hooks = [
        g.register_forward_hook(lambda m, i, o: sizes.append(tuple(o.shape[1:]))) for g in model.features
    ]
    with torch.no_grad():
        logits = model(torch.randn(2, 3, 32, 32))
    for h in hooks:
        h.remove()
    assert sizes == [(48, 15, 15), (192, 7, 7), (192, 3, 3)] and logits.shape == (2, 10)


def test_whitened_stem_decorrelates_patches() -> None:
    torch.manual_seed(0)
    mix = torch.tensor([[1.0, 0.8, 0.1], [0.0, 0.6, 0.5], [0.0, 0.0, 0.3]])
    smooth = F.avg_pool2d(torch.randn(64, 3, 34, 34), 3, stride=1)  # correlated neighbours
    images = torch.einsum("dc,nchw->ndhw", mix, smooth)  # and correlated channels
    model = senet.create_model("fastnet_cifar")
    model.init_from_data(images, eps=1e-9)  # eps only guards tiny eigenvalues
    out = model.stem(images)  # (N, 24, 31, 31): v_1, -v_1, v_2, -v_2, ...
    features = out[:, 0::2].transpose(0, 1).flatten(1)  # the 12 whitening filters
    cov = torch.cov(features.double())  # an independent estimate of the outputs' covariance
    assert torch.allclose(cov, torch.eye(12, dtype=torch.float64), atol=0.02)
    assert torch.equal(out[:, 1::2], -out[:, 0::2]) and not model.stem.bias.any()


def test_whitening_refuses_a_stem_wider_than_its_filters() -> None:
    model = senet.create_model("fastnet_cifar", in_chans=1)  # 1 x 2 x 2 patches: 8 filters
    with pytest.raises(ValueError, match="at most 8 whitening filters"):
        model.init_from_data(torch.randn(4, 1, 32, 32))


def test_dirac_init_and_frozen_parameters() -> None:
    model = senet.create_model("se_fastnet_cifar")
    group = model.features[1]  # 48 -> 192 -> 192
    x = torch.randn(1, 48, 7, 7)
    with torch.no_grad():  # the first C_in filters copy their input channel: identity at init
        assert torch.allclose(group.conv1(x)[:, :48], x) and torch.allclose(
            group.conv2(group.conv1(x)), group.conv1(x)
        )
    frozen = {name for name, p in model.named_parameters() if not p.requires_grad}
    bn_weights = {name for name, m in model.named_modules() if isinstance(m, torch.nn.BatchNorm2d)}
    assert frozen == {"stem.weight"} | {f"{name}.weight" for name in bn_weights}
    assert not any(n.startswith("features.0.se") for n in frozen)  # SE's W1, W2 learn, He-initialised
    free = senet.create_model("fastnet_cifar", dirac=False, norm_scale=True, frozen_stem=False)
    assert all(p.requires_grad for p in free.parameters())
    assert not torch.allclose(free.features[1].conv1(x)[:, :48], x)


def test_batch_norms_take_airbench94s_momentum() -> None:
    bns = [m for m in senet.create_model("se_fastnet_cifar").modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 6 and all(m.momentum == 0.4 for m in bns)
    bn = bns[0]
    bn.train()
    x = torch.randn(8, bn.num_features, 3, 3) * 2 + 1
    bn(x)  # running = 0.6 running + 0.4 batch statistics (mean 0 / var 1 at first)
    assert torch.allclose(bn.running_mean, 0.4 * x.mean((0, 2, 3)), atol=1e-6)
    slow = senet.create_model("fastnet_cifar", norm_momentum=0.1)
    assert {m.momentum for m in slow.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {0.1}
