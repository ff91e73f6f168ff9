"""How important is each stream channel: SE excitations, filter L1 norms, or chance.

- ``se``: the mean excitation s_c (Eq. 3) over a calibration set, recorded with the forward hooks
  of :mod:`senet.analysis.hooks` (what ``senet analyze`` records), averaged over every SE block
  that scales channel c. The plain mean, not the mean times a weight norm: the question the
  paper leaves open (Sec. 8) is whether the excitations themselves say which channels matter, and
  a product with a weight norm would mix in the ``l1`` signal it is compared against.
- ``l1``: Li et al. (2017), "Pruning filters for efficient ConvNets": the L1 norm sum |W_c| of
  the filter that writes channel c. A stream channel is written by several convolutions (the last
  one of every block, the projection, the stem); each norm is divided by its layer's mean filter
  norm, so that no layer's scale dominates, and the channel's score is their mean.
- ``random``: a seeded uniform draw, the control.

Scores are compared only among the channels one slot introduces (:mod:`senet.prune.streams`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import torch
from torch import nn

from senet.analysis.hooks import record_excitations
from senet.config import ConfigError
from senet.prune.streams import Channel, StreamMap

Criterion = Literal["se", "l1", "random"]
CRITERIA: tuple[str, ...] = ("se", "l1", "random")


@torch.no_grad()
def gate_means(
    model: nn.Module, batches: Iterable[torch.Tensor], blocks: list[str]
) -> dict[str, torch.Tensor]:
    """The mean excitation of every channel of each SE block in ``blocks``: name -> (C,), over
    the images of ``batches`` ((N, C_in, H, W) tensors on the model's device), in eval mode."""
    was_training = model.training
    model.eval()
    try:
        with record_excitations(model, blocks=blocks) as rec:
            seen = 0
            for images in batches:
                model(images)
                seen += 1
        if not seen:
            raise ConfigError("the se criterion needs calibration images: the data gave no batch")
        return {name: s.mean(0) for name, s in rec.stacked().items()}  # (N, C) -> (C,)
    finally:
        model.train(was_training)


def se_scores(smap: StreamMap, means: dict[str, torch.Tensor]) -> dict[Channel, float]:
    """Channel -> the mean of its blocks' mean excitations."""
    return {
        ch: sum(float(means[block][index]) for block, index in refs) / len(refs)
        for ch, refs in smap.gate_refs().items()
    }


def l1_scores(model: nn.Module, smap: StreamMap) -> dict[Channel, float]:
    """Channel -> the mean over its writing convolutions of sum |W_c| / (that layer's mean)."""
    norms: dict[str, torch.Tensor] = {}
    for path in smap.writes:
        module = model.get_submodule(path)
        if isinstance(module, nn.Conv2d) and ".se." not in path:
            filters = module.weight.detach().float().abs().flatten(1).sum(1)  # (C_out,)
            norms[path] = filters / filters.mean().clamp_min(1e-12)
    scores: dict[Channel, float] = {}
    for ch, refs in smap.producers().items():
        values = [float(norms[path][index]) for path, index in refs if path in norms]
        scores[ch] = sum(values) / len(values) if values else 0.0
    return scores


def random_scores(smap: StreamMap, seed: int) -> dict[Channel, float]:
    """Channel -> a uniform draw from a generator seeded with ``seed`` (the control)."""
    channels = sorted(smap.gated())
    draws = torch.rand(len(channels), generator=torch.Generator().manual_seed(seed))
    return dict(zip(channels, draws.tolist(), strict=True))
