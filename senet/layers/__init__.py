"""Layers shared by every network: the SE block, its fused residual tail, conv-BN-ReLU."""

from senet.layers.conv import conv_norm_act
from senet.layers.se import SEConfig, SqueezeExcite

__all__ = ["SEConfig", "SqueezeExcite", "conv_norm_act"]
