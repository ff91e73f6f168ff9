"""The peers ``senet bench --peers`` times beside senet's models (issue 16, item 5).

- ``reference``: the same network written in plain PyTorch the way most SE repositories write it
  (Cadene's ``pretrainedmodels``, the official Caffe prototxts' structure): the SE block as
  ``AdaptiveAvgPool2d`` -> 1x1 conv W1 -> ReLU -> 1x1 conv W2 -> sigmoid -> ``x * s`` (Eqs. 2-4),
  then ``out += shortcut`` and ReLU as separate ops, with no fused kernel and no prepacking. It
  is derived from the registry entry's family configuration, so it has senet's parameters in
  senet's order (the tests load one network's weights into the other and compare outputs); it
  exists for the ResNet rows of Table 1 (basic and bottleneck, ResNeXt's grouped 3x3 included)
  and the option-A CIFAR ResNets, the networks the paper's SE-vs-plain comparisons use most.
- ``timm``: timm's model of the same architecture (``seresnet50`` for ``se_resnet50``), when timm
  imports (it is optional: never a dependency of senet).

A peer's row is named ``PEER:MODEL`` (``reference:se_resnet50``, ``timm:se_resnet50``), so the
plain twin of a peer row is the peer row of the twin and SE overheads come out as for senet's
own rows. A peer has no ``senet.optimize``: its ``optimized`` setting is the best generic mode
(channels_last, under bf16 autocast for bf16; timm's recommended CPU mode) and ``compiled`` is
``torch.compile`` of that.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch import nn

from senet.bench.config import PEERS, Peer
from senet.layers.se import SEConfig
from senet.models.cifar import CifarResNetConfig, ZeroPadShortcut  # option A: no parameters, no SE
from senet.models.resnet import ResNetConfig
from senet.registry import MODELS

#: timm's name of each senet model that timm has (the legacy SENet-154 is timm's ``legacy_senet154``).
TIMM_NAMES: dict[str, str] = {
    **{f"resnet{d}": f"resnet{d}" for d in (18, 34, 50, 101, 152)},
    **{f"se_resnet{d}": f"seresnet{d}" for d in (18, 34, 50, 101, 152)},
    "resnext50_32x4d": "resnext50_32x4d",
    "resnext101_32x4d": "resnext101_32x4d",
    "se_resnext50_32x4d": "seresnext50_32x4d",
    "se_resnext101_32x4d": "seresnext101_32x4d",
    "senet154": "legacy_senet154",
}


def split_peer(row: str) -> tuple[Peer | None, str]:
    """(peer, senet model) of a row name: ``"timm:se_resnet50"`` -> ("timm", "se_resnet50");
    a senet model's own row -> (None, row)."""
    peer, sep, model = row.partition(":")
    return (peer, model) if sep and peer in PEERS else (None, row)  # type: ignore[return-value]


class RefSE(nn.Module):
    """The SE block as most repositories write it: pool, 1x1 conv, ReLU, 1x1 conv, sigmoid, multiply."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)  # W1
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)  # W2
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.sigmoid(self.fc2(self.relu(self.fc1(self.pool(x)))))  # (N, C, 1, 1)
        return x * s  # (N, C, H, W)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [
        nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(cout),
    ]


class RefBlock(nn.Module):
    """A post-activation residual block: ``body`` (convs, BNs, ReLUs), SE, ``out += shortcut``, ReLU.

    Layers are declared in senet's order (body, projection shortcut, SE), so that the two networks'
    parameters line up one to one.
    """

    def __init__(self, body: list[nn.Module], shortcut: nn.Module | None, se: RefSE | None) -> None:
        super().__init__()
        self.body = nn.Sequential(*body)
        self.shortcut = shortcut
        self.se = se
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)  # (N, C, H/s, W/s)
        if self.se is not None:
            out = self.se(out)
        out += x if self.shortcut is None else self.shortcut(x)
        return self.relu(out)


class RefResNet(nn.Module):
    """stem -> blocks -> global average pooling -> fc, from a list of blocks."""

    def __init__(self, stem: list[nn.Module], blocks: list[nn.Module], width: int, classes: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(*stem)
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.blocks(self.stem(x))).flatten(1))  # (N, classes)


def _imagenet_block(cfg: ResNetConfig, cin: int, stage: int, stride: int) -> RefBlock:
    row = cfg.stages[stage]
    out, relu = row.out, nn.ReLU(inplace=True)
    if cfg.block == "basic":
        body = [*_conv_bn(cin, out, 3, stride), relu, *_conv_bn(out, out, 3)]
    else:
        s1, s3 = (stride, 1) if cfg.stride_in_1x1 else (1, stride)
        body = [*_conv_bn(cin, row.mid, 1, s1), relu, *_conv_bn(row.mid, row.mid, 3, s3, cfg.groups), relu,
                *_conv_bn(row.mid, out, 1)]  # fmt: skip
    shortcut = None if stride == 1 and cin == out else nn.Sequential(*_conv_bn(cin, out, 1, stride))
    se = None if cfg.se is None else RefSE(out, cfg.se.hidden_channels(out))
    return RefBlock(body, shortcut, se)


def _imagenet(cfg: ResNetConfig) -> RefResNet:
    stem = [*_conv_bn(cfg.in_chans, 64, 7, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    blocks, width = [], 64
    for index, row in enumerate(cfg.stages):
        for i in range(row.blocks):
            blocks.append(_imagenet_block(cfg, width, index, row.stride if i == 0 else 1))
            width = row.out
    return RefResNet(stem, blocks, width, cfg.num_classes)


def _cifar(cfg: CifarResNetConfig) -> RefResNet:
    stem = [*_conv_bn(cfg.in_chans, cfg.stem_width, 3), nn.ReLU(inplace=True)]
    blocks, width = [], cfg.stem_width
    for row in cfg.stages:
        for i in range(row.blocks):
            stride = row.stride if i == 0 else 1
            body = [
                *_conv_bn(width, row.out, 3, stride),
                nn.ReLU(inplace=True),
                *_conv_bn(row.out, row.out, 3),
            ]
            shortcut = None if stride == 1 and width == row.out else ZeroPadShortcut(width, row.out, stride)
            se = None if cfg.se is None else RefSE(row.out, cfg.se.hidden_channels(row.out))
            blocks.append(RefBlock(body, shortcut, se))
            width = row.out
    return RefResNet(stem, blocks, width, cfg.num_classes)


def _textbook_se(se: SEConfig | None) -> bool:
    """No SE, or the paper's: average squeeze, sigmoid gate, W1 and W2 with biases."""
    return se is None or (se.squeeze == "avg" and se.gate == "sigmoid" and se.bias)


def _plain_resnet(cfg: ResNetConfig) -> bool:
    """Whether a ResNet configuration is one the reference writes: Table 1's layout, SE (if any)
    the paper's, in the standard place of every stage, nothing pruned or legacy."""
    return (
        _textbook_se(cfg.se) and cfg.stem == "7x7" and not cfg.stem_pool_ceil and cfg.downsample_kernel == 1
        and cfg.placement == "standard" and tuple(cfg.se_stages) == (1, 2, 3, 4)
        and cfg.stem_width is None and not cfg.relu_before_se and cfg.drop_rate == 0
        and all(row.reduce is None and row.se_hidden is None for row in cfg.stages)
        and (cfg.block == "bottleneck" or all(row.mid == row.out for row in cfg.stages))
    )  # fmt: skip


def _plain_cifar(cfg: CifarResNetConfig) -> bool:
    return (
        _textbook_se(cfg.se) and cfg.block == "basic" and cfg.shortcut == "A" and cfg.placement == "standard"
        and cfg.drop_rate == 0 and all(row.mid in (None, row.out) and row.se_hidden is None for row in cfg.stages)
    )  # fmt: skip


def _reference_builder(name: str) -> Callable[[], RefResNet] | None:
    """How to build the reference of registered model ``name``, from its registry entry's
    configuration alone (nothing is built to answer), or None when there is none."""
    cfg = MODELS.get(name).config if name in MODELS else None
    if isinstance(cfg, ResNetConfig) and _plain_resnet(cfg):
        return lambda: _imagenet(cfg)
    if isinstance(cfg, CifarResNetConfig) and _plain_cifar(cfg):
        return lambda: _cifar(cfg)
    return None


def reference_model(name: str) -> nn.Module | None:
    """The plain-PyTorch reference of registered model ``name`` (module docstring), or None when
    there is none for its architecture."""
    build = _reference_builder(name)
    return None if build is None else build()


@functools.cache  # a failed import is not cached by Python: try once
def timm_module() -> object | None:
    """timm, if it imports here (it is optional; its binary parts need CUDA on some machines)."""
    try:
        import timm  # deferred: optional peer
    except Exception:  # noqa: BLE001 - an ImportError, or a broken install's OSError / RuntimeError
        return None
    return timm


def has_peer(peer: Peer, name: str) -> bool:
    """Whether ``peer`` has a model for senet model ``name`` on this machine."""
    if peer == "timm":
        return name in TIMM_NAMES and timm_module() is not None
    return _reference_builder(name) is not None


def why_missing(peer: Peer) -> str:
    """Why ``peer`` may lack a model (for the log line of a skipped one)."""
    if peer == "reference":
        return "the reference covers the ResNets, ResNeXts and option-A CIFAR ResNets"
    return "timm does not import here" if timm_module() is None else "not in senet.bench.peers.TIMM_NAMES"


def peer_model_name(row: str) -> str:
    """What the peer calls the model of a peer row (timm's name; the reference's is senet's)."""
    peer, name = split_peer(row)
    return TIMM_NAMES[name] if peer == "timm" else name


def build_peer(row: str) -> nn.Module:
    """The network of a peer row ``PEER:MODEL`` (He / timm initialisation: timing needs no weights)."""
    peer, name = split_peer(row)
    model = None
    if peer == "reference":
        model = reference_model(name)
    elif peer == "timm" and has_peer("timm", name):
        model = timm_module().create_model(TIMM_NAMES[name], pretrained=False)  # type: ignore[attr-defined]
    if model is None:
        raise ValueError(f"bench: no {peer} model for {name!r} here")
    return model


def best_mode(model: nn.Module, bf16: bool, compile: bool) -> Callable[[torch.Tensor], torch.Tensor]:
    """A peer's ``optimized`` (or ``compiled``) inference: channels_last weights, bf16 autocast when
    asked; give it channels_last input (converted once by the caller, not in the timed call)."""
    model = model.to(memory_format=torch.channels_last)
    runner = torch.compile(model) if compile else model
    device = next(model.parameters()).device.type

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            return runner(x)

    return run
