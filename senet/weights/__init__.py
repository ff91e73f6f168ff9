"""Weights in and out: foreign checkpoint layouts (timm, Cadene, Caffe), pretrained weights,
safe loading, export and multi-scale features. See docs/weights.md.

Building a model by name with weights is :func:`senet.api.create_model` (``pretrained=True`` or
``weights=PATH``), which composes these functions; nothing here imports :mod:`senet.api`."""

from senet.weights.convert import (
    AmbiguousLayoutError,
    Converted,
    build_converted,
    convert_file,
    convert_state_dict,
    load_state_dict_into,
    read_weights_file,
)
from senet.weights.detect import (
    detect_layout,
    has_cadene_keys,
    has_timm_se_widths,
    infer_config,
    match_model_name,
    stride_is_ambiguous,
)
from senet.weights.features import FeatureExtractor
from senet.weights.preprocessing import Preprocessing
from senet.weights.safe_load import UnsafeCheckpointError, load_state_dict_file

__all__ = [
    "AmbiguousLayoutError",
    "Converted",
    "FeatureExtractor",
    "Preprocessing",
    "UnsafeCheckpointError",
    "build_converted",
    "convert_file",
    "convert_state_dict",
    "detect_layout",
    "has_cadene_keys",
    "has_timm_se_widths",
    "infer_config",
    "load_state_dict_file",
    "load_state_dict_into",
    "read_weights_file",
    "match_model_name",
    "stride_is_ambiguous",
]
