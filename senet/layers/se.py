"""The Squeeze-and-Excitation block (Hu et al., TPAMI 2019, Sec. 3): the one SE implementation.

Every network in `senet` builds its SE blocks from :class:`SqueezeExcite`; the options of
:class:`SEConfig` cover every SE ablation of Sec. 6-7 (Tables 10, 11, 12 and 16).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

Squeeze = Literal["avg", "max", "none"]
Gate = Literal["sigmoid", "tanh", "relu"]

_GATES: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


@dataclass(frozen=True)
class SEConfig:
    """Options of one SE block (every field is an option: ``--model.se.reduction`` ...)."""

    reduction: int = 16
    """The reduction ratio r of Eq. 3 (Table 10); 16 in the paper."""
    hidden: int | None = None
    """An absolute hidden width C' of W1 / W2; overrides reduction when given."""
    divisor: int = 1
    """Round the hidden width C / r to a multiple of this (timm rounds to 8, with 8 as its floor);
    1 (the paper) keeps max(1, C // r)."""
    squeeze: Squeeze = "avg"
    """F_sq: avg, global average pooling (Eq. 2); max, global max pooling (Table 11); or none: W1
    and W2 applied at every position as 1x1 convolutions (NoSqueeze, Table 16)."""
    gate: Gate = "sigmoid"
    """The excitation non-linearity sigma of Eq. 3: sigmoid, tanh or relu (Table 12)."""
    bias: bool = True
    """Whether W1 and W2 carry biases; the released models keep them, the ablation study of
    Sec. 6 removes them."""

    def __post_init__(self) -> None:
        if self.reduction < 1:
            raise ValueError(f"SEConfig.reduction must be >= 1, got {self.reduction}")
        if self.hidden is not None and self.hidden < 1:
            raise ValueError(f"SEConfig.hidden must be >= 1, got {self.hidden}")
        if self.divisor < 1:
            raise ValueError(f"SEConfig.divisor must be >= 1, got {self.divisor}")
        if self.squeeze not in ("avg", "max", "none"):
            raise ValueError(f"SEConfig.squeeze must be 'avg', 'max' or 'none', got {self.squeeze!r}")
        if self.gate not in _GATES:
            raise ValueError(f"SEConfig.gate must be one of {sorted(_GATES)}, got {self.gate!r}")

    def hidden_channels(self, channels: int) -> int:
        """The width C' of the bottleneck between W1 and W2 for a block with C = ``channels``.

        ``hidden`` if set; else ``max(1, C // r)`` (so a 16-channel block with r = 16 keeps one
        hidden unit); with ``divisor`` d > 1, C / r rounded to the nearest multiple of d, never
        below d nor more than 10% below C / r (timm's rule).
        """
        if self.hidden is not None:
            return self.hidden
        if self.divisor == 1:
            return max(1, channels // self.reduction)
        exact = channels / self.reduction
        rounded = max(self.divisor, int(exact + self.divisor / 2) // self.divisor * self.divisor)
        return rounded + self.divisor if rounded < 0.9 * exact else rounded


class SqueezeExcite(nn.Module):
    """SE block on a feature map U with C channels: x~ = F_scale(U, F_ex(F_sq(U))) (Eqs. 2-4).

    W1 (``fc1``, C -> C') and W2 (``fc2``, C' -> C) are stored as 1x1 convolutions, which is
    the same computation as the paper's fully-connected layers on the pooled vector z and lets
    NoSqueeze apply them at every position. The gate sigma is the named submodule ``gate``:
    a forward hook on it records the excitations s.
    """

    def __init__(self, channels: int, config: SEConfig | None = None) -> None:
        super().__init__()
        config = config or SEConfig()
        hidden = config.hidden_channels(channels)
        self.channels = channels
        self.squeeze = config.squeeze
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=config.bias)  # W1
        self.act = nn.ReLU(inplace=True)  # delta
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=config.bias)  # W2
        self.gate = _GATES[config.gate]()  # sigma

    def excitation(self, u: torch.Tensor) -> torch.Tensor:
        """s = sigma(W2 delta(W1 z)): (N, C, 1, 1), or (N, C, H, W) without a squeeze."""
        if self.squeeze == "avg":
            z = u.mean((2, 3), keepdim=True)  # (N, C, 1, 1), Eq. 2
        elif self.squeeze == "max":
            z = u.amax((2, 3), keepdim=True)  # (N, C, 1, 1), Table 11
        else:
            z = u  # (N, C, H, W), NoSqueeze, Table 16
        return self.gate(self.fc2(self.act(self.fc1(z))))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """x~ = F_scale(u, s) = s * u (Eq. 4): (N, C, H, W) -> (N, C, H, W).

        The standard placement's fused tail relu(s * u + shortcut) is
        :func:`senet.layers.fused.se_residual`, which residual blocks call themselves.
        """
        return u * self.excitation(u)  # (N, C, H, W), Eq. 4: x~_c = s_c * u_c

    def extra_repr(self) -> str:
        return f"channels={self.channels}, hidden={self.fc1.out_channels}, squeeze={self.squeeze}"
