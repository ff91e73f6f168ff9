"""Layers shared by every network."""

from senet.layers.se import SEConfig, SqueezeExcite

__all__ = ["SEConfig", "SqueezeExcite"]
