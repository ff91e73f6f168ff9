"""Where a residual unit puts its SE block (Sec. 6.5, Fig. 5, Tables 14-15): one switch for all.

With F the residual branch and ``add`` the unit's tail on a sum (relu(f + s) for post-activation
blocks, plain f + s for pre-activation units and Shake-Shake, a convolution fused with its sum
and ReLU for the inference blocks of :mod:`senet.fast.blocks`):

- ``standard``: add(SE(F(x)), shortcut(x))                        (Fig. 5b, Fig. 3)
- ``pre``:      add(F(SE(x)), shortcut(x))                        (Fig. 5c, SE-PRE)
- ``post``:     SE(add(F(x), shortcut(x)))                        (Fig. 5d, SE-POST)
- ``identity``: add(F(x), SE(shortcut(x)))                        (Fig. 5e, SE-Identity)
- ``3x3``:      SE right after the 3x3 convolution inside F; the unit applies it itself
  (Table 15, SE_3x3), so here it is add(F(x), shortcut(x)) as without SE.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, get_args

import torch
from torch import nn

Placement = Literal["standard", "pre", "post", "identity", "3x3"]
PLACEMENTS: tuple[str, ...] = get_args(Placement)

Map = Callable[[torch.Tensor], torch.Tensor]
Tail = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def check_placement(placement: str) -> None:
    """Raise ``ValueError`` naming the choices when ``placement`` is not one of :data:`PLACEMENTS`."""
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown SE placement {placement!r}; choose one of {PLACEMENTS}")


def place_se(
    se: nn.Module | None,
    placement: str,
    branch: Map,
    x: torch.Tensor,
    shortcut: torch.Tensor,
    *,
    add: Tail,
    fused: Tail | None = None,
    standard: Tail | None = None,
) -> torch.Tensor:
    """One residual unit's output for its SE ``placement``: (N, C, H, W) maps in, one out.

    Args:
        se: the unit's SE block (None: the plain twin).
        branch: F, from the unit's input ``x`` to what ``add`` takes.
        add: the tail on a sum, ``add(f, s)``.
        fused: ``fused(u, other)`` = add(SE(u), other) in one op (the scale-add-ReLU of
            :func:`senet.layers.fused.se_residual`); used by ``standard`` (u = F(x)) and
            ``identity`` (u = shortcut). None: SE, then ``add``.
        standard: ``standard(f, shortcut)``, the standard placement's tail where it is more than
            ``fused`` (the inference block squeezes before its last convolution).
    """
    if se is None or placement == "3x3":
        return add(branch(x), shortcut)
    if placement == "standard":
        if standard is not None:
            return standard(branch(x), shortcut)
        return fused(branch(x), shortcut) if fused is not None else add(se(branch(x)), shortcut)
    if placement == "pre":
        return add(branch(se(x)), shortcut)
    if placement == "identity":
        f = branch(x)
        return fused(shortcut, f) if fused is not None else add(f, se(shortcut))
    return se(add(branch(x), shortcut))  # post
