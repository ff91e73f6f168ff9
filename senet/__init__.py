"""senet: Squeeze-and-Excitation networks (Hu et al., TPAMI 2019) in PyTorch."""

from senet.api import create_feature_extractor, create_model, list_models, load_weights, save_pretrained
from senet.complexity import Complexity, complexity
from senet.fast import optimize
from senet.layers.se import SEConfig, SqueezeExcite
from senet.registry import MODELS, UnknownNameError, register_model

__version__ = "0.1.0"
__all__ = [
    "MODELS",
    "Complexity",
    "SEConfig",
    "SqueezeExcite",
    "UnknownNameError",
    "complexity",
    "create_feature_extractor",
    "create_model",
    "list_models",
    "load_weights",
    "optimize",
    "register_model",
    "save_pretrained",
]
