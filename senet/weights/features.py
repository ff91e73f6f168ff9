"""Multi-scale feature maps of a ResNet-family trunk, for detection and segmentation.

The paper's COCO experiment (Sec. 5.3, Table 7) swaps the Faster R-CNN trunk for SE-ResNet.
:class:`FeatureExtractor` returns the outputs of ``layer1..layer4`` (strides 4, 8, 16, 32) as
an ``OrderedDict``, the contract of torchvision's ``IntermediateLayerGetter`` that its
``BackboneWithFPN`` / FPN heads consume, and exposes ``out_channels`` and ``strides`` lists. ``senet.create_feature_extractor(name)``
builds one from a registered name (optionally with pretrained weights).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import torch
from torch import nn

from senet.models.resnet import ResNet

STAGES = ("layer1", "layer2", "layer3", "layer4")


class FeatureExtractor(nn.Module):
    """The stem and ``layer1..layer4`` of ``model`` (its head dropped), returning chosen stages.

    Args:
        model: a :class:`ResNet` (weights are shared, not copied).
        stages: which of ``layer1..layer4`` to return, in order.
        names: output keys (default: the stage names); e.g. ``("0", "1", "2", "3")`` for
            torchvision's FPN.
    """

    def __init__(
        self, model: ResNet, *, stages: Sequence[str] = STAGES, names: Sequence[str] | None = None
    ) -> None:
        super().__init__()
        unknown = [s for s in stages if s not in STAGES]
        if unknown or not stages:
            raise ValueError(f"stages must be a non-empty subset of {STAGES}, got {list(stages)}")
        names = list(names) if names is not None else list(stages)
        if len(names) != len(stages):
            raise ValueError(f"{len(names)} names for {len(stages)} stages")
        self.conv1, self.bn1, self.relu, self.maxpool = model.conv1, model.bn1, model.relu, model.maxpool
        last = max(STAGES.index(s) for s in stages)
        for s in STAGES[: last + 1]:
            self.add_module(s, getattr(model, s))
        self.return_layers = dict(zip(stages, names, strict=True))
        stride, self.out_channels, self.strides = 4, [], []  # stem: conv /2, max-pool /2
        for i, s in enumerate(STAGES[: last + 1]):
            stride *= model.config.stages[i].stride
            if s in self.return_layers:
                self.out_channels.append(model.config.stages[i].out)
                self.strides.append(stride)

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (N, 64, H/4, W/4)
        out: OrderedDict[str, torch.Tensor] = OrderedDict()
        for s in STAGES:
            if s not in self._modules:
                break
            x = getattr(self, s)(x)  # (N, C_s, H/stride, W/stride)
            if s in self.return_layers:
                out[self.return_layers[s]] = x
        return out
