"""Weights in and out: foreign checkpoint layouts (timm, Cadene, Caffe), pretrained weights,
safe loading, export and multi-scale features. See docs/weights.md."""

from senet.weights.convert import Converted, convert_file, convert_state_dict, load_weights
from senet.weights.detect import detect_layout, infer_config, match_model_name
from senet.weights.features import FeatureExtractor, create_feature_extractor
from senet.weights.preprocessing import Preprocessing
from senet.weights.safe_load import UnsafeCheckpointError, load_state_dict_file

__all__ = [
    "Converted",
    "FeatureExtractor",
    "Preprocessing",
    "UnsafeCheckpointError",
    "convert_file",
    "convert_state_dict",
    "create_feature_extractor",
    "detect_layout",
    "infer_config",
    "load_state_dict_file",
    "load_weights",
    "match_model_name",
]
