"""Checks shared by the model tests: a forward and backward pass that reaches every parameter."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn

import senet
from senet.layers.se import SqueezeExcite
from senet.registry import MODELS


def names_in(module: str) -> list[str]:
    """Registered model names whose network class is defined in ``module`` (e.g. 'senet.models.cifar')."""
    return [n for n in senet.list_models() if getattr(MODELS.get(n).family, "__module__", None) == module]


@pytest.fixture(autouse=True, scope="module")
def single_thread() -> Iterator[None]:
    """One intra-op thread: on the shared 2-core machine two threads run many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def forward_backward(model: nn.Module, size: int, batch: int = 2, num_classes: int = 10) -> torch.Tensor:
    """Train-mode forward of random images and backward; asserts the output shape, that every
    parameter got a finite gradient, and a non-zero one outside SE blocks (an SE hidden unit
    of a narrow block can be a dead ReLU for a whole random batch). Returns the logits."""
    torch.manual_seed(0)
    model.train()
    x = torch.randn(batch, _in_chans(model), size, size)
    out = model(x)
    assert out.shape == (batch, num_classes)
    (out.square().sum() + out.sum()).backward()
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]  # FastNet fixes some
    missing = [n for n, p in trainable if p.grad is None]
    assert not missing, f"parameters without a gradient: {missing[:5]} (+{max(0, len(missing) - 5)})"
    assert all(torch.isfinite(p.grad).all() for _, p in trainable)
    se_params = {id(p) for m in model.modules() if isinstance(m, SqueezeExcite) for p in m.parameters()}
    zero = [n for n, p in trainable if id(p) not in se_params and not p.grad.abs().sum() > 0]
    assert not zero, f"parameters with an all-zero gradient: {zero[:5]}"
    return out


def _in_chans(model: nn.Module) -> int:
    return next(m for m in model.modules() if isinstance(m, nn.Conv2d)).in_channels
