"""The residual streams of a ResNet-family network: which tensors read and write which channels.

A residual stream is the tensor the identity shortcuts carry through a stage: every block adds
its branch F(x) to it, so a stream channel is written by the last convolution of every branch
(and by the projection shortcut or the stem that opens the stream) and read by the first
convolution of every branch, the next projection and the classifier. In the standard placement
(Fig. 3) the SE block rescales F(x) before the sum, so its excitations s_c score exactly these
channels: the stream is the unit the ``se`` criterion can rank, and channel c of a stream is
removed from every tensor that touches it at once (the SE block's W1 inputs and W2 outputs too).

Channels are addressed by *slot*: slot 0 is the stem's output, slot s the output width C of stage
``layer{s}``. Slots are tied where the shortcut is the identity: a stage whose first block has no
projection shares its input's channels (ResNet-18's ``layer1`` and the stem); an option-A
shortcut (CIFAR ResNets) carries the previous slot's channels as its first ones and pads the rest
with zeros, so only the new channels are the stage's own. A :class:`Channel` is one such shared
channel, named by the slot that introduces it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from torch import nn

from senet.config import ConfigError
from senet.models.blocks import BasicBlock, Bottleneck
from senet.models.cifar import CifarResNet, ZeroPadShortcut
from senet.models.resnet import ResNet

Channel = tuple[int, int]  # (slot that introduces it, index in that slot)


@dataclass
class StreamMap:
    """Where every stream channel of a network lives (built by :func:`stream_map`).

    ``writes``/``reads`` map a module path to its output/input slot; ``gates`` maps an SE block
    path to the slot it scales; ``owner[slot][c]`` is the :class:`Channel` behind channel c of
    that slot.
    """

    widths: dict[int, int] = field(default_factory=dict)
    writes: dict[str, int] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)
    gates: dict[str, int] = field(default_factory=dict)
    owner: dict[int, list[Channel]] = field(default_factory=dict)

    def channels_of(self, slot: int) -> list[Channel]:
        """The channels a slot introduces itself (not those it shares with an earlier slot)."""
        return [ch for ch in self.owner[slot] if ch[0] == slot]

    def gated(self) -> set[Channel]:
        """The channels some SE block scales: the ones the criteria may remove."""
        return {ch for slot in self.gates.values() for ch in self.owner[slot]}

    def producers(self) -> dict[Channel, list[tuple[str, int]]]:
        """Channel -> the (convolution path, output index) pairs that write it."""
        found: dict[Channel, list[tuple[str, int]]] = defaultdict(list)
        for path, slot in self.writes.items():
            for index, ch in enumerate(self.owner[slot]):
                found[ch].append((path, index))
        return found

    def gate_refs(self) -> dict[Channel, list[tuple[str, int]]]:
        """Channel -> the (SE block path, channel index) pairs that scale it."""
        found: dict[Channel, list[tuple[str, int]]] = defaultdict(list)
        for path, slot in self.gates.items():
            for index, ch in enumerate(self.owner[slot]):
                found[ch].append((path, index))
        return found


def _check(model: nn.Module) -> None:
    if not isinstance(model, (ResNet, CifarResNet)):
        raise ConfigError(f"pruning handles the ResNet and CIFAR ResNet families, not {type(model).__name__}")
    cfg = model.config
    if isinstance(model, CifarResNet) and cfg.block != "basic":
        raise ConfigError(f"pruning handles CIFAR ResNets of post-activation basic blocks, not {cfg.block!r}")
    if cfg.se is not None and cfg.placement != "standard":
        raise ConfigError(f"pruning handles the standard SE placement (Fig. 3), not {cfg.placement!r}")


def _tie(smap: StreamMap, slot: int, previous: int, shortcut: nn.Module | None) -> None:
    """The channels of ``slot``: the previous slot's (identity), the previous slot's then new ones
    (option A), or all new (a projection)."""
    width = smap.widths[slot]
    if shortcut is None:
        smap.owner[slot] = list(smap.owner[previous])
    elif isinstance(shortcut, ZeroPadShortcut):
        carried = smap.owner[previous]
        smap.owner[slot] = carried + [(slot, c) for c in range(len(carried), width)]
    else:
        smap.owner[slot] = [(slot, c) for c in range(width)]


def stream_map(model: nn.Module) -> StreamMap:
    """The stream slots of a ResNet (basic or bottleneck blocks, any SE stages) or of a CIFAR
    ResNet of basic blocks, standard SE placement; other networks raise :class:`ConfigError`."""
    _check(model)
    smap = StreamMap()
    stem = "conv1.6" if isinstance(model, ResNet) and model.config.stem == "deep" else "conv1"
    smap.widths[0] = model.get_submodule(stem).out_channels
    smap.owner[0] = [(0, c) for c in range(smap.widths[0])]
    smap.writes |= {stem: 0, "bn1": 0}
    slot = 0
    for s in range(1, len(model.config.stages) + 1):
        blocks = list(model.get_submodule(f"layer{s}"))
        last = "conv3" if isinstance(blocks[0], Bottleneck) else "conv2"
        if not isinstance(blocks[0], (BasicBlock, Bottleneck)):
            raise ConfigError(f"layer{s} holds {type(blocks[0]).__name__} blocks: not prunable here")
        smap.widths[s] = getattr(blocks[0], last).out_channels
        _tie(smap, s, slot, blocks[0].downsample)
        for j, block in enumerate(blocks):
            path, source = f"layer{s}.{j}", slot if j == 0 else s
            smap.reads[f"{path}.conv1"] = source
            smap.writes |= {f"{path}.{last}": s, f"{path}.bn{last[-1]}": s}
            if isinstance(block.downsample, nn.Sequential):  # projection: conv + BN
                smap.reads[f"{path}.downsample.0"] = source
                smap.writes |= {f"{path}.downsample.0": s, f"{path}.downsample.1": s}
            if block.se is not None:  # W1 reads the channels it squeezes, W2 writes one s_c per channel
                smap.gates[f"{path}.se"] = s
                smap.reads[f"{path}.se.fc1"] = s
                smap.writes[f"{path}.se.fc2"] = s
        slot = s
    smap.reads["fc"] = slot
    return smap
