"""Exponential moving average of the weights (``TrainConfig.ema_decay``), with torch's
:class:`~torch.optim.swa_utils.AveragedModel`.

After each optimizer step ``ema = decay * ema + (1 - decay) * weights`` for every parameter and
floating-point buffer (BN statistics: ``use_buffers=True``); the first update copies the weights.
The average's step counter (``n_averaged``) stays on the CPU, so an update never waits for the GPU.
Checkpoints hold its state in ``state.pt`` (``"ema"``, resumed exactly) and its weights as
``ema.safetensors`` beside ``model.safetensors`` (``senet eval --checkpoint .../ema.safetensors``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from senet.train.config import TrainConfig

EMA_WEIGHTS = "ema.safetensors"
"""The EMA's weights in a checkpoint folder (same metadata as model.safetensors)."""


def build_ema(config: TrainConfig, model: nn.Module) -> AveragedModel | None:
    """The moving average of ``model`` (the plain network, not a DDP wrapper); None when off."""
    if config.ema_decay <= 0:
        return None
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(config.ema_decay), use_buffers=True)


def ema_weights(ema: AveragedModel) -> dict[str, torch.Tensor]:
    """The averaged network's state dict (the keys of the model's own)."""
    return ema.module.state_dict()
