"""Structured channel pruning to a cost budget: :func:`prune` (the paper's Sec. 8 suggestion).

The unit is a residual-stream channel (:mod:`senet.prune.streams`): only channels some SE block
scales are candidates, so every criterion prunes the same tensors and differs only in which
channels it keeps. Every slot keeps the same fraction q of the channels it introduces (at least
one), the best-scoring ones by the criterion (:mod:`senet.prune.criteria`), and q is the largest
that brings the multiply-adds (or parameters) of one forward pass (:mod:`senet.complexity`, on
the meta device) to at most (1 - ratio) of the network's. A uniform fraction, as Li et al.
(2017) prune each layer by a fixed share, keeps scores of different blocks from being compared
with each other (L1 norms are not comparable across layers; mean excitations hardly are).

The inner widths of the residual branches (the bottleneck's 1x1 and 3x3, the basic block's first
3x3) are not pruned: no SE block in the standard placement scores them. A bottleneck network
therefore cannot lose its 3x3 convolutions' cost, and a ratio beyond what the stream channels
hold is refused with the largest ratio that can be reached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from senet.complexity import Complexity, count
from senet.config import ConfigError
from senet.prune.criteria import Criterion, gate_means, l1_scores, random_scores, se_scores
from senet.prune.streams import Channel, StreamMap, stream_map
from senet.prune.surgery import pruned_config, rebuild

Budget = Literal["macs", "params"]


@dataclass(frozen=True)
class PruneConfig:
    """What to prune and how much (the options of ``senet prune`` besides weights and data)."""

    ratio: float = 0.5
    """The fraction of the budget to remove: the pruned network costs at most (1 - ratio) of the
    original (0: nothing is removed, the same logits)."""
    criterion: Criterion = "se"
    """Which channels go: se (lowest mean excitation over the calibration images), l1 (smallest
    filter L1 norm, Li et al. 2017) or random (seeded control)."""
    budget: Budget = "macs"
    """What the ratio counts: macs (multiply-adds of one forward pass, the paper's GFLOPs) or params."""
    calibration_batches: int = 8
    """Batches of calibration images whose excitations the se criterion averages."""
    seed: int = 0
    """Seed of the random criterion."""
    cost_input_size: int | None = None
    """Image side at which multiply-adds are counted; none: the weights' own input size."""

    def __post_init__(self) -> None:
        if not 0 <= self.ratio < 1:
            raise ConfigError(f"ratio={self.ratio!r}: must be in [0, 1)")
        if self.calibration_batches < 1:
            raise ConfigError(f"calibration_batches={self.calibration_batches!r}: must be >= 1")
        if self.cost_input_size is not None and self.cost_input_size < 1:
            raise ConfigError(f"cost_input_size={self.cost_input_size!r}: must be >= 1")


@dataclass
class Pruned:
    """What :func:`prune` returns: the pruned network and what was kept."""

    model: nn.Module
    kept: dict[int, list[int]]
    """Slot (0 the stem, s the stage ``layer{s}``) -> the kept channel indices of the original."""
    widths: dict[int, tuple[int, int]]
    """Slot -> (original width, pruned width)."""
    fraction: float
    """The share q of its prunable channels that every slot kept."""
    before: Complexity
    after: Complexity

    def summary(self) -> dict[str, Any]:
        """A JSON-ready record: widths, kept channels, parameters and multiply-adds before and after."""
        return {
            "fraction_kept": self.fraction,
            "widths": {str(s): list(w) for s, w in self.widths.items()},
            "kept": {str(s): k for s, k in self.kept.items()},
            "before": {"params": self.before.params, "macs": self.before.macs},
            "after": {"params": self.after.params, "macs": self.after.macs},
            "input_size": self.before.input_size,
        }


def scores_for(
    model: nn.Module, smap: StreamMap, config: PruneConfig, batches: Iterable[torch.Tensor] | None
) -> dict[Channel, float]:
    """Every prunable channel's score under ``config.criterion`` (higher: more important)."""
    if config.criterion == "l1":
        gated = smap.gated()
        return {ch: v for ch, v in l1_scores(model, smap).items() if ch in gated}
    if config.criterion == "random":
        return random_scores(smap, config.seed)
    if batches is None:
        raise ConfigError("the se criterion needs calibration images (give data)")
    return se_scores(smap, gate_means(model, batches, list(smap.gates)))


def keep_sets(smap: StreamMap, scores: dict[Channel, float], fraction: float) -> dict[int, torch.Tensor]:
    """Per slot, the sorted indices kept when each slot keeps the best ``fraction`` (at least
    one) of the prunable channels it introduces; ties go to the lower index."""
    kept: set[Channel] = set()
    for slot in smap.widths:
        own = [ch for ch in smap.channels_of(slot) if ch in scores]
        if not own:
            continue
        n = max(1, round(fraction * len(own)))
        kept |= set(sorted(own, key=lambda ch: (-scores[ch], ch[1]))[:n])
    return {
        slot: torch.tensor(
            [i for i, ch in enumerate(chs) if ch in kept or ch not in scores], dtype=torch.long
        )
        for slot, chs in smap.owner.items()
    }


def _cost(model: nn.Module, smap: StreamMap, keep: dict[int, torch.Tensor], size: int) -> Complexity:
    config = pruned_config(model, smap, {slot: len(k) for slot, k in keep.items()})
    with torch.device("meta"):
        network = type(model)(config)
    return count(network, size)


def _fraction(
    model: nn.Module, smap: StreamMap, scores: dict[Channel, float], config: PruneConfig, size: int
) -> float:
    """The largest kept share q (to a quarter channel) whose network fits (1 - ratio) of the budget."""
    full = count(model, size)
    limit = (1 - config.ratio) * getattr(full, config.budget)
    costs: dict[tuple[int, ...], int] = {}  # widths -> cost: q moves the widths in steps of 1/n

    def fits(q: float) -> bool:
        keep = keep_sets(smap, scores, q)
        widths = tuple(len(k) for k in keep.values())
        if widths not in costs:
            costs[widths] = getattr(_cost(model, smap, keep, size), config.budget)
        return costs[widths] <= limit

    if fits(1.0):
        return 1.0
    if not fits(0.0):
        least = getattr(_cost(model, smap, keep_sets(smap, scores, 0.0), size), config.budget)
        reachable = 1 - least / getattr(full, config.budget)
        raise ConfigError(
            f"ratio={config.ratio}: pruning the residual streams removes at most {reachable:.3f} of the "
            f"{config.budget} of this network (its branches' inner convolutions are not pruned)"
        )
    low, high = 0.0, 1.0
    step = 0.25 / max(len(smap.channels_of(slot)) for slot in smap.widths)  # finer than one channel
    while high - low > step:
        mid = (low + high) / 2
        low, high = (mid, high) if fits(mid) else (low, mid)
    return low


def prune(model: nn.Module, config: PruneConfig, batches: Iterable[torch.Tensor] | None = None) -> Pruned:
    """``model`` with its lowest-scoring stream channels removed to (1 - ratio) of its budget.

    ``model``: a ResNet (basic or bottleneck) or CIFAR ResNet (basic), standard SE placement.
    ``batches``: calibration images ((N, C, H, W) on the model's device) for the se criterion.
    The result is a new network of the same family whose configuration holds the new widths,
    so it saves as a model folder (:func:`senet.weights.save_pretrained`) that every command reads.
    """
    smap = stream_map(model)
    if not smap.gates:
        raise ConfigError(f"{type(model).__name__} has no SE blocks: no channel is a pruning candidate")
    size = config.cost_input_size or _input_size(model)
    scores = scores_for(model, smap, config, batches)
    fraction = _fraction(model, smap, scores, config, size)
    keep = keep_sets(smap, scores, fraction)
    pruned = rebuild(model, smap, keep)
    if hasattr(model, "card"):  # the weights' preprocessing and labels, the new widths
        pruned.card = dataclasses.replace(model.card, config=pruned.config)
        pruned.preprocessing = model.card.preprocessing
    return Pruned(
        model=pruned,
        kept={slot: k.tolist() for slot, k in keep.items()},
        widths={slot: (smap.widths[slot], len(k)) for slot, k in keep.items()},
        fraction=fraction,
        before=count(model, size),
        after=count(pruned, size),
    )


def _input_size(model: nn.Module) -> int:
    """The weights' input size (their card), else the model's default, else 224."""
    card = getattr(model, "card", None)
    if card is not None:
        return int(card.preprocessing.input_size)
    return int(getattr(model, "default_input_size", 224))
