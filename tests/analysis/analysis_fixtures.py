"""Hand-made models and data for the analysis tests (no training)."""

from __future__ import annotations

import torch
from torch import nn

from senet.layers.se import SEConfig, SqueezeExcite


class TwoGates(nn.Module):
    """logits = SE_b(SE_a(x)).flatten(1) on x (N, 2, 1, 1): two channels, two classes.

    SE_a decides: its gate is ~(1, 0) when x0 < x1 and ~(0, 1) otherwise, so the logits pick
    class 0 exactly when x0 < x1 (the raw x would pick the opposite). SE_b's gate is the
    constant sigmoid(2) on both channels (zero weights, bias 2): it never changes the argmax.
    """

    def __init__(self) -> None:
        super().__init__()
        self.se_a = SqueezeExcite(2, SEConfig(reduction=1))
        self.se_b = SqueezeExcite(2, SEConfig(reduction=1))
        with torch.no_grad():
            self.se_a.fc1.weight.copy_(torch.tensor([[-1.0, 1.0], [1.0, -1.0]])[:, :, None, None])
            self.se_a.fc1.bias.zero_()  # h0 = relu(x1 - x0), h1 = relu(x0 - x1)
            self.se_a.fc2.weight.copy_((20 * torch.eye(2))[:, :, None, None])
            self.se_a.fc2.bias.fill_(-5.0)  # s_c = sigmoid(20 h_c - 5)
            self.se_b.fc1.weight.zero_()
            self.se_b.fc1.bias.zero_()
            self.se_b.fc2.weight.zero_()
            self.se_b.fc2.bias.fill_(2.0)  # s = sigmoid(2) for every input

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.se_b(self.se_a(x)).flatten(1)  # (N, 2)


def two_gate_data(n: int = 40, batch: int = 10) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Batches of x (N, 2, 1, 1) with |x0 - x1| >= 0.5, label 0 iff x0 < x1; half of each class."""
    g = torch.Generator().manual_seed(0)
    low = torch.rand(n, generator=g) + 1.0  # (N,)
    high = low + 0.5 + torch.rand(n, generator=g)
    labels = torch.arange(n) % 2  # (N,)
    x0 = torch.where(labels == 0, low, high)
    x1 = torch.where(labels == 0, high, low)
    x = torch.stack([x0, x1], dim=1)[:, :, None, None]  # (N, 2, 1, 1)
    return list(zip(x.split(batch), labels.split(batch), strict=True))
