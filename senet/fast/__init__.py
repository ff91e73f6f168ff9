"""Wall-clock fast paths for SE networks: BN folding, prepacked convolutions, fused residual
blocks and ``optimize`` (see docs/speed.md)."""

from senet.fast.inference import optimize

__all__ = ["optimize"]
