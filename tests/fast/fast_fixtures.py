"""Helpers for the tests of senet.fast: models with non-trivial batch-norm statistics."""

from __future__ import annotations

import torch
from torch import nn

import senet


def randomize_bn(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BN random running statistics and affine parameters, so folding is exercised.

    The scales stay near 1 so that the logits of a deep random network stay O(1)-O(10).
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.rand(c, generator=gen) - 0.5)
                m.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                m.weight.copy_(0.5 + 0.5 * torch.rand(c, generator=gen))
                m.bias.copy_(0.2 * torch.rand(c, generator=gen) - 0.1)
    return model


def make(name: str, seed: int = 0, **overrides: object) -> nn.Module:
    """``create_model(name)`` in eval mode with random BN statistics and a wide classifier.

    The classifier weights are N(0, 1) instead of N(0, 0.01) so that the top-1 class of random
    inputs is decided by a clear margin (bf16 agreement is then meaningful).
    """
    torch.manual_seed(seed)
    model = randomize_bn(senet.create_model(name, **overrides), seed)
    fc = getattr(model, "fc", None)
    if isinstance(fc, nn.Linear):
        with torch.no_grad():
            fc.weight.normal_(0.0, 1.0 / fc.in_features**0.5)
    return model.eval()
