"""The built-in model table: one row per SE / plain pair, registered into :data:`senet.registry.MODELS`.

Each :class:`Pair` names a network family (the class), its configuration preset (the rows of the
paper's tables as a frozen dataclass) and the paper's figures for both members. Registering a
pair adds two :class:`~senet.registry.ModelEntry` rows: the SE network with ``se=SEConfig()``
(r = 16, Sec. 3) and its plain twin with ``se=None``, each naming the other as its twin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from torch import nn

from senet.layers.se import SEConfig
from senet.models.cifar import (
    PREACT_RESNET110,
    PREACT_RESNET164,
    RESNET20,
    RESNET32,
    RESNET56,
    RESNET110,
    RESNET164,
    WRN16_8,
    CifarResNet,
)
from senet.models.common import replace_config
from senet.models.fastnet import FASTNET, FastNet
from senet.models.inception import BNInception, BNInceptionConfig
from senet.models.inception_resnet import InceptionResNetConfig, InceptionResNetV2
from senet.models.mobile import MobileNetConfig, MobileNetV1, ShuffleNetConfig, ShuffleNetV1
from senet.models.resnet import (
    RESNET18,
    RESNET34,
    RESNET50,
    RESNET101,
    RESNET152,
    RESNEXT50,
    RESNEXT101,
    SENET154,
    ResNet,
)
from senet.models.shake import SHAKE26_2X96D, SHAKE_EVEN29_2X4X64D, ShakeResNet
from senet.models.vgg import VGG, VGGConfig
from senet.registry import MODELS, ModelEntry

__all__ = ["MODELS", "PAIRS", "FamilyBuilder", "Pair", "register_pair"]

# How an unknown option's error names each family ("unknown option(s) [...] for a ResNet; valid: ...").
FAMILY_LABELS: dict[type[nn.Module], str] = {
    ResNet: "a ResNet",
    CifarResNet: "a CIFAR ResNet",
    ShakeResNet: "a Shake-Shake network",
    MobileNetV1: "MobileNet",
    ShuffleNetV1: "ShuffleNet",
    BNInception: "BN-Inception",
    InceptionResNetV2: "Inception-ResNet-v2",
    VGG: "VGG",
    FastNet: "FastNet",
}


@dataclass(frozen=True)
class FamilyBuilder:
    """``builder(**overrides)``: ``family(config with overrides)``; an unknown option is a
    ``TypeError`` naming it and listing the valid ones."""

    family: type[nn.Module]
    config: Any

    def __call__(self, **overrides: Any) -> nn.Module:
        label = FAMILY_LABELS.get(self.family, self.family.__name__)
        return self.family(replace_config(self.config, overrides, label))


@dataclass(frozen=True)
class Pair:
    """One row of the table: an SE network and its plain twin from the same preset."""

    plain: str
    """The plain network's name; the SE network's is ``"se_" + plain`` unless ``se_name`` is given."""
    family: type[nn.Module]
    """The network class, built from a configuration: ``family(config)``."""
    config: Any
    """The family's preset (a frozen dataclass with an ``se`` field, set per member)."""
    input_size: int = 224
    """The input side the figures are quoted at."""
    doc: str = ""
    """The plain network and its figures (paper table, parameters, GFLOPs)."""
    se_doc: str = ""
    """The SE network and its figures."""
    se_name: str | None = None
    """The SE network's name where it is not ``"se_" + plain`` (SENet-154)."""
    se: SEConfig = SEConfig()
    """The SE network's default SE options (Sec. 3: r = 16, average squeeze, sigmoid)."""

    @property
    def se_model(self) -> str:
        return self.se_name or "se_" + self.plain

    def entries(self) -> tuple[ModelEntry, ModelEntry]:
        """(the SE network's entry, the plain twin's entry)."""
        se_config = dataclasses.replace(self.config, se=self.se)
        plain_config = dataclasses.replace(self.config, se=None)
        common = dict(family=self.family, input_size=self.input_size)
        return (
            ModelEntry(self.se_model, FamilyBuilder(self.family, se_config), se_config,
                       twin=self.plain, doc=self.se_doc, **common),
            ModelEntry(self.plain, FamilyBuilder(self.family, plain_config), plain_config,
                       twin=self.se_model, doc=self.doc, **common),
        )  # fmt: skip


def _basic_se(depth: str) -> str:
    return f"SE-ResNet-{depth}: SE (r = 16) on every residual branch."


def _cifar_se(name: str, extra: str = ": SE (r = 16) on every residual branch.") -> str:
    return f"SE-{name} for CIFAR{extra}"


PAIRS: tuple[Pair, ...] = (
    # Sec. 5, Table 1, Table 2; the paper's ResNets take the stride on the first 1x1.
    Pair("resnet18", ResNet, RESNET18, doc="ResNet-18, the plain twin of se_resnet18.", se_doc=_basic_se("18")),
    Pair("resnet34", ResNet, RESNET34, doc="ResNet-34, the plain twin of se_resnet34.", se_doc=_basic_se("34")),
    Pair("resnet50", ResNet, RESNET50, doc="ResNet-50 (Table 2: 25.6M params, 3.86 GFLOPs).",
         se_doc="SE-ResNet-50 (Table 2: 28.1M params, 3.87 GFLOPs)."),
    Pair("resnet101", ResNet, RESNET101, doc="ResNet-101 (Table 2: 7.58 GFLOPs).",
         se_doc="SE-ResNet-101 (Table 2: 7.60 GFLOPs)."),
    Pair("resnet152", ResNet, RESNET152, doc="ResNet-152 (Table 2: 11.30 GFLOPs).",
         se_doc="SE-ResNet-152 (Table 2: 11.32 GFLOPs)."),
    Pair("resnext50_32x4d", ResNet, RESNEXT50, doc="ResNeXt-50 32x4d (Table 2: 4.24 GFLOPs).",
         se_doc="SE-ResNeXt-50 32x4d (Table 2: 4.25 GFLOPs)."),
    Pair("resnext101_32x4d", ResNet, RESNEXT101, doc="ResNeXt-101 32x4d (Table 2: 7.99 GFLOPs).",
         se_doc="SE-ResNeXt-101 32x4d (Table 2: 8.00 GFLOPs)."),
    Pair("senet154_plain", ResNet, SENET154, se_name="senet154",
         doc="The plain twin of SENet-154: the same network without SE blocks.",
         se_doc="SENet-154 (Appendix): SE in a modified 64x4d ResNeXt-152."),
    # CIFAR, Tables 4-5 (32 x 32 input).
    Pair("resnet20_cifar", CifarResNet, RESNET20, 32,
         "ResNet-20 for CIFAR (He et al. 2016a, 0.27M params), the plain twin of se_resnet20_cifar.",
         _cifar_se("ResNet-20")),
    Pair("resnet32_cifar", CifarResNet, RESNET32, 32, "ResNet-32 for CIFAR (He et al. 2016a, 0.46M params).",
         _cifar_se("ResNet-32")),
    Pair("resnet56_cifar", CifarResNet, RESNET56, 32, "ResNet-56 for CIFAR (He et al. 2016a, 0.85M params).",
         _cifar_se("ResNet-56")),
    Pair("resnet110_cifar", CifarResNet, RESNET110, 32,
         "ResNet-110 for CIFAR, post-activation with option-A shortcuts (He et al. 2016a: 1.7M params); "
         "Tables 4-5 use the pre-activation preact_resnet110_cifar.",
         _cifar_se("ResNet-110", " (post-activation, He et al. 2016a): SE on every residual branch.")),
    Pair("resnet164_cifar", CifarResNet, RESNET164, 32,
         "Pre-activation bottleneck ResNet-164 for CIFAR with the stride on the 3x3 (1.7M params); "
         "Tables 4-5 use preact_resnet164_cifar, which has it on the first 1x1 as He et al. 2016b's code.",
         _cifar_se("ResNet-164", " (stride on the 3x3): SE on every residual branch.")),
    Pair("preact_resnet110_cifar", CifarResNet, PREACT_RESNET110, 32,
         'Pre-activation ResNet-110 for CIFAR (He et al. 2016b, "Identity mappings", Table 3: 1.7M params; '
         "the Tables 4-5 baseline: 6.37% on CIFAR-10).",
         _cifar_se("pre-activation ResNet-110", " (Tables 4-5): SE on every residual branch, before the sum.")),
    Pair("preact_resnet164_cifar", CifarResNet, PREACT_RESNET164, 32,
         'Pre-activation bottleneck ResNet-164 for CIFAR (He et al. 2016b, Table 3: 1.7M params; the '
         "Tables 4-5 baseline: 5.46% / 24.33%).",
         _cifar_se("pre-activation ResNet-164", " (Tables 4-5): SE on every residual branch, before the sum.")),
    Pair("wrn16_8_cifar", CifarResNet, WRN16_8, 32,
         "Wide ResNet WRN-16-8 for CIFAR (Zagoruyko & Komodakis: 11.0M params).",
         _cifar_se("WRN-16-8", " (Tables 4-5).")),
    # Issue 16's short-budget CIFAR network (airbench94's layout, Jordan 2024; not in the paper).
    Pair("fastnet_cifar", FastNet, FASTNET, 32,
         "FastNet for CIFAR (airbench94's layout at 3/4 width, whitened 2x2 stem): the plain twin of se_fastnet_cifar.",
         "SE-FastNet for CIFAR: SE (r = 16) after the last GELU of each of the three conv groups."),
    Pair("shake_shake26_2x96d_cifar", ShakeResNet, SHAKE26_2X96D, 32,
         "Shake-Shake-Image 26 2x96d for CIFAR-10 (Gastaldi 2017: 26.2M params).",
         "SE-Shake-Shake 26 2x96d (Table 4): SE (r = 16) on the mixed residual of every block."),
    Pair("shake_even29_2x4x64d_cifar", ShakeResNet, SHAKE_EVEN29_2X4X64D, 32,
         "Shake-Even-Image 29 2x4x64d for CIFAR-100 (Gastaldi 2017: 34.4M params).",
         "SE-Shake-Even 29 2x4x64d (Table 5): SE (r = 16) on the mixed residual of every block."),
    # Mobile networks, Table 3.
    Pair("mobilenet_v1", MobileNetV1, MobileNetConfig(), doc="MobileNet 1.0-224 (Table 3: 569 MFLOPs, 4.2M params).",
         se_doc="SE-MobileNet 1.0-224 (Table 3: 572 MFLOPs, 4.7M params): SE (r = 16) on every block."),
    Pair("shufflenet_v1_g3", ShuffleNetV1, ShuffleNetConfig(),
         doc="ShuffleNet 1x, g = 3 (Table 3: 140 MFLOPs, 1.8M params).",
         se_doc="SE-ShuffleNet 1x, g = 3 (Table 3: 142 MFLOPs, 2.4M params): SE (r = 16) on every branch."),
    # Table 2: Inception family and VGG.
    Pair("bn_inception", BNInception, BNInceptionConfig(),
         doc="BN-Inception (Table 2: 2.03 GFLOPs), the plain twin of se_bn_inception.",
         se_doc="SE-BN-Inception (Fig. 2; Table 2: 2.04 GFLOPs): SE (r = 16) on every module's output."),
    Pair("inception_resnet_v2", InceptionResNetV2, InceptionResNetConfig(), 299,
         "Inception-ResNet-v2 at 299 x 299, 13.16 GFLOPs (Table 2 prints 11.75: this network at "
         "297, 34 x 34 / 16 / 7 grids, counts 11.73; docs/models.md).",
         "SE-Inception-ResNet-v2 (Table 2 prints 11.76 GFLOPs, this network's count at 297): SE (r = 16) "
         "on every residual branch."),
    Pair("vgg16_bn", VGG, VGGConfig(), doc="VGG-16 with BN after every convolution (Table 2: 15.47 GFLOPs).",
         se_doc="SE-VGG-16 (Table 2: 15.48 GFLOPs): SE (r = 16) after the ReLU of each convolution."),
)  # fmt: skip


def register_pair(pair: Pair) -> None:
    """Register both members of ``pair``; a name registered before is refused (``ValueError``)."""
    for entry in pair.entries():
        MODELS.register(entry)


for _pair in PAIRS:
    register_pair(_pair)
