"""The Cadene ``pretrainedmodels`` / timm-legacy layout (``legacy_seresnet*``, ``legacy_senet154``).

Both descend from the PyTorch port of the official Caffe models. Differences from ``senet``:

- the stem lives in ``layer0`` (``conv1``/``bn1``; SENet-154: ``conv1..3``/``bn1..3``), followed
  by a 3x3 stride-2 max-pool with ceil mode and no padding (``stem_pool_ceil=True``);
- SE blocks are ``se_module`` (1x1 convolutions with bias, C' = C // 16), the classifier is
  ``last_linear``;
- SE-ResNet bottlenecks stride the first 1x1 (as the Caffe models); SE-ResNeXt and SENet-154
  stride the grouped 3x3;
- SENet-154 applies dropout 0.2 before the classifier (Appendix of the paper);
- basic blocks (SE-ResNet-18/34) have a ReLU after ``bn2``, before the SE block, which
  torchvision's BasicBlock lacks (``relu_before_se=True``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from senet.models.resnet import ResNetConfig
from senet.weights.detect import infer_config

# layer0 of SENet-154 -> the deep stem Sequential (conv, BN, ReLU, conv, BN, ReLU, conv) + bn1
_DEEP_STEM = {
    "layer0.conv1.": "conv1.0.",
    "layer0.bn1.": "conv1.1.",
    "layer0.conv2.": "conv1.3.",
    "layer0.bn2.": "conv1.4.",
    "layer0.conv3.": "conv1.6.",
    "layer0.bn3.": "bn1.",
}
_STEM = {"layer0.conv1.": "conv1.", "layer0.bn1.": "bn1."}


def cadene_key(key: str, *, deep_stem: bool) -> str:
    """The ``senet`` name of one Cadene key."""
    for old, new in (_DEEP_STEM if deep_stem else _STEM).items():
        if key.startswith(old):
            return new + key[len(old) :]
    if key.startswith("last_linear."):
        return "fc." + key[len("last_linear.") :]
    return key.replace(".se_module.", ".se.")


def add_bn_counters(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Add the ``num_batches_tracked`` buffer (0) to every BN that lacks it (pre-0.4 files)."""
    for key in [k for k in state_dict if k.endswith(".running_var")]:
        state_dict.setdefault(key[: -len("running_var")] + "num_batches_tracked", torch.tensor(0))
    return state_dict


def from_cadene(state_dict: Mapping[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], ResNetConfig]:
    """(state dict in ``senet`` names, its ResNetConfig) for a Cadene / timm-legacy checkpoint."""
    deep = "layer0.conv2.weight" in state_dict
    sd = add_bn_counters({cadene_key(k, deep_stem=deep): v for k, v in state_dict.items()})
    grouped = (
        "layer1.0.conv2.weight" in sd
        and sd["layer1.0.conv2.weight"].shape[1] != sd["layer1.0.conv1.weight"].shape[0]
    )
    config = infer_config(sd, stride_in_1x1=not grouped, stem_pool_ceil=True, drop_rate=0.2 if deep else 0.0)
    if config.block == "basic":  # SE-ResNet-18/34: conv-bn-ReLU-conv-bn-ReLU-SE (layouts.md)
        config = config.replace(relu_before_se=True)
    return sd, config
