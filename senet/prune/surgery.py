"""Removing stream channels: the narrower configuration and the weights that fit it.

The surgery is a few ``index_select`` calls on the state dict, written here rather than taken
from a graph library: the stream map (:mod:`senet.prune.streams`) already names every tensor a
channel touches, and the result must be a network that the family's own configuration builds
(``config.json`` of a model folder), which a generic graph rewrite does not give. Each tensor of
a module that writes a slot keeps the slot's channels along dim 0 (convolution filters, BN
gamma/beta/running statistics, W2 and its bias); the weight of a module that reads a slot keeps
them along dim 1 (convolutions, W1, the classifier). The pruned network is built from the new
configuration and loads the result strictly, which checks every shape.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn

from senet.models.cifar import CifarResNet
from senet.prune.streams import StreamMap


def select_state(
    state: dict[str, torch.Tensor], smap: StreamMap, keep: dict[int, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """``state`` with only the kept channels (``keep[slot]``: sorted indices) of every slot."""
    out: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        module, _, leaf = key.rpartition(".")
        if tensor.dim() >= 1 and module in smap.writes:
            tensor = tensor.index_select(0, keep[smap.writes[module]].to(tensor.device))
        if leaf == "weight" and tensor.dim() >= 2 and module in smap.reads:
            tensor = tensor.index_select(1, keep[smap.reads[module]].to(tensor.device))
        out[key] = tensor
    return out


def _hidden(model: nn.Module, smap: StreamMap, stage: int) -> int | None:
    """The trained hidden width C' of the SE blocks of ``layer{stage}``, if it has any."""
    blocks = [path for path, slot in smap.gates.items() if path.startswith(f"layer{stage}.")]
    return model.get_submodule(blocks[0]).fc1.out_channels if blocks else None


def pruned_config(model: nn.Module, smap: StreamMap, widths: dict[int, int]) -> Any:
    """The family configuration of ``model`` with slot ``s`` of ``widths[s]`` channels: the stem
    width, each stage's C (``out``), its first-conv width kept (``mid``) and its SE blocks' C'
    kept (``se_hidden``). Unchanged slots leave their rows as they are."""
    cfg = model.config
    stages = []
    for s, stage in enumerate(cfg.stages, start=1):
        if widths[s] == smap.widths[s]:
            stages.append(stage)
            continue
        mid = stage.mid if stage.mid is not None else stage.out  # a CIFAR basic stage's None is C
        stages.append(dataclasses.replace(stage, out=widths[s], mid=mid, se_hidden=_hidden(model, smap, s)))
    stem = widths[0] if widths[0] != smap.widths[0] else cfg.stem_width
    if isinstance(model, CifarResNet):
        stem = widths[0]  # CifarResNetConfig.stem_width is never None
    return dataclasses.replace(cfg, stages=tuple(stages), stem_width=stem)


def rebuild(model: nn.Module, smap: StreamMap, keep: dict[int, torch.Tensor]) -> nn.Module:
    """A new network of ``model``'s family with only the kept channels, its weights loaded (on
    ``model``'s device, in its dtype), in ``model``'s train/eval mode."""
    config = pruned_config(model, smap, {slot: len(k) for slot, k in keep.items()})
    with torch.device("meta"):  # no initialisation to compute: every tensor comes from the state dict
        pruned = type(model)(config)
    pruned.load_state_dict(select_state(model.state_dict(), smap, keep), assign=True)
    return pruned.train(model.training)
