"""Read a network's shape off a state dict in ``senet`` key names (Sec. 5, Table 1 as data).

A checkpoint carries every width but no strides: :func:`infer_config` rebuilds the
:class:`~senet.models.resnet.ResNetConfig` (stem, blocks per stage, widths, cardinality, SE
hidden width C' per block, head size) from tensor shapes, and the caller supplies what only the
layout knows (stride placement, ceil-mode stem pooling). :func:`detect_layout` tells the layouts
apart by key names; :func:`match_model_name` finds the registered model with that architecture.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

import torch

from senet.layers.se import SEConfig
from senet.models.inception import BNInceptionConfig
from senet.models.resnet import ResNetConfig, Stage
from senet.zoo import MODELS

Layout = Literal["timm", "cadene"]
_CADENE_MARKERS = ("layer0.", "last_linear.")
_SE_FC1 = re.compile(r"layer\d+\.\d+\.se\.fc1\.weight")


def has_cadene_keys(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """Whether any key is a Cadene / timm-legacy name (``layer0.*``, ``*.se_module.*``, ``last_linear.*``)."""
    return any(k.startswith(_CADENE_MARKERS) or ".se_module." in k for k in state_dict)


def detect_layout(state_dict: Mapping[str, torch.Tensor]) -> Layout:
    """``"cadene"`` for the Cadene / timm-legacy names, ``"timm"`` for torchvision-style names.

    timm's current layout and ``senet``'s own names are the same; only the stride placement
    differs, which no key reveals (see docs/weights.md, :func:`has_timm_se_widths` and
    :func:`stride_is_ambiguous`).
    """
    keys = list(state_dict)
    if has_cadene_keys(state_dict):
        return "cadene"
    if ("conv1.weight" in state_dict or "conv1.0.weight" in state_dict) and "fc.weight" in state_dict:
        return "timm"
    raise ValueError(
        f"unrecognised checkpoint layout: expected 'conv1.weight' + 'fc.weight' (timm) or "
        f"'layer0.*' + 'last_linear.*' (Cadene); first keys are {keys[:5]}"
    )


def _se_pairs(state_dict: Mapping[str, torch.Tensor]) -> list[tuple[int, int]]:
    """(C, C') of every SE block in senet / timm names: W1 (``se.fc1``) maps C to C'."""
    found = (v.shape for k, v in state_dict.items() if _SE_FC1.fullmatch(k))
    return [(shape[1], shape[0]) for shape in found if len(shape) >= 2]


def has_timm_se_widths(state_dict: Mapping[str, torch.Tensor]) -> bool:
    """Whether the SE widths C' prove timm's current layout: C / 16 rounded to a multiple of 8
    fits every block and the paper's floor(C / 16) does not (layouts.md; e.g. C = 64 gets 8, not
    4). Networks whose every C is a multiple of 128 (SE-ResNet-50 and deeper, SE-ResNeXt) have
    equal widths under both rules: their SE widths prove nothing."""
    pairs = _se_pairs(state_dict)
    timm, paper = SEConfig(divisor=8), SEConfig()
    return (
        bool(pairs)
        and all(timm.hidden_channels(c) == h for c, h in pairs)
        and not all(paper.hidden_channels(c) == h for c, h in pairs)
    )


def stride_is_ambiguous(state_dict: Mapping[str, torch.Tensor], target: ResNetConfig | None) -> bool:
    """Whether a state dict in senet / torchvision / timm names (no metadata) gives a different
    network as ``target`` (stride as the registered model) than as timm / torchvision weights
    (stride on the 3x3, Sec. "Layouts" of docs/weights.md): bottleneck blocks in the file and a
    ``target`` with ``stride_in_1x1``. No tensor tells the two apart (the shapes are equal)."""
    bottleneck = "layer1.0.conv3.weight" in state_dict
    return bottleneck and target is not None and target.block == "bottleneck" and target.stride_in_1x1


def _shape(sd: Mapping[str, torch.Tensor], key: str) -> tuple[int, ...]:
    if key not in sd:
        raise KeyError(f"checkpoint lacks {key!r}, which every network of this family has")
    return tuple(sd[key].shape)


def fit_se(pairs: list[tuple[int, int]]) -> SEConfig:
    """The SEConfig whose rule C -> C' reproduces every (C, C') pair of the checkpoint."""
    for divisor in (1, 8):  # the paper's floor(C / r); timm's multiple of 8
        for r in (16, 8, 4, 32, 2, 64, 1):
            se = SEConfig(reduction=r, divisor=divisor)
            if all(se.hidden_channels(c) == h for c, h in pairs):
                return se
    hidden = {h for _, h in pairs}
    if len(hidden) == 1:
        return SEConfig(hidden=hidden.pop())
    raise ValueError(f"no reduction ratio r explains the SE widths (C, C') = {sorted(set(pairs))}")


def infer_config(
    state_dict: Mapping[str, torch.Tensor],
    *,
    stride_in_1x1: bool,
    stem_pool_ceil: bool = False,
    drop_rate: float = 0.0,
) -> ResNetConfig:
    """The ResNetConfig of a state dict in ``senet`` names; stage strides are Table 1's (1, 2, 2, 2)."""
    sd = state_dict
    deep = "conv1.0.weight" in sd
    stem_w = _shape(sd, "conv1.0.weight" if deep else "conv1.weight")
    if (deep and stem_w[:1] != (64,)) or (not deep and stem_w[:1] + stem_w[2:] != (64, 7, 7)):
        raise ValueError(f"stem conv of shape {list(stem_w)} is not the 7x7/64 or 3x3 deep stem of Table 1")
    bottleneck = "layer1.0.conv3.weight" in sd
    stages, groups, se_pairs, se_stages = [], 1, [], []
    for s in range(1, 5):
        found = {int(m.group(1)) for k in sd if (m := re.match(rf"layer{s}\.(\d+)\.", k))}
        if not found or found != set(range(len(found))):
            raise ValueError(f"stage layer{s} has blocks {sorted(found)}; expected 0..n-1")
        pre = f"layer{s}.0."
        reduce = _shape(sd, pre + "conv1.weight")[0]
        mid = _shape(sd, pre + ("conv2" if bottleneck else "conv1") + ".weight")[0]
        out = _shape(sd, pre + ("conv3" if bottleneck else "conv2") + ".weight")[0]
        if bottleneck:
            groups = reduce // _shape(sd, pre + "conv2.weight")[1]
        stages.append(Stage(len(found), mid, out, 1 if s == 1 else 2, reduce if reduce != mid else None))
        for i in sorted(found):
            key = f"layer{s}.{i}.se.fc1.weight"
            if key in sd:
                hidden, channels = _shape(sd, key)[:2]
                if channels != out:
                    raise ValueError(f"{key} acts on {channels} channels, not the block output C = {out}")
                se_pairs.append((channels, hidden))
                se_stages.append(s)
    se = fit_se(se_pairs) if se_pairs else None
    if se is not None and "layer1.0.se.fc1.bias" not in sd:
        se = SEConfig(reduction=se.reduction, hidden=se.hidden, divisor=se.divisor, bias=False)
    down = _shape(sd, "layer2.0.downsample.0.weight")[-1]
    num_classes, features = _shape(sd, "fc.weight")
    if features != stages[-1].out:
        raise ValueError(f"fc.weight takes {features} features but layer4 gives {stages[-1].out}")
    return ResNetConfig(
        "bottleneck" if bottleneck else "basic",
        tuple(stages),
        groups=groups,
        stem="deep" if deep else "7x7",
        stem_pool_ceil=stem_pool_ceil,
        stride_in_1x1=stride_in_1x1,
        downsample_kernel=down,
        se=se,
        se_stages=tuple(sorted(set(se_stages))) if se_stages else (1, 2, 3, 4),
        num_classes=num_classes,
        in_chans=stem_w[1],
        drop_rate=drop_rate,
    )


def _architecture(cfg: ResNetConfig) -> tuple:
    """The fields that fix the tensor shapes (not strides, head size or SE rounding)."""
    return (cfg.block, cfg.stages, cfg.groups, cfg.stem, cfg.downsample_kernel, cfg.se is None)


def _registered_architecture(name: str) -> tuple | None:
    """The architecture of the registered ``name`` from its table row (no network is built)."""
    config = MODELS.get(name).config
    return _architecture(config) if isinstance(config, ResNetConfig) else None


def match_model_name(config: ResNetConfig | BNInceptionConfig) -> str | None:
    """The registered model with ``config``'s architecture (e.g. ``"se_resnet50"``), else None.

    Only names that carry the network's depth (3 layers per bottleneck, 2 per basic block, plus
    stem and classifier: 50, 101, 152, ...) or, for the deep stem, start with ``senet`` are
    compared, by the configuration their registry entry carries (nothing is built). A
    BN-Inception is ``bn_inception`` / ``se_bn_inception`` when it has their modules and SE width.
    """
    if isinstance(config, BNInceptionConfig):
        for name in MODELS.names():
            own = MODELS.get(name).config
            if isinstance(own, BNInceptionConfig) and (own.modules, own.se) == (config.modules, config.se):
                return name
        return None
    depth = sum(s.blocks for s in config.stages) * (3 if config.block == "bottleneck" else 2) + 2
    for name in MODELS.names():
        if re.search(rf"(?<!\d){depth}(?!\d)", name) or (config.stem == "deep" and name.startswith("senet")):
            if _registered_architecture(name) == _architecture(config):
                return name
    return None
