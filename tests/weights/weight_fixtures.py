"""Synthetic checkpoints for the weight-loading tests: small networks in foreign layouts."""

from __future__ import annotations

import torch

from senet.layers.se import SEConfig
from senet.models.resnet import ResNet, ResNetConfig, Stage


def small_config(kind: str, **overrides: object) -> ResNetConfig:
    """Reduced SE-ResNet / SE-ResNeXt / SENet-154-style networks (full stem, thin stages)."""
    if kind == "seresnet":
        stages = (Stage(1, 8, 32, 1), Stage(2, 16, 64, 2), Stage(1, 32, 128, 2), Stage(1, 64, 256, 2))
        cfg = ResNetConfig("bottleneck", stages, se=SEConfig(), num_classes=10)
    elif kind == "seresnext":
        stages = (Stage(1, 16, 32, 1), Stage(1, 32, 64, 2), Stage(2, 64, 128, 2), Stage(1, 128, 256, 2))
        cfg = ResNetConfig("bottleneck", stages, groups=4, se=SEConfig(), num_classes=10)
    elif kind == "senet154":
        stages = tuple(
            Stage(n, 16 * 2**i, 32 * 2**i, 1 if i == 0 else 2, 8 * 2**i) for i, n in enumerate((1, 2, 1, 1))
        )
        cfg = ResNetConfig(
            "bottleneck", stages, groups=4, stem="deep", downsample_kernel=3, se=SEConfig(), num_classes=10
        )
    elif kind == "resnet":
        stages = (Stage(1, 16, 16, 1), Stage(1, 32, 32, 2), Stage(1, 64, 64, 2), Stage(1, 128, 128, 2))
        cfg = ResNetConfig("basic", stages, num_classes=10)
    else:
        raise ValueError(kind)
    return cfg.replace(**overrides)


@torch.no_grad()
def randomize(model: ResNet, seed: int = 0) -> ResNet:
    """Non-trivial BN statistics / affine and biases, so that every tensor matters; eval mode."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.weight.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
            m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
        elif isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) and m.bias is not None:
            m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
    return model.eval()


def to_cadene(
    state_dict: dict[str, torch.Tensor], *, deep_stem: bool, counters: bool = False
) -> dict[str, torch.Tensor]:
    """Rename senet keys to the Cadene names (layouts.md); without ``counters`` drop
    num_batches_tracked, as files saved by PyTorch before 0.4 lack it."""
    stem = (
        {"conv1.0.": "layer0.conv1.", "conv1.1.": "layer0.bn1.", "conv1.3.": "layer0.conv2.",
         "conv1.4.": "layer0.bn2.", "conv1.6.": "layer0.conv3.", "bn1.": "layer0.bn3."}
        if deep_stem
        else {"conv1.": "layer0.conv1.", "bn1.": "layer0.bn1."}
    )  # fmt: skip
    out = {}
    for key, value in state_dict.items():
        if key.endswith("num_batches_tracked") and not counters:
            continue
        new = next((n + key[len(o) :] for o, n in stem.items() if key.startswith(o)), key)
        new = "last_linear." + new[3:] if new.startswith("fc.") else new.replace(".se.", ".se_module.")
        out[new] = value
    return out
