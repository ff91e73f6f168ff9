"""Fitting pretrained weights to a network built for another task (fine-tuning).

- Another number of classes: the classifier (the network's last fully-connected layer) keeps its
  fresh initialisation; every other tensor loads.
- Another number of input channels: the first convolution's filters are adapted. One channel
  takes the sum over the pretrained RGB filters (a grey image x gives the response of the RGB
  image (x, x, x)); C channels repeat the pretrained filters cyclically and scale them by
  C_pretrained / C (timm's rule). When C is a multiple of the pretrained count (6 channels: two
  RGB images stacked) an image whose channel groups are equal gets the pretrained response
  exactly; other counts only approximately (each pretrained filter is used unevenly).

Everything else must fit exactly (:func:`senet.weights.convert.load_strict`'s errors).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import torch
from torch import nn

from senet.weights.convert import load_strict


def _say(line: str) -> None:
    print(line, file=sys.stderr)


def first_conv(model: nn.Module) -> str:
    """The parameter name of the first convolution's weight (the one that sees the image)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            return f"{name}.weight"
    raise TypeError(f"{type(model).__name__} has no convolution")


def classifier(model: nn.Module) -> str:
    """The module name of the last fully-connected layer (the classifier)."""
    names = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not names:
        raise TypeError(f"{type(model).__name__} has no fully-connected classifier")
    return names[-1]


def adapt_channels(weight: torch.Tensor, channels: int) -> torch.Tensor:
    """First-convolution filters (O, C_w, k, k) for ``channels`` input channels (see module doc)."""
    have = weight.shape[1]
    if channels == have:
        return weight
    if channels == 1:
        return weight.sum(1, keepdim=True)  # (O, 1, k, k)
    repeated = weight.repeat(1, math.ceil(channels / have), 1, 1)[:, :channels]  # (O, C, k, k)
    return repeated * (have / channels)


def load_adapted(
    model: nn.Module, state_dict: dict[str, torch.Tensor], *, say: Callable[[str], None] = _say
) -> nn.Module:
    """Load ``state_dict`` into ``model``, re-initialising its classifier and adapting its first
    convolution where the shapes say another task; one line says what was changed."""
    own = model.state_dict()
    state = dict(state_dict)
    conv = first_conv(model)
    if conv in state and state[conv].shape[1] != own[conv].shape[1]:
        have, want = state[conv].shape[1], own[conv].shape[1]
        state[conv] = adapt_channels(state[conv], want)
        say(f"{conv}: filters adapted from {have} to {want} input channels")
    head = classifier(model)
    keys = [k for k in (f"{head}.weight", f"{head}.bias") if k in own]
    if keys and keys[0] in state and state[keys[0]].shape != own[keys[0]].shape:
        old, new = state[keys[0]].shape[0], own[keys[0]].shape[0]
        for key in keys:
            state[key] = own[key]  # the network's fresh initialisation
        say(f"{head}: classifier re-initialised for {new} classes (the weights have {old})")
    load_strict(model, state)
    return model
