"""VGG-16 with batch normalisation (Simonyan & Zisserman 2015, configuration D) and SE-VGG-16.

The SE paper trains VGG-16 from scratch with BN after every convolution (Table 2); its SE
variant puts an SE block after the non-linearity that follows each convolution (Sec. 3.3):
conv -> BN -> ReLU -> SE, thirteen SE blocks. The classifier is VGG's three fully-connected
layers (4096, 4096, num_classes) with dropout ``drop_rate`` (0.5 in VGG) after the first two; an
adaptive average pool to 7 x 7 lets other input sizes use it (the identity at 224).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from senet.layers.conv import conv_norm_act
from senet.layers.se import SEConfig, SqueezeExcite
from senet.models.common import init_weights

# Simonyan & Zisserman 2015, Table 1, configuration D: conv3 widths per stage, each stage
# followed by a 2x2 max-pool.
VGG16_STAGES: tuple[tuple[int, ...], ...] = (
    (64, 64),
    (128, 128),
    (256, 256, 256),
    (512, 512, 512),
    (512, 512, 512),
)


@dataclass(frozen=True)
class VGGConfig:
    """Everything that defines a VGG; ``stages`` lists each stage's conv3x3 widths."""

    stages: tuple[tuple[int, ...], ...] = VGG16_STAGES
    hidden: int = 4096
    se: SEConfig | None = None
    num_classes: int = 1000
    in_chans: int = 3
    drop_rate: float = 0.5


class ConvBNReLU(nn.Sequential):
    """conv3x3 -> BN -> ReLU, then the SE block on the rectified output (Sec. 3.3)."""

    def __init__(self, in_ch: int, out: int, se: SEConfig | None) -> None:
        layers = list(conv_norm_act(in_ch, out, 3))  # keys 0 conv, 1 BN, 2 ReLU
        if se is not None:
            layers.append(SqueezeExcite(out, se))  # key 3
        super().__init__(*layers)


class VGG(nn.Module):
    """A VGG network from a :class:`VGGConfig` (He initialisation)."""

    def __init__(self, config: VGGConfig) -> None:
        super().__init__()
        self.config = cfg = config
        layers: list[nn.Module] = []
        width = cfg.in_chans
        for stage in cfg.stages:
            for out in stage:
                layers.append(ConvBNReLU(width, out, cfg.se))
                width = out
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)  # (N, 512, H/32, W/32)
        self.num_features = width
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        self.classifier = nn.Sequential(
            nn.Linear(width * 49, cfg.hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(cfg.drop_rate),
            nn.Linear(cfg.hidden, cfg.hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(cfg.drop_rate),
            nn.Linear(cfg.hidden, cfg.num_classes),
        )
        init_weights(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.avgpool(self.forward_features(x)).flatten(1)  # (N, 512 * 7 * 7)
        return self.classifier(x)  # (N, num_classes)
