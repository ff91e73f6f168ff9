"""Parameter and multiply-add counts in the paper's convention (Sec. 4).

The paper's "GFLOPs" are multiply-adds (MACs) of one forward pass of one image. Counted here:

- every convolution: output elements x (input channels / groups) x kernel area;
- every fully-connected layer: input features x output features;
- in each SE block, besides its two FC layers, the squeeze (one add per input element,
  C x H x W) and the scale (one multiply per element, C x H x W); NoSqueeze has no squeeze.

Batch norm, activations, pooling outside SE blocks and the residual additions are not counted.
Parameters are all trainable tensors (weights and biases; no buffers). Models are built on the
meta device when given by name, so counting even SENet-154 allocates no memory.

Against the paper (docs/complexity.md has the full table and the command that makes it): this
convention reproduces ResNet-50 3.86, SE-ResNet-50 3.87, SE-ResNet-152 11.32 and every
ResNet-50 ablation row (Tables 13, 15, 16); the deeper plain ResNets and the ResNeXts of Table 2
come out 0.01-0.02 lower than printed. No single per-element cost for residual sums, SE pooling,
SE scaling and batch norm reproduces more than 10 of those 15 printed figures at once, so none is
special-cased. The paper's printed parameter counts are these exact counts rounded up to 0.1M.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from senet.layers.se import SqueezeExcite
from senet.zoo import MODELS


@dataclass(frozen=True)
class Complexity:
    """Counts for one model: totals and, per top-level module (stem parts, layer1.., fc)."""

    model: str
    input_size: int
    params: int
    macs: int
    stage_params: dict[str, int] = field(default_factory=dict)
    stage_macs: dict[str, int] = field(default_factory=dict)

    @property
    def gmacs(self) -> float:
        return self.macs / 1e9

    def to_dict(self) -> dict[str, object]:
        return asdict(self) | {"gmacs": self.gmacs, "mparams": self.params / 1e6}


def _module_macs(module: nn.Module, output: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        return output[0].numel() * per_output
    if isinstance(module, nn.Linear):
        return output[0].numel() * module.in_features
    return 0


def _watch_se(se: SqueezeExcite, macs: dict[str, int], group: str) -> Callable[[], None]:
    """Count F_sq and F_scale of ``se`` on every call; returns the undo.

    Every path through an SE block computes s with :meth:`SqueezeExcite.excitation` on the
    map U (the residual blocks' fused tail too, which does not call the module itself), so
    its instance attribute stands in for the method while counting.
    """
    method = se.excitation

    def excitation(u: torch.Tensor) -> torch.Tensor:
        macs[group] += u[0].numel() * (2 if se.squeeze != "none" else 1)  # squeeze + scale, first sample
        return method(u)

    se.excitation = excitation  # type: ignore[method-assign]
    return lambda: delattr(se, "excitation")


def _watch(model: nn.Module, macs: dict[str, int]) -> list[Callable[[], None]]:
    """Hooks that add each convolution's, linear layer's and SE block's MACs to ``macs`` under
    its top-level module; returns their removers."""
    undo: list[Callable[[], None]] = []
    for qualname, module in model.named_modules():
        group = qualname.split(".")[0] or "model"

        def hook(mod: nn.Module, inp: tuple, out: torch.Tensor, group: str = group) -> None:
            macs[group] += _module_macs(mod, out if isinstance(out, torch.Tensor) else out[0])

        if isinstance(module, (nn.Conv2d, nn.Linear)):
            undo.append(module.register_forward_hook(hook).remove)
        elif isinstance(module, SqueezeExcite):
            undo.append(_watch_se(module, macs, group))
    return undo


def count(model: nn.Module, input_size: int | tuple[int, int] = 224, name: str = "") -> Complexity:
    """Count parameters and multiply-adds of one forward pass of ``model`` on one image."""
    size = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    device = next(model.parameters()).device
    in_chans = _in_channels(model)
    macs: dict[str, int] = defaultdict(int)
    undo = _watch(model, macs)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, in_chans, *size, device=device))
    finally:
        model.train(was_training)
        for remove in undo:
            remove()
    params: dict[str, int] = defaultdict(int)
    for qualname, p in model.named_parameters():
        params[qualname.split(".")[0]] += p.numel()
    return Complexity(
        model=name or type(model).__name__,
        input_size=size[0],
        params=sum(params.values()),
        macs=sum(macs.values()),
        stage_params=dict(params),
        stage_macs=dict(macs),
    )


def _in_channels(model: nn.Module) -> int:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module.in_channels
    raise ValueError(f"{type(model).__name__} has no convolution to read the input channels from")


def complexity(
    model_or_name: nn.Module | str, input_size: int | None = None, **overrides: object
) -> Complexity:
    """Parameters and multiply-adds of a model instance or a registered name.

    A name is built on the meta device (``overrides`` go to its builder) and ``input_size``
    defaults to its registry entry's (224; Inception-ResNet-v2 299, the CIFAR networks 32); for
    an instance, to its ``default_input_size`` attribute, else 224.
    """
    if isinstance(model_or_name, str):
        entry = MODELS.get(model_or_name)
        with torch.device("meta"):
            model = entry.build(**overrides)
        return count(model, input_size or entry.input_size, model_or_name)
    return count(model_or_name, input_size or getattr(model_or_name, "default_input_size", 224))
