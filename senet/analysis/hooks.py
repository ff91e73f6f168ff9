"""Forward hooks on the SE gates: record the excitations s, or replace them (Sec. 7.2).

Every SE block is a :class:`senet.layers.se.SqueezeExcite` whose gate sigma is the named
submodule ``gate``; a forward hook on it sees s = sigma(W2 delta(W1 z)) on every code path
(the fused training path calls the gate on (N, C), the module path on (N, C, 1, 1), NoSqueeze
on (N, C, H, W)). Nothing in the model changes: both context managers remove every hook they
added when they exit, also when the body raises.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from senet.layers.se import SqueezeExcite


def se_blocks(model: nn.Module) -> dict[str, SqueezeExcite]:
    """Every SE block of ``model`` by module path (``layer3.1.se``), in forward-definition order."""
    return {name: m for name, m in model.named_modules() if isinstance(m, SqueezeExcite)}


def as_channels(s: torch.Tensor) -> torch.Tensor:
    """Excitations as (N, C): (N, C) as is, (N, C, 1, 1) flattened, NoSqueeze's (N, C, H, W)
    averaged over the positions (one number per image and channel)."""
    if s.dim() == 2:
        return s
    if s.dim() == 4:
        return s.mean((2, 3))  # (N, C)
    raise ValueError(f"an SE gate returned a tensor of shape {tuple(s.shape)}; expected (N, C[, H, W])")


def paper_name(name: str) -> str:
    """The paper's block name for a ResNet module path: ``layer4.1.se`` -> ``SE_5_2`` (stage
    2 = layer1, Fig. 6 / Sec. 7.2); other paths are returned unchanged."""
    m = re.fullmatch(r"layer(\d+)\.(\d+)\.se", name)
    return f"SE_{int(m.group(1)) + 1}_{int(m.group(2)) + 1}" if m else name


def stage_of(name: str) -> str:
    """The group a block belongs to: its path up to the last numeric index (``layer3.1.se`` -> ``layer3``)."""
    parts = name.split(".")
    numeric = [i for i, p in enumerate(parts) if p.isdigit()]
    return ".".join(parts[: numeric[-1]]) if numeric else name


@dataclass
class Recorder:
    """Excitations recorded per block: ``values[name]`` is a list of (N, C) float tensors on the CPU."""

    names: list[str]
    values: dict[str, list[torch.Tensor]] = field(default_factory=dict)

    def stacked(self) -> dict[str, torch.Tensor]:
        """Every block's recorded excitations concatenated over batches: name -> (N_total, C)."""
        return {n: torch.cat(self.values[n]) for n in self.names if self.values.get(n)}

    def clear(self) -> None:
        self.values = {}


def _select(model: nn.Module, blocks: Sequence[str] | None) -> dict[str, SqueezeExcite]:
    found = se_blocks(model)
    if not found:
        raise ValueError(f"{type(model).__name__} has no SE blocks (SqueezeExcite modules) to hook")
    if blocks is None:
        return found
    unknown = [b for b in blocks if b not in found]
    if unknown:
        raise ValueError(f"no SE block named {unknown}; the model has {list(found)}")
    return {b: found[b] for b in blocks}


@contextlib.contextmanager
def record_excitations(model: nn.Module, *, blocks: Sequence[str] | None = None) -> Iterator[Recorder]:
    """Record s of every SE block (or of ``blocks``) during the forward passes inside the ``with``.

    >>> with record_excitations(model) as rec:
    ...     model(images)
    >>> rec.stacked()["layer4.1.se"].shape  # (N, C)
    """
    chosen = _select(model, blocks)
    recorder = Recorder(list(chosen))
    handles = []

    def hook_for(name: str):  # noqa: ANN202
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            recorder.values.setdefault(name, []).append(as_channels(output.detach()).float().cpu())

        return hook

    try:
        for name, se in chosen.items():
            handles.append(se.gate.register_forward_hook(hook_for(name)))
        yield recorder
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def replace_gate(model: nn.Module, block: str, value: torch.Tensor | float) -> Iterator[None]:
    """Make block ``block`` output the constant excitation ``value`` instead of s(x) (Sec. 7.2 ablation).

    ``value``: a number (1.0 = no recalibration) or a per-channel (C,) tensor (e.g. the block's
    dataset mean); it is broadcast to the gate's output shape.
    """
    se = _select(model, [block])[block]

    def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            shape = (1, -1) + (1,) * (output.dim() - 2)  # (1, C[, 1, 1])
            return value.to(output).reshape(shape).expand_as(output)
        return torch.full_like(output, float(value))

    if isinstance(value, torch.Tensor) and value.numel() != se.channels:
        raise ValueError(f"{block}: a gate value of {value.numel()} channels for a block of {se.channels}")
    handle = se.gate.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()
