"""Wall-clock fast paths for SE networks (inference code only): BN folding, prepacked
convolutions, fused residual blocks and ``optimize`` (see docs/speed.md). The benchmark harness
behind ``senet bench`` is :mod:`senet.bench`."""

from senet.fast.inference import optimize

__all__ = ["optimize"]
