"""Lookahead weight averaging (``TrainConfig.lookahead_every``), as airbench94 (Jordan 2024) uses it.

Lookahead (Zhang et al. 2019, "k steps forward, 1 step back") keeps slow weights beside the fast
ones the optimizer trains: a copy of every parameter and floating-point buffer (BN statistics
too). Every k optimizer steps the slow weights move toward the fast ones and the fast weights are
reset to them:

    slow <- slow + (1 - alpha_t) * (fast - slow);  fast <- slow
    alpha_t = decay * (t / T)^3

with t the global optimizer step and T the run's total optimizer steps: early in training
alpha_t is about 0 (slow = fast, a no-op), late it averages. After the run's last step the fast
weights are set to the slow ones (airbench's final update with decay 1). Each update is two
``torch._foreach`` calls with a host float weight: no host synchronisation. Every process of a
DDP job holds the same weights, so the slow copy is rank-local and needs no communication.
Checkpoints hold it in ``state.pt`` (``"lookahead"``), for an exact resume.
"""

from __future__ import annotations

import torch
from torch import nn

from senet.train.config import TrainConfig


def floating_tensors(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """(name, tensor) of every parameter and floating-point buffer (BN statistics) of ``model``:
    what Lookahead averages (and what :func:`senet.train.loop.non_finite_tensors` checks)."""
    named = [*model.named_parameters(), *model.named_buffers()]
    return [(name, t) for name, t in named if t.is_floating_point()]


class Lookahead:
    """The slow weights of ``model`` (the plain network, not a DDP wrapper), copied at construction;
    updated every ``every`` (k) optimizer steps with alpha_t = ``decay`` * (t / T)^3."""

    def __init__(self, model: nn.Module, every: int, decay: float) -> None:
        self.every, self.decay = every, decay
        named = floating_tensors(model)
        self.names = [name for name, _ in named]
        self.slow = [t.detach().clone() for _, t in named]

    def alpha(self, t: int, total: int) -> float:
        """alpha_t = decay * (t / T)^3 (t past T counts as T)."""
        return self.decay * min(t / total, 1.0) ** 3

    @torch.no_grad()
    def step(self, model: nn.Module, t: int, total: int) -> None:
        """After optimizer step ``t`` (1-based, global) of ``total``: every ``every`` steps the slow
        weights move toward the fast ones and the fast are reset to them; at ``t == total`` the fast
        weights are set to the slow ones."""
        if t % self.every == 0:
            fast = self._fast(model)
            torch._foreach_lerp_(self.slow, fast, 1.0 - self.alpha(t, total))
            torch._foreach_copy_(fast, self.slow)
        elif t == total:
            torch._foreach_copy_(self._fast(model), self.slow)

    def _fast(self, model: nn.Module) -> list[torch.Tensor]:
        named = floating_tensors(model)
        if [name for name, _ in named] != self.names:
            raise ValueError("lookahead: the model's parameters and buffers are not those it was built for")
        return [t.detach() for _, t in named]

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The slow weights by name (the model's state-dict keys)."""
        return dict(zip(self.names, self.slow, strict=True))

    @torch.no_grad()
    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Copy saved slow weights in (the same names as this model's, else ValueError)."""
        if sorted(state) != sorted(self.names):
            missing, unexpected = set(self.names) - set(state), set(state) - set(self.names)
            raise ValueError(
                f"lookahead state does not match the model: missing {sorted(missing)[:5]}, "
                f"unexpected {sorted(unexpected)[:5]}"
            )
        for name, slow in zip(self.names, self.slow, strict=True):
            slow.copy_(state[name])  # onto this run's device and memory format


def build_lookahead(config: TrainConfig, model: nn.Module) -> Lookahead | None:
    """The slow weights of ``model`` (the plain network); None when ``lookahead_every`` is 0."""
    if config.lookahead_every <= 0:
        return None
    return Lookahead(model, config.lookahead_every, config.lookahead_decay)
